package dev.pgha.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.ClusterSettings.SynchronousMode;
import dev.pgha.cluster.SyncState;
import dev.pgha.testing.FakeCommits;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.SimulatedCluster;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Quorum commit on a simulated three-node cluster ({@code synchronous_mode: quorum}, strict,
 * {@code synchronous_node_count} 1: a commit is acknowledged once one of the two standbys has it;
 * ttl 30 s, loop_wait 10 s, retry_timeout 10 s, primary_start_timeout 0), the simulation's
 * invariants checked throughout, "no acknowledged commit lost" (invariant 7) among them.
 */
class QuorumFailoverScenariosTest {

    private static final Duration TTL = Duration.ofSeconds(30);
    private static final Duration CONVERGENCE = TTL.multipliedBy(10);

    private SimulatedCluster sim;
    private CheckedSimulation run;

    @BeforeEach
    void aConvergedQuorumCluster() {
        sim = SimulatedCluster.builder().nodes(3).timings(FakeTimings.DEFAULTS)
                .config(b -> b.ttl(TTL).loopWait(Duration.ofSeconds(10)).retryTimeout(Duration.ofSeconds(10))
                        .usePgRewind(true).primaryStartTimeout(Duration.ZERO)
                        .synchronousMode(SynchronousMode.QUORUM).synchronousModeStrict(true).synchronousNodeCount(1))
                .logLines(3000).build();
        run = new CheckedSimulation(sim, true);
        assertThat(run.runUntil(s -> s.isConverged() && voters().size() == 2, CONVERGENCE)).as(sim.log()).isTrue();
    }

    private java.util.Set<String> voters() {
        SyncState sync = sim.dcs().snapshot().sync();
        return sync == null ? java.util.Set.of() : sync.syncStandbys();
    }

    @Test
    void whenAVoterIsFrozenItsStalePositionIsNoVoteForALaggingStandby() {
        // given a primary and two quorum standbys: one whose agent froze (its PostgreSQL goes on
        // acknowledging commits, its member key keeps the position it last published) and one
        // that stopped receiving WAL
        String primary = sim.leader().orElseThrow();
        List<String> standbys = sim.nodes().stream().map(n -> n.name()).filter(n -> !n.equals(primary)).toList();
        String frozen = standbys.get(0);
        String lagging = standbys.get(1);
        sim.freeze(frozen, true);
        sim.world().get(lagging).pauseReplication(true);
        // and commits acknowledged because the frozen voter's PostgreSQL has them
        for (int i = 0; i < 5; i++) {
            assertThat(sim.write(10_000)).isTrue();
            run.runFor(Duration.ofSeconds(1));
        }
        List<FakeCommits.Commit> acknowledged = sim.world().acknowledgedCommits();
        FakeCommits.Commit last = acknowledged.get(acknowledged.size() - 1);
        assertThat(sim.world().holds(frozen, last)).isTrue();
        assertThat(sim.world().holds(lagging, last)).as("the lagging standby lacks them").isFalse();

        // when the primary's PostgreSQL crashes, its agent gives the leader key up, and then its host is lost
        sim.crashPostgres(primary);
        assertThat(run.runUntil(s -> s.leader().isEmpty(), TTL)).as(sim.log()).isTrue();
        sim.freeze(primary, true);
        run.runFor(TTL.multipliedBy(3));

        // then the lagging standby does not take over: the frozen voter's published position,
        // taken while the leader ran, is no vote
        assertThat(sim.writablePrimaries()).as(sim.log()).isEmpty();

        // when the frozen voter's agent is back (and the lagging one catches up again)
        sim.freeze(frozen, false);
        sim.world().get(lagging).pauseReplication(false);

        // then it takes over with every acknowledged commit
        assertThat(run.runUntil(s -> s.leader().filter(frozen::equals).isPresent()
                && s.writablePrimaries().equals(List.of(frozen)), CONVERGENCE)).as(sim.log()).isTrue();
        for (FakeCommits.Commit c : acknowledged) {
            assertThat(sim.world().holds(frozen, c)).isTrue();
        }
    }
}
