package dev.pgha;

import dev.pgha.postgres.PostgresRole;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The outcome of one {@link HaController#runCycle()}.
 *
 * @param action        what the cycle did
 * @param message       the same in Patroni's words ("no action. I am (node1), the leader with the lock")
 * @param role          the node's role after the cycle
 * @param lockHeld      whether this node holds the leader lock after the cycle
 * @param nextCycleIn   when the host should run the next cycle (zero: at once)
 * @param leaseDeadline while the lock is held, the wall-clock instant the lease expires unless
 *                      renewed; null otherwise
 * @param finishedAt    when the cycle ended, on the controller's wall clock (null when unknown):
 *                      with {@code nextCycleIn}, when the next one is due (Patroni's
 *                      {@code next_run}, which its {@code /liveness} check compares with now)
 */
public record CycleResult(CycleAction action, String message, PostgresRole role, boolean lockHeld,
                          Duration nextCycleIn, Instant leaseDeadline, Instant finishedAt) {

    /** A result without its end time: the components of earlier versions of this record. */
    public CycleResult(CycleAction action, String message, PostgresRole role, boolean lockHeld,
                       Duration nextCycleIn, Instant leaseDeadline) {
        this(action, message, role, lockHeld, nextCycleIn, leaseDeadline, null);
    }

    /** When the next cycle is due, or null when the end time is unknown. */
    public Instant nextCycleDue() {
        return finishedAt == null ? null : finishedAt.plus(nextCycleIn);
    }

    /** Rejects missing values. */
    public CycleResult {
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(nextCycleIn, "nextCycleIn");
    }

    /** The lease deadline, if the lock is held. */
    public Optional<Instant> lease() {
        return Optional.ofNullable(leaseDeadline);
    }

    @Override
    public String toString() {
        return action + ": " + message;
    }
}
