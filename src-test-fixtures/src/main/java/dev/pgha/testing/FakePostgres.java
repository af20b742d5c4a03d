package dev.pgha.testing;

import static dev.pgha.postgres.PostgresState.CREATING_REPLICA;
import static dev.pgha.postgres.PostgresState.CRASHED;
import static dev.pgha.postgres.PostgresState.INITDB_FAILED;
import static dev.pgha.postgres.PostgresState.INITIALIZING_NEW_CLUSTER;
import static dev.pgha.postgres.PostgresState.RESTARTING;
import static dev.pgha.postgres.PostgresState.RESTART_FAILED;
import static dev.pgha.postgres.PostgresState.RUNNING;
import static dev.pgha.postgres.PostgresState.STARTING;
import static dev.pgha.postgres.PostgresState.START_FAILED;
import static dev.pgha.postgres.PostgresState.STOPPED;
import static dev.pgha.postgres.PostgresState.STOPPING;
import static dev.pgha.postgres.PostgresState.STOP_FAILED;

import dev.pgha.HaClock;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.PostgresException;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresProcess;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;
import dev.pgha.postgres.ReplicationState;
import dev.pgha.postgres.StopMode;
import dev.pgha.testing.FakeOperation.Kind;
import dev.pgha.testing.FakeOperation.Phase;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A scriptable, deterministic PostgreSQL server for tests: no processes, threads or sleeps; long
 * actions complete on the shared clock of its {@link FakeWorld} (see {@link FakeOperation}).
 *
 * <p>It models a data directory (system identifier, timeline lineage, end of WAL, standby
 * configuration, pg_control) and a postmaster whose {@link PostgresState} only moves through
 * {@link PostgresState#transitionTo}. Writes stop being accepted the moment a stop or restart
 * begins; a promoted standby becomes writable only when the promotion completes. After a crash
 * (kill -9) of a running or starting postmaster, {@link #status()} reports {@code CRASHED} until
 * the next action begins (as Patroni keeps its "crashed" state). A failed or cancelled stop leaves the postmaster up and not
 * accepting connections ({@code stop failed} / {@code restart failed}).
 *
 * <p>Calls that break the {@link PostgresProcess} contract are recorded as
 * {@link FakeWorld#violations()} and return a failed operation. Actions that fail in reality
 * (start failing, source unreachable, pg_rewind refusing an unclean target) return a failed
 * operation without a violation. Test controls ({@link #crash()}, {@link #write(long)},
 * {@link #failNext}, ...) live in this class too; see {@link FakeWorld} for replication.
 */
public final class FakePostgres extends FakeServerBase implements PostgresProcess {

    private String ssnOverride;
    private int ssnChanges;

    FakePostgres(FakeWorld world, String name, int port, FakeTimings timings) {
        super(world, name, port, timings);
    }

    // ---------------------------------------------------------------- observation

    @Override
    public PostgresStatus status() {
        settle();
        parameters.sync(acceptingNow());
        PostgresState reported = state;
        boolean accepting = acceptingNow();
        boolean dirOk = data.isInitialized();
        boolean recovery = dirOk && (postmaster ? inRecovery : data.standby);
        Lsn wal = accepting ? new Lsn(data.wal) : Lsn.ZERO;
        if (postmaster && postmasterStartTime == null) {
            postmasterStartTime = clock.wallTime(); // set up as already running
        }
        return new PostgresStatus(reported, postmaster, accepting, recovery, accepting ? data.timeline() : 0, wal,
                accepting && recovery ? wal : null, accepting && recovery ? wal : null,
                world.status(this, false) == StreamingStatus.STREAMING, dirOk ? data.systemIdentifier : null,
                data.state, data.state == DataDirectoryState.INACCESSIBLE ? data.error : null,
                postmaster && parameters.pendingRestart(), accepting ? serverVersion : 0,
                accepting ? postmasterStartTime : null);
    }

    @Override
    public ControlData controlData() {
        settle();
        if (controlDataOverride != null) {
            return controlDataOverride;
        }
        return data.controlData(name);
    }

    /** The switches of this data directory's timeline history, oldest first, whether or not it runs. */
    @Override
    public List<TimelineHistory.Entry> timelineHistory() {
        settle();
        return data.lineage.history();
    }

    /** The physical slots while the server accepts connections; empty otherwise. */
    @Override
    public Set<String> replicationSlots() {
        settle();
        return acceptingNow() ? Set.copyOf(data.slots.keySet()) : Set.of();
    }

    /** The physical slots and their {@code restart_lsn} while the server accepts connections; empty otherwise. */
    @Override
    public java.util.Map<String, Lsn> replicationSlotPositions() {
        settle();
        java.util.Map<String, Lsn> out = new java.util.TreeMap<>();
        if (acceptingNow()) {
            data.slots.forEach((slot, lsn) -> out.put(slot, new Lsn(lsn)));
        }
        return out;
    }

    /**
     * Creates and drops slots in the data directory (never one a standby streams through); false
     * when the server does not accept connections or a slot to drop is in use.
     */
    @Override
    public boolean syncReplicationSlots(Set<String> create, Set<String> drop) {
        settle();
        slotSyncs++;
        if (!acceptingNow()) {
            return false;
        }
        create.forEach(slot -> data.slots.putIfAbsent(slot, data.wal)); // reserves WAL at once
        boolean all = true;
        for (String slot : drop) {
            if (world.slotInUse(this, slot)) {
                all = false; // like pg_drop_replication_slot on an active slot
            } else {
                data.slots.remove(slot);
            }
        }
        return all;
    }

    /**
     * What a running primary reports, as PostgreSQL 15 computes it: one row per standby streaming
     * from it now (its position as of the last {@link FakeWorld#tick()}), with {@code sync_state}
     * and {@code sync_priority} from the {@code synchronous_standby_names} in force. A replica
     * reports no rows; a server that does not accept connections cannot be asked.
     */
    @Override
    public ReplicationState replicationState() {
        settle();
        if (!acceptingNow()) {
            return ReplicationState.UNKNOWN;
        }
        String ssn = synchronousStandbyNamesInForce();
        if (inRecoveryNow()) {
            return new ReplicationState(ssn, "on", Lsn.ZERO, List.of());
        }
        return new ReplicationState(ssn, "on", new Lsn(data.wal), FakeSync.standbys(world, this, ssn));
    }

    /** Puts the override in force at once, as a reload does; it survives restarts. */
    @Override
    public void synchronousStandbyNames(String value) {
        settle();
        if (!java.util.Objects.equals(value, ssnOverride)) {
            ssnOverride = value;
            ssnChanges++;
            world.synchronousStandbyNamesChanged();
        }
    }

    /** The {@code synchronous_standby_names} the server uses: the engine's override, else the parameter, else "". */
    public String synchronousStandbyNamesInForce() {
        return ssnOverride != null ? ssnOverride : parameters().getOrDefault("synchronous_standby_names", "");
    }

    /** How often the engine changed its {@code synchronous_standby_names} override. */
    public int synchronousStandbyNamesChanges() {
        return ssnChanges;
    }

    @Override
    public String connectionUrl() {
        return "postgres://127.0.0.1:" + port + "/postgres";
    }

    @Override
    public boolean reload() {
        settle();
        reloads++;
        return postmaster;
    }

    /**
     * Merges the DCS's parameters with the local ones ({@link #localParameters}) and, while the
     * server accepts connections, reloads when they changed: a parameter of context
     * {@code postmaster} then waits for the next start ({@link #isPendingRestart()}).
     */
    @Override
    public void applyParameters(java.util.Map<String, String> dcsParameters) {
        settle();
        parameters.dcs(dcsParameters);
        parameters.sync(acceptingNow());
    }

    // ---------------------------------------------------------------- long actions

    @Override
    public PostgresOperation bootstrap() {
        String refused = admit(Kind.BOOTSTRAP, () -> data.state != DataDirectoryState.EMPTY, "data directory is not empty");
        if (refused != null) {
            return refusal(Kind.BOOTSTRAP, "bootstrap()", refused);
        }
        move(INITIALIZING_NEW_CLUSTER);
        Phase initdb = new Phase("initdb", timings.bootstrap(), () -> {
            data.initdb(world.newSystemIdentifier(name), world.nextOrigin());
            move(STARTING);
            beginStart();
            return null;
        }, why -> {
            data.wipe();
            move(INITDB_FAILED);
        });
        Phase start = startPhase(START_FAILED);
        initdb.apply(script.take(Kind.BOOTSTRAP));
        return launch(Kind.BOOTSTRAP, "bootstrap()", initdb, start);
    }

    @Override
    public PostgresOperation postBootstrap() {
        String refused = admit(Kind.POST_BOOTSTRAP, () -> false, null);
        if (refused != null) {
            return refusal(Kind.POST_BOOTSTRAP, "postBootstrap()", refused);
        }
        Phase roles = new Phase("post_bootstrap", timings.postBootstrap(),
                () -> isWritable() ? null : "server does not run as primary", why -> { });
        roles.apply(script.take(Kind.POST_BOOTSTRAP));
        return launch(Kind.POST_BOOTSTRAP, "postBootstrap()", roles);
    }

    @Override
    public PostgresOperation cloneFrom(Member source) {
        String what = "cloneFrom(" + nameOf(source) + ")";
        String refused = admit(Kind.CLONE, () -> data.state != DataDirectoryState.EMPTY || postmaster,
                "data directory is not empty or the server runs");
        if (refused != null) {
            return refusal(Kind.CLONE, what, refused);
        }
        FakePostgres src = world.find(nameOf(source)).orElse(null);
        String unreachable = sourceProblem(src, nameOf(source));
        if (unreachable != null) {
            return record(FakeOperation.finished(Kind.CLONE, what, clock, false, "pg_basebackup: " + unreachable));
        }
        move(CREATING_REPLICA);
        Phase copy = new Phase("basebackup", timings.basebackup(), () -> {
            String gone = sourceProblem(src, src.name());
            if (gone != null) {
                return gone;
            }
            data.baseBackupFrom(src.data, src.name());
            move(STOPPED);
            return null;
        }, why -> {
            data.wipe();
            move(STOPPED);
        });
        copy.apply(script.take(Kind.CLONE));
        return launch(Kind.CLONE, what, copy);
    }

    @Override
    public PostgresOperation start() {
        String refused = admit(Kind.START, () -> !data.isInitialized(), "data directory is not initialized");
        if (refused != null) {
            return refusal(Kind.START, "start()", refused);
        }
        if (postmaster) {
            return record(FakeOperation.finished(Kind.START, "start()", clock, true,
                    "Cannot start PostgreSQL because one is already running."));
        }
        move(STARTING);
        beginStart();
        Phase start = startPhase(START_FAILED);
        start.apply(script.take(Kind.START));
        return launch(Kind.START, "start()", start);
    }

    @Override
    public PostgresOperation stop(StopMode mode, boolean checkpoint) {
        Objects.requireNonNull(mode, "mode");
        String what = "stop(" + mode + ", checkpoint=" + checkpoint + ")";
        String refused = admit(Kind.STOP, () -> false, null);
        if (refused != null) {
            return refusal(Kind.STOP, what, refused);
        }
        if (!postmaster) {
            move(STOPPED);
            return record(FakeOperation.finished(Kind.STOP, what, clock, true, "not signaled: no postmaster"));
        }
        move(STOPPING);
        Phase stop = new Phase("stop", mode == StopMode.IMMEDIATE ? timings.stopImmediate() : timings.stop(), () -> {
            shutDown(mode);
            move(STOPPED);
            return null;
        }, why -> move(STOP_FAILED));
        stop.apply(script.take(Kind.STOP));
        return launch(Kind.STOP, what, stop);
    }

    @Override
    public PostgresOperation restart() {
        String refused = admit(Kind.RESTART, () -> !data.isInitialized(), "data directory is not initialized");
        if (refused != null) {
            return refusal(Kind.RESTART, "restart()", refused);
        }
        return restartLike(Kind.RESTART, "restart()");
    }

    @Override
    public PostgresOperation follow(Member upstream) {
        return follow(upstream, null);
    }

    @Override
    public PostgresOperation follow(Member upstream, String slotName) {
        String what = "follow(" + nameOf(upstream) + (slotName == null ? "" : ", slot " + slotName) + ")";
        String refused = admit(Kind.FOLLOW, () -> !data.isInitialized(), "data directory is not initialized");
        if (refused != null) {
            return refusal(Kind.FOLLOW, what, refused);
        }
        data.standby = true;
        data.upstream = upstream == null ? null : upstream.name();
        data.slotName = upstream == null ? null : slotName;
        if (postmaster && state == RUNNING && inRecovery) {
            return record(FakeOperation.finished(Kind.FOLLOW, what, clock, true, "reloaded: primary_conninfo changed"));
        }
        if (!postmaster) {
            move(STARTING);
            beginStart();
            Phase start = startPhase(START_FAILED);
            start.apply(script.take(Kind.FOLLOW));
            return launch(Kind.FOLLOW, what, start);
        }
        return restartLike(Kind.FOLLOW, what);
    }

    @Override
    public PostgresOperation promote() {
        String refused = admit(Kind.PROMOTE, () -> !(postmaster && state == RUNNING), "server is not running");
        if (refused != null) {
            return refusal(Kind.PROMOTE, "promote()", refused);
        }
        if (!inRecovery) {
            return record(FakeOperation.finished(Kind.PROMOTE, "promote()", clock, true, "already primary"));
        }
        promoting = true;
        Phase promote = new Phase("promote", timings.promote(), () -> {
            data.promote(world.nextOrigin());
            inRecovery = false;
            promoting = false;
            return null;
        }, why -> promoting = false);
        promote.apply(script.take(Kind.PROMOTE));
        return launch(Kind.PROMOTE, "promote()", promote);
    }

    @Override
    public PostgresOperation rewind(Member source) {
        String what = "rewind(" + nameOf(source) + ")";
        String refused = admit(Kind.REWIND, () -> postmaster || !data.isInitialized(),
                "server runs or data directory is not initialized");
        if (refused != null) {
            return refusal(Kind.REWIND, what, refused);
        }
        FakePostgres src = world.find(nameOf(source)).orElse(null);
        String problem = rewindProblem(src, nameOf(source));
        if (problem != null) {
            return record(FakeOperation.finished(Kind.REWIND, what, clock, false, "pg_rewind: " + problem));
        }
        Phase rewind = new Phase("pg_rewind", timings.rewind(), () -> {
            String gone = rewindProblem(src, src.name());
            if (gone != null) {
                return gone;
            }
            data.copyFrom(src.data, data.upstream);
            return null;
        }, why -> { });
        rewind.apply(script.take(Kind.REWIND));
        return launch(Kind.REWIND, what, rewind);
    }

    @Override
    public PostgresOperation crashRecovery() {
        String refused = admit(Kind.CRASH_RECOVERY, () -> postmaster || !data.isInitialized() || !uncleanShutdown(),
                "server runs or pg_control says it was shut down cleanly");
        if (refused != null) {
            return refusal(Kind.CRASH_RECOVERY, "crashRecovery()", refused);
        }
        Phase recover = new Phase("single-user", timings.crashRecovery(), () -> {
            data.crashRecovered();
            controlDataOverride = null;
            return null;
        }, why -> { });
        recover.apply(script.take(Kind.CRASH_RECOVERY));
        return launch(Kind.CRASH_RECOVERY, "crashRecovery()", recover);
    }

    @Override
    public void removeDataDirectory() {
        settle();
        String problem = busy() ? "another operation is running: " + current
                : postmaster ? "the server is running" : null;
        if (problem != null) {
            world.violation(name + ": removeDataDirectory refused: " + problem);
            throw new PostgresException(name + ": cannot remove the data directory: " + problem);
        }
        if (data.state == DataDirectoryState.INACCESSIBLE) {
            throw new PostgresException(name + ": cannot remove the data directory: " + data.error);
        }
        data.wipe();
        controlDataOverride = null;
        move(STOPPED);
    }

    // ---------------------------------------------------------------- internals

    private PostgresOperation restartLike(Kind kind, String what) {
        boolean wasUp = postmaster;
        move(RESTARTING);
        List<Phase> phases = new ArrayList<>();
        if (wasUp) {
            phases.add(new Phase("stop", timings.stop(), () -> {
                shutDown(StopMode.FAST);
                beginStart();
                return null;
            }, why -> move(RESTART_FAILED)));
        } else {
            beginStart();
        }
        Phase start = startPhase(RESTART_FAILED);
        start.apply(script.take(kind));
        phases.add(start);
        return launch(kind, what, phases.toArray(Phase[]::new));
    }

    /** The postmaster is spawned and starts recovery or production from the data directory. */
    private void beginStart() {
        clusterStateBeforeStart = data.clusterState;
        postmaster = true;
        postmasterStartTime = clock.wallTime();
        inRecovery = data.standby;
        data.clusterState = inRecovery ? FakeDataDirectory.IN_ARCHIVE_RECOVERY : FakeDataDirectory.IN_PRODUCTION;
        controlDataOverride = null;
        parameters.started();
    }

    private Phase startPhase(PostgresState failedState) {
        return new Phase("start", timings.start(), () -> {
            move(RUNNING);
            return null;
        }, why -> {
            postmaster = false;
            postmasterStartTime = null;
            data.clusterState = clusterStateBeforeStart;
            move(failedState);
        });
    }

    /** The postmaster exits: cleanly (checkpoint, final WAL to streaming standbys) unless immediate. */
    private void shutDown(StopMode mode) {
        if (mode != StopMode.IMMEDIATE) {
            data.cleanShutdown(inRecovery);
            world.flushFrom(this);
        }
        postmaster = false;
        postmasterStartTime = null;
        promoting = false;
        controlDataOverride = null;
    }

    private String sourceProblem(FakePostgres src, String srcName) {
        if (src == null) {
            return "could not translate host name \"" + srcName + "\": unknown member";
        }
        if (!src.acceptingNow() || !src.data.isInitialized()) {
            return "could not connect to server " + srcName;
        }
        return null;
    }

    private String rewindProblem(FakePostgres src, String srcName) {
        String unreachable = sourceProblem(src, srcName);
        if (unreachable != null) {
            return unreachable;
        }
        if (!Objects.equals(src.data.systemIdentifier, data.systemIdentifier)) {
            return "source and target clusters are from different systems";
        }
        if (controlData().needsCrashRecovery()) {
            return "target server must be shut down cleanly";
        }
        return null;
    }

    /** pg_control is not a clean shutdown: crash states, or "in archive recovery" (a replica that crashed). */
    private boolean uncleanShutdown() {
        ControlData cd = controlData();
        return cd.needsCrashRecovery() || FakeDataDirectory.IN_ARCHIVE_RECOVERY.equals(cd.clusterState());
    }

    private static String nameOf(Member m) {
        return m == null ? null : m.name();
    }
}
