package dev.pgha;

import dev.pgha.cluster.ClusterView;
import dev.pgha.postgres.PostgresStatus;

/**
 * One cycle's working context: the node's state as this cycle's decisions change it, the cluster
 * as read from the DCS at its start, and the latest observation of the local PostgreSQL. The
 * engine starts each cycle (and each operator request) from the {@link NodeState} it keeps and
 * keeps {@link #state} again when the cycle ends, however it ends: an exception half-way through
 * loses nothing that was already done, such as an operation that was started.
 */
final class Cycle {

    /** The node's state; decisions replace it whole. */
    NodeState state;
    /** The cluster as read at the start of the cycle (before the read: the last cycle's view). */
    ClusterView cluster;
    /** The latest PostgreSQL observation (null before the first one of this cycle). */
    PostgresStatus pg;

    Cycle(NodeState state) {
        this.state = state;
        this.cluster = state.lastView();
    }

    Cycle(NodeState state, ClusterView cluster, PostgresStatus pg) {
        this.state = state;
        this.cluster = cluster;
        this.pg = pg;
    }
}
