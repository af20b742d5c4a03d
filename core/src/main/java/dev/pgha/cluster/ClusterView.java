package dev.pgha.cluster;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything the DCS holds about one cluster, read once at the start of a cycle. Immutable.
 *
 * <p>Absent keys are {@code null} for the single-valued ones and empty for collections. The
 * {@code initialize} key is {@code null} when absent, {@code ""} while a bootstrap runs, and the
 * PostgreSQL system identifier afterwards.
 *
 * @param initialize the {@code initialize} key's value, or null
 * @param config     the {@code config} key ({@link ClusterConfig#EMPTY} when absent)
 * @param leader     the {@code leader} key, or null when the cluster is unlocked
 * @param status     the {@code status} key ({@link ClusterStatus#EMPTY} when absent)
 * @param members    the member keys, in no particular order
 * @param failover   the {@code failover} key, or null when absent or empty
 * @param sync       the {@code sync} key, or null
 * @param history    the {@code history} key ({@link TimelineHistory#EMPTY} when absent)
 * @param failsafe   the {@code failsafe} key: member name to api_url; empty when absent
 */
public record ClusterView(String initialize, ClusterConfig config, Leader leader, ClusterStatus status,
                          List<Member> members, Failover failover, SyncState sync, TimelineHistory history,
                          Map<String, String> failsafe) {

    /** An empty store: nothing initialized, nobody there. */
    public static final ClusterView EMPTY = new ClusterView(null, ClusterConfig.EMPTY, null, ClusterStatus.EMPTY,
            List.of(), null, null, TimelineHistory.EMPTY, Map.of());

    /** Fills defaults for absent values and copies collections; an emptied failover key reads as none. */
    public ClusterView {
        config = Objects.requireNonNullElse(config, ClusterConfig.EMPTY);
        status = Objects.requireNonNullElse(status, ClusterStatus.EMPTY);
        members = List.copyOf(Objects.requireNonNullElse(members, List.of()));
        history = Objects.requireNonNullElse(history, TimelineHistory.EMPTY);
        failsafe = Map.copyOf(Objects.requireNonNullElse(failsafe, Map.of()));
        if (failover != null && failover.isEmpty()) {
            failover = null;
        }
    }

    /** This view with {@code failover} as the failover key (null: none). */
    public ClusterView withFailover(Failover value) {
        return new ClusterView(initialize, config, leader, status, members, value, sync, history, failsafe);
    }

    /** This view with another {@code sync} key (null: none). */
    public ClusterView withSync(SyncState value) {
        return new ClusterView(initialize, config, leader, status, members, failover, value, history, failsafe);
    }

    /** Whether nobody holds the leader key. */
    public boolean isUnlocked() {
        return leader == null || leader.name().isBlank();
    }

    /** The leader's name, if somebody holds the key. */
    public Optional<String> leaderName() {
        return isUnlocked() ? Optional.empty() : Optional.of(leader.name());
    }

    /** Whether the given member holds the leader key. */
    public boolean isLeader(String member) {
        return !isUnlocked() && leader.name().equals(member);
    }

    /** The member with this name, if it published a member key. */
    public Optional<Member> member(String name) {
        return members.stream().filter(m -> m.name().equals(name)).findFirst();
    }

    /**
     * The leader as a member: its member key when published, otherwise a member known only by
     * name. Empty when unlocked.
     */
    public Optional<Member> leaderMember() {
        return leaderName().map(n -> member(n).orElse(Member.named(n)));
    }

    /** Whether the initialize key holds a system identifier (bootstrap finished). */
    public boolean hasValidInitialize() {
        return initialize != null && initialize.length() >= 10 && initialize.chars().allMatch(Character::isDigit);
    }

    /** The cluster's timeline from the history key; 0 when unknown. */
    public long timeline() {
        return history.clusterTimeline();
    }

    /** Whether the cluster is in maintenance mode. */
    public boolean isPaused() {
        return config.isPaused();
    }
}
