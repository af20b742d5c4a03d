package dev.pgha;

import dev.pgha.cluster.ClusterView;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.StopMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the data directory allows before anything else in a cycle (Patroni's checks in
 * {@code _run_cycle()}): an empty or inaccessible directory, and a system ID that must match the
 * cluster's {@code initialize} key.
 */
final class DataDirectoryChecks {

    private static final Logger log = LoggerFactory.getLogger(DataDirectoryChecks.class);

    private final Node node;
    private final Bootstrapper bootstrapper;

    DataDirectoryChecks(Node node, Bootstrapper bootstrapper) {
        this.node = node;
        this.bootstrapper = bootstrapper;
    }

    /** The data directory is empty or inaccessible: stop what runs, give up the key, bootstrap or clone. */
    Step empty(Cycle c) {
        boolean inaccessible = c.pg.dataDirectory() == DataDirectoryState.INACCESSIBLE;
        node.setRole(c, PostgresRole.UNINITIALIZED);
        boolean leader = c.cluster.isLeader(node.name);
        Step released = Step.of(CycleAction.RELEASE_LOCK, "released leader key voluntarily as data dir "
                + (inaccessible ? "not accessible" : "empty") + " and currently leader");
        if (c.pg.postmasterRunning()) {
            // Never hand the key over while this postmaster may still accept writes: stop first.
            node.cancelAction(c);
            Step report = node.start(c, "stopping PostgreSQL without a data directory", LongAction.Kind.DEMOTE,
                    node.postgres.stop(StopMode.IMMEDIATE, false), (later, ok, detail) -> {
                        if (ok && leader) {
                            node.lock.release(later);
                        }
                        return null;
                    }, leader ? released : Step.of(CycleAction.DEMOTE, "stopping PostgreSQL: data dir "
                            + (inaccessible ? "not accessible" : "empty")));
            node.pollAction(c); // an immediate stop is usually done at once: release the key in this cycle
            return report;
        }
        if (leader) {
            node.lock.release(c);
            return released;
        }
        if (inaccessible) {
            return Step.of(CycleAction.FAILED, "data directory is not accessible: " + c.pg.dataDirectoryError());
        }
        if (c.state.settings().pause()) {
            return Step.of(CycleAction.WAIT, "running with empty data directory");
        }
        return bootstrapper.bootstrap(c);
    }

    /** Patroni's system-ID checks: refuse to act on data of another cluster; adopt a running primary. */
    Step checkSystemId(Cycle c) {
        String sysid = c.pg.systemIdentifier();
        if (sysid == null) {
            sysid = node.postgres.controlData().systemIdentifier();
        }
        if (sysid == null || sysid.length() < 10 || !sysid.chars().allMatch(Character::isDigit)) {
            return Step.of(CycleAction.FAILED,
                    "data dir for the cluster is not empty, but system ID is invalid; consider doing reinitialize");
        }
        ClusterView cluster = c.cluster;
        if (cluster.hasValidInitialize()) {
            if (!cluster.initialize().equals(sysid) && c.state.settings().pause()) {
                log.warn("{}: system ID has changed while in paused mode. pgha will refuse to run when resuming"
                        + " unless system ID is reset: {} != {}", node.name, cluster.initialize(), sysid);
                if (cluster.isLeader(node.name)) {
                    node.lock.release(c);
                    return Step.of(CycleAction.RELEASE_LOCK, "released leader key voluntarily due to the system ID mismatch");
                }
            } else if (!cluster.initialize().equals(sysid)) {
                log.error("{}: system ID mismatch, node {} belongs to a different cluster: {} != {}",
                        node.name, node.name, cluster.initialize(), sysid);
                if (cluster.isLeader(node.name)) {
                    node.lock.release(c);
                    return Step.of(CycleAction.RELEASE_LOCK, "released leader key voluntarily due to the system ID mismatch");
                }
                return Step.of(CycleAction.FAILED, "system ID mismatch, node " + node.name
                        + " belongs to a different cluster: " + cluster.initialize() + " != " + sysid);
            }
        } else if (cluster.isUnlocked() && !c.state.callbackFired() && !c.state.settings().pause()) {
            if (c.pg.postmasterRunning() && c.pg.inRecovery()) {
                return Step.of(CycleAction.FAILED,
                        "No initialize key in DCS and PostgreSQL is running as replica, aborting start");
            }
            if (cluster.initialize() == null) {
                node.dcs.initialize(sysid);
            } else {
                node.dcs.setInitialize(sysid);
            }
        }
        return null;
    }
}
