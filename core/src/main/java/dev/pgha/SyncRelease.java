package dev.pgha;

import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.SyncState;
import dev.pgha.dcs.DcsException;
import dev.pgha.postgres.PostgresOperation;
import java.time.Duration;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Patroni's {@code while_not_sync_standby()}: before a synchronous standby stops PostgreSQL
 * (restart, shutdown), it asks the primary to pick another one, so that commits do not wait on a
 * server that is going away. The action starts at once but holds its operation back: the member
 * key is published with {@code nosync} (and {@code sync_priority} 0) for as long as the action
 * runs, and the operation starts once the {@code sync} key no longer names this member, after
 * {@code 2 × loop_wait} at the latest, or at once when the DCS cannot be written or read (the
 * release is only a hint). Nothing waits inside a call: later cycles look again.
 */
final class SyncRelease {

    private static final Logger log = LoggerFactory.getLogger(SyncRelease.class);

    /**
     * The operation of an action that waits for the release: nothing runs yet.
     *
     * @param start starts the real operation
     */
    record Awaiting(Supplier<PostgresOperation> start) implements PostgresOperation {
        @Override
        public Outcome poll() {
            return Outcome.RUNNING;
        }

        @Override
        public String detail() {
            return "waiting for the primary to release us from synchronous standby";
        }

        @Override
        public void cancel() {
            // nothing was started
        }
    }

    private final Node node;
    private final MemberPublisher publisher;

    SyncRelease(Node node, MemberPublisher publisher) {
        this.node = node;
        this.publisher = publisher;
    }

    /**
     * Starts a long action that stops PostgreSQL, first asking to be released from synchronous
     * standby when this member may be one: synchronous replication requested, no {@code nosync}
     * tag, not the leader (as of the last view).
     */
    Step start(Cycle c, String actionName, LongAction.Kind kind, Supplier<PostgresOperation> operation,
               LongAction.Completion onDone, Step report) {
        ClusterView view = c.state.lastView();
        if (!SyncReplication.requested(c.state.settings()) || node.config.tags().noSync() || view.isLeader(node.name)) {
            return node.start(c, actionName, kind, operation.get(), onDone, report);
        }
        Step step = node.start(c, actionName, kind, new Awaiting(operation), onDone, report);
        try {
            publisher.publish(c, node.observe(c));
        } catch (DcsException e) {
            log.warn("{}: Updating member state failed, skipping synchronous standby disable", node.name);
            proceed(c);
            return step;
        }
        ClusterView now;
        try {
            now = node.readCluster(c);
        } catch (DcsException e) {
            now = null;
        }
        check(c, now);
        return step;
    }

    /**
     * Starts the held-back operation when the release happened, took too long, or cannot be seen.
     *
     * @param view the cluster as just read, or null when the DCS could not be read
     */
    void check(Cycle c, ClusterView view) {
        if (!isAwaiting(c.state)) {
            return;
        }
        LongAction a = c.state.action();
        if (view == null) {
            log.warn("{}: Could not get cluster state, skipping synchronous standby disable", node.name);
            proceed(c);
        } else if (!isSyncStandby(view)) {
            proceed(c);
        } else if (node.elapsed(a).compareTo(limit(c)) >= 0) {
            log.info("{}: the primary did not release us from synchronous standby within {} s; going on with {}",
                    node.name, limit(c).toSeconds(), a.name());
            proceed(c);
        } else {
            log.info("{}: Waiting for primary to release us from synchronous standby", node.name);
        }
    }

    /** Whether the action in progress still waits for the release. */
    static boolean isAwaiting(NodeState s) {
        return s.action() != null && s.action().operation() instanceof Awaiting;
    }

    /** Whether an action's member key must say {@code nosync}: it asked to be released. */
    static boolean releasing(NodeState s) {
        return s.action() != null && s.action().releasesSync();
    }

    private boolean isSyncStandby(ClusterView view) {
        SyncState sync = view.sync();
        return view.leaderName().isPresent() && sync != null && view.isLeader(sync.leader())
                && sync.syncStandbys().contains(node.name);
    }

    /** Twice the loop: the primary notices the tag on its next cycle. */
    private static Duration limit(Cycle c) {
        return c.state.settings().loopWait().multipliedBy(2);
    }

    private void proceed(Cycle c) {
        LongAction a = c.state.action();
        c.state = c.state.withAction(a.withOperation(((Awaiting) a.operation()).start().get()));
    }
}
