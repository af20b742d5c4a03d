package dev.pgha.simulation;

import dev.pgha.ClusterSettings;
import dev.pgha.HaConfig;
import dev.pgha.testing.FakeTimings;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

/**
 * The cluster one schedule runs: node count, Patroni's timing settings, how a diverged former
 * primary is repaired, and the fake PostgreSQL's operation timings. Drawn from the schedule's
 * random source.
 *
 * @param nodes               3 to 5
 * @param ttl                 {@code ttl}
 * @param loopWait            {@code loop_wait}
 * @param retryTimeout        {@code retry_timeout}
 * @param primaryStartTimeout {@code primary_start_timeout}: 0 (fail over at once after a crash) or 300 s
 * @param repair              how a diverged node rejoins (pg_rewind, or wipe and clone again)
 * @param timings             the fake operations' durations (small, so schedules stay short)
 * @param synchronousMode     {@code synchronous_mode}: off for half the schedules, on or quorum for the others
 * @param strict              {@code synchronous_mode_strict} (half the synchronous schedules)
 */
record SimulationConfig(int nodes, Duration ttl, Duration loopWait, Duration retryTimeout,
                        Duration primaryStartTimeout, Repair repair, FakeTimings timings,
                        ClusterSettings.SynchronousMode synchronousMode, boolean strict) {

    /** How a node whose data diverged from the leader's rejoins. */
    enum Repair {
        /** {@code use_pg_rewind: true}. */
        PG_REWIND,
        /** {@code remove_data_directory_on_diverged_timelines: true}: wipe and clone again. */
        REINITIALIZE
    }

    /**
     * Patroni's timing sets the schedules use, as {ttl, loop_wait, retry_timeout} in seconds. Each
     * satisfies {@code loop_wait + 2*retry_timeout <= ttl}; the last one with equality (the
     * tightest allowed).
     */
    static final List<long[]> TIMING_SETS = List.of(
            new long[] {30, 10, 10},
            new long[] {10, 2, 3},
            new long[] {20, 4, 8});

    /** The convergence bound is this many ttl, plus operation times (see {@link #convergenceBound()}). */
    static final int BOUND_TTLS = 10;

    /** The longest a scripted slow promote takes, in ttl. */
    static final int MAX_SLOW_PROMOTE_TTLS = 2;

    /** Draws a configuration. */
    static SimulationConfig draw(SplittableRandom rnd) {
        int nodes = 3 + rnd.nextInt(3);
        long[] t = TIMING_SETS.get(rnd.nextInt(TIMING_SETS.size()));
        Duration primaryStartTimeout = rnd.nextBoolean() ? Duration.ZERO : Duration.ofSeconds(300);
        Repair repair = rnd.nextInt(4) == 0 ? Repair.REINITIALIZE : Repair.PG_REWIND;
        FakeTimings timings = new FakeTimings(
                millis(rnd, 200, 2000),   // start
                millis(rnd, 200, 2000),   // stop (fast)
                millis(rnd, 0, 500),      // stop (immediate)
                millis(rnd, 200, 2000),   // promote
                millis(rnd, 500, 4000),   // basebackup
                millis(rnd, 200, 2000),   // pg_rewind
                millis(rnd, 200, 2000),   // single-user crash recovery
                millis(rnd, 500, 3000),   // initdb
                millis(rnd, 200, 1000));  // post-bootstrap
        int mode = rnd.nextInt(4);
        ClusterSettings.SynchronousMode sync = mode < 2 ? ClusterSettings.SynchronousMode.OFF
                : mode == 2 ? ClusterSettings.SynchronousMode.ON : ClusterSettings.SynchronousMode.QUORUM;
        boolean strict = sync.isSynchronous() && rnd.nextBoolean();
        return new SimulationConfig(nodes, Duration.ofSeconds(t[0]), Duration.ofSeconds(t[1]),
                Duration.ofSeconds(t[2]), primaryStartTimeout, repair, timings, sync, strict);
    }

    private static Duration millis(SplittableRandom rnd, int min, int max) {
        return Duration.ofMillis(min + rnd.nextInt(max - min + 1) / 100 * 100);
    }

    /** Whether no acknowledged commit may be lost: synchronous replication, strict. */
    boolean promisesNoLoss() {
        return synchronousMode.isSynchronous() && strict;
    }

    /** The settings every node gets (scope and name are set by the simulated cluster). */
    UnaryOperator<HaConfig.Builder> haConfig() {
        return b -> b.ttl(ttl).loopWait(loopWait).retryTimeout(retryTimeout).primaryStartTimeout(primaryStartTimeout)
                .usePgRewind(repair == Repair.PG_REWIND)
                .removeDataDirectoryOnDivergedTimelines(repair == Repair.REINITIALIZE)
                .synchronousMode(synchronousMode).synchronousModeStrict(strict);
    }

    /** The longest a scripted slow promote may take. */
    Duration maxSlowPromote() {
        return ttl.multipliedBy(MAX_SLOW_PROMOTE_TTLS);
    }

    /**
     * How long the cluster may take to converge, from an empty start or from the moment every
     * fault healed: {@code 10 × ttl} (a lease that must run out, a leader race, a demotion and a
     * rejoin each take at most about one ttl or loop_wait) plus one of every fake operation (a
     * rejoin may need a stop, crash recovery, pg_rewind or a base backup, and a start; a promote;
     * a bootstrap) plus the longest slow promote a schedule may have scripted.
     */
    Duration convergenceBound() {
        FakeTimings f = timings;
        Duration ops = f.start().plus(f.stop()).plus(f.stopImmediate()).plus(f.promote()).plus(f.basebackup())
                .plus(f.rewind()).plus(f.crashRecovery()).plus(f.bootstrap()).plus(f.postBootstrap());
        return ttl.multipliedBy(BOUND_TTLS).plus(ops).plus(maxSlowPromote());
    }

    @Override
    public String toString() {
        FakeTimings f = timings;
        return nodes + " nodes, ttl " + s(ttl) + " / loop_wait " + s(loopWait) + " / retry_timeout " + s(retryTimeout)
                + ", primary_start_timeout " + s(primaryStartTimeout) + ", "
                + (repair == Repair.PG_REWIND ? "use_pg_rewind" : "remove_data_directory_on_diverged_timelines")
                + ", synchronous_mode " + synchronousMode.patroniName() + (strict ? " strict" : "")
                + ", fake timings start " + s(f.start()) + " stop " + s(f.stop()) + " immediate " + s(f.stopImmediate())
                + " promote " + s(f.promote()) + " basebackup " + s(f.basebackup()) + " rewind " + s(f.rewind())
                + " crash recovery " + s(f.crashRecovery()) + " initdb " + s(f.bootstrap()) + " post-bootstrap "
                + s(f.postBootstrap()) + "; convergence bound " + s(convergenceBound());
    }

    static String s(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() / 1000.0 + "s";
    }
}
