package dev.pgha;

import dev.pgha.cluster.ClusterView;
import dev.pgha.postgres.PostgresStatus;

/**
 * What one cycle sees: the cluster as read from the DCS at its start, and the latest observation
 * of the local PostgreSQL (refreshed when a long action finished during the cycle).
 */
final class Cycle {

    final ClusterView cluster;
    PostgresStatus pg;

    Cycle(ClusterView cluster, PostgresStatus pg) {
        this.cluster = cluster;
        this.pg = pg;
    }
}
