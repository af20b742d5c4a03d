package dev.pgha;

import java.time.Instant;

/**
 * A restart scheduled on this member (Patroni's {@code scheduled_restart}): the request, and the
 * postmaster's start time when it was scheduled; a postmaster that restarted since cancels it.
 *
 * @param request             the restart, with its {@link RestartRequest#scheduledAt()} set
 * @param postmasterStartTime {@code pg_postmaster_start_time()} when it was scheduled, or null
 */
record ScheduledRestart(RestartRequest request, Instant postmasterStartTime) {
}
