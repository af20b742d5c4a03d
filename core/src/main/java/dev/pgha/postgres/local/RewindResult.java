package dev.pgha.postgres.local;

import java.time.Instant;

/**
 * The outcome of the last {@code pg_rewind} a {@link LocalPostgres} ran, kept for operators and logs.
 *
 * @param source   the member rewound from
 * @param success  whether pg_rewind succeeded
 * @param detail   what it said (the tail of its output), or why it did not run
 * @param finished when it finished, on the injected clock
 */
public record RewindResult(String source, boolean success, String detail, Instant finished) {
}
