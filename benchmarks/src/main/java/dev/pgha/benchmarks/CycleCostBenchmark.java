package dev.pgha.benchmarks;

import dev.pgha.CycleResult;
import dev.pgha.HaController;
import dev.pgha.testing.ManualClock;
import dev.pgha.testing.SimulatedCluster;
import dev.pgha.testing.SimulatedNode;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * The cost of one steady-state {@link HaController#runCycle()} on the in-memory DCS and a fake
 * PostgreSQL: a 3-member cluster (Patroni's default timings) is bootstrapped in the trial's setup
 * and run until one member leads and the two others stream from it.
 *
 * <p>One op = one cycle of one member: {@link #leader()} the lock holder (reads the cluster, checks
 * its PostgreSQL, renews the lock, publishes its member key), {@link #replica()} a replica
 * following it. Before each cycle the shared clock moves {@link #STEP}, so every cycle renews the
 * lease to a later deadline. A cycle costs about ten times that in real time, so a 2 s iteration
 * moves the clock a fraction of a second and no key comes near its TTL (30 s): each iteration
 * starts with one cycle of every member, which renews all the keys, and ends by checking that the
 * leader still leads and the replica still follows, quietly (a cycle with nothing to do), and the
 * cluster is still converged; the run fails otherwise. No WAL is written: this is an idle cluster.
 * Run with {@code -prof gc} for the bytes allocated per cycle ({@code gc.alloc.rate.norm}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class CycleCostBenchmark {

    /** How far the clock moves before each measured cycle. */
    static final Duration STEP = Duration.ofNanos(100);

    SimulatedCluster cluster;
    ManualClock clock;
    HaController leader;
    HaController replica;

    /** Bootstraps the cluster and waits for its steady state. */
    @Setup(Level.Trial)
    public void converge() {
        cluster = SteadyClusters.converged(3);
        clock = cluster.clock();
        leader = SteadyClusters.leader(cluster).controller();
        replica = SteadyClusters.replica(cluster).controller();
    }

    /** One cycle of every member: renews the leader and member keys the measured cycles do not. */
    @Setup(Level.Iteration)
    public void renewEveryone() {
        for (SimulatedNode n : cluster.nodes()) {
            n.controller().runCycle();
        }
        checkSteady();
    }

    /** Throws unless the leader still leads quietly and the replica quietly follows it. */
    @TearDown(Level.Iteration)
    public void checkSteady() {
        SteadyClusters.requireConverged(cluster, "the cycle-cost cluster");
        SteadyClusters.requireQuietCycle(leader, true);
        SteadyClusters.requireQuietCycle(replica, false);
    }

    /** One cycle of the leader holding the lock. */
    @Benchmark
    public CycleResult leader() {
        clock.advance(STEP);
        return leader.runCycle();
    }

    /** One cycle of a healthy replica streaming from the leader. */
    @Benchmark
    public CycleResult replica() {
        clock.advance(STEP);
        return replica.runCycle();
    }
}
