/**
 * The real PostgreSQL: {@link dev.pgha.postgres.local.LocalPostgres}, a
 * {@link dev.pgha.postgres.PostgresProcess} over the PostgreSQL 15+ server binaries (configured
 * with {@link dev.pgha.postgres.local.LocalPostgresConfig}), with
 * {@link dev.pgha.postgres.local.ShellCallbacks} for Patroni's callback scripts.
 */
package dev.pgha.postgres.local;
