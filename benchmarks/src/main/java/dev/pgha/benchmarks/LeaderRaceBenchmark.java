package dev.pgha.benchmarks;

import dev.pgha.CycleResult;
import dev.pgha.HaController;
import dev.pgha.testing.SimulatedCluster;
import dev.pgha.testing.SimulatedNode;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The leader race after the leader's host is lost, in engine time: from "leader key gone" to "one
 * member holds the lock", with 3, 5 and 50 members (Patroni's default timings, all replicas
 * streaming at the same WAL position).
 *
 * <p>Before each op (not measured): a fresh cluster is bootstrapped and run to its steady state
 * (one leader, every other member streaming from it, all settled for more than a loop_wait; about
 * 30 ms of real time for 50 members); then the leader's agent freezes, its PostgreSQL is killed,
 * and its leader and member keys are deleted, as when its lease ran out. <b>One op</b> = one cycle
 * of each of the {@code members - 1} survivors, one after the other in member order, on one thread
 * and at one simulated instant: the first decides it is the healthiest, takes the lock and starts
 * its promotion; the others find the new leader and start following it. The op throws unless
 * exactly one cycle came back holding the lock. So the score is the engine's CPU cost of a whole
 * race (divide by {@code members - 1} for one cycle), not a failover time, which ttl and loop_wait
 * bound, not the engine.
 *
 * <p>A fresh cluster per race, rather than the same one rejoined, keeps every race on timeline 1:
 * the fake servers' status compares timeline lineages, which grow with every promotion and would
 * make later races slower than earlier ones. With {@code -prof gc}, {@code gc.alloc.rate.norm}
 * counts the unmeasured setup's allocations too, so it is not the race's.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class LeaderRaceBenchmark {

    /** Cluster size. */
    @Param({"3", "5", "50"})
    public int members;

    SimulatedCluster cluster;
    HaController[] survivors;

    /** A fresh cluster in its steady state that just lost its leader's host and keys. */
    @Setup(Level.Invocation)
    public void loseLeader() {
        cluster = SteadyClusters.converged(members);
        String lost = SteadyClusters.leader(cluster).name();
        cluster.freeze(lost, true);
        cluster.crashPostgres(lost);
        cluster.dcs().deleteLeader();
        cluster.dcs().deleteMember(lost);
        survivors = cluster.nodes().stream().filter(n -> !n.name().equals(lost)).map(SimulatedNode::controller)
                .toArray(HaController[]::new);
    }

    /** One cycle of every survivor; returns the winner's result. */
    @Benchmark
    public CycleResult race() {
        CycleResult winner = null;
        int holders = 0;
        for (HaController c : survivors) {
            CycleResult r = c.runCycle();
            if (r.lockHeld()) {
                holders++;
                winner = r;
            }
        }
        if (holders != 1) {
            throw new IllegalStateException(holders + " members hold the lock after the race, not 1:\n"
                    + cluster.log());
        }
        return winner;
    }
}
