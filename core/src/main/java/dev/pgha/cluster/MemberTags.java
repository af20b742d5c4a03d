package dev.pgha.cluster;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Patroni's member tags, as published in the member key and set in the local configuration.
 *
 * <p>Conflicts resolve as in Patroni: {@code nofailover=true} wins over any
 * {@code failover_priority}, and a priority of zero or less means the member may not be promoted;
 * likewise {@code nosync=true} wins over any {@code sync_priority}, and a sync priority of zero or
 * less means the member is never chosen as a synchronous standby.
 *
 * @param noFailover      {@code nofailover}: never promote this member
 * @param failoverPriority {@code failover_priority}: at equal WAL position the higher wins (default 1)
 * @param cloneFrom       {@code clonefrom}: new replicas may take their base backup from this member
 * @param noLoadBalance   {@code noloadbalance}: exclude from read load balancing
 * @param noSync          {@code nosync}: never choose this member as a synchronous standby
 * @param syncPriority    {@code sync_priority}: of the members that may be synchronous, the higher are
 *                        chosen first (default 1)
 * @param replicateFrom   {@code replicatefrom}: stream from this member instead of the leader (nullable)
 * @param custom          any other tags, published as they are
 */
public record MemberTags(boolean noFailover, int failoverPriority, boolean cloneFrom,
                         boolean noLoadBalance, boolean noSync, int syncPriority, String replicateFrom,
                         Map<String, String> custom) {

    /** No tags: a normal member that may be promoted, with priority 1. */
    public static final MemberTags DEFAULT = new MemberTags(false, 1, false, false, false, 1, null, Map.of());

    /** Copies the custom tags. */
    public MemberTags {
        custom = Map.copyOf(Objects.requireNonNullElse(custom, Map.of()));
        if (replicateFrom != null && replicateFrom.isBlank()) {
            replicateFrom = null;
        }
    }

    /** Whether the member may become primary: not {@code nofailover} and a positive priority. */
    public boolean canFailover() {
        return !noFailover && failoverPriority > 0;
    }

    /** Whether the member may be chosen as a synchronous standby: not {@code nosync} and a positive sync priority. */
    public boolean canSync() {
        return !noSync && syncPriority > 0;
    }

    /** This set of tags with {@code nofailover} changed. */
    public MemberTags withNoFailover(boolean value) {
        return new MemberTags(value, failoverPriority, cloneFrom, noLoadBalance, noSync, syncPriority, replicateFrom, custom);
    }

    /** This set of tags with {@code failover_priority} changed. */
    public MemberTags withFailoverPriority(int value) {
        return new MemberTags(noFailover, value, cloneFrom, noLoadBalance, noSync, syncPriority, replicateFrom, custom);
    }

    /** This set of tags with {@code clonefrom} changed. */
    public MemberTags withCloneFrom(boolean value) {
        return new MemberTags(noFailover, failoverPriority, value, noLoadBalance, noSync, syncPriority, replicateFrom, custom);
    }

    /** This set of tags with {@code noloadbalance} changed. */
    public MemberTags withNoLoadBalance(boolean value) {
        return new MemberTags(noFailover, failoverPriority, cloneFrom, value, noSync, syncPriority, replicateFrom, custom);
    }

    /** This set of tags with {@code nosync} changed. */
    public MemberTags withNoSync(boolean value) {
        return new MemberTags(noFailover, failoverPriority, cloneFrom, noLoadBalance, value, syncPriority, replicateFrom, custom);
    }

    /** This set of tags with {@code sync_priority} changed. */
    public MemberTags withSyncPriority(int value) {
        return new MemberTags(noFailover, failoverPriority, cloneFrom, noLoadBalance, noSync, value, replicateFrom, custom);
    }

    /** This set of tags with {@code replicatefrom} changed (null removes it). */
    public MemberTags withReplicateFrom(String member) {
        return new MemberTags(noFailover, failoverPriority, cloneFrom, noLoadBalance, noSync, syncPriority, member, custom);
    }

    /** This set of tags with the custom tags replaced. */
    public MemberTags withCustom(Map<String, String> tags) {
        return new MemberTags(noFailover, failoverPriority, cloneFrom, noLoadBalance, noSync, syncPriority, replicateFrom, tags);
    }

    /**
     * The tags as Patroni publishes them in the member key: only tags that differ from the
     * default appear, with Patroni's names.
     */
    public Map<String, Object> asPatroniMap() {
        Map<String, Object> out = new TreeMap<>(custom);
        if (noFailover) {
            out.put("nofailover", true);
        }
        if (failoverPriority != 1) {
            out.put("failover_priority", failoverPriority);
        }
        if (cloneFrom) {
            out.put("clonefrom", true);
        }
        if (noLoadBalance) {
            out.put("noloadbalance", true);
        }
        if (noSync) {
            out.put("nosync", true);
        }
        if (syncPriority != 1) {
            out.put("sync_priority", syncPriority);
        }
        if (replicateFrom != null) {
            out.put("replicatefrom", replicateFrom);
        }
        return out;
    }
}
