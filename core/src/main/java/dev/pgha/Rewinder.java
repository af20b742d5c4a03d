package dev.pgha;

import dev.pgha.cluster.Member;
import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.StopMode;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Patroni's pg_rewind state machine and {@code _handle_rewind_or_reinitialize()}: decides whether
 * this node's data diverged from the leader's timeline and repairs it by pg_rewind or by wiping
 * and cloning again, as configured.
 */
final class Rewinder {

    private static final Logger log = LoggerFactory.getLogger(Rewinder.class);

    /** Patroni's rewind states. */
    enum State { INITIAL, CHECK, NEED, NOT_NEED, SUCCESS, FAILED }

    private final Node node;
    private final Demotion demotion;

    Rewinder(Node node, Demotion demotion) {
        this.node = node;
        this.demotion = demotion;
    }

    /** Asks for a divergence check on the next opportunity (only when a repair is allowed). */
    void triggerCheck(Cycle c) {
        boolean repairAllowed = c.state.settings().usePgRewind() || node.config.removeDataDirectoryOnDivergedTimelines();
        if (repairAllowed && c.state.rewind() != State.NEED) {
            c.state = c.state.withRewind(State.CHECK);
        }
    }

    static boolean isNeeded(NodeState s) {
        return s.rewind() == State.CHECK || s.rewind() == State.NEED;
    }

    static boolean executed(NodeState s) {
        return s.rewind() == State.SUCCESS || s.rewind() == State.FAILED;
    }

    void reset(Cycle c) {
        c.state = c.state.withRewind(State.INITIAL);
    }

    /**
     * Checks divergence if asked, and if the data diverged starts the repair.
     *
     * @return the step reporting the repair, or null when nothing needs doing
     */
    Step handle(Cycle c) {
        Optional<Member> leader = c.cluster.leaderMember().filter(m -> !m.name().equals(node.name));
        if (leader.isEmpty()) {
            return null;
        }
        if (c.state.rewind() == State.CHECK) {
            Divergence.Verdict verdict = check(c, leader.get());
            if (verdict == Divergence.Verdict.NEED) {
                log.info("{}: data diverged from leader {}; repair needed", node.name, leader.get().name());
                c.state = c.state.withRewind(State.NEED);
            } else if (verdict == Divergence.Verdict.NOT_NEED) {
                c.state = c.state.withRewind(State.NOT_NEED);
            } else if (!c.pg.postmasterRunning() && node.postgres.controlData().isCleanPrimaryShutdown()) {
                // A former primary must not start as a standby before we know whether it forked
                // (the leader is still promoting or down): once running, a fork that reused the
                // timeline number is no longer visible from pg_control.
                return Step.of(CycleAction.WAIT, "waiting for leader " + leader.get().name()
                        + " to run as primary before checking whether my data diverged");
            }
        }
        if (c.state.rewind() != State.NEED) {
            return null;
        }
        if (c.state.settings().usePgRewind()) {
            return rewind(c, leader.get());
        }
        if (node.config.removeDataDirectoryOnDivergedTimelines()) {
            return reinitialize(c, leader.get(), "reinitializing due to diverged timelines");
        }
        return null;
    }

    private Divergence.Verdict check(Cycle c, Member leader) {
        if (c.pg.postmasterRunning()) {
            if (!c.pg.acceptingConnections()) {
                return Divergence.Verdict.UNKNOWN;
            }
            long position = c.pg.replayLsn() != null ? c.pg.replayLsn().value() : c.pg.walPosition().value();
            return Divergence.check(c.pg.timeline(), position, !c.pg.inRecovery(), node.postgres.timelineHistory(),
                    node.name, c.state.knownTimeline(), c.state.knownTimelineCreator(), leader, c.cluster.history());
        }
        ControlData cd = node.postgres.controlData();
        if (cd.needsCrashRecovery()) {
            return Divergence.Verdict.UNKNOWN;
        }
        return Divergence.check(cd.effectiveTimeline(), cd.effectivePosition().value(), cd.isCleanPrimaryShutdown(),
                node.postgres.timelineHistory(), node.name, c.state.knownTimeline(), c.state.knownTimelineCreator(),
                leader, c.cluster.history());
    }

    private Step rewind(Cycle c, Member leader) {
        String name = "running pg_rewind from " + leader.name();
        if (c.pg.postmasterRunning()) {
            PostgresOperation stop = node.postgres.stop(StopMode.FAST, false);
            return node.start(c, name, LongAction.Kind.REWIND, stop,
                    (later, ok, detail) -> ok ? startRewind(later, leader, name) : null, Step.of(CycleAction.REWIND, name));
        }
        ControlData cd = node.postgres.controlData();
        boolean unclean = cd.needsCrashRecovery() || "in archive recovery".equals(cd.clusterState());
        if (unclean && !c.state.crashRecoveryExecuted()) {
            c.state = c.state.withCrashRecoveryExecuted(true);
            String msg = "doing crash recovery in a single user mode";
            return node.start(c, msg, LongAction.Kind.CRASH_RECOVERY, node.postgres.crashRecovery(),
                    LongAction.Completion.nothing(), Step.of(CycleAction.CRASH_RECOVERY, msg));
        }
        if (leader.checkpointAfterPromotePending()) {
            log.info("{}: Waiting for checkpoint on {} before rewind", node.name, leader.name());
            return Step.of(CycleAction.WAIT, "waiting for checkpoint on " + leader.name() + " before rewind");
        }
        startRewind(c, leader, name);
        return Step.of(CycleAction.REWIND, name);
    }

    private Step startRewind(Cycle c, Member leader, String name) {
        node.start(c, name, LongAction.Kind.REWIND, node.postgres.rewind(leader), (later, ok, detail) -> {
            later.state = later.state.followNotConfigured();
            if (ok) {
                later.state = later.state.withRewind(State.SUCCESS).withKnownTimeline(0, later.state.knownTimelineCreator());
                return null;
            }
            later.state = later.state.withRewind(State.FAILED);
            log.error("{}: Failed to rewind from healthy primary: {}: {}", node.name, leader.name(), detail);
            if (node.config.removeDataDirectoryOnRewindFailure()) {
                log.warn("{}: remove_data_directory_on_rewind_failure is set: removing the data directory",
                        node.name);
                node.postgres.removeDataDirectory();
                later.state = later.state.withRewind(State.INITIAL);
            }
            return null;
        }, null);
        return null;
    }

    /**
     * Wipes the data directory and clones it again from {@code leader}, then starts it following
     * the leader at once, as Patroni's {@code clone()} does: a fresh clone left stopped would look
     * like a crashed primary ({@code in production}) to the next cycle.
     */
    Step reinitialize(Cycle c, Member leader, String actionName) {
        Step report = Step.of(CycleAction.REINITIALIZE, actionName);
        if (c.pg.postmasterRunning()) {
            return node.start(c, actionName, LongAction.Kind.REINITIALIZE,
                    node.postgres.stop(StopMode.IMMEDIATE, false),
                    (later, ok, detail) -> ok ? wipeAndClone(later, leader, actionName) : null, report);
        }
        wipeAndClone(c, leader, actionName);
        return report;
    }

    private Step wipeAndClone(Cycle c, Member leader, String actionName) {
        node.postgres.removeDataDirectory();
        c.state = c.state.followNotConfigured();
        node.start(c, actionName, LongAction.Kind.REINITIALIZE, node.postgres.cloneFrom(leader), (later, ok, detail) -> {
            if (!ok) {
                log.error("{}: {} failed: {}", node.name, actionName, detail);
                node.postgres.removeDataDirectory();
                return null;
            }
            log.info("{}: bootstrapped from leader '{}'", node.name, leader.name());
            later.state = later.state.withRewind(State.INITIAL).withKnownTimeline(0, later.state.knownTimelineCreator());
            node.setRole(later, PostgresRole.REPLICA);
            demotion.startFollowing(later, node.nodeToFollow(later.cluster).orElse(null), actionName);
            return null;
        }, null);
        return null;
    }
}
