package dev.pgha.postgres;

import java.util.List;
import java.util.Objects;

/**
 * What a running primary reports about synchronous replication, from one query: the
 * {@code synchronous_standby_names} and {@code synchronous_commit} in force, its flush position
 * and its {@code pg_stat_replication} rows. The leader builds the {@code sync} key from it.
 *
 * @param synchronousStandbyNames {@code SHOW synchronous_standby_names} ("" when none); null when
 *                                the server could not be asked
 * @param synchronousCommit       {@code SHOW synchronous_commit} ({@code on}, {@code remote_apply},
 *                                {@code remote_write}, {@code local}, {@code off}); null when unknown
 * @param flushLsn                {@code pg_current_wal_flush_lsn()} ({@link Lsn#ZERO} when unknown)
 * @param standbys                the walsenders' rows, as PostgreSQL gives them
 */
public record ReplicationState(String synchronousStandbyNames, String synchronousCommit, Lsn flushLsn,
                               List<Standby> standbys) {

    /** The server could not be asked. */
    public static final ReplicationState UNKNOWN = new ReplicationState(null, null, Lsn.ZERO, List.of());

    /** Copies the rows. */
    public ReplicationState {
        flushLsn = Objects.requireNonNullElse(flushLsn, Lsn.ZERO);
        standbys = List.copyOf(Objects.requireNonNullElse(standbys, List.of()));
    }

    /** Whether the server answered. */
    public boolean known() {
        return synchronousStandbyNames != null;
    }

    /**
     * One row of {@code pg_stat_replication}.
     *
     * @param pid             the walsender's process id
     * @param applicationName the standby's {@code application_name} (a pgha or Patroni standby sends its member name)
     * @param state           {@code streaming}, {@code catchup}, {@code startup}, {@code backup}, {@code stopping}
     * @param syncState       {@code async}, {@code potential}, {@code sync} or {@code quorum}
     * @param syncPriority    {@code sync_priority} (0 for an asynchronous standby)
     * @param writeLsn        {@code write_lsn}, null while not streaming
     * @param flushLsn        {@code flush_lsn}, null while not streaming
     * @param replayLsn       {@code replay_lsn}, null while not streaming
     */
    public record Standby(int pid, String applicationName, String state, String syncState, int syncPriority,
                          Lsn writeLsn, Lsn flushLsn, Lsn replayLsn) {

        /** Validates the name. */
        public Standby {
            Objects.requireNonNull(applicationName, "applicationName");
            state = Objects.requireNonNullElse(state, "");
            syncState = Objects.requireNonNullElse(syncState, "async");
        }

        /**
         * The position that counts for a commit under {@code synchronous_commit} (Patroni's
         * choice: replay for {@code remote_apply}, write for {@code remote_write}, else flush);
         * null while the standby does not stream.
         */
        public Lsn position(String synchronousCommit) {
            return switch (Objects.requireNonNullElse(synchronousCommit, "on")) {
                case "remote_apply" -> replayLsn;
                case "remote_write" -> writeLsn;
                default -> flushLsn;
            };
        }
    }
}
