package dev.pgha;

import dev.pgha.cluster.Member;
import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresState;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL is not running, or is still starting: Patroni's {@code recover()},
 * {@code post_recover()} and {@code handle_starting_instance()}.
 */
final class Recovery {

    private static final Logger log = LoggerFactory.getLogger(Recovery.class);

    private static final Set<String> PRIMARY_CRASH_STATES =
            Set.of("in production", "in crash recovery", "shutting down", "shut down");

    private final Node node;
    private final Demotion demotion;
    private final Rewinder rewinder;
    private final Leadership leadership;
    private final StartTimeout startTimeout;

    Recovery(Node node, Demotion demotion, Rewinder rewinder, Leadership leadership) {
        this.node = node;
        this.demotion = demotion;
        this.rewinder = rewinder;
        this.leadership = leadership;
        this.startTimeout = new StartTimeout(demotion);
    }

    /** Patroni's {@code recover()}: PostgreSQL is down; bring it back in the right role. */
    Step recover(Cycle c) {
        boolean locked = c.cluster.isLeader(node.name) && node.lock.update(c);
        Duration timeout = null;
        if (locked) {
            timeout = c.state.settings().primaryStartTimeout();
            if (timeout.isZero()) {
                if (c.state.election().isFailoverPossible(c.cluster, 0, null, "failover")) {
                    log.info("{}: Primary crashed. Failing over.", node.name);
                    return demotion.demote(c, Demotion.Mode.IMMEDIATE,
                            Step.of(CycleAction.DEMOTE, "stopped PostgreSQL to fail over after a crash"));
                }
                timeout = null;
            }
        }
        ControlData cd = node.postgres.controlData();
        log.info("{}: pg_controldata: state '{}', timeline {}, checkpoint {}", node.name, cd.clusterState(),
                cd.checkpointTimeline(), cd.checkpointLocation());
        if (locked) {
            leadership.updateClusterHistory(c.cluster, cd.checkpointTimeline());
        }
        if (timeout != null && PRIMARY_CRASH_STATES.contains(cd.clusterState())
                && c.pg.state() == PostgresState.CRASHED && c.state.role() == PostgresRole.PRIMARY
                && !c.pg.inRecovery()) {
            c.state = c.state.withRecovering(true);
            String msg = "starting primary after failure";
            demotion.sync.beforePrimaryStart(c);
            return node.start(c, msg, LongAction.Kind.START, node.postgres.start(), this::afterStart,
                    Step.of(CycleAction.START, msg));
        }
        if (cd.needsCrashRecovery()) {
            if (!c.state.crashRecoveryExecuted() && (c.cluster.isUnlocked() || c.state.settings().usePgRewind())) {
                c.state = c.state.withCrashRecoveryExecuted(true);
                String msg = "doing crash recovery in a single user mode";
                return node.start(c, msg, LongAction.Kind.CRASH_RECOVERY, node.postgres.crashRecovery(),
                        LongAction.Completion.nothing(), Step.of(CycleAction.CRASH_RECOVERY, msg));
            }
        }
        Member upstream;
        String msg;
        if (locked) {
            rewinder.reset(c);
            msg = "starting as readonly because i had the session lock";
            upstream = null;
        } else {
            if (!Rewinder.executed(c.state)) {
                rewinder.triggerCheck(c);
            }
            Step repair = rewinder.handle(c);
            if (repair != null) {
                return repair;
            }
            msg = "starting as a secondary";
            upstream = node.nodeToFollow(c.cluster).orElse(null);
            long timeline = cd.checkpointTimeline();
            if (cd.wasPrimary() && timeline > 1 && c.state.knownTimeline() != timeline) {
                // It was a primary on this timeline: once it runs as a standby, pg_control no longer
                // says so. Remember who made the timeline, so a fork is still recognised later.
                node.rememberTimeline(c, timeline, node.name);
            }
        }
        c.state = c.state.withRecovering(true);
        String upstreamName = upstream == null ? null : upstream.name();
        demotion.slots.followChanged(c);
        if (!locked) {
            demotion.sync.asReplica(c);
        }
        var op = node.postgres.follow(upstream, demotion.slots.slotToFollow(c.state.settings(), c.cluster, upstream));
        return node.start(c, "restarting after failure", LongAction.Kind.START, op,
                (later, ok, detail) -> {
                    if (ok) {
                        later.state = later.state.following(upstreamName);
                        node.setRole(later, PostgresRole.REPLICA);
                    }
                    return afterStart(later, ok, detail);
                }, Step.of(CycleAction.START, msg));
    }

    private Step afterStart(Cycle c, boolean ok, String detail) {
        if (ok) {
            node.callback(c, HaListener.Callback.ON_START);
        }
        return null;
    }

    /** Patroni's {@code post_recover()}: the start launched by {@link #recover} has finished. */
    Step postRecover(Cycle c) {
        c.state = c.state.withRecovering(false);
        if (Rewinder.isNeeded(c.state)) {
            return null;
        }
        if (!c.pg.postmasterRunning()) {
            if (c.cluster.isLeader(node.name)) {
                PostgresRole role = c.state.role();
                if (role == PostgresRole.PRIMARY || role == PostgresRole.STANDBY_LEADER) {
                    node.setRole(c, PostgresRole.DEMOTED);
                    node.callback(c, HaListener.Callback.ON_ROLE_CHANGE);
                }
                node.lock.release(c);
                return Step.of(CycleAction.FAILED, "removed leader key after trying and failing to start postgres");
            }
            return Step.of(CycleAction.FAILED, "failed to start postgres");
        }
        c.state = c.state.withCrashRecoveryExecuted(false);
        if (c.state.rewind() == Rewinder.State.SUCCESS) {
            rewinder.reset(c);
        }
        return null;
    }

    /**
     * Patroni's {@code handle_starting_instance()}: PostgreSQL is starting and no action waits for
     * it. The lock holder waits up to the start timeout, then fails over if it can.
     *
     * @return a step, or null to continue the cycle
     */
    Step handleStartingInstance(Cycle c) {
        if (c.pg.state() != PostgresState.STARTING) {
            return null;
        }
        if (!c.cluster.isLeader(node.name)) {
            log.info("{}: Still starting up as a standby.", node.name);
            return null;
        }
        if (c.state.settings().pause()) {
            // No start timeout in pause: the operator decides; the holder keeps its key meanwhile.
            return node.lock.update(c) ? Step.of(CycleAction.WAIT, "PostgreSQL is still starting up")
                    : Step.of(CycleAction.WAIT, "PostgreSQL is still starting up; failed to update leader lock in DCS");
        }
        if (!node.lock.update(c)) {
            log.info("{}: Lost lock while starting up. Demoting self.", node.name);
            return demotion.demote(c, Demotion.Mode.IMMEDIATE_NOLOCK, Step.of(CycleAction.DEMOTE,
                    "stopped PostgreSQL while starting up because leader key was lost"));
        }
        Step timedOut = startTimeout.check(c, node.timeInState(c.state));
        if (timedOut != null) {
            return timedOut;
        }
        Leadership.ManualFailover manual = leadership.processManualFailoverFromLeader(c);
        if (manual.demotion() != null) {
            return manual.demotion();
        }
        Duration left = StartTimeout.limit(c.state).minus(node.timeInState(c.state));
        return Step.of(CycleAction.WAIT, String.format(Locale.ROOT,
                "PostgreSQL is still starting up, %.0f seconds until timeout", left.toMillis() / 1000.0))
                .wakingIn(manual.dueIn());
    }
}
