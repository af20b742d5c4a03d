package dev.pgha;

import java.util.EnumSet;
import java.util.Map;
import java.util.Set;

/**
 * The lifecycle of an {@link HaController}, guarded the way Apache Curator guards its
 * {@code LeaderLatch}: the controller holds its state atomically, moves only along the explicit
 * table below ({@link #canTransitionTo}), and a call that makes no sense in the current state
 * throws {@link IllegalStateException} naming the call and the state.
 *
 * <pre>
 *   RUNNING --close()--&gt; SHUTTING_DOWN --runCycle() returns CycleAction.SHUTDOWN--&gt; CLOSED
 * </pre>
 *
 * <p>There is no state before the first cycle: the controller has nothing to start (the host's
 * first {@code runCycle()} is the start), and every call allowed after the first cycle is allowed
 * before it too (Patroni's own tests restart or reinitialize a member before its first cycle).
 * Whether a cycle has run shows in {@link HaStatus#lastResult()} (null before the first).
 *
 * <p>{@code status()}, {@code state()} and {@code close()} are allowed in every state;
 * {@code close()} acts only in {@link #RUNNING} and does nothing afterwards.
 */
public enum ControllerState {

    /**
     * Built and not closed: {@code runCycle()} runs HA cycles, and the operator actions
     * ({@code switchover}, {@code failover}, {@code restart}, {@code reinitialize}) are accepted or
     * refused on their merits. {@code close()} begins the graceful shutdown and moves to
     * {@link #SHUTTING_DOWN}.
     */
    RUNNING,

    /**
     * {@code close()} was called: Patroni's graceful shutdown is under way (PostgreSQL stops,
     * then the leader key is released). {@code runCycle()} advances it, one step per call; the
     * call that returns {@link CycleAction#SHUTDOWN} moves to {@link #CLOSED}. Operator actions
     * throw: the member is leaving, and a restart or a request written now would only be undone.
     * A second {@code close()} does nothing.
     */
    SHUTTING_DOWN,

    /**
     * The shutdown is complete: a {@code runCycle()} has returned {@link CycleAction#SHUTDOWN}.
     * The controller does nothing more: {@code runCycle()} and the operator actions throw;
     * {@code status()} reports the final snapshot; {@code close()} does nothing. A restarted agent
     * builds a new controller.
     */
    CLOSED;

    private static final Map<ControllerState, Set<ControllerState>> NEXT = Map.of(
            RUNNING, EnumSet.of(SHUTTING_DOWN),
            SHUTTING_DOWN, EnumSet.of(CLOSED),
            CLOSED, EnumSet.noneOf(ControllerState.class));

    /** Whether {@code runCycle()} may be called in this state. */
    public boolean allowsCycles() {
        return this != CLOSED;
    }

    /** Whether the operator actions ({@code switchover}, {@code failover}, {@code restart}, {@code reinitialize}) may be called. */
    public boolean allowsOperatorActions() {
        return this == RUNNING;
    }

    /** Whether the table allows moving from this state to {@code next} (staying put is no transition). */
    public boolean canTransitionTo(ControllerState next) {
        return NEXT.get(this).contains(next);
    }

    /**
     * Returns {@code next} if the transition is legal.
     *
     * @throws IllegalStateException naming both states when it is not
     */
    public ControllerState transitionTo(ControllerState next) {
        if (!canTransitionTo(next)) {
            throw new IllegalStateException("illegal controller state transition " + this + " -> " + next);
        }
        return next;
    }
}
