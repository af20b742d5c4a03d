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
    private final SyncReplication sync;
    private final StartTimeout startTimeout;

    Leadership(Node node, Demotion demotion) {
        this.node = node;
        this.demotion = demotion;
        this.slots = demotion.slots;
        this.sync = demotion.sync;
        this.startTimeout = new StartTimeout(demotion);
    }

    /** No leader key: race for it if this node is the healthiest, else follow. */
    Step processUnhealthy(Cycle c) {
        if (c.state.dcsTroubleSinceLastRace() && !c.pg.isRunningPrimary()) {
            // Without REST calls the members' WAL positions come from their keys, which may have
            // expired during a DCS outage: publish ours now and race on the next cycle.
            c.state = c.state.withDcsTroubleSinceLastRace(false);
            log.info("{}: waiting one cycle for members to publish their WAL positions before the leader race",
                    node.name);
            return demotion.follow(c, "demoting self because i am not the healthiest node", Step.of(CycleAction.FOLLOW,
                    "waiting one cycle for members to publish their WAL positions before the leader race"));
        }
        c.state = c.state.withDcsTroubleSinceLastRace(false);
        boolean paused = c.state.settings().pause();
        ClusterView race = paused ? dropRequestForAbsentCandidate(c) : c.cluster;
        race = race.withSync(SyncReplication.effective(c.state, race));
        if (SyncReplication.unknowable(c.state, c.cluster) && !c.pg.isRunningPrimary()) {
            log.warn("{}: the sync key names no leader and no earlier one was read: in synchronous mode nobody "
                    + "can tell who has every acknowledged commit, so this node does not race", node.name);
        } else if (!paused && !c.state.guardCapable()) {
            // Patroni checks is_healthy in is_healthiest_node() after a manual failover request;
            // pgha refuses earlier, so that such a node never takes the key, not even as candidate.
            log.warn("{}: Watchdog device is not usable", node.name);
        } else if (c.state.election().isHealthiestNode(race, c.pg, c.state.formerLeader())) {
            if (node.lock.acquire(c)) {
                slots.reset(c, c.cluster.status());
                Failover failover = race.failover();
                if (failover != null && paused && failover.leader() != null && failover.candidate() != null) {
                    // Patroni keeps the candidate in pause: the request is still the operator's.
                    log.info("{}: Updating failover key after acquiring leader lock...", node.name);
                    node.dcs.setFailover(new Failover(null, failover.candidate(), failover.scheduledAt(), 0),
                            failover.version());
                } else if (failover != null) {
                    node.dcs.deleteFailover(failover.version());
                }
                return enforcePrimaryRole(c, Step.of(CycleAction.ACQUIRED_LOCK, "acquired session lock as a leader"),
                        "promoted self to leader by acquiring session lock");
            }
            // Somebody else won between our read and our attempt: follow the winner, not the stale view.
            node.readCluster(c);
            return demotion.follow(c, "demoted self after trying and failing to obtain lock",
                    Step.of(CycleAction.FOLLOW, "following new leader after trying and failing to obtain lock"));
        }
        if (!node.config.tags().canFailover()) {
            return demotion.follow(c, "demoting self because I am not allowed to become primary",
                    Step.of(CycleAction.FOLLOW, "following a different leader because I am not allowed to promote"));
        }
        return demotion.follow(c, "demoting self because i am not the healthiest node",
                Step.of(CycleAction.FOLLOW, "following a different leader because i am not the healthiest node"));
    }

    /**
     * In pause, a primary removes a request for a member that is gone, so that nobody waits for
     * it (only the primary, so that one node does it); the race then goes on without it.
     *
     * @return the view the race decides on
     */
    private ClusterView dropRequestForAbsentCandidate(Cycle c) {
        Failover f = c.cluster.failover();
        if (f == null || f.scheduledAt() != null || f.candidate() == null || f.candidate().equals(node.name)
                || c.cluster.member(f.candidate()).isPresent() || !c.pg.isRunningPrimary()) {
            return c.cluster;
        }
        log.warn("{}: {}: removing failover key because failover candidate is not running", node.name,
                f.actionName());
        node.dcs.deleteFailover(f.version());
        return c.cluster.withFailover(null);
    }

    /** A leader key exists: the holder refreshes it and stays (or becomes) primary; others follow. */
    Step processHealthy(Cycle c) {
        if (c.cluster.isLeader(node.name) && c.state.settings().pause()
                && !(c.pg.postmasterRunning() && !c.pg.inRecovery())) {
            Failover f = c.cluster.failover();
            if (f != null && node.name.equals(f.candidate())) {
                return Step.of(CycleAction.WAIT, "waiting to become primary after promote...");
            }
            node.lock.release(c);
            return Step.of(CycleAction.RELEASE_LOCK, "removed leader lock because postgres is not running as primary");
        }
        if (c.cluster.isLeader(node.name)) {
            if (node.lock.update(c)) {
                ManualFailover manual = processManualFailoverFromLeader(c);
                if (manual.demotion() != null) {
                    writeStatus(c);
                    return manual.demotion();
                }
                Step step = enforcePrimaryRole(c, Step.of(CycleAction.NONE, node.iAm(", the leader with the lock")),
                        "promoted self to leader because I had the session lock");
                writeStatus(c); // after the slots were kept, so that their positions are this cycle's
                return step.wakingIn(manual.dueIn());
            }
            log.error("{}: failed to update leader lock", node.name);
            if (c.state.settings().pause() && c.pg.isRunningPrimary()) {
                return Step.of(CycleAction.NONE, "continue to run as primary after failing to update leader lock in DCS");
            }
            if (Node.actsAsPrimary(c.state, c.pg)) {
                return demotion.demote(c, Demotion.Mode.IMMEDIATE_NOLOCK,
                        Step.of(CycleAction.DEMOTE, "demoted self because failed to update leader lock in DCS"));
            }
            return Step.of(CycleAction.WAIT, "not promoting because failed to update leader lock in DCS");
        }
        node.lock.lost(c);
        String leader = c.cluster.leaderName().orElse("");
        return demotion.follow(c, "demoting self because I do not have the lock and I was a leader",
                Step.of(CycleAction.NONE, node.iAm(", a secondary, and following a leader (" + leader + ")")));
    }

    /**
     * The lock is held: be primary, promoting if needed.
     *
     * @param asPrimary      the step when PostgreSQL already runs as primary
     * @param promoteMessage the message when it has to be promoted
     */
    Step enforcePrimaryRole(Cycle c, Step asPrimary, String promoteMessage) {
        if (!node.lock.guardActivated()) {
            if (Node.actsAsPrimary(c.state, c.pg)) {
                return demotion.demote(c, Demotion.Mode.IMMEDIATE,
                        Step.of(CycleAction.DEMOTE, "Demoting self because watchdog could not be activated"));
            }
            node.lock.release(c);
            return Step.of(CycleAction.RELEASE_LOCK, "Not promoting self because watchdog could not be activated");
        }
        if (c.pg.isRunningPrimary()) {
            node.setRole(c, PostgresRole.PRIMARY);
            c.state = c.state.followingNobody();
            updateClusterHistory(c.cluster, c.pg.timeline());
            slots.keep(c, c.cluster);
            sync.process(c);
            return asPrimary;
        }
        if (!sync.prepromote(c)) {
            return Step.of(CycleAction.WAIT,
                    "Postponing promotion because synchronous replication state was updated by somebody else");
        }
        // Like Patroni after pg_ctl promote: announce the new role at once; if the promotion is
        // cancelled or fails, the role goes back to replica and that is announced too.
        node.setRole(c, PostgresRole.PROMOTED);
        node.callback(c, HaListener.Callback.ON_ROLE_CHANGE);
        return node.start(c, "promote", LongAction.Kind.PROMOTE, node.postgres.promote(), (later, ok, detail) -> {
            if (ok) {
                node.setRole(later, PostgresRole.PRIMARY);
                List<TimelineHistory.Entry> lineage = node.postgres.timelineHistory();
                later.state = later.state.followingNobody().withKnownTimeline(
                        lineage.isEmpty() ? 0 : lineage.get(lineage.size() - 1).timeline() + 1, node.name);
            } else {
                log.warn("{}: promote failed: {}", node.name, detail);
                node.setRole(later, PostgresRole.REPLICA);
                node.callback(later, HaListener.Callback.ON_ROLE_CHANGE);
            }
            return null;
        }, Step.of(CycleAction.PROMOTE, promoteMessage));
    }

    /**
     * What the lock holder does about the {@code failover} key: the step when it demotes itself, or
     * how soon a scheduled request falls due when that is before the next loop.
     *
     * @param demotion the step when it demotes for the request, else null
     * @param dueIn    how soon the next cycle must run for a request due before then, else null
     */
    record ManualFailover(Step demotion, Duration dueIn) {
        static final ManualFailover NONE = new ManualFailover(null, null);
    }

    /**
     * The lock holder acts on the {@code failover} key: demotes itself for a due switchover or
     * failover to a healthy member, and cleans up requests it cannot honour.
     */
    ManualFailover processManualFailoverFromLeader(Cycle c) {
        Failover failover = c.cluster.failover();
        boolean paused = c.state.settings().pause();
        if (failover == null || paused && !c.pg.isRunningPrimary()) {
            return ManualFailover.NONE;
        }
        String action = failover.actionName();
        if (failover.scheduledAt() != null && paused) {
            return ManualFailover.NONE; // scheduled actions wait for the end of the maintenance
        }
        if (failover.scheduledAt() != null) {
            Optional<OffsetDateTime> when;
            try {
                when = failover.scheduledTime();
            } catch (DateTimeParseException e) {
                log.warn("{}: Incorrect value of scheduled_at: {}", node.name, failover.scheduledAt());
                cleanUp(failover);
                return ManualFailover.NONE;
            }
            Instant now = node.clock.wallTime();
            Duration delta = Duration.between(now, when.get().toInstant());
            if (delta.compareTo(c.state.settings().loopWait()) > 0) {
                log.info("{}: Awaiting {} at {} (in {} seconds)", node.name, action, failover.scheduledAt(),
                        delta.toSeconds());
                return ManualFailover.NONE;
            }
            if (delta.negated().compareTo(c.state.settings().loopWait().multipliedBy(3).dividedBy(2)) > 0) {
                log.warn("{}: Found a stale {} value, cleaning up: {}", node.name, action, failover.scheduledAt());
                cleanUp(failover);
                return ManualFailover.NONE;
            }
            if (delta.isNegative() || delta.isZero()) {
                log.info("{}: Manual scheduled {} at {}", node.name, action, failover.scheduledAt());
            } else {
                return new ManualFailover(null, delta);
            }
        }
        if (failover.leader() == null || failover.leader().equals(node.name)) {
            if (failover.candidate() == null && paused) {
                log.warn("{}: {} is possible only to a specific candidate in a paused state", node.name,
                        Character.toUpperCase(action.charAt(0)) + action.substring(1));
            } else if (failover.candidate() == null || !failover.candidate().equals(node.name)) {
                if (c.state.election().isFailoverPossible(c.cluster, 0, failover.candidate(), action)) {
                    return new ManualFailover(demotion.demote(c, Demotion.Mode.GRACEFUL,
                            Step.of(CycleAction.SWITCHOVER, action + ": demoting myself"), action + ": demote"), null);
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
        return ManualFailover.NONE;
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
        LongAction a = c.state.action();
        if (c.cluster.isLeader(node.name) && node.lock.update(c)) {
            if (a.kind() == LongAction.Kind.CRASH_RECOVERY
                    && node.elapsed(a).compareTo(c.state.settings().primaryStartTimeout()) > 0
                    && c.state.election().isFailoverPossible(c.cluster, 0, null, "failover")) {
                log.info("{}: Demoting self because crash recovery is taking too long", node.name);
                node.cancelAction(c);
                return demotion.demote(c, Demotion.Mode.IMMEDIATE,
                        Step.of(CycleAction.DEMOTE, "terminated crash recovery because of startup timeout"));
            }
            Step timedOut = a.kind().isStart() ? startTimeout.check(c, node.elapsed(a)) : null;
            if (timedOut != null) {
                return timedOut;
            }
            return Step.of(CycleAction.IN_PROGRESS, "updated leader lock during " + a.name());
        }
        if (a.kind() == LongAction.Kind.PROMOTE && !c.pg.isRunningPrimary() && !c.state.settings().pause()) {
            node.cancelAction(c);
            node.setRole(c, PostgresRole.REPLICA);
            node.callback(c, HaListener.Callback.ON_ROLE_CHANGE);
            return Step.of(CycleAction.DEMOTE, "lost leader before promote");
        }
        if (Node.actsAsPrimary(c.state, c.pg) && a.kind() != LongAction.Kind.DEMOTE && !c.state.settings().pause()) {
            log.info("{}: Demoting primary during {}", node.name, a.name());
            boolean mayAcceptWrites = c.pg.isRunningPrimary() || a.kind().isStart()
                    || a.kind() == LongAction.Kind.PROMOTE;
            if (mayAcceptWrites) {
                return demotion.demote(c, Demotion.Mode.IMMEDIATE_NOLOCK,
                        Step.of(CycleAction.DEMOTE, "lost leader lock during " + a.name()));
            }
            // Nothing accepts writes (e.g. single-user crash recovery): let the action finish, so
            // the next recover() repairs the data directory instead of starting it diverged.
            node.lock.forgetKeepingGuard(c);
            node.setRole(c, PostgresRole.DEMOTED);
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
        ClusterStatus status = slots.status(c.state, c.pg.walPosition().value(), c.cluster.status());
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
