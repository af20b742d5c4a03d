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

    private final Node node;
    private final Rewinder rewinder;

    Requests(Node node, Rewinder rewinder) {
        this.node = node;
        this.rewinder = rewinder;
    }

    ActionResult restart(Cycle c) {
        if (c.state.action() != null) {
            return ActionResult.refused(c.state.action().name() + " already in progress");
        }
        PostgresStatus pg = node.observe(c);
        if (!pg.postmasterRunning()) {
            return ActionResult.refused("postgres is not running");
        }
        c.state = c.state.withRecovering(true);
        node.start(c, "restart", LongAction.Kind.RESTART, node.postgres.restart(), (later, ok, detail) -> {
            if (ok) {
                node.callback(later, HaListener.Callback.ON_RESTART);
            }
            return null;
        }, null);
        return ActionResult.accepted("restart initiated");
    }

    ActionResult reinitialize(Cycle c) {
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
        if (c.state.action() != null) {
            return ActionResult.refused(c.state.action().name() + " already in progress");
        }
        Member leader = cluster.leaderMember().orElseThrow();
        node.observe(c);
        rewinder.reinitialize(c, leader, "reinitialize");
        return ActionResult.accepted("reinitialize started");
    }
}
