package dev.pgha.simulation;

import dev.pgha.testing.SimulatedCluster;
import java.time.Duration;
import java.util.function.Predicate;

/**
 * Drives a {@link SimulatedCluster} with the safety {@link Invariants} checked after every cycle
 * and every step; a violation throws {@link InvariantViolation}.
 */
final class CheckedSimulation {

    final SimulatedCluster sim;
    private final Invariants invariants;

    CheckedSimulation(SimulatedCluster sim) {
        this(sim, false);
    }

    /** @param noLossPromised whether invariant 7 applies (synchronous_mode with strict) */
    CheckedSimulation(SimulatedCluster sim, boolean noLossPromised) {
        this.sim = sim;
        this.invariants = new Invariants(sim, noLossPromised);
        sim.afterEachCycle(invariants::afterCycle);
    }

    /** One step, then the invariants. */
    void step() {
        sim.step();
        invariants.check();
    }

    /** Steps for {@code d} of simulated time. */
    void runFor(Duration d) {
        long end = sim.clock().nanoTime() + d.toNanos();
        while (sim.clock().nanoTime() - end < 0) {
            step();
        }
    }

    /** Steps until the condition holds (true) or {@code limit} passed (false). */
    boolean runUntil(Predicate<SimulatedCluster> condition, Duration limit) {
        long end = sim.clock().nanoTime() + limit.toNanos();
        while (!condition.test(sim)) {
            if (sim.clock().nanoTime() - end >= 0) {
                return false;
            }
            step();
        }
        return true;
    }
}
