package dev.pgha.benchmarks;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.HaController;
import dev.pgha.testing.SimulatedCluster;
import dev.pgha.testing.SimulatedNode;
import java.time.Duration;

/**
 * Simulated clusters brought to their steady state (one leader holding the lock, every other member
 * streaming from it), and the checks the benchmarks use to prove they still are.
 */
final class SteadyClusters {

    /** The longest a fresh cluster may take to converge (50 members clone one after the other). */
    private static final Duration CONVERGE_LIMIT = Duration.ofHours(1);

    /** Sim time run after convergence: more than loop_wait, so every member cycled and published since. */
    static final Duration SETTLE = Duration.ofSeconds(15);

    private SteadyClusters() {
    }

    /** A cluster of {@code members} nodes (Patroni's default timings), bootstrapped and settled. */
    static SimulatedCluster converged(int members) {
        SimulatedCluster cluster = SimulatedCluster.builder().nodes(members).logLines(50).build();
        settle(cluster, CONVERGE_LIMIT, "a fresh cluster of " + members);
        return cluster;
    }

    /** Steps until the cluster converged, then {@link #SETTLE} more; throws if it did not. */
    static void settle(SimulatedCluster cluster, Duration limit, String what) {
        if (!cluster.runUntil(SimulatedCluster::isConverged, limit)) {
            throw new IllegalStateException(what + " did not converge within " + limit + ":\n" + cluster.log());
        }
        cluster.runFor(SETTLE);
        requireConverged(cluster, what);
    }

    /** Throws unless the cluster is converged. */
    static void requireConverged(SimulatedCluster cluster, String what) {
        if (!cluster.isConverged()) {
            throw new IllegalStateException(what + " is not in its steady state:\n" + cluster.log());
        }
    }

    /** The node holding the leader key. */
    static SimulatedNode leader(SimulatedCluster cluster) {
        return cluster.node(cluster.leader().orElseThrow(() -> new IllegalStateException("no leader")));
    }

    /** The first node that is not the leader. */
    static SimulatedNode replica(SimulatedCluster cluster) {
        String leader = leader(cluster).name();
        return cluster.nodes().stream().filter(n -> !n.name().equals(leader)).findFirst().orElseThrow();
    }

    /**
     * Runs one more cycle of {@code controller} and throws unless it did nothing, with the lock
     * ({@code lockHeld}) or without it: the steady state of a leader or a following replica.
     */
    static CycleResult requireQuietCycle(HaController controller, boolean lockHeld) {
        CycleResult r = controller.runCycle();
        if (r.action() != CycleAction.NONE || r.lockHeld() != lockHeld) {
            throw new IllegalStateException("expected a quiet cycle " + (lockHeld ? "with" : "without")
                    + " the lock, got " + r);
        }
        return r;
    }
}
