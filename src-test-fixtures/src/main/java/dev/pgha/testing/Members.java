package dev.pgha.testing;

import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import dev.pgha.postgres.Lsn;
import java.util.Objects;

/**
 * Concise {@link Member} values for tests, as a node publishes them in {@code members/<name>}.
 *
 * <pre>{@code
 * Member leader = Members.primary("leader", 0x3000060);
 * Member other = Members.replica("other", 0x3000000);
 * Member frozen = Members.from(other).noFailover(true).build();
 * }</pre>
 *
 * Defaults: {@code conn_url} {@code postgres://<name>:5432/postgres}, {@code api_url}
 * {@code http://<name>:8008/patroni}, state "running", timeline 1, default tags.
 */
public final class Members {

    /** The {@code version} the helpers publish. */
    public static final String VERSION = "pgha-test";

    private Members() {
    }

    /** A running primary at this WAL position on timeline 1. */
    public static Member primary(String name, long wal) {
        return primary(name, wal, 1);
    }

    /** A running primary at this WAL position on timeline 1. */
    public static Member primary(String name, Lsn wal) {
        return primary(name, wal.value(), 1);
    }

    /** A running primary at this WAL position and timeline. */
    public static Member primary(String name, long wal, long timeline) {
        return builder(name).role("primary").xlogLocation(wal).timeline(timeline).build();
    }

    /** A running replica streaming, received and replayed up to this position, on timeline 1. */
    public static Member replica(String name, long wal) {
        return replica(name, wal, 1);
    }

    /** A running replica streaming, received and replayed up to this position, on timeline 1. */
    public static Member replica(String name, Lsn wal) {
        return replica(name, wal.value(), 1);
    }

    /** A running replica streaming, received and replayed up to this position, on this timeline. */
    public static Member replica(String name, long wal, long timeline) {
        return builder(name).role("replica").xlogLocation(wal).receiveLsn(wal).replayLsn(wal)
                .replicationState("streaming").timeline(timeline).build();
    }

    /** A running replica with these tags. */
    public static Member replica(String name, long wal, MemberTags tags) {
        return from(replica(name, wal)).tags(tags).build();
    }

    /** A member whose PostgreSQL is stopped, with this role and no positions. */
    public static Member stopped(String name, String role) {
        return builder(name).state("stopped").role(role).timeline(null).build();
    }

    /** A builder with the defaults above, role "replica" and no positions. */
    public static Builder builder(String name) {
        return new Builder(Objects.requireNonNull(name, "name"));
    }

    /** A builder holding every value of {@code member}, to change some. */
    public static Builder from(Member m) {
        Builder b = new Builder(m.name());
        b.connUrl = m.connUrl();
        b.apiUrl = m.apiUrl();
        b.state = m.state();
        b.role = m.role();
        b.version = m.version();
        b.xlogLocation = m.xlogLocation();
        b.receiveLsn = m.receiveLsn();
        b.replayLsn = m.replayLsn();
        b.replicationState = m.replicationState();
        b.timeline = m.timeline();
        b.tags = m.tags();
        b.checkpointAfterPromotePending = m.checkpointAfterPromotePending();
        b.watchdogFailed = m.watchdogFailed();
        b.pendingRestart = m.pendingRestart();
        b.scheduledRestart = m.scheduledRestart();
        b.pause = m.pause();
        b.quorumVote = m.quorumVote();
        return b;
    }

    /** Builds a {@link Member}; every setter names the field of the record it sets. */
    public static final class Builder {
        private final String name;
        private String connUrl;
        private String apiUrl;
        private String state = "running";
        private String role = "replica";
        private String version = VERSION;
        private Long xlogLocation;
        private Long receiveLsn;
        private Long replayLsn;
        private String replicationState;
        private Long timeline = 1L;
        private MemberTags tags = MemberTags.DEFAULT;
        private boolean checkpointAfterPromotePending;
        private boolean watchdogFailed;
        private boolean pendingRestart;
        private String scheduledRestart;
        private boolean pause;
        private Long quorumVote;

        private Builder(String name) {
            this.name = name;
            this.connUrl = "postgres://" + name + ":5432/postgres";
            this.apiUrl = "http://" + name + ":8008/patroni";
        }

        /** {@code conn_url}. */
        public Builder connUrl(String v) {
            connUrl = v;
            return this;
        }

        /** {@code api_url} (null for none). */
        public Builder apiUrl(String v) {
            apiUrl = v;
            return this;
        }

        /** {@code state} ("running", "stopped", "starting", ...). */
        public Builder state(String v) {
            state = v;
            return this;
        }

        /** {@code role} ("primary", "replica", "demoted", ...). */
        public Builder role(String v) {
            role = v;
            return this;
        }

        /** {@code version}. */
        public Builder version(String v) {
            version = v;
            return this;
        }

        /** {@code xlog_location} (null for none). */
        public Builder xlogLocation(Long v) {
            xlogLocation = v;
            return this;
        }

        /** {@code receive_lsn} (null for none). */
        public Builder receiveLsn(Long v) {
            receiveLsn = v;
            return this;
        }

        /** {@code replay_lsn} (null for none). */
        public Builder replayLsn(Long v) {
            replayLsn = v;
            return this;
        }

        /** {@code replication_state} (null for none). */
        public Builder replicationState(String v) {
            replicationState = v;
            return this;
        }

        /** {@code timeline} (null when unknown). */
        public Builder timeline(Long v) {
            timeline = v;
            return this;
        }

        /** {@code timeline}. */
        public Builder timeline(long v) {
            timeline = v;
            return this;
        }

        /** All tags at once. */
        public Builder tags(MemberTags v) {
            tags = Objects.requireNonNullElse(v, MemberTags.DEFAULT);
            return this;
        }

        /** The {@code nofailover} tag. */
        public Builder noFailover(boolean v) {
            tags = tags.withNoFailover(v);
            return this;
        }

        /** The {@code failover_priority} tag. */
        public Builder failoverPriority(int v) {
            tags = tags.withFailoverPriority(v);
            return this;
        }

        /** The {@code nosync} tag. */
        public Builder noSync(boolean v) {
            tags = tags.withNoSync(v);
            return this;
        }

        /** The {@code clonefrom} tag. */
        public Builder cloneFrom(boolean v) {
            tags = tags.withCloneFrom(v);
            return this;
        }

        /** The {@code replicatefrom} tag (null removes it). */
        public Builder replicateFrom(String member) {
            tags = tags.withReplicateFrom(member);
            return this;
        }

        /** {@code checkpoint_after_promote: false} published. */
        public Builder checkpointAfterPromotePending(boolean v) {
            checkpointAfterPromotePending = v;
            return this;
        }

        /** {@code watchdog_failed: true} published (its required fencing guard cannot be activated). */
        public Builder watchdogFailed(boolean v) {
            watchdogFailed = v;
            return this;
        }

        /** {@code pending_restart: true} published. */
        public Builder pendingRestart(boolean v) {
            pendingRestart = v;
            return this;
        }

        /** {@code scheduled_restart.schedule} (null for none). */
        public Builder scheduledRestart(String v) {
            scheduledRestart = v;
            return this;
        }

        /** {@code pause: true} published. */
        public Builder pause(boolean v) {
            pause = v;
            return this;
        }

        /**
         * {@code quorum_vote}: the {@code sync} key's version under which the member read its
         * position with no leader key (null for none).
         */
        public Builder quorumVote(Long v) {
            quorumVote = v;
            return this;
        }

        /** The member. */
        public Member build() {
            return new Member(name, connUrl, apiUrl, state, role, version, xlogLocation, receiveLsn, replayLsn,
                    replicationState, timeline, tags, checkpointAfterPromotePending, watchdogFailed, pendingRestart,
                    scheduledRestart, pause, quorumVote);
        }
    }
}
