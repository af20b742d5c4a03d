package dev.pgha;

import dev.pgha.dcs.DcsClient;
import java.time.Instant;
import java.util.Objects;

/**
 * Switchover and failover requests from outside the cluster's members, like {@code patronictl}:
 * a tool with the cluster's settings and a DCS client checks the candidate as the members would
 * (a {@code nofailover} tag, a member not running as a replica, replication lag beyond
 * {@code maximum_lag_on_failover}, a timeline behind the cluster's when {@code check_timeline}
 * is on) and writes the {@code failover} key, which the leader carries out on its next cycle.
 * The leader checks the candidate again before it demotes itself, so a request that was valid
 * when written but is no longer is refused there (the key is then cleaned up, and the leader
 * logs why). Members use {@link HaController#switchover} and {@link HaController#failover},
 * which do the same.
 *
 * <pre>{@code
 * ClusterAdmin admin = ClusterAdmin.of(config, dcs);
 * ActionResult r = admin.switchover("node1", "node2", null);
 * if (!r.accepted()) System.err.println(r.message());  // "switchover is not possible: ..."
 * }</pre>
 */
public final class ClusterAdmin {

    private final FailoverRequests requests;
    private final DcsClient dcs;

    private ClusterAdmin(HaConfig config, DcsClient dcs, HaClock clock) {
        this.dcs = Objects.requireNonNull(dcs, "dcs");
        this.requests = new FailoverRequests(Objects.requireNonNull(config, "config"),
                Objects.requireNonNull(dcs, "dcs"), Objects.requireNonNull(clock, "clock"));
    }

    /**
     * An admin for the cluster {@code dcs} is bound to.
     *
     * @param config the cluster's settings (their failover rules apply; the member name is unused)
     * @param dcs    a client of the cluster's DCS, built for any member name (the admin only reads
     *               the cluster and writes the {@code failover} key); stays the caller's to close
     */
    public static ClusterAdmin of(HaConfig config, DcsClient dcs) {
        return new ClusterAdmin(config, dcs, HaClock.system());
    }

    /** As {@link #of(HaConfig, DcsClient)}, with the clock that decides whether a schedule is in the past. */
    public static ClusterAdmin of(HaConfig config, DcsClient dcs, HaClock clock) {
        return new ClusterAdmin(config, dcs, clock);
    }

    /**
     * Requests a switchover, like {@code patronictl switchover}.
     *
     * @param leader      the member expected to lead now, or null for whoever does
     * @param candidate   the member to promote, or null for the healthiest replica
     * @param scheduledAt when to do it, or null for now
     */
    public ActionResult switchover(String leader, String candidate, Instant scheduledAt) {
        return requests.switchover(leader, candidate, scheduledAt);
    }

    /** Requests a manual failover to {@code candidate}, like {@code patronictl failover}; works without a leader. */
    public ActionResult failover(String candidate) {
        return requests.failover(Objects.requireNonNull(candidate, "candidate"));
    }

    /**
     * Cancels a scheduled switchover ({@code DELETE /switchover}, {@code patronictl flush
     * switchover}); refused with "no switchover is scheduled" when the {@code failover} key holds
     * none, and when the key changed meanwhile.
     */
    public ActionResult cancelScheduledSwitchover() {
        dev.pgha.cluster.Failover f = dcs.readCluster().failover();
        if (f == null || f.scheduledAt() == null) {
            return ActionResult.refused("no switchover is scheduled");
        }
        return dcs.deleteFailover(f.version()) ? ActionResult.accepted("scheduled switchover deleted")
                : ActionResult.refused("the failover key changed meanwhile");
    }

    /** Whether {@code pause} is set in the {@code config} key (maintenance mode). */
    public boolean isPaused() {
        return dcs.readCluster().config().isPaused();
    }

    /**
     * Merges {@code patch} into the {@code config} key ({@code PATCH /config}, {@code patronictl
     * edit-config}): objects merge recursively, a {@code null} value deletes the key, anything else
     * replaces it. Written with compare-and-set on the version read, and only when the result is
     * valid settings ({@link ClusterSettings#fromConfig}).
     */
    public ConfigUpdate patchConfig(java.util.Map<String, ?> patch) {
        Objects.requireNonNull(patch, "patch");
        dev.pgha.cluster.ClusterConfig current = dcs.readCluster().config();
        if (current.version() == 0) {
            return new ConfigUpdate(ConfigUpdate.Outcome.ABSENT, current.data(), "the config key does not exist yet");
        }
        java.util.Map<String, Object> merged = deepCopy(current.data());
        boolean changed = merge(merged, patch);
        return write(merged, changed, current);
    }

    /**
     * Replaces the {@code config} key with {@code config} ({@code PUT /config}), when it is valid
     * settings; unconditionally, as Patroni does.
     */
    public ConfigUpdate replaceConfig(java.util.Map<String, ?> config) {
        Objects.requireNonNull(config, "config");
        dev.pgha.cluster.ClusterConfig current = dcs.readCluster().config();
        java.util.Map<String, Object> next = deepCopy(config);
        return write(next, !next.equals(current.data()), new dev.pgha.cluster.ClusterConfig(current.data(), -1));
    }

    private ConfigUpdate write(java.util.Map<String, Object> next, boolean changed,
                               dev.pgha.cluster.ClusterConfig current) {
        try {
            ClusterSettings.fromConfig(next);
        } catch (HaConfigException e) {
            return new ConfigUpdate(ConfigUpdate.Outcome.INVALID, current.data(), e.getMessage());
        }
        if (!changed) {
            return new ConfigUpdate(ConfigUpdate.Outcome.UNCHANGED, next, "");
        }
        if (!dcs.setConfig(new dev.pgha.cluster.ClusterConfig(next, 0), current.version())) {
            return new ConfigUpdate(ConfigUpdate.Outcome.CONFLICT, current.data(), "the config key changed meanwhile");
        }
        return new ConfigUpdate(ConfigUpdate.Outcome.APPLIED, next, "");
    }

    @SuppressWarnings("unchecked")
    private static boolean merge(java.util.Map<String, Object> target, java.util.Map<String, ?> patch) {
        boolean changed = false;
        for (java.util.Map.Entry<String, ?> e : patch.entrySet()) {
            Object value = e.getValue();
            Object old = target.get(e.getKey());
            if (value == null) {
                changed |= target.remove(e.getKey()) != null;
            } else if (value instanceof java.util.Map<?, ?> m && old instanceof java.util.Map<?, ?>) {
                changed |= merge((java.util.Map<String, Object>) old, (java.util.Map<String, ?>) m);
            } else if (!String.valueOf(old).equals(String.valueOf(value)) || old == null) {
                target.put(e.getKey(), deepCopyValue(value));
                changed = true;
            }
        }
        return changed;
    }

    private static java.util.Map<String, Object> deepCopy(java.util.Map<String, ?> m) {
        java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, deepCopyValue(v)));
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Object deepCopyValue(Object v) {
        if (v instanceof java.util.Map<?, ?> m) {
            return deepCopy((java.util.Map<String, ?>) m);
        }
        if (v instanceof java.util.List<?> l) {
            return new java.util.ArrayList<>(l.stream().map(ClusterAdmin::deepCopyValue).toList());
        }
        return v;
    }
}
