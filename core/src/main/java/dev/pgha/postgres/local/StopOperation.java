package dev.pgha.postgres.local;

import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.StopMode;
import dev.pgha.postgres.StopResult;

/**
 * A stop in progress, as {@link LocalPostgres#stop(StopMode, boolean, StopHooks)} returns it: a
 * {@link PostgresOperation} that also tells Patroni's three-valued stop result and whether the
 * postmaster was signaled at all (Patroni's {@code pg_signaled}: {@code on_stop} fires only then).
 */
public interface StopOperation extends PostgresOperation {

    /** {@link StopResult#IN_PROGRESS} until the stop finished; never throws. */
    StopResult stopResult();

    /** Whether a stop signal reached a running postmaster (false when none ran). */
    boolean signaled();
}
