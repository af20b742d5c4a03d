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

    ActionResult restart() {
        if (node.action != null) {
            return ActionResult.refused(node.action.name() + " already in progress");
        }
        PostgresStatus pg = node.observe();
        if (!pg.postmasterRunning()) {
            return ActionResult.refused("postgres is not running");
        }
        node.recovering = true;
        node.startTimeout = null;
        node.start("restart", LongAction.Kind.RESTART, node.postgres.restart(), (ok, detail) -> {
            if (ok) {
                node.callback(HaListener.Callback.ON_RESTART);
            }
            return null;
        }, null);
        return ActionResult.accepted("restart initiated");
    }

    ActionResult reinitialize() {
        ClusterView cluster;
        try {
            cluster = node.dcs.readCluster();
        } catch (DcsException e) {
            return ActionResult.refused("DCS is not accessible: " + e.getMessage());
        }
        if (cluster.isUnlocked()) {
            return ActionResult.refused("Cluster has no leader, can not reinitialize");
        }
        if (cluster.isLeader(node.name)) {
            return ActionResult.refused("I am the leader, can not reinitialize");
        }
        if (node.action != null) {
            return ActionResult.refused(node.action.name() + " already in progress");
        }
        Member leader = cluster.leaderMember().orElseThrow();
        rewinder.reinitialize(new Cycle(cluster, node.observe()), leader, "reinitialize");
        return ActionResult.accepted("reinitialize started");
    }
}
