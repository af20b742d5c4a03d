package dev.pgha;

import dev.pgha.postgres.PostgresOperation;

/**
 * The one long PostgreSQL action in progress (Patroni's async executor task): its Patroni name,
 * kind, operation, start time, and what to do when it finishes.
 *
 * @param name        Patroni's action name ("promote", "restarting after failure", ...)
 * @param kind        what sort of action it is
 * @param operation   the running operation
 * @param startedNanos when it started, on the engine's clock
 * @param onDone      run (inside a later cycle) when the operation has finished
 * @param releasesSync whether this member asked to be released from synchronous standby for the
 *                     action ({@link SyncRelease}): its member key says {@code nosync} meanwhile
 */
record LongAction(String name, Kind kind, PostgresOperation operation, long startedNanos, Completion onDone,
                  boolean releasesSync) {

    /** This action with its operation replaced (the one a {@link SyncRelease} held back, now started). */
    LongAction withOperation(PostgresOperation value) {
        return new LongAction(name, kind, value, startedNanos, onDone, releasesSync);
    }

    /** The sorts of long actions the engine distinguishes. */
    enum Kind {
        BOOTSTRAP, POST_BOOTSTRAP, CLONE, START, PROMOTE, DEMOTE, FOLLOW, RESTART, CRASH_RECOVERY, REWIND,
        REINITIALIZE, SHUTDOWN;

        /** Whether the action brings PostgreSQL up (subject to primary_start_timeout while holding the lock). */
        boolean isStart() {
            return this == START || this == RESTART;
        }
    }

    /** What to do when the operation finished. May start the next action; may end the cycle with a step. */
    @FunctionalInterface
    interface Completion {
        /**
         * @param c the cycle it runs in, its state with the action already cleared
         * @return a step to end the cycle with, or null to continue the cycle normally
         */
        Step done(Cycle c, boolean success, String detail);

        /** A completion that only clears the action. */
        static Completion nothing() {
            return (c, success, detail) -> null;
        }
    }
}
