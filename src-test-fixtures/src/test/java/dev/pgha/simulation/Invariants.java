package dev.pgha.simulation;

import dev.pgha.CycleResult;
import dev.pgha.simulation.InvariantViolation.Invariant;
import dev.pgha.testing.SimulatedCluster;
import dev.pgha.testing.SimulatedNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The safety invariants every simulated instant must satisfy, checked after every cycle and after
 * every step of a {@link SimulatedCluster}:
 *
 * <ol>
 *   <li><b>One primary, one lock holder.</b> At most one PostgreSQL is writable; at most one
 *       controller believes it holds the lock with an unexpired lease; and once the cluster is
 *       initialized, a writable PostgreSQL belongs to the node named by the DCS leader key (the
 *       leader key is the single source of truth: a writable node without it is a split brain in
 *       the making, since the key's holder will promote).</li>
 *   <li><b>No writes after the lease deadline.</b> Once the cluster is initialized, a writable
 *       node's fencing guard is armed with a deadline strictly after now. (During the very first
 *       bootstrap, initdb's primary runs for a moment before anybody holds the lock.)</li>
 *   <li><b>The PostgresProcess contract is kept:</b> {@code FakeWorld#violations()} stays empty.</li>
 *   <li><b>runCycle() never fails:</b> it never throws (the simulation would propagate it) and
 *       never answers Patroni's "Unexpected exception raised, please report it as a BUG".</li>
 * </ol>
 *
 * <li><b>No acknowledged commit lost</b> (invariant 7), when the schedule runs
 *       {@code synchronous_mode} with {@code synchronous_mode_strict}: every commit the fake
 *       acknowledged to its client (see {@code FakeWorld#commit}) is in the WAL of the writable
 *       primary, whenever there is one. A manual failover may go to an asynchronous standby, as in
 *       Patroni: the schedule forgets what was acknowledged before one.</li>
 *
 * Invariant 5 (convergence after the faults heal) is a liveness property checked by the runner.
 */
final class Invariants {

    /** Patroni's answer when a cycle hit an unexpected exception. */
    static final String BUG_MESSAGE = "Unexpected exception raised, please report it as a BUG";

    private final SimulatedCluster sim;
    private final boolean noLossPromised;

    Invariants(SimulatedCluster sim) {
        this(sim, false);
    }

    /** @param noLossPromised whether invariant 7 applies (synchronous_mode with strict) */
    Invariants(SimulatedCluster sim, boolean noLossPromised) {
        this.sim = sim;
        this.noLossPromised = noLossPromised;
    }

    /** Checks the last cycle's result of {@code node}, then every safety invariant. */
    void afterCycle(SimulatedNode node) {
        CycleResult r = node.lastResult();
        if (r != null && r.message().contains(BUG_MESSAGE)) {
            throw new InvariantViolation(Invariant.CYCLE_NEVER_FAILS,
                    node.name() + ": runCycle() returned \"" + r.message() + "\"");
        }
        check();
    }

    /** Checks invariants 1 to 3 now. */
    void check() {
        if (noLossPromised) {
            checkAcknowledgedCommits();
        }
        List<String> writable = sim.writablePrimaries();
        if (writable.size() > 1) {
            throw new InvariantViolation(Invariant.SINGLE_PRIMARY, "two writable primaries at once: " + writable
                    + " (leader key: " + sim.leader().orElse("none") + ")");
        }
        List<String> holders = new ArrayList<>();
        for (SimulatedNode n : sim.nodes()) {
            if (n.controller().status().lockHeld()) {
                holders.add(n.name() + " until " + n.controller().status().leaseDeadline());
            }
        }
        if (holders.size() > 1) {
            throw new InvariantViolation(Invariant.SINGLE_PRIMARY,
                    "two nodes believe they hold the lock with an unexpired lease: " + holders);
        }
        if (!writable.isEmpty() && sim.dcs().snapshot().hasValidInitialize()) {
            String primary = writable.get(0);
            Optional<String> leader = sim.leader();
            if (leader.isEmpty() || !leader.get().equals(primary)) {
                throw new InvariantViolation(Invariant.SINGLE_PRIMARY, primary
                        + "'s PostgreSQL is writable but the leader key is held by " + leader.orElse("nobody"));
            }
            Instant deadline = sim.node(primary).guardDeadline();
            Instant now = sim.now();
            if (deadline == null || !deadline.isAfter(now)) {
                throw new InvariantViolation(Invariant.LEASE_FENCING, primary
                        + "'s PostgreSQL is writable at " + now + " but its guard is "
                        + (deadline == null ? "disarmed" : "armed only until " + deadline));
            }
        }
        if (!sim.world().violations().isEmpty()) {
            throw new InvariantViolation(Invariant.POSTGRES_CONTRACT,
                    "the engine misused PostgresProcess: " + sim.world().violations());
        }
    }

    /** Invariant 7: the writable primary holds every acknowledged commit. */
    private void checkAcknowledgedCommits() {
        List<String> writable = sim.writablePrimaries();
        if (writable.size() != 1) {
            return;
        }
        String primary = writable.get(0);
        for (var commit : sim.world().acknowledgedCommits()) {
            if (!sim.world().holds(primary, commit)) {
                throw new InvariantViolation(Invariant.NO_ACKNOWLEDGED_COMMIT_LOST, "a commit acknowledged on "
                        + commit.primary() + " up to " + commit.lsn() + " is not in the WAL of " + primary
                        + ", the writable primary now");
            }
        }
    }
}
