package dev.pgha;

import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.postgres.PostgresRole;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader race and the lock holder's duties: Patroni's {@code process_unhealthy_cluster()},
 * {@code process_healthy_cluster()}, {@code enforce_primary_role()},
 * {@code process_manual_failover_from_leader()} and {@code handle_long_action_in_progress()}.
 */
final class Leadership {

    private static final Logger log = LoggerFactory.getLogger(Leadership.class);

    private final Node node;
    private final Demotion demotion;
    private final SlotKeeper slots;

    /** When a scheduled switchover is due within the next loop, how soon to run the next cycle. */
    Duration wakeUpIn;

    Leadership(Node node, Demotion demotion) {
        this.node = node;
        this.demotion = demotion;
        this.slots = demotion.slots;
    }

    /** No leader key: race for it if this node is the healthiest, else follow. */
    Step processUnhealthy(Cycle c) {
        if (node.dcsTroubleSinceLastRace && !c.pg.isRunningPrimary()) {
            // Without REST calls the members' WAL positions come from their keys, which may have
            // expired during the outage: publish ours now and race on the next cycle.
            node.dcsTroubleSinceLastRace = false;
            log.info("{}: DCS reachable again: waiting one cycle for members to publish before the leader race",
                    node.name);
            return demotion.follow(c, "demoting self because i am not the healthiest node",
                    "waiting one cycle for members to publish their WAL positions before the leader race");
        }
        node.dcsTroubleSinceLastRace = false;
        if (!node.guardCapable) {
            // Patroni checks is_healthy in is_healthiest_node() after a manual failover request;
            // pgha refuses earlier, so that such a node never takes the key, not even as candidate.
            log.warn("{}: Watchdog device is not usable", node.name);
        } else if (node.election.isHealthiestNode(c.cluster, c.pg, node.formerLeader)) {
            if (node.lock.acquire()) {
                slots.reset(c.cluster.status());
                Failover failover = c.cluster.failover();
                if (failover != null) {
                    node.dcs.deleteFailover(failover.version());
                }
                return enforcePrimaryRole(c, "acquired session lock as a leader",
                        "promoted self to leader by acquiring session lock");
            }
            // Somebody else won between our read and our attempt: follow the winner, not the stale view.
            Cycle fresh = new Cycle(node.dcs.readCluster(), c.pg);
            node.cluster = fresh.cluster;
            return demotion.follow(fresh, "demoted self after trying and failing to obtain lock",
                    "following new leader after trying and failing to obtain lock");
        }
        if (!node.config.tags().canFailover()) {
            return demotion.follow(c, "demoting self because I am not allowed to become primary",
                    "following a different leader because I am not allowed to promote");
        }
        return demotion.follow(c, "demoting self because i am not the healthiest node",
                "following a different leader because i am not the healthiest node");
    }

    /** A leader key exists: the holder refreshes it and stays (or becomes) primary; others follow. */
    Step processHealthy(Cycle c) {
        if (c.cluster.isLeader(node.name)) {
            if (node.lock.update()) {
                Step manual = processManualFailoverFromLeader(c);
                if (manual != null) {
                    writeStatus(c);
                    return manual;
                }
                Step step = enforcePrimaryRole(c, node.iAm(", the leader with the lock"),
                        "promoted self to leader because I had the session lock");
                writeStatus(c); // after the slots were kept, so that their positions are this cycle's
                return step;
            }
            log.error("{}: failed to update leader lock", node.name);
            if (node.actsAsPrimary(c.pg)) {
                return demotion.demote(Demotion.Mode.IMMEDIATE_NOLOCK,
                        Step.of(CycleAction.DEMOTE, "demoted self because failed to update leader lock in DCS"));
            }
            return Step.of(CycleAction.WAIT, "not promoting because failed to update leader lock in DCS");
        }
        node.lock.lost();
        String leader = c.cluster.leaderName().orElse("");
        return demotion.follow(c, "demoting self because I do not have the lock and I was a leader",
                node.iAm(", a secondary, and following a leader (" + leader + ")"));
    }

    /** The lock is held: be primary, promoting if needed. */
    Step enforcePrimaryRole(Cycle c, String message, String promoteMessage) {
        boolean acquired = message.startsWith("acquired");
        if (!node.lock.guardActivated()) {
            if (node.actsAsPrimary(c.pg)) {
                return demotion.demote(Demotion.Mode.IMMEDIATE,
                        Step.of(CycleAction.DEMOTE, "Demoting self because watchdog could not be activated"));
            }
            node.lock.release();
            return Step.of(CycleAction.RELEASE_LOCK, "Not promoting self because watchdog could not be activated");
        }
        if (c.pg.isRunningPrimary()) {
            node.setRole(PostgresRole.PRIMARY);
            node.upstream = null;
            node.followConfigured = false;
            updateClusterHistory(c.cluster, c.pg.timeline());
            slots.keep(c.cluster);
            return Step.of(acquired ? CycleAction.ACQUIRED_LOCK : CycleAction.NONE, message);
        }
        // Like Patroni after pg_ctl promote: announce the new role at once; if the promotion is
        // cancelled or fails, the role goes back to replica and that is announced too.
        node.setRole(PostgresRole.PROMOTED);
        node.callback(HaListener.Callback.ON_ROLE_CHANGE);
        return node.start("promote", LongAction.Kind.PROMOTE, node.postgres.promote(), (ok, detail) -> {
            if (ok) {
                node.setRole(PostgresRole.PRIMARY);
                node.upstream = null;
                node.followConfigured = false;
                List<TimelineHistory.Entry> lineage = node.postgres.timelineHistory();
                node.knownTimeline = lineage.isEmpty() ? 0 : lineage.get(lineage.size() - 1).timeline() + 1;
                node.knownTimelineCreator = node.name;
            } else {
                log.warn("{}: promote failed: {}", node.name, detail);
                node.setRole(PostgresRole.REPLICA);
                node.callback(HaListener.Callback.ON_ROLE_CHANGE);
            }
            return null;
        }, Step.of(CycleAction.PROMOTE, promoteMessage));
    }

    /**
     * The lock holder acts on the {@code failover} key: demotes itself for a due switchover or
     * failover to a healthy member, and cleans up requests it cannot honour.
     *
     * @return the step when it demotes, else null (the key may have been cleaned up)
     */
    Step processManualFailoverFromLeader(Cycle c) {
        Failover failover = c.cluster.failover();
        if (failover == null) {
            return null;
        }
        String action = failover.actionName();
        if (failover.scheduledAt() != null) {
            Optional<OffsetDateTime> when;
            try {
                when = failover.scheduledTime();
            } catch (DateTimeParseException e) {
                log.warn("{}: Incorrect value of scheduled_at: {}", node.name, failover.scheduledAt());
                cleanUp(failover);
                return null;
            }
            Instant now = node.clock.wallTime();
            Duration delta = Duration.between(now, when.get().toInstant());
            if (delta.compareTo(node.config.loopWait()) > 0) {
                log.info("{}: Awaiting {} at {} (in {} seconds)", node.name, action, failover.scheduledAt(),
                        delta.toSeconds());
                return null;
            }
            if (delta.negated().compareTo(node.config.loopWait().multipliedBy(3).dividedBy(2)) > 0) {
                log.warn("{}: Found a stale {} value, cleaning up: {}", node.name, action, failover.scheduledAt());
                cleanUp(failover);
                return null;
            }
            if (delta.isNegative() || delta.isZero()) {
                log.info("{}: Manual scheduled {} at {}", node.name, action, failover.scheduledAt());
            } else {
                wakeUpIn = delta;
                return null;
            }
        }
        if (failover.leader() == null || failover.leader().equals(node.name)) {
            if (failover.candidate() == null || !failover.candidate().equals(node.name)) {
                if (node.election.isFailoverPossible(c.cluster, 0, failover.candidate(), action)) {
                    return demotion.demote(Demotion.Mode.GRACEFUL,
                            Step.of(CycleAction.SWITCHOVER, action + ": demoting myself"), action + ": demote");
                }
                log.warn("{}: {}: no healthy members found, {} is not possible", node.name, action, action);
            } else {
                log.warn("{}: {}: I am already the leader, no need to {}", node.name, action,
                        action.equals("switchover") ? "switchover" : "failover");
            }
        } else {
            log.warn("{}: {}: leader name does not match: {} != {}", node.name, action, failover.leader(), node.name);
        }
        cleanUp(failover);
        return null;
    }

    private void cleanUp(Failover failover) {
        log.info("{}: Cleaning up failover key", node.name);
        node.dcs.deleteFailover(failover.version());
    }

    /**
     * Patroni's {@code handle_long_action_in_progress()}: the lock holder keeps its lock while the
     * action runs; a node that lost the lock while primary demotes.
     *
     * @return the step
     */
    Step handleLongActionInProgress(Cycle c) {
        LongAction a = node.action;
        if (c.cluster.isLeader(node.name) && node.lock.update()) {
            Duration timeout = node.config.primaryStartTimeout();
            if (a.kind() == LongAction.Kind.CRASH_RECOVERY && node.elapsed(a).compareTo(timeout) > 0
                    && node.election.isFailoverPossible(c.cluster, 0, null, "failover")) {
                log.info("{}: Demoting self because crash recovery is taking too long", node.name);
                node.cancelAction();
                return demotion.demote(Demotion.Mode.IMMEDIATE,
                        Step.of(CycleAction.DEMOTE, "terminated crash recovery because of startup timeout"));
            }
            Duration startTimeout = node.startTimeout != null ? node.startTimeout : timeout;
            if (a.kind().isStart() && node.elapsed(a).compareTo(startTimeout) >= 0) {
                // Patroni's handle_starting_instance() once the start timeout has passed.
                if (node.election.isFailoverPossible(c.cluster, 0, null, "failover")) {
                    return demotion.demote(Demotion.Mode.IMMEDIATE,
                            Step.of(CycleAction.DEMOTE, "stopped PostgreSQL because of startup timeout"));
                }
                return Step.of(CycleAction.WAIT,
                        "primary start has timed out, but continuing to wait because failover is not possible");
            }
            return Step.of(CycleAction.IN_PROGRESS, "updated leader lock during " + a.name());
        }
        if (a.kind() == LongAction.Kind.PROMOTE && !c.pg.isRunningPrimary()) {
            node.cancelAction();
            node.setRole(PostgresRole.REPLICA);
            node.callback(HaListener.Callback.ON_ROLE_CHANGE);
            return Step.of(CycleAction.DEMOTE, "lost leader before promote");
        }
        if (node.actsAsPrimary(c.pg) && a.kind() != LongAction.Kind.DEMOTE) {
            log.info("{}: Demoting primary during {}", node.name, a.name());
            boolean mayAcceptWrites = c.pg.isRunningPrimary() || a.kind().isStart()
                    || a.kind() == LongAction.Kind.PROMOTE;
            if (mayAcceptWrites) {
                return demotion.demote(Demotion.Mode.IMMEDIATE_NOLOCK,
                        Step.of(CycleAction.DEMOTE, "lost leader lock during " + a.name()));
            }
            // Nothing accepts writes (e.g. single-user crash recovery): let the action finish, so
            // the next recover() repairs the data directory instead of starting it diverged.
            node.lock.forgetKeepingGuard();
            node.setRole(PostgresRole.DEMOTED);
            return Step.of(CycleAction.DEMOTE, "lost leader lock during " + a.name());
        }
        if (c.cluster.isUnlocked()) {
            log.info("{}: not healthy enough for leader race", node.name);
        }
        return Step.of(CycleAction.IN_PROGRESS, a.name() + " in progress");
    }

    /**
     * Writes the {@code status} key when it changed (as Patroni, only then): the leader's WAL
     * position, its member slots' positions and the retained member slot names.
     */
    void writeStatus(Cycle c) {
        if (!c.pg.isRunningPrimary()) {
            return;
        }
        ClusterStatus status = slots.status(c.pg.walPosition().value(), c.cluster.status());
        if (!status.equals(c.cluster.status())) {
            node.dcs.writeStatus(status);
        }
    }

    /**
     * Copies this data directory's timeline switches to the {@code history} key when they differ,
     * noting when and to whom the last one happened. The lock holder calls it while primary and
     * also while PostgreSQL is down, so a timeline it created is known before anyone else races.
     */
    void updateClusterHistory(ClusterView cluster, long timeline) {
        TimelineHistory known = cluster.history();
        if (timeline <= 1) {
            return;
        }
        List<TimelineHistory.Entry> local = node.postgres.timelineHistory();
        if (local.isEmpty()) {
            return;
        }
        // The leader's own lineage is the cluster's: keep what the key adds (when, to whom) only
        // for switches that match it.
        List<TimelineHistory.Entry> merged = new ArrayList<>();
        for (TimelineHistory.Entry e : local) {
            Optional<TimelineHistory.Entry> stored = known.switchOf(e.timeline());
            if (stored.isPresent() && stored.get().switchLsn() == e.switchLsn()) {
                merged.add(stored.get());
            } else if (e.timeline() == timeline - 1 && e.newLeader() == null) {
                merged.add(new TimelineHistory.Entry(e.timeline(), e.switchLsn(), e.reason(),
                        TimelineHistory.formatTimestamp(node.clock.wallTime()), node.name));
            } else {
                merged.add(e);
            }
        }
        if (!merged.equals(known.entries())) {
            node.dcs.writeHistory(new TimelineHistory(merged));
        }
    }
}
