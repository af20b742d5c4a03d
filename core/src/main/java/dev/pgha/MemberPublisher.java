package dev.pgha;

import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresStatus;

/** Patroni's {@code touch_member()}: what this node publishes about itself every cycle. */
final class MemberPublisher {

    /** The version published in member keys. */
    static final String VERSION = "pgha-0.1.0";

    private final Node node;

    MemberPublisher(Node node) {
        this.node = node;
    }

    /** Writes this node's member key. */
    void publish(Cycle c, PostgresStatus pg) {
        node.dcs.touchMember(member(c.state, pg), c.state.settings().ttl());
    }

    Member member(NodeState s, PostgresStatus pg) {
        PostgresRole role = s.roleOrUninitialized();
        boolean up = pg.postmasterRunning() && pg.acceptingConnections();
        boolean replica = up && pg.inRecovery();
        Long xlog = up ? pg.walPosition().value() : null;
        Long receive = replica && pg.receiveLsn() != null ? pg.receiveLsn().value() : null;
        Long replay = replica && pg.replayLsn() != null ? pg.replayLsn().value() : null;
        String replicationState = replica ? (pg.streaming() ? "streaming" : "in archive recovery") : null;
        Long timeline = pg.timeline() > 0 ? pg.timeline() : null;
        // Patroni's get_effective_tags(): a member asking to be released from synchronous standby
        // A replica's position read after it saw no leader key, as a quorum vote (see Member#quorumVote).
        SyncState sync = s.lastView().sync();
        Long quorumVote = replica && s.settings().synchronousMode() == ClusterSettings.SynchronousMode.QUORUM
                && s.lastView().isUnlocked() && sync != null && sync.leader() != null ? sync.version() : null;
        MemberTags tags = SyncRelease.releasing(s) ? node.config.tags().withNoSync(true).withSyncPriority(0)
                : node.config.tags();
        return new Member(node.name, node.postgres.connectionUrl(), node.config.apiUrl(), pg.state().patroniName(),
                role.patroniName(), VERSION, xlog, receive, replay, replicationState, timeline, tags, false,
                !s.guardCapable(), pg.postmasterRunning() && pg.pendingRestart(),
                s.scheduledRestart() == null ? null
                        : TimelineHistory.formatTimestamp(s.scheduledRestart().request().scheduledAt()),
                s.settings().pause(), quorumVote);
    }
}
