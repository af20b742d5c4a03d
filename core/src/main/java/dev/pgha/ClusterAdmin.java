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

    private ClusterAdmin(HaConfig config, DcsClient dcs, HaClock clock) {
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
}
