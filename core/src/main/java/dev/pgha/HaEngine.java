package dev.pgha;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterView;
import dev.pgha.dcs.DcsClient;
import dev.pgha.dcs.DcsException;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.PostgresException;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresProcess;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine behind {@link dev.pgha.HaController}: Patroni's {@code _run_cycle()} as one entry
 * point over small decision units. Not part of the API; not thread-safe (the controller
 * serializes calls, and publishes {@link #status(ControllerState)} after each for readers on other
 * threads).
 */
final class HaEngine {

    private static final Logger log = LoggerFactory.getLogger(HaEngine.class);

    /** How soon to look again while a long action runs. */
    static final Duration ACTION_POLL_INTERVAL = Duration.ofSeconds(1);

    private final Node node;
    private final Demotion demotion;
    private final Leadership leadership;
    private final Recovery recovery;
    private final Bootstrapper bootstrapper;
    private final MemberPublisher publisher;
    private final Requests requests;
    private final FailoverRequests failoverRequests;
    private final Shutdown shutdown;
    private final SyncRelease syncRelease;
    private final DynamicSettings dynamicSettings;
    private final DataDirectoryChecks dataDirectory;
    /** What this node carries from cycle to cycle; only this class replaces it, whole, after each cycle. */
    private NodeState state;
    private CycleResult lastResult;

    /** Wires the decision units; does no I/O. */
    HaEngine(HaConfig config, DcsClient dcs, PostgresProcess postgres, HaClock clock, HaListener listener,
                    LeaseGuard leaseGuard) {
        this.node = new Node(config, dcs, postgres, clock, listener, leaseGuard);
        this.demotion = new Demotion(node);
        Rewinder rewinder = demotion.rewinder;
        this.leadership = new Leadership(node, demotion);
        this.recovery = new Recovery(node, demotion, rewinder, leadership);
        this.bootstrapper = new Bootstrapper(node, demotion);
        this.publisher = new MemberPublisher(node);
        this.syncRelease = new SyncRelease(node, publisher);
        this.requests = new Requests(node, rewinder, syncRelease);
        this.failoverRequests = new FailoverRequests(node, () -> state.election());
        this.shutdown = new Shutdown(node, publisher, syncRelease);
        this.dynamicSettings = new DynamicSettings(config.name());
        this.dataDirectory = new DataDirectoryChecks(node, bootstrapper);
        this.state = node.initialState();
    }

    /** One HA cycle; never throws for DCS or PostgreSQL failures. */
    CycleResult runCycle() {
        long started = node.clock.nanoTime();
        Cycle c = new Cycle(state);
        try {
            if (Shutdown.isRequested(c.state)) {
                return finish(c, shutdown.step(c), started);
            }
            Step step;
            boolean dcsFailed = false;
            try {
                step = cycle(c);
            } catch (DcsException e) {
                dcsFailed = true;
                step = handleDcsError(c, e);
            } catch (PostgresException e) {
                log.error("{}: Error communicating with PostgreSQL: {}", node.name, e.getMessage());
                step = Step.of(CycleAction.POSTGRES_ERROR, "Error communicating with PostgreSQL. Will try again later");
            } catch (RuntimeException e) {
                log.error("{}: Unexpected exception", node.name, e);
                step = Step.of(CycleAction.FAILED, "Unexpected exception raised, please report it as a BUG");
                step = demoteIfPrimaryWithoutLease(c, step);
            }
            if (!dcsFailed) {
                publish(c);
            }
            return finish(c, step, started);
        } finally {
            state = c.state;
        }
    }

    private Step cycle(Cycle c) {
        // A finished action's completion acts first (it may release the lock or start the next
        // action), so that everything this cycle decides sees the DCS as the completion left it.
        Step done = node.pollAction(c);
        boolean guardCapable = node.lock.guardCapable(c);
        c.state = c.state.withGuardCapable(guardCapable);
        ClusterView previousView = c.state.lastView();
        String previousLeader = c.state.formerLeader();
        ClusterView cluster = node.readCluster(c);
        ClusterSettings next = dynamicSettings.next(cluster.config(), c.state.settings(), c.state.configSeen());
        node.useSettings(c, next);
        c.state = c.state.withConfigSeen(cluster.config().data());
        demotion.sync.noteKey(c);
        syncRelease.check(c, cluster);
        // Every cycle, before anything may start PostgreSQL; the implementation acts only on a change.
        node.postgres.applyParameters(c.state.settings().postgresqlParameters());
        if (!cluster.isLeader(node.name)) {
            node.lock.lost(c);
        }
        if (cluster.leaderName().isPresent()) {
            c.state = c.state.withFormerLeader(cluster.leaderName().get());
        }
        node.noteTimelineSource(c, node.observe(c), previousLeader, previousView);
        if (c.state.role() == null) {
            c.state = c.state.withRole(initialRole(c.pg));
        }
        adoptClusterKeys(c);
        if (done != null) {
            if (cluster.isLeader(node.name)) {
                node.lock.update(c);
            }
            return done;
        }
        if (c.state.action() != null) {
            return leadership.handleLongActionInProgress(c);
        }
        Step s = recovery.handleStartingInstance(c);
        if (s != null) {
            return s;
        }
        if (c.state.bootstrapping()) {
            return bootstrapper.cancelInitialization(c, "PostgreSQL is not running after bootstrap");
        }
        if (c.state.recovering()) {
            s = recovery.postRecover(c);
            if (s != null) {
                return s;
            }
        }
        if (c.pg.dataDirectory() != DataDirectoryState.INITIALIZED) {
            return dataDirectory.empty(c);
        }
        s = dataDirectory.checkSystemId(c);
        if (s != null) {
            return s;
        }
        if (!c.pg.postmasterRunning()) {
            if (c.state.settings().pause()) {
                if (c.cluster.isLeader(node.name)) {
                    node.lock.release(c);
                    return Step.of(CycleAction.RELEASE_LOCK, "removed leader lock because postgres is not running");
                }
                // The operator owns PostgreSQL in pause; only a primary that pgha itself stopped to
                // demote it and that waits for its rewind is brought back, as Patroni does; never
                // one that crashed.
                if (!Rewinder.isNeeded(c.state) || c.state.role() != PostgresRole.DEMOTED
                        || c.pg.state() == dev.pgha.postgres.PostgresState.CRASHED) {
                    return Step.of(CycleAction.WAIT, "postgres is not running");
                }
            }
            return recovery.recover(c);
        }
        s = c.cluster.isUnlocked() ? leadership.processUnhealthy(c)
                : requests.evaluateScheduledRestart(c, leadership.processHealthy(c));
        if (c.state.action() == null && !c.state.callbackFired() && c.pg.postmasterRunning()) {
            node.callback(c, HaListener.Callback.ON_START);
        }
        return s;
    }

    /** The lock holder repairs the {@code initialize} and {@code config} keys when they are missing. */
    private void adoptClusterKeys(Cycle c) {
        if (!c.cluster.isLeader(node.name) || c.pg.dataDirectory() != DataDirectoryState.INITIALIZED) {
            return;
        }
        if (!c.cluster.hasValidInitialize() && c.pg.systemIdentifier() != null) {
            node.dcs.setInitialize(c.pg.systemIdentifier());
        }
        if (c.cluster.config().data().isEmpty() && !c.state.bootstrapping()) {
            // Patroni writes the settings in force; compare-and-set on the (empty) key as read.
            node.dcs.setConfig(new ClusterConfig(c.state.settings().toConfig(), 0), c.cluster.config().version());
        }
    }

    private static PostgresRole initialRole(PostgresStatus pg) {
        if (pg.dataDirectory() != DataDirectoryState.INITIALIZED) {
            return PostgresRole.UNINITIALIZED;
        }
        if (pg.inRecovery()) {
            return PostgresRole.REPLICA;
        }
        return pg.postmasterRunning() ? PostgresRole.PRIMARY : PostgresRole.DEMOTED;
    }

    /**
     * When in doubt, demote: after a cycle failed unexpectedly, a node that may accept writes but
     * holds no valid lease stops PostgreSQL.
     */
    private Step demoteIfPrimaryWithoutLease(Cycle c, Step failed) {
        try {
            PostgresStatus pg = node.observe(c);
            LongAction a = c.state.action();
            if (pg.postmasterRunning() && Node.actsAsPrimary(c.state, pg) && !node.lock.isHeld(c.state)
                    && !c.state.settings().pause() && (a == null || a.kind() != LongAction.Kind.DEMOTE)) {
                log.warn("{}: running as primary without a valid lease after an unexpected error: demoting", node.name);
                return demotion.demote(c, Demotion.Mode.IMMEDIATE_NOLOCK, Step.of(CycleAction.DEMOTE,
                        "demoted self because of an unexpected error while running as primary without a valid lease"));
            }
        } catch (RuntimeException again) {
            log.error("{}: could not check for demotion after an unexpected error", node.name, again);
        }
        return failed;
    }

    /** Patroni's {@code _handle_dcs_error()}: a primary that cannot reach the DCS demotes. */
    private Step handleDcsError(Cycle c, DcsException e) {
        log.warn("{}: Error communicating with DCS: {}", node.name, e.getMessage());
        c.state = c.state.withDcsTroubleSinceLastRace(true);
        try {
            syncRelease.check(c, null);
            if (c.state.action() != null) {
                node.pollAction(c);
            }
            PostgresStatus pg = node.observe(c);
            node.lock.forgetKeepingGuard(c);
            if (pg.postmasterRunning() && Node.actsAsPrimary(c.state, pg) && !c.state.settings().pause()) {
                LongAction a = c.state.action();
                if (a != null && a.kind() == LongAction.Kind.DEMOTE) {
                    return Step.of(CycleAction.DEMOTE, "demoted self because DCS is not accessible and I was a leader");
                }
                log.info("{}: demoting self because DCS is not accessible and I was a leader", node.name);
                return demotion.demote(c, Demotion.Mode.OFFLINE,
                        Step.of(CycleAction.DEMOTE, "demoted self because DCS is not accessible and I was a leader"));
            }
        } catch (DcsException | PostgresException again) {
            log.warn("{}: while handling the DCS error: {}", node.name, again.getMessage());
        }
        return Step.of(CycleAction.DCS_ERROR, "DCS is not accessible");
    }

    private void publish(Cycle c) {
        try {
            publisher.publish(c, node.observe(c));
        } catch (DcsException e) {
            log.warn("{}: could not publish the member key: {}", node.name, e.getMessage());
        } catch (RuntimeException e) {
            log.error("{}: could not publish the member key", node.name, e);
        }
    }

    private CycleResult finish(Cycle c, Step step, long startedNanos) {
        Duration next;
        Duration loopWait = c.state.settings().loopWait();
        if (Shutdown.isDone(c.state)) {
            // Nothing more to do; a host that keeps calling anyway should not spin.
            next = loopWait;
        } else if (c.state.action() != null && c.state.action().operation().poll() == PostgresOperation.Outcome.SUCCEEDED) {
            // Ended already (e.g. a stop with no postmaster left, a reload): handle it now, as
            // Patroni's async executor wakes the loop when its action ends. Failures wait, so a
            // refusal retried every cycle cannot spin.
            next = Duration.ZERO;
        } else if (c.state.action() != null || Shutdown.isRequested(c.state)) {
            next = min(loopWait, ACTION_POLL_INTERVAL);
        } else {
            Duration elapsed = Duration.ofNanos(node.clock.nanoTime() - startedNanos);
            next = loopWait.minus(elapsed);
            if (next.isNegative()) {
                log.warn("{}: Loop time exceeded, rescheduling immediately.", node.name);
                next = Duration.ZERO;
            }
        }
        if (step.wakeUpIn() != null) {
            next = min(next, step.wakeUpIn());
        }
        Instant deadline = node.lock.deadline(c.state);
        String message = c.state.settings().pause() ? "PAUSE: " + step.message() : step.message();
        lastResult = new CycleResult(step.action(), message, c.state.roleOrUninitialized(), deadline != null,
                next, deadline, node.clock.wallTime());
        log.debug("{}: {}", node.name, message);
        return lastResult;
    }

    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }

    /** What the engine knows about itself now, for a controller in {@code controllerState}: an immutable snapshot. */
    HaStatus status(ControllerState controllerState) {
        NodeState s = state;
        Instant deadline = node.lock.deadline(s);
        return new HaStatus(node.name, controllerState, s.roleOrUninitialized(), s.lastState(), deadline != null,
                deadline, s.lastView().leaderName().orElse(null), s.action() == null ? null : s.action().name(),
                lastResult, s.settings(), s.lastStatus(), s.lastView(), s.dcsLastSeen(),
                s.scheduledRestart() == null ? null : s.scheduledRestart().request());
    }

    /** While the lock is held: when its lease runs out, on the clock's {@code nanoTime()}. */
    long leaseDeadlineNanos() {
        return state.lock().deadlineNanos();
    }

    /** Writes a switchover request to the {@code failover} key after checking the candidate. */
    ActionResult requestSwitchover(String leader, String candidate, Instant scheduledAt) {
        return failoverRequests.switchover(leader, candidate, scheduledAt);
    }

    /** Writes a manual failover request to the {@code failover} key after checking the candidate. */
    ActionResult requestFailover(String candidate) {
        return failoverRequests.failover(candidate);
    }

    /** Restarts PostgreSQL as a long action, now or when scheduled, if the request's conditions hold. */
    ActionResult requestRestart(RestartRequest request) {
        return outsideCycle(c -> requests.restart(c, request));
    }

    /** Drops the scheduled restart. */
    ActionResult cancelScheduledRestart() {
        return outsideCycle(requests::cancelScheduledRestart);
    }

    /** Reloads PostgreSQL's configuration. */
    ActionResult requestReload() {
        return outsideCycle(requests::reload);
    }

    /** Wipes and re-clones this replica as a long action; {@code force} cancels the action in progress first. */
    ActionResult requestReinitialize(boolean force) {
        return outsideCycle(c -> requests.reinitialize(c, force));
    }

    /** Begins Patroni's graceful shutdown; later cycles finish it. */
    void shutdown() {
        if (!Shutdown.isRequested(state)) {
            outsideCycle(c -> {
                Shutdown.request(c);
                return finish(c, shutdown.step(c), node.clock.nanoTime());
            });
        }
    }

    /** Runs an operator request on the state, as a cycle does, and keeps the state it leaves. */
    private <T> T outsideCycle(Function<Cycle, T> request) {
        Cycle c = new Cycle(state);
        try {
            return request.apply(c);
        } finally {
            state = c.state;
        }
    }
}
