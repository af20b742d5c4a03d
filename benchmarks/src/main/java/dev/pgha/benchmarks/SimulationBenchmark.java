package dev.pgha.benchmarks;

import dev.pgha.testing.ManualClock;
import dev.pgha.testing.SimulatedCluster;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Throughput of the deterministic simulation (the machinery of the seeded fault schedules): a
 * 3-member {@link SimulatedCluster} with Patroni's default timings, started in its steady state, with
 * 8 kB written on the primary before every step.
 *
 * <p>One op = one {@link SimulatedCluster#step()}: the clock jumps to the next due cycle or fencing
 * deadline (at most 1 s), guards, key expiry and replication are evaluated, and every due member
 * runs its cycle. With loop_wait 10 s most steps run no cycle, so the figure to read is the
 * secondary {@code nodeCycles} counter: member cycles per second of real time, everything the
 * simulation does around them included (not the invariant checks the tests add).
 *
 * <p>{@code schedule=healthy}: no faults, one cluster throughout. {@code schedule=faults}: like
 * the seeded schedules, a series of short runs, each on a fresh cluster that bootstraps itself
 * (those cycles count too) and then gets a fault every 3 simulated minutes, in turn the leader's
 * PostgreSQL killed, the leader's agent frozen, the leader cut off the DCS, and the DCS down for
 * everyone, each healed after 1 minute (failovers, fencing, demotions, rejoins and pg_rewind all
 * happen); after {@link #FAULTS_PER_CLUSTER} faults the next run starts. Fresh clusters keep the
 * timeline count small: the fake servers compare timeline lineages, which grow with every
 * promotion, and a cluster with hundreds of timelines would measure that instead.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class SimulationBenchmark {

    static final long WRITE_BYTES = 8192;
    static final long FAULT_EVERY = Duration.ofMinutes(3).toNanos();
    static final long HEAL_AFTER = Duration.ofMinutes(1).toNanos();
    static final int FAULT_KINDS = 4;
    static final int FAULTS_PER_CLUSTER = 8;

    /** {@code healthy} or {@code faults}. */
    @Param({"healthy", "faults"})
    public String schedule;

    SimulatedCluster cluster;
    ManualClock clock;
    boolean withFaults;
    long nextFault;
    long heal = Long.MAX_VALUE;
    int faults;
    long clusters;

    /** Member cycles run in the iteration, reported per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Cycles {
        /** Member cycles run in this iteration. */
        public long nodeCycles;

        /** Starts the count again for each iteration. */
        @Setup(Level.Iteration)
        public void reset() {
            nodeCycles = 0;
        }
    }

    /** Healthy: a cluster in its steady state; faults: the first fresh cluster. */
    @Setup(Level.Trial)
    public void converge() {
        if (!schedule.equals("healthy") && !schedule.equals("faults")) {
            throw new IllegalArgumentException("schedule must be healthy or faults: " + schedule);
        }
        withFaults = schedule.equals("faults");
        if (withFaults) {
            freshCluster();
        } else {
            cluster = SteadyClusters.converged(3);
            clock = cluster.clock();
        }
    }

    /** A new cluster with nothing bootstrapped yet; its first fault comes after {@link #FAULT_EVERY}. */
    private void freshCluster() {
        cluster = SimulatedCluster.builder().nodes(3).logLines(50).seed(clusters++).build();
        clock = cluster.clock();
        nextFault = clock.nanoTime() + FAULT_EVERY;
        heal = Long.MAX_VALUE;
        faults = 0;
    }

    /** One simulation step. */
    @Benchmark
    public int step(Cycles cycles) {
        if (withFaults) {
            faultsDue();
        }
        cluster.write(WRITE_BYTES);
        long before = cluster.cycles();
        cluster.step();
        long ran = cluster.cycles() - before;
        cycles.nodeCycles += ran;
        return (int) ran;
    }

    private void faultsDue() {
        long now = clock.nanoTime();
        if (now - heal >= 0) {
            cluster.healAll();
            heal = Long.MAX_VALUE;
        }
        if (now - nextFault < 0) {
            return;
        }
        if (faults == FAULTS_PER_CLUSTER) {
            freshCluster();
            return;
        }
        nextFault = now + FAULT_EVERY;
        heal = now + HEAL_AFTER;
        String leader = cluster.leader().orElse(null);
        int kind = faults++ % FAULT_KINDS;
        if (leader == null && kind != FAULT_KINDS - 1) {
            return;
        }
        switch (kind) {
            case 0 -> cluster.crashPostgres(leader);
            case 1 -> cluster.freeze(leader, true);
            case 2 -> cluster.partition(leader, true);
            default -> cluster.setDcsAvailable(false);
        }
    }
}
