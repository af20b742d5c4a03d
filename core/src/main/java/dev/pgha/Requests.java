package dev.pgha;

import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.dcs.DcsException;
import dev.pgha.postgres.PostgresStatus;

/**
 * This member's own operator actions: restart and reinitialize (switchover and failover requests
 * are {@link FailoverRequests}).
 */
final class Requests {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Requests.class);

    private final Node node;
    private final Rewinder rewinder;
    private final SyncRelease syncRelease;

    Requests(Node node, Rewinder rewinder, SyncRelease syncRelease) {
        this.node = node;
        this.rewinder = rewinder;
        this.syncRelease = syncRelease;
    }

    /** Patroni's {@code restart()} and {@code schedule_future_restart()}. */
    ActionResult restart(Cycle c, RestartRequest request) {
        PostgresStatus pg = node.observe(c);
        if (request.scheduledAt() != null) {
            if (c.state.settings().pause()) {
                return ActionResult.refused("Can't schedule restart in the paused state");
            }
            if (c.state.scheduledRestart() != null) {
                return ActionResult.refused("Another restart is already scheduled");
            }
            c.state = c.state.withScheduledRestart(new ScheduledRestart(request, pg.postmasterStartTime()));
            log.info("{}: restart scheduled at {}", node.name, request.scheduledAt());
            return ActionResult.accepted("Restart scheduled");
        }
        String mismatch = request.mismatch(c.state.roleOrUninitialized(), pg);
        if (mismatch != null) {
            log.info("{}: not proceeding with the restart: {}", node.name, mismatch);
            return ActionResult.refused("restart conditions are not satisfied");
        }
        if (c.state.action() != null) {
            return ActionResult.refused(c.state.action().name() + " already in progress");
        }
        if (!pg.postmasterRunning()) {
            return ActionResult.refused("postgres is not running");
        }
        c.state = c.state.withRecovering(true).withStartTimeout(request.timeout());
        syncRelease.start(c, "restart", LongAction.Kind.RESTART, node.postgres::restart, (later, ok, detail) -> {
            later.state = later.state.withStartTimeout(null);
            if (ok) {
                node.callback(later, HaListener.Callback.ON_RESTART);
            }
            return null;
        }, null);
        return ActionResult.accepted("restart initiated");
    }

    /** Patroni's {@code delete_future_restart()}. */
    ActionResult cancelScheduledRestart(Cycle c) {
        if (c.state.scheduledRestart() == null) {
            return ActionResult.refused("no restarts are scheduled");
        }
        c.state = c.state.withScheduledRestart(null);
        return ActionResult.accepted("scheduled restart deleted");
    }

    /**
     * Patroni's {@code evaluate_scheduled_restart()}: a scheduled restart that fell due starts, one
     * made pointless by a restart since is dropped, one far in the past is dropped as stale.
     *
     * @param otherwise the cycle's step when no restart starts
     * @return the restart's step, or {@code otherwise} (waking up when the restart falls due before the next loop)
     */
    Step evaluateScheduledRestart(Cycle c, Step otherwise) {
        ScheduledRestart scheduled = c.state.scheduledRestart();
        if (scheduled == null || c.state.action() != null || c.state.settings().pause()) {
            return otherwise;
        }
        java.time.Instant started = c.pg.postmasterStartTime();
        if (started != null && scheduled.postmasterStartTime() != null && !started.equals(scheduled.postmasterStartTime())) {
            log.info("{}: Cancelling scheduled restart: postgres restart has already happened at {}", node.name, started);
            c.state = c.state.withScheduledRestart(null);
            return otherwise;
        }
        java.time.Duration delta = java.time.Duration.between(node.clock.wallTime(), scheduled.request().scheduledAt());
        java.time.Duration loopWait = c.state.settings().loopWait();
        if (delta.compareTo(loopWait) > 0) {
            log.info("{}: Awaiting restart at {} (in {} seconds)", node.name, scheduled.request().scheduledAt(),
                    delta.toSeconds());
            return otherwise;
        }
        if (delta.negated().compareTo(loopWait.multipliedBy(3).dividedBy(2)) > 0) {
            log.warn("{}: Found a stale restart value, cleaning up: {}", node.name, scheduled.request().scheduledAt());
            c.state = c.state.withScheduledRestart(null);
            return otherwise;
        }
        if (!delta.isNegative() && !delta.isZero()) {
            return otherwise.wakingIn(delta);
        }
        log.info("{}: Manual scheduled restart at {}", node.name, scheduled.request().scheduledAt());
        c.state = c.state.withScheduledRestart(null);
        ActionResult r = restart(c, scheduled.request().scheduled(null));
        if (!r.accepted()) {
            log.warn("{}: Scheduled restart: {}", node.name, r.message());
            return otherwise;
        }
        return Step.of(CycleAction.RESTART, r.message());
    }

    /** Reloads PostgreSQL's configuration ({@code POST /reload}). */
    ActionResult reload(Cycle c) {
        PostgresStatus pg = node.observe(c);
        if (!pg.postmasterRunning()) {
            return ActionResult.refused("postgres is not running");
        }
        return node.postgres.reload() ? ActionResult.accepted("reloaded configuration")
                : ActionResult.refused("reload failed");
    }

    ActionResult reinitialize(Cycle c, boolean force) {
        ClusterView cluster;
        try {
            cluster = node.readCluster(c);
        } catch (DcsException e) {
            return ActionResult.refused("DCS is not accessible: " + e.getMessage());
        }
        if (cluster.isUnlocked()) {
            return ActionResult.refused("Cluster has no leader, can not reinitialize");
        }
        if (cluster.isLeader(node.name)) {
            return ActionResult.refused("I am the leader, can not reinitialize");
        }
        if (force) {
            node.cancelAction(c);
        }
        if (c.state.action() != null) {
            return ActionResult.refused(c.state.action().name() + " already in progress");
        }
        Member leader = cluster.leaderMember().orElseThrow();
        node.observe(c);
        rewinder.reinitialize(c, leader, "reinitialize");
        return ActionResult.accepted("reinitialize started");
    }
}
