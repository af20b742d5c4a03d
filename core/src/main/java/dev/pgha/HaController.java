package dev.pgha;

import dev.pgha.dcs.DcsClient;
import dev.pgha.postgres.PostgresProcess;
import java.time.Instant;
import java.util.Objects;

/**
 * The HA engine of one member: Patroni's main loop as a library. The host builds it once and
 * calls {@link #runCycle()} from its own scheduler, waiting {@link CycleResult#nextCycleIn()}
 * between calls (or less, when the DCS watch signals a change).
 *
 * <p>The controller creates no threads and never sleeps. Long PostgreSQL work runs as child
 * processes whose completion later cycles observe; every cycle still renews the leader lock.
 * {@code runCycle()} never throws for DCS or PostgreSQL failures: they become a
 * {@link CycleResult}. Calls are serialized: a second thread calling {@code runCycle()} (or an
 * operator action) while a cycle runs waits for it to finish.
 *
 * <pre>{@code
 * HaController ha = HaController.builder()
 *         .config(HaConfig.builder().scope("demo").name("node1").build())
 *         .dcs(dcsClient)
 *         .postgres(localPostgres)
 *         .build();
 * CycleResult r = ha.runCycle();   // then again after r.nextCycleIn()
 * }</pre>
 */
public final class HaController implements AutoCloseable {

    private final HaEngine engine;

    private HaController(Builder b) {
        this.engine = new HaEngine(b.config, b.dcs, b.postgres, b.clock, b.listener, b.leaseGuard);
    }

    /** A builder; config, dcs and postgres are required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs one HA cycle: reads the cluster from the DCS, decides, acts, publishes this member.
     * Never throws for DCS or PostgreSQL failures.
     */
    public synchronized CycleResult runCycle() {
        return engine.runCycle();
    }

    /** What the controller knows about itself after the last cycle. */
    public synchronized HaStatus status() {
        return engine.status();
    }

    /**
     * Requests a switchover from the current leader, like {@code patronictl switchover}: writes the
     * {@code failover} key; the leader demotes on its next cycle and the candidate (or the
     * healthiest replica when {@code candidate} is null) takes over.
     *
     * @param candidate   the member to promote, or null for the healthiest
     * @param scheduledAt when to do it, or null for now
     */
    public synchronized ActionResult switchover(String candidate, Instant scheduledAt) {
        return engine.requestSwitchover(null, candidate, scheduledAt);
    }

    /**
     * Requests a switchover like {@code patronictl switchover --leader ... --candidate ...}: as
     * {@link #switchover(String, Instant)}, refused unless {@code leader} leads now.
     *
     * @param leader      the member expected to lead now, or null for whoever does
     * @param candidate   the member to promote, or null for the healthiest
     * @param scheduledAt when to do it, or null for now
     */
    public synchronized ActionResult switchover(String leader, String candidate, Instant scheduledAt) {
        return engine.requestSwitchover(leader, candidate, scheduledAt);
    }

    /**
     * Requests a manual failover to {@code candidate}, like {@code patronictl failover}: works also
     * when the cluster has no leader.
     */
    public synchronized ActionResult failover(String candidate) {
        return engine.requestFailover(Objects.requireNonNull(candidate, "candidate"));
    }

    /** Restarts the local PostgreSQL (a long action; the lock is kept if held). */
    public synchronized ActionResult restart() {
        return engine.requestRestart();
    }

    /** Wipes the local data directory and clones it again from the leader; refused on the leader. */
    public synchronized ActionResult reinitialize() {
        return engine.requestReinitialize();
    }

    /**
     * Begins Patroni's graceful shutdown: cancels the action in progress and asks PostgreSQL to
     * stop (fast). The core never blocks, so the host keeps calling {@link #runCycle()} until it
     * returns {@link CycleAction#SHUTDOWN}: each call advances the shutdown, and once PostgreSQL is
     * down the leader key is released (if held) so a replica takes over at once. The lock is kept
     * while PostgreSQL stops; it no longer accepts writes by then. Calling it again does nothing.
     */
    @Override
    public synchronized void close() {
        engine.shutdown();
    }

    /** Collects the parts of a controller. */
    public static final class Builder {
        private HaConfig config;
        private DcsClient dcs;
        private PostgresProcess postgres;
        private HaClock clock = HaClock.system();
        private HaListener listener = HaListener.NONE;
        private LeaseGuard leaseGuard = LeaseGuard.NONE;

        private Builder() {
        }

        /** The member's settings (required). */
        public Builder config(HaConfig value) {
            this.config = value;
            return this;
        }

        /**
         * The DCS client of this member (required): built for the member named by the config's
         * {@link HaConfig#name()} ({@link DcsClient#member()}).
         */
        public Builder dcs(DcsClient value) {
            this.dcs = value;
            return this;
        }

        /** The local PostgreSQL (required). */
        public Builder postgres(PostgresProcess value) {
            this.postgres = value;
            return this;
        }

        /** The clock (default: the system clock). */
        public Builder clock(HaClock value) {
            this.clock = value;
            return this;
        }

        /** Receives events (default: none). */
        public Builder listener(HaListener value) {
            this.listener = value;
            return this;
        }

        /** Fences the primary when cycles stop (default: none). */
        public Builder leaseGuard(LeaseGuard value) {
            this.leaseGuard = value;
            return this;
        }

        /**
         * Builds the controller. It does nothing until the first {@link #runCycle()}.
         *
         * @throws NullPointerException     naming the missing part
         * @throws IllegalArgumentException when the DCS client serves another member than
         *                                  {@link HaConfig#name()}
         */
        public HaController build() {
            Objects.requireNonNull(config, "config");
            Objects.requireNonNull(dcs, "dcs");
            requireSameMember(config, dcs);
            Objects.requireNonNull(postgres, "postgres");
            Objects.requireNonNull(clock, "clock");
            Objects.requireNonNull(listener, "listener");
            Objects.requireNonNull(leaseGuard, "leaseGuard");
            dcs.setRetryTimeout(config.retryTimeout());
            return new HaController(this);
        }

        private static void requireSameMember(HaConfig config, DcsClient dcs) {
            String served = dcs.member();
            if (!config.name().equals(served)) {
                throw new IllegalArgumentException("the DCS client " + dcs + " serves member '" + served
                        + "' but HaConfig.name() is '" + config.name() + "': build the client for '"
                        + config.name() + "'");
            }
        }
    }
}
