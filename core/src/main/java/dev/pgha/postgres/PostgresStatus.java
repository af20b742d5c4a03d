package dev.pgha.postgres;

import java.time.Instant;
import java.util.Objects;

/**
 * One observation of the local PostgreSQL, taken at the start of a cycle. Fields that cannot be
 * known (the server does not accept connections) are zero or null.
 *
 * @param state            the lifecycle state
 * @param postmasterRunning whether a postmaster process for this data directory is alive
 * @param acceptingConnections whether it answered a query in this observation
 * @param inRecovery       {@code pg_is_in_recovery()} when accepting connections; otherwise whether
 *                         the data directory is configured as a standby
 * @param timeline         current timeline, 0 when unknown
 * @param walPosition      flush LSN on a primary, max(receive, replay) on a replica; {@link Lsn#ZERO} when unknown
 * @param receiveLsn       last WAL received from upstream (replica), else null
 * @param replayLsn        last WAL replayed (replica), else null
 * @param streaming        whether the WAL receiver streams from an upstream
 * @param systemIdentifier the cluster's system identifier, null when unknown
 * @param dataDirectory    what the data directory holds
 * @param dataDirectoryError the error reading it, when {@link DataDirectoryState#INACCESSIBLE}
 * @param pendingRestart   the running server has settings that take effect only after a restart
 *                         (Patroni's {@code pending_restart}: a parameter of context
 *                         {@code postmaster} changed, {@code pg_settings.pending_restart}); false
 *                         when it does not run
 * @param serverVersion    {@code server_version_num} (150004 for 15.4) when accepting connections, else 0
 * @param postmasterStartTime {@code pg_postmaster_start_time()} when accepting connections, else null
 */
public record PostgresStatus(PostgresState state, boolean postmasterRunning, boolean acceptingConnections,
                             boolean inRecovery, long timeline, Lsn walPosition, Lsn receiveLsn, Lsn replayLsn,
                             boolean streaming, String systemIdentifier, DataDirectoryState dataDirectory,
                             String dataDirectoryError, boolean pendingRestart, int serverVersion,
                             Instant postmasterStartTime) {

    /** Fills absent values. */
    public PostgresStatus {
        Objects.requireNonNull(state, "state");
        walPosition = Objects.requireNonNullElse(walPosition, Lsn.ZERO);
        dataDirectory = Objects.requireNonNullElse(dataDirectory, DataDirectoryState.EMPTY);
    }

    /** An observation with no restart pending: the components of earlier versions of this record. */
    public PostgresStatus(PostgresState state, boolean postmasterRunning, boolean acceptingConnections,
                          boolean inRecovery, long timeline, Lsn walPosition, Lsn receiveLsn, Lsn replayLsn,
                          boolean streaming, String systemIdentifier, DataDirectoryState dataDirectory,
                          String dataDirectoryError) {
        this(state, postmasterRunning, acceptingConnections, inRecovery, timeline, walPosition, receiveLsn, replayLsn,
                streaming, systemIdentifier, dataDirectory, dataDirectoryError, false);
    }

    /** An observation without the server's version and start time: the components of earlier versions. */
    public PostgresStatus(PostgresState state, boolean postmasterRunning, boolean acceptingConnections,
                          boolean inRecovery, long timeline, Lsn walPosition, Lsn receiveLsn, Lsn replayLsn,
                          boolean streaming, String systemIdentifier, DataDirectoryState dataDirectory,
                          String dataDirectoryError, boolean pendingRestart) {
        this(state, postmasterRunning, acceptingConnections, inRecovery, timeline, walPosition, receiveLsn, replayLsn,
                streaming, systemIdentifier, dataDirectory, dataDirectoryError, pendingRestart, 0, null);
    }

    /** Whether it runs and accepts writes: up, accepting connections, not in recovery. */
    public boolean isRunningPrimary() {
        return postmasterRunning && acceptingConnections && !inRecovery;
    }
}
