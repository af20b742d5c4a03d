package dev.pgha;

import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.StopMode;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Patroni's {@code demote()} and {@code follow()}: giving up the primary role and keeping
 * PostgreSQL streaming from the right member.
 */
final class Demotion {

    private static final Logger log = LoggerFactory.getLogger(Demotion.class);

    /** Patroni's demote modes. */
    enum Mode {
        /** DCS unreachable: fast stop, key left to expire, follow nobody. */
        OFFLINE("offline"),
        /** Switchover: CHECKPOINT, fast stop, release the key, then follow. */
        GRACEFUL("graceful"),
        /** Crash failover or startup timeout: immediate stop, release the key, then follow. */
        IMMEDIATE("immediate"),
        /** Lock already lost: immediate stop, then follow. */
        IMMEDIATE_NOLOCK("immediate-nolock");

        final String patroniName;

        Mode(String patroniName) {
            this.patroniName = patroniName;
        }
    }

    private final Node node;
    /** The repair of diverged data (pg_rewind or a new clone, which then follows through this unit). */
    final Rewinder rewinder;
    /** The member slots: the leader's duty, and a replica's clean-up of slots left from when it led. */
    final SlotKeeper slots;
    /** Synchronous replication: the leader's duty, and a replica naming no synchronous standbys. */
    final SyncReplication sync;

    Demotion(Node node) {
        this.node = node;
        this.rewinder = new Rewinder(node, this);
        this.slots = new SlotKeeper(node);
        this.sync = new SyncReplication(node);
    }

    /**
     * Stops PostgreSQL to give up the primary role. Writes stop as soon as the stop begins; the
     * key is released (modes that release it) once PostgreSQL is down, and then it is started
     * again as a replica (all modes but offline).
     */
    Step demote(Cycle c, Mode mode, Step report) {
        return demote(c, mode, report, "demote");
    }

    Step demote(Cycle c, Mode mode, Step report, String actionName) {
        log.info("{}: Demoting self ({})", node.name, mode.patroniName);
        rewinder.triggerCheck(c);
        node.cancelAction(c);
        boolean immediate = mode == Mode.IMMEDIATE || mode == Mode.IMMEDIATE_NOLOCK;
        if (mode == Mode.OFFLINE || mode == Mode.IMMEDIATE_NOLOCK) {
            node.lock.forgetKeepingGuard(c);
        }
        boolean signaled = node.postgres.status().postmasterRunning();
        var op = node.postgres.stop(immediate ? StopMode.IMMEDIATE : StopMode.FAST, mode == Mode.GRACEFUL);
        return node.start(c, actionName, LongAction.Kind.DEMOTE, op,
                (later, ok, detail) -> afterStop(later, mode, signaled, ok, detail), report);
    }

    private Step afterStop(Cycle c, Mode mode, boolean signaled, boolean ok, String detail) {
        if (!ok) {
            log.error("{}: PostgreSQL did not stop while demoting ({}): {}", node.name, mode.patroniName, detail);
            return null;
        }
        node.setRole(c, PostgresRole.DEMOTED);
        c.state = c.state.followNotConfigured();
        if (signaled) {
            node.callback(c, HaListener.Callback.ON_STOP);
        }
        if (mode == Mode.GRACEFUL && signaled) {
            node.releaseLockWithLastPosition(c);   // the shutdown checkpoint this stop wrote
        } else if (mode == Mode.GRACEFUL || mode == Mode.IMMEDIATE) {
            // Patroni's release without last_lsn: a checkpoint this stop did not write (e.g. the one
            // single-user crash recovery left, after a WAL segment switch) says nothing the
            // replicas could have received, and would make them all look far behind.
            node.lock.release(c);
        }
        if (mode == Mode.OFFLINE) {
            return null;
        }
        ClusterView now = node.readCluster(c); // the key was just released: who leads now?
        startFollowing(c, node.nodeToFollow(now).orElse(null), "starting after demotion");
        return null;
    }

    /**
     * Patroni's {@code follow()}: a node without the lock demotes if it runs as primary, repairs a
     * diverged data directory, and otherwise points PostgreSQL at the member to follow.
     *
     * @param demoteReason the message when it demotes
     * @param following    the step when it follows (reconfigured now, or already following)
     */
    Step follow(Cycle c, String demoteReason, Step following) {
        Optional<Member> target = node.nodeToFollow(c.cluster);
        if (c.state.settings().pause() && (!Rewinder.isNeeded(c.state) || c.cluster.isUnlocked())) {
            // Maintenance mode: nothing is demoted; a replica still follows the leader there is.
            if (c.pg.isRunningPrimary() || Node.actsAsPrimary(c.state, c.pg) && c.pg.postmasterRunning()
                    && !c.pg.inRecovery()) {
                node.setRole(c, PostgresRole.PRIMARY);
                return Step.of(CycleAction.NONE, "continue to run as primary without lock");
            }
            node.setRole(c, PostgresRole.REPLICA);
            if (target.isEmpty()) {
                return Step.of(CycleAction.NONE, node.iAm(""));
            }
        } else if (!c.state.settings().pause() && Node.actsAsPrimary(c.state, c.pg)) {
            return demote(c, Mode.IMMEDIATE_NOLOCK, Step.of(CycleAction.DEMOTE, demoteReason));
        }
        Step repair = rewinder.handle(c);
        if (repair != null) {
            return repair;
        }
        String targetName = target.map(Member::name).orElse(null);
        if (!c.state.followConfigured() || !Objects.equals(c.state.upstream(), targetName)) {
            startFollowing(c, target.orElse(null), "changing primary_conninfo and restarting");
            return Step.of(CycleAction.FOLLOW, following.message());
        }
        node.setRole(c, PostgresRole.REPLICA);
        if (c.pg.acceptingConnections() && c.pg.inRecovery()) {
            slots.dropOnReplica(c, c.cluster);
        }
        // Re-check divergence when behind the leader's timeline or not streaming from it.
        boolean behindLeader = target.isPresent() && target.get().timeline() != null && c.pg.timeline() > 0
                && c.pg.timeline() < target.get().timeline();
        boolean notStreaming = target.isPresent() && target.get().isRunning() && c.pg.acceptingConnections()
                && c.pg.inRecovery() && !c.pg.streaming();
        if (behindLeader || notStreaming) {
            rewinder.triggerCheck(c);
            repair = rewinder.handle(c);
            if (repair != null) {
                return repair;
            }
        }
        return following;
    }

    /**
     * Starts (or reconfigures) PostgreSQL as a replica of {@code upstream}, a member of the
     * cycle's view, as a long action.
     */
    void startFollowing(Cycle c, Member upstream, String actionName) {
        String upstreamName = upstream == null ? null : upstream.name();
        PostgresRole before = c.state.role();
        boolean wasRunning = c.state.lastState() != null && c.state.lastState().isUp();
        slots.followChanged(c);
        sync.asReplica(c);
        node.start(c, actionName, LongAction.Kind.FOLLOW, node.postgres.follow(upstream,
                slots.slotToFollow(c.state.settings(), c.cluster, upstream)), (later, ok, detail) -> {
            if (ok) {
                later.state = later.state.following(upstreamName);
                node.setRole(later, PostgresRole.REPLICA);
                if (before == PostgresRole.PRIMARY || before == PostgresRole.DEMOTED
                        || before == PostgresRole.PROMOTED) {
                    node.callback(later, HaListener.Callback.ON_ROLE_CHANGE);
                } else if (!wasRunning) {
                    node.callback(later, HaListener.Callback.ON_START);
                }
            }
            return null;
        }, null);
    }
}
