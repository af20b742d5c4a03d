package dev.pgha.testing;

import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.PostgresException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The contents of a fake data directory: what survives the postmaster. Mutable, owned by one
 * {@link FakePostgres}; its transitions mirror what PostgreSQL writes into {@code pg_control}.
 */
final class FakeDataDirectory {

    /** Size of a checkpoint (or end-of-recovery) record, MAXALIGNed as PostgreSQL writes it. */
    static final long CHECKPOINT_RECORD_BYTES = 0x78;
    /** PostgreSQL's default WAL segment size. */
    static final long WAL_SEGMENT_BYTES = 16L * 1024 * 1024;
    /** Where initdb leaves its last checkpoint. */
    static final long INITDB_CHECKPOINT = 0x1000028L;

    static final String IN_PRODUCTION = "in production";
    static final String SHUT_DOWN = "shut down";
    static final String SHUT_DOWN_IN_RECOVERY = "shut down in recovery";
    static final String IN_ARCHIVE_RECOVERY = "in archive recovery";

    DataDirectoryState state = DataDirectoryState.EMPTY;
    String error;
    String systemIdentifier;
    WalLineage lineage = WalLineage.NONE;
    /** End of WAL: flush position of a primary, received-and-replayed position of a replica. */
    long wal;
    long checkpointLsn;
    long checkpointTimeline;
    /** {@code standby.signal} present. */
    boolean standby;
    /** The member named in {@code primary_conninfo}; null for none. */
    String upstream;
    /** {@code primary_slot_name}; null for none. */
    String slotName;
    /**
     * The physical replication slots ({@code pg_replslot}) and their {@code restart_lsn}: where
     * the slot was created (the end of WAL then), advanced by the standby streaming through it.
     * Base backups and pg_rewind copy none.
     */
    final java.util.Map<String, Long> slots = new java.util.TreeMap<>();
    /** "Database cluster state" as pg_control holds it. */
    String clusterState = "";

    boolean isInitialized() {
        return state == DataDirectoryState.INITIALIZED;
    }

    long timeline() {
        return lineage.timeline();
    }

    /** initdb: timeline 1, a shutdown checkpoint, no standby configuration. */
    void initdb(String sysid, long origin) {
        state = DataDirectoryState.INITIALIZED;
        error = null;
        systemIdentifier = sysid;
        lineage = WalLineage.initial(origin);
        checkpointLsn = INITDB_CHECKPOINT;
        checkpointTimeline = 1;
        wal = INITDB_CHECKPOINT + CHECKPOINT_RECORD_BYTES;
        standby = false;
        upstream = null;
        slotName = null;
        slots.clear();
        clusterState = SHUT_DOWN;
    }

    /**
     * A clean (fast or smart) shutdown. A primary writes a shutdown checkpoint record at the end
     * of its WAL; a server in recovery only records "shut down in recovery".
     */
    void cleanShutdown(boolean inRecovery) {
        if (inRecovery) {
            clusterState = SHUT_DOWN_IN_RECOVERY;
            return;
        }
        checkpointLsn = wal;
        checkpointTimeline = timeline();
        wal += CHECKPOINT_RECORD_BYTES;
        clusterState = SHUT_DOWN;
    }

    /** End of a promotion: the next timeline starts at the current end of WAL, with its checkpoint. */
    void promote(long origin) {
        long switchAt = wal;
        lineage = lineage.branch(switchAt, origin);
        checkpointLsn = switchAt;
        checkpointTimeline = timeline();
        wal = switchAt + CHECKPOINT_RECORD_BYTES;
        standby = false;
        upstream = null;
        slotName = null;
        clusterState = IN_PRODUCTION;
    }

    /** Single-user crash recovery: replays to the end of WAL and writes a shutdown checkpoint. */
    void crashRecovered() {
        // Single-user crash recovery runs with archive_mode on (kept WAL for pg_rewind), so its
        // shutdown first switches to a new WAL segment: the checkpoint lands at the next boundary.
        wal = (wal + WAL_SEGMENT_BYTES - 1) / WAL_SEGMENT_BYTES * WAL_SEGMENT_BYTES;
        checkpointLsn = wal;
        checkpointTimeline = timeline();
        wal += CHECKPOINT_RECORD_BYTES;
        clusterState = SHUT_DOWN;
    }

    /**
     * A base backup from {@code source}: as {@link #copyFrom}, but pg_control is the source's own,
     * copied while it ran ("in production" from a primary, "in archive recovery" from a standby),
     * as {@code pg_controldata} shows it on a fresh {@code pg_basebackup}.
     */
    void baseBackupFrom(FakeDataDirectory source, String newUpstream) {
        copyFrom(source, newUpstream);
        clusterState = source.clusterState;
    }

    /**
     * pg_rewind from {@code source}: this directory holds the source's WAL up to its current end,
     * on its timeline, and must recover from there as a standby ("in archive recovery").
     */
    void copyFrom(FakeDataDirectory source, String newUpstream) {
        state = DataDirectoryState.INITIALIZED;
        error = null;
        systemIdentifier = source.systemIdentifier;
        lineage = source.lineage;
        wal = source.wal;
        checkpointLsn = source.checkpointLsn;
        checkpointTimeline = source.checkpointTimeline;
        standby = true;
        upstream = newUpstream;
        slotName = null;
        clusterState = IN_ARCHIVE_RECOVERY;
    }

    /** Receives streamed WAL from an upstream that holds this directory's WAL as a prefix. */
    void receive(FakeDataDirectory upstreamData) {
        wal = upstreamData.wal;
        lineage = upstreamData.lineage;
    }

    /** rm -rf of the contents. */
    void wipe() {
        state = DataDirectoryState.EMPTY;
        error = null;
        systemIdentifier = null;
        lineage = WalLineage.NONE;
        wal = 0;
        checkpointLsn = 0;
        checkpointTimeline = 0;
        standby = false;
        upstream = null;
        slotName = null;
        slots.clear();
        clusterState = "";
    }

    /** pg_controldata, or the exception it would fail with. */
    ControlData controlData(String member) {
        if (state == DataDirectoryState.INACCESSIBLE) {
            throw new PostgresException(member + ": cannot read pg_control: "
                    + (error == null ? "data directory is inaccessible" : error));
        }
        if (state == DataDirectoryState.EMPTY) {
            throw new PostgresException(member + ": data directory is empty, no pg_control");
        }
        boolean recoveryState = SHUT_DOWN_IN_RECOVERY.equals(clusterState) || IN_ARCHIVE_RECOVERY.equals(clusterState);
        Lsn minRecoveryEnd = recoveryState ? new Lsn(wal) : Lsn.ZERO;
        long minRecoveryTimeline = recoveryState ? timeline() : 0;
        Map<String, String> raw = new LinkedHashMap<>();
        raw.put("Database system identifier", systemIdentifier);
        raw.put("Database cluster state", clusterState);
        raw.put("Latest checkpoint location", new Lsn(checkpointLsn).toString());
        raw.put("Latest checkpoint's TimeLineID", Long.toString(checkpointTimeline));
        raw.put("Minimum recovery ending location", minRecoveryEnd.toString());
        raw.put("Min recovery ending loc's timeline", Long.toString(minRecoveryTimeline));
        return new ControlData(clusterState, systemIdentifier, checkpointTimeline, new Lsn(checkpointLsn),
                minRecoveryEnd, minRecoveryTimeline, raw);
    }
}
