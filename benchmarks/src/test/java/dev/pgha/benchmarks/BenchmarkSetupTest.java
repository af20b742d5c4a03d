package dev.pgha.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.testing.SimulatedCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keeps the benchmarks honest without timing anything: each benchmark's setup reaches the state
 * its Javadoc claims, and a few hundred ops leave it there. Runs in the test command; JMH does not.
 */
class BenchmarkSetupTest {

    @Test
    void cycleCostLeaderKeepsTheLockAndTheReplicaKeepsStreaming() {
        CycleCostBenchmark b = new CycleCostBenchmark();
        b.converge();
        SimulatedCluster cluster = b.cluster;
        String leader = cluster.leader().orElseThrow();
        String replica = SteadyClusters.replica(cluster).name();
        assertThat(cluster.node(replica).postgres().upstream()).isEqualTo(leader);

        for (int iteration = 0; iteration < 3; iteration++) {
            b.renewEveryone();
            for (int i = 0; i < 1_000; i++) {
                CycleResult l = b.leader();
                assertThat(l.action()).isEqualTo(CycleAction.NONE);
                assertThat(l.lockHeld()).isTrue();
                assertThat(l.message()).contains("the leader with the lock");
                CycleResult r = b.replica();
                assertThat(r.action()).isEqualTo(CycleAction.NONE);
                assertThat(r.lockHeld()).isFalse();
            }
            b.checkSteady();
        }
        assertThat(cluster.leader()).contains(leader);
        assertThat(cluster.node(leader).lastResult().lease()).isPresent();
    }

    @Test
    void everyLeaderRaceStartsSteadyAndEndsWithOneNewLeaderThatTakesOver() {
        for (int members : new int[] {3, 5, 50}) {
            LeaderRaceBenchmark b = new LeaderRaceBenchmark();
            b.members = members;
            for (int i = 0; i < 2; i++) {
                b.loseLeader();
                SimulatedCluster cluster = b.cluster;
                assertThat(cluster.leader()).isEmpty();
                assertThat(b.survivors).hasSize(members - 1);
                CycleResult winner = b.race();
                assertThat(winner.action()).isEqualTo(CycleAction.PROMOTE);
                String leader = cluster.leader().orElseThrow();
                // Not part of the op: the race started a real failover that completes.
                cluster.runUntil(c -> c.writablePrimaries().equals(List.of(leader)), Duration.ofMinutes(1));
                assertThat(cluster.writablePrimaries()).containsExactly(leader);
            }
        }
    }

    @Test
    void simulationRunsCyclesHealthyAndUnderFaults() {
        for (String schedule : new String[] {"healthy", "faults"}) {
            SimulationBenchmark b = new SimulationBenchmark();
            b.schedule = schedule;
            b.converge();
            SimulationBenchmark.Cycles cycles = new SimulationBenchmark.Cycles();
            cycles.reset();
            // 3,600 steps of at most 1 s: at least an hour of simulated time, 20 fault windows.
            for (int i = 0; i < 3_600; i++) {
                b.step(cycles);
            }
            assertThat(cycles.nodeCycles).as(schedule).isGreaterThan(3 * 300);
            if (schedule.equals("faults")) {
                assertThat(b.clusters).as("fresh clusters").isGreaterThanOrEqualTo(2);
                assertThat(b.cluster.log()).contains("fault:");
            }
            b.cluster.healAll();
            SteadyClusters.settle(b.cluster, Duration.ofMinutes(10), schedule);
        }
    }
}
