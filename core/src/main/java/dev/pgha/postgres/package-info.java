/**
 * The local PostgreSQL as the engine sees it: {@link dev.pgha.postgres.PostgresProcess}, its
 * states, roles and operations, and the values it reports. The real implementation over the
 * server binaries lives in {@code dev.pgha.postgres.local}; the test kit brings a fake one.
 */
package dev.pgha.postgres;
