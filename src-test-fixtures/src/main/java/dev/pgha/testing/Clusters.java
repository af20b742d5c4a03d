package dev.pgha.testing;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Leader;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Concise {@link ClusterView} values for tests.
 *
 * <pre>{@code
 * ClusterView view = Clusters.builder()
 *         .initialize(Clusters.SYSTEM_ID)
 *         .leader("leader")
 *         .member(Members.primary("leader", 0x3000060))
 *         .member(Members.replica("other", 0x3000000))
 *         .switchover("leader", "other")
 *         .history(1, 0x3000000)
 *         .status(0x3000060)
 *         .build();
 * ClusterView healthy = Clusters.healthy("leader", 0x3000060, "other", "third");
 * }</pre>
 */
public final class Clusters {

    /** A valid system identifier for the {@code initialize} key. */
    public static final String SYSTEM_ID = "7000000000000000001";

    private Clusters() {
    }

    /** A builder of an empty view (nothing initialized, nobody there). */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding everything in {@code view}, to change some of it. */
    public static Builder from(ClusterView view) {
        Builder b = new Builder();
        b.initialize = view.initialize();
        b.config = view.config();
        b.leader = view.leader();
        b.status = view.status();
        view.members().forEach(b::member);
        b.failover = view.failover();
        b.sync = view.sync();
        b.history = view.history();
        b.failsafe.putAll(view.failsafe());
        return b;
    }

    /** The empty store. */
    public static ClusterView empty() {
        return ClusterView.EMPTY;
    }

    /**
     * An initialized cluster ({@link #SYSTEM_ID}) on timeline 1 whose leader holds the lock as a
     * running primary at {@code wal}, with streaming replicas at the same position.
     */
    public static ClusterView healthy(String leader, long wal, String... replicas) {
        Builder b = builder().initialize(SYSTEM_ID).leader(leader).member(Members.primary(leader, wal)).status(wal);
        for (String r : replicas) {
            b.member(Members.replica(r, wal));
        }
        return b.build();
    }

    /** Builds a {@link ClusterView}; values not set are absent. */
    public static final class Builder {
        private String initialize;
        private ClusterConfig config = ClusterConfig.EMPTY;
        private Leader leader;
        private ClusterStatus status = ClusterStatus.EMPTY;
        private final Map<String, Member> members = new LinkedHashMap<>();
        private Failover failover;
        private SyncState sync;
        private TimelineHistory history = TimelineHistory.EMPTY;
        private final Map<String, String> failsafe = new LinkedHashMap<>();

        private Builder() {
        }

        /** The {@code initialize} key: a system identifier, {@code ""} while bootstrapping, null for absent. */
        public Builder initialize(String value) {
            initialize = value;
            return this;
        }

        /** The {@code initialize} key holds {@link #SYSTEM_ID}. */
        public Builder initialized() {
            return initialize(SYSTEM_ID);
        }

        /** The {@code config} key. */
        public Builder config(ClusterConfig value) {
            config = Objects.requireNonNullElse(value, ClusterConfig.EMPTY);
            return this;
        }

        /** The {@code config} key's data (version 1). */
        public Builder config(Map<String, Object> data) {
            return config(new ClusterConfig(data, 1));
        }

        /** One top-level value of the {@code config} key, keeping the others. */
        public Builder configValue(String key, Object value) {
            Map<String, Object> data = new LinkedHashMap<>(config.data());
            data.put(key, value);
            return config(new ClusterConfig(data, Math.max(1, config.version())));
        }

        /** Maintenance mode ({@code "pause"} in the config key). */
        public Builder paused(boolean value) {
            return configValue("pause", value);
        }

        /** The {@code leader} key holds this name (null: unlocked). */
        public Builder leader(String name) {
            leader = name == null ? null : new Leader(name);
            return this;
        }

        /** The {@code status} key with this optime (slots and retained names as set so far). */
        public Builder status(long optime) {
            status = status.withOptime(optime);
            return this;
        }

        /** The {@code status} key. */
        public Builder status(ClusterStatus value) {
            status = Objects.requireNonNullElse(value, ClusterStatus.EMPTY);
            return this;
        }

        /** One replication slot position in the {@code status} key. */
        public Builder slot(String slot, long position) {
            Map<String, Long> slots = new LinkedHashMap<>(status.slots());
            slots.put(slot, position);
            status = new ClusterStatus(status.optime(), slots, status.retainSlots());
            return this;
        }

        /** The {@code retain_slots} of the {@code status} key: member slot names the last leader retained. */
        public Builder retainSlots(String... slots) {
            status = new ClusterStatus(status.optime(), status.slots(), List.of(slots));
            return this;
        }

        /** Adds a member key, replacing one with the same name. */
        public Builder member(Member m) {
            members.put(m.name(), m);
            return this;
        }

        /** Adds member keys. */
        public Builder members(Member... ms) {
            for (Member m : ms) {
                member(m);
            }
            return this;
        }

        /** Removes a member key. */
        public Builder withoutMember(String name) {
            members.remove(name);
            return this;
        }

        /** The {@code failover} key (null: absent). */
        public Builder failover(Failover value) {
            failover = value;
            return this;
        }

        /** A switchover request from {@code leader} to {@code candidate} (null: the healthiest). */
        public Builder switchover(String leaderName, String candidate) {
            return failover(new Failover(leaderName, candidate, null, 1));
        }

        /** A scheduled switchover ({@code at}: ISO-8601 with an offset). */
        public Builder scheduledSwitchover(String leaderName, String candidate, String at) {
            return failover(new Failover(leaderName, candidate, at, 1));
        }

        /** A manual failover to {@code candidate} (no leader named). */
        public Builder manualFailover(String candidate) {
            return failover(new Failover(null, candidate, null, 1));
        }

        /** The {@code sync} key. */
        public Builder sync(SyncState value) {
            sync = value;
            return this;
        }

        /** The {@code sync} key: this leader and synchronous standbys (quorum 0, version 1). */
        public Builder sync(String leaderName, String... standbys) {
            return sync(new SyncState(leaderName, Set.of(standbys), 0, 1));
        }

        /** The {@code history} key. */
        public Builder history(TimelineHistory value) {
            history = Objects.requireNonNullElse(value, TimelineHistory.EMPTY);
            return this;
        }

        /** Appends a history entry: {@code timeline} ended at {@code switchLsn}. */
        public Builder history(long timeline, long switchLsn) {
            return history(timeline, switchLsn, null);
        }

        /** Appends a history entry naming the member promoted. */
        public Builder history(long timeline, long switchLsn, String newLeader) {
            history = history.append(new TimelineHistory.Entry(timeline, switchLsn, "no recovery target specified",
                    null, newLeader));
            return this;
        }

        /** The {@code failsafe} key: one member's api_url. */
        public Builder failsafe(String member, String apiUrl) {
            failsafe.put(member, apiUrl);
            return this;
        }

        /** The view. */
        public ClusterView build() {
            return new ClusterView(initialize, config, leader, status, new ArrayList<>(members.values()), failover,
                    sync, history, failsafe);
        }
    }

    /** The members' names of a view, in its order (handy in assertions). */
    public static List<String> memberNames(ClusterView view) {
        return view.members().stream().map(Member::name).toList();
    }
}
