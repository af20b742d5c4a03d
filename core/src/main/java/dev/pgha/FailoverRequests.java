package dev.pgha;

import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.dcs.DcsClient;
import dev.pgha.dcs.DcsException;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Switchover and failover requests: the candidate checks Patroni's REST API makes, then the
 * {@code failover} key; the leader carries it out on its next cycle (and checks the candidate
 * again, as it does for a key written by any other tool). Used by a member's engine and by
 * {@link dev.pgha.ClusterAdmin} for tools outside the cluster. Not part of the API.
 */
final class FailoverRequests {

    private final DcsClient dcs;
    /** The election rules that apply to a cluster as read. */
    private final Function<ClusterView, Election> rules;
    private final HaClock clock;

    /**
     * For a tool outside the cluster: the failover rules ({@code maximum_lag_on_failover},
     * {@code check_timeline}) are those of the cluster's {@code config} key, or of
     * {@code config}'s {@code bootstrap.dcs} while the key holds none that is valid.
     *
     * @param config the tool's settings
     * @param dcs    where the cluster and the {@code failover} key live
     * @param clock  for "in the past" checks of scheduled switchovers
     */
    FailoverRequests(HaConfig config, DcsClient dcs, HaClock clock) {
        Objects.requireNonNull(config, "config");
        this.dcs = Objects.requireNonNull(dcs, "dcs");
        this.rules = view -> new Election(config.name(), config.tags(), settingsOf(view, config.bootstrapDcs()));
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** For a member: the rules of the settings in force on it. */
    FailoverRequests(Node node, Supplier<Election> inForce) {
        this.dcs = node.dcs;
        this.rules = view -> inForce.get();
        this.clock = node.clock;
    }

    private static ClusterSettings settingsOf(ClusterView view, ClusterSettings fallback) {
        if (view.config().data().isEmpty()) {
            return fallback;
        }
        try {
            return ClusterSettings.fromConfig(view.config().data());
        } catch (HaConfigException e) {
            return fallback;
        }
    }

    /**
     * Requests a switchover from the leader.
     *
     * @param leader      the member expected to lead now, or null for whoever does
     * @param candidate   the member to promote, or null for the healthiest
     * @param scheduledAt when, or null for now
     */
    ActionResult switchover(String leader, String candidate, Instant scheduledAt) {
        ClusterView cluster;
        try {
            cluster = dcs.readCluster();
        } catch (DcsException e) {
            return ActionResult.refused("switchover is not possible: DCS is not accessible: " + e.getMessage());
        }
        Optional<String> current = cluster.leaderName();
        if (current.isEmpty()) {
            return ActionResult.refused("switchover is not possible: the cluster has no leader");
        }
        if (leader != null && !leader.equals(current.get())) {
            return ActionResult.refused("switchover is not possible: member " + leader + " is not the leader ("
                    + current.get() + " is)");
        }
        if (cluster.isPaused() && candidate == null) {
            return ActionResult.refused("Switchover is possible only to a specific candidate in a paused state");
        }
        if (cluster.isPaused() && scheduledAt != null) {
            return ActionResult.refused("Can't schedule switchover in the paused state");
        }
        boolean synchronous = rules.apply(cluster).synchronousMode().isSynchronous();
        Set<String> syncStandbys = cluster.sync() == null ? Set.of() : cluster.sync().syncStandbys();
        if (synchronous && candidate != null && !syncStandbys.contains(candidate)) {
            // Patroni checks this outside quorum mode; pgha in quorum mode too: a candidate races
            // for a switchover without collecting votes, so it must be one of the voters
            return ActionResult.refused("switchover is not possible: candidate name does not match with sync_standby");
        }
        if (synchronous && candidate == null && syncStandbys.isEmpty()) {
            return ActionResult.refused("switchover is not possible: can not find sync_standby");
        }
        if (candidate != null) {
            Optional<String> problem = problemOf(cluster, candidate, current.get());
            if (problem.isPresent()) {
                return ActionResult.refused("switchover is not possible: " + problem.get());
            }
        } else if (cluster.members().stream().allMatch(m -> m.name().equals(current.get()))) {
            return ActionResult.refused("switchover is not possible: cluster does not have members except leader");
        } else if (cluster.members().stream().filter(m -> !m.name().equals(current.get()))
                .allMatch(m -> rules.apply(cluster).candidateProblem(cluster, m, 0).isPresent())) {
            return ActionResult.refused("switchover is not possible: no good candidates have been found");
        }
        String when = null;
        if (scheduledAt != null) {
            if (scheduledAt.isBefore(clock.wallTime())) {
                return ActionResult.refused("Can't schedule switchover in the past");
            }
            when = TimelineHistory.formatTimestamp(scheduledAt); // Patroni's isoformat(): +00:00, never Z
        }
        return write(new Failover(current.get(), candidate, when, 0),
                when == null ? "switchover requested" : "switchover scheduled at " + when);
    }

    /** Requests a manual failover to {@code candidate}; works also when the cluster has no leader. */
    ActionResult failover(String candidate) {
        Objects.requireNonNull(candidate, "candidate");
        ClusterView cluster;
        try {
            cluster = dcs.readCluster();
        } catch (DcsException e) {
            return ActionResult.refused("failover is not possible: DCS is not accessible: " + e.getMessage());
        }
        Optional<String> problem = problemOf(cluster, candidate, cluster.leaderName().orElse(null));
        if (problem.isPresent()) {
            return ActionResult.refused("failover is not possible: " + problem.get());
        }
        return write(new Failover(null, candidate, null, 0), "failover to " + candidate + " requested");
    }

    private Optional<String> problemOf(ClusterView cluster, String candidate, String leader) {
        if (candidate.equals(leader)) {
            return Optional.of("member " + candidate + " is already the leader");
        }
        Optional<Member> m = cluster.member(candidate);
        if (m.isEmpty()) {
            return Optional.of("member " + candidate + " does not exist");
        }
        return rules.apply(cluster).candidateProblem(cluster, m.get(), 0);
    }

    private ActionResult write(Failover failover, String message) {
        try {
            dcs.setFailover(failover, -1);
            return ActionResult.accepted(message);
        } catch (DcsException e) {
            return ActionResult.refused("DCS is not accessible: " + e.getMessage());
        }
    }
}
