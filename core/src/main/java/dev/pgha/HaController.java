package dev.pgha;

import dev.pgha.dcs.DcsClient;
import dev.pgha.postgres.PostgresProcess;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HA engine of one member: Patroni's main loop as a library. The host builds it once and
 * calls {@link #runCycle()} from its own scheduler, waiting {@link CycleResult#nextCycleIn()}
 * between calls (or less, when the DCS watch signals a change).
 *
 * <p>The controller creates no threads and never sleeps. Long PostgreSQL work runs as child
 * processes whose completion later cycles observe; every cycle still renews the leader lock.
 * {@code runCycle()} never throws for DCS or PostgreSQL failures: they become a
 * {@link CycleResult}.
 *
 * <h2>Lifecycle</h2>
 * A controller is {@link ControllerState#RUNNING RUNNING} from the start; {@link #close()} begins
 * Patroni's graceful shutdown ({@link ControllerState#SHUTTING_DOWN SHUTTING_DOWN}), the following
 * {@code runCycle()} calls carry it out, and the one that returns {@link CycleAction#SHUTDOWN}
 * leaves the controller {@link ControllerState#CLOSED CLOSED}. {@link #state()} tells which; each
 * method says what it does in each state. A call that makes no sense in the current state throws
 * {@link IllegalStateException} naming the call and the state: the operator actions once
 * {@code close()} was called, {@code runCycle()} once {@code CLOSED}. {@link #status()},
 * {@link #state()} and {@link #close()} work in every state.
 *
 * <h2>Threads</h2>
 * {@code runCycle()}, the operator actions and {@code close()} are serialized on one lock: a
 * second thread calling any of them while another runs waits until it returned (a cycle on an
 * unreachable DCS lasts up to {@code retry_timeout} per DCS call), then gets its turn; the state
 * is checked once it has the lock. {@link #status()} and {@link #state()} take no lock and never
 * wait: after each serialized call the controller publishes an immutable {@link HaStatus}, and
 * {@code status()} returns the latest, so a health endpoint answers at once while a cycle hangs
 * on a slow DCS.
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

    private static final Logger log = LoggerFactory.getLogger(HaController.class);

    private final String member;
    private final HaClock clock;
    private final HaEngine engine;
    /** Serializes {@code runCycle()}, the operator actions and {@code close()}. */
    private final Object lock = new Object();
    /** Moved along {@link ControllerState}'s table, only while holding {@link #lock}. */
    private final AtomicReference<ControllerState> state = new AtomicReference<>(ControllerState.RUNNING);
    /** The snapshot {@link #status()} returns: written while holding {@link #lock}, read without it. */
    private volatile Published published;

    /** A published snapshot with its lease deadline on the clock's {@code nanoTime()}. */
    private record Published(HaStatus status, long leaseDeadlineNanos) {
    }

    private HaController(Builder b) {
        this.member = b.config.name();
        this.clock = b.clock;
        this.engine = new HaEngine(b.config, b.dcs, b.postgres, b.clock, b.listener, b.leaseGuard);
        publish();
    }

    /** A builder; config, dcs and postgres are required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Runs one HA cycle: reads the cluster from the DCS, decides, acts, publishes this member.
     * Never throws for DCS or PostgreSQL failures. Waits while another thread runs a cycle, an
     * operator action or {@code close()}.
     *
     * <ul>
     *   <li>{@code RUNNING}: one cycle.</li>
     *   <li>{@code SHUTTING_DOWN}: one step of the graceful shutdown; the call that returns
     *       {@link CycleAction#SHUTDOWN} moves the controller to {@code CLOSED}. A host that
     *       cycles until {@code SHUTDOWN} after {@code close()} therefore never calls it in
     *       {@code CLOSED}, even when {@code close()} could finish the shutdown by itself.</li>
     *   <li>{@code CLOSED}: throws.</li>
     * </ul>
     *
     * @throws IllegalStateException when the controller is {@code CLOSED}
     */
    public CycleResult runCycle() {
        synchronized (lock) {
            ControllerState before = require("runCycle()", ControllerState::allowsCycles);
            try {
                CycleResult result = engine.runCycle();
                if (before == ControllerState.SHUTTING_DOWN && result.action() == CycleAction.SHUTDOWN) {
                    moveTo(ControllerState.CLOSED);
                }
                return result;
            } finally {
                publish();
            }
        }
    }

    /**
     * What the controller knows about itself: the snapshot published when its last cycle,
     * operator action or {@code close()} returned, with the state it left. It answers at once in
     * every state, also while another thread's cycle is in progress (that cycle's outcome shows
     * once it returned). A lease that ran out since is reported as not held.
     */
    public HaStatus status() {
        Published p = published;
        HaStatus s = p.status();
        if (s.lockHeld() && clock.nanoTime() - p.leaseDeadlineNanos() >= 0) {
            return s.withLeaseExpired();
        }
        return s;
    }

    /** The lifecycle state now; never waits. */
    public ControllerState state() {
        return state.get();
    }

    /**
     * Requests a switchover from the current leader, like {@code patronictl switchover}: writes the
     * {@code failover} key; the leader demotes on its next cycle and the candidate (or the
     * healthiest replica when {@code candidate} is null) takes over. Only while {@code RUNNING};
     * waits for a cycle in progress.
     *
     * @param candidate   the member to promote, or null for the healthiest
     * @param scheduledAt when to do it, or null for now
     * @throws IllegalStateException once {@link #close()} was called
     */
    public ActionResult switchover(String candidate, Instant scheduledAt) {
        return operatorAction("switchover()", () -> engine.requestSwitchover(null, candidate, scheduledAt));
    }

    /**
     * Requests a switchover like {@code patronictl switchover --leader ... --candidate ...}: as
     * {@link #switchover(String, Instant)}, refused unless {@code leader} leads now. Only while
     * {@code RUNNING}.
     *
     * @param leader      the member expected to lead now, or null for whoever does
     * @param candidate   the member to promote, or null for the healthiest
     * @param scheduledAt when to do it, or null for now
     * @throws IllegalStateException once {@link #close()} was called
     */
    public ActionResult switchover(String leader, String candidate, Instant scheduledAt) {
        return operatorAction("switchover()", () -> engine.requestSwitchover(leader, candidate, scheduledAt));
    }

    /**
     * Requests a manual failover to {@code candidate}, like {@code patronictl failover}: works also
     * when the cluster has no leader. Only while {@code RUNNING}.
     *
     * @throws IllegalStateException once {@link #close()} was called
     */
    public ActionResult failover(String candidate) {
        Objects.requireNonNull(candidate, "candidate");
        return operatorAction("failover()", () -> engine.requestFailover(candidate));
    }

    /**
     * Restarts the local PostgreSQL (a long action; the lock is kept if held). Only while
     * {@code RUNNING}: a shutdown stops PostgreSQL instead.
     *
     * @throws IllegalStateException once {@link #close()} was called
     */
    public ActionResult restart() {
        return restart(RestartRequest.NOW);
    }

    /**
     * Restarts the local PostgreSQL under Patroni's conditions ({@code POST /restart}): refused
     * with "restart conditions are not satisfied" when a condition of the request does not hold,
     * and with "... already in progress" while another action runs. A request with a
     * {@link RestartRequest#scheduledAt() schedule} is kept (one at a time: "Another restart is
     * already scheduled"; not in pause) and published in the member key; it runs on the first cycle
     * within {@code loop_wait} of its time, if its conditions hold then, and is dropped if
     * PostgreSQL restarted in the meantime. Only while {@code RUNNING}.
     *
     * @throws IllegalStateException once {@link #close()} was called
     */
    public ActionResult restart(RestartRequest request) {
        Objects.requireNonNull(request, "request");
        return operatorAction("restart()", () -> engine.requestRestart(request));
    }

    /**
     * Drops the scheduled restart ({@code DELETE /restart}); refused with "no restarts are
     * scheduled" when there is none. Only while {@code RUNNING}.
     *
     * @throws IllegalStateException once {@link #close()} was called
     */
    public ActionResult cancelScheduledRestart() {
        return operatorAction("cancelScheduledRestart()", engine::cancelScheduledRestart);
    }

    /**
     * Asks the running PostgreSQL to reload its configuration files ({@code POST /reload}). Only
     * while {@code RUNNING}.
     *
     * @throws IllegalStateException once {@link #close()} was called
     */
    public ActionResult reload() {
        return operatorAction("reload()", engine::requestReload);
    }

    /**
     * Wipes the local data directory and clones it again from the leader; refused on the leader,
     * without a leader, and while another action runs. Only while {@code RUNNING}.
     *
     * @throws IllegalStateException once {@link #close()} was called
     */
    public ActionResult reinitialize() {
        return reinitialize(false);
    }

    /**
     * As {@link #reinitialize()}; with {@code force} the action in progress is cancelled first
     * ({@code POST /reinitialize} with {@code "force": true}).
     *
     * @throws IllegalStateException once {@link #close()} was called
     */
    public ActionResult reinitialize(boolean force) {
        return operatorAction("reinitialize()", () -> engine.requestReinitialize(force));
    }

    /**
     * Begins Patroni's graceful shutdown (from {@code RUNNING} to {@code SHUTTING_DOWN}): cancels
     * the action in progress and asks PostgreSQL to stop (fast). The core never blocks, so the
     * host keeps calling {@link #runCycle()} until it returns {@link CycleAction#SHUTDOWN}: each
     * call advances the shutdown, and once PostgreSQL is down the leader key is released (if held)
     * so a replica takes over at once. The lock is kept while PostgreSQL stops; it no longer
     * accepts writes by then. Waits for a cycle in progress. In {@code SHUTTING_DOWN} and
     * {@code CLOSED} it does nothing and returns at once: {@code close()} is idempotent.
     */
    @Override
    public void close() {
        if (state.get() != ControllerState.RUNNING) {
            return;
        }
        synchronized (lock) {
            if (state.get() != ControllerState.RUNNING) {
                return;
            }
            moveTo(ControllerState.SHUTTING_DOWN);
            try {
                engine.shutdown();
            } finally {
                publish();
            }
        }
    }

    private ActionResult operatorAction(String call, Supplier<ActionResult> action) {
        synchronized (lock) {
            require(call, ControllerState::allowsOperatorActions);
            try {
                return action.get();
            } finally {
                publish();
            }
        }
    }

    /** The state now, if it allows {@code call}; caller holds {@link #lock}. */
    private ControllerState require(String call, Predicate<ControllerState> allowed) {
        ControllerState now = state.get();
        if (!allowed.test(now)) {
            throw new IllegalStateException(member + ": " + call + " is not allowed: the controller is " + now
                    + (now == ControllerState.CLOSED ? " (its shutdown is complete)"
                    : " (close() was called; runCycle() carries out the shutdown)"));
        }
        return now;
    }

    /** Moves along the state table; caller holds {@link #lock}. */
    private void moveTo(ControllerState next) {
        ControllerState now = state.get();
        if (!state.compareAndSet(now, now.transitionTo(next))) {
            throw new IllegalStateException(member + ": controller state changed concurrently from " + now);
        }
        log.info("{}: controller {} -> {}", member, now, next);
    }

    /** Publishes what the engine knows now for {@link #status()}; caller holds {@link #lock} (or constructs). */
    private void publish() {
        published = new Published(engine.status(state.get()), engine.leaseDeadlineNanos());
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
