package dev.pgha.testing;

import static dev.pgha.postgres.PostgresState.CRASHED;
import static dev.pgha.postgres.PostgresState.RUNNING;
import static dev.pgha.postgres.PostgresState.STOPPED;
import static dev.pgha.postgres.PostgresState.STOPPING;

import dev.pgha.HaClock;
import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.PostgresException;
import dev.pgha.postgres.PostgresState;
import dev.pgha.testing.FakeOperation.Kind;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * The state of one fake server and its test-facing controls and queries; {@link FakePostgres}
 * adds the {@link dev.pgha.postgres.PostgresProcess} actions. Split only to keep files short.
 */
abstract class FakeServerBase {

    private static final Set<Kind> NEED_DATA_DIRECTORY = EnumSet.of(Kind.BOOTSTRAP, Kind.CLONE, Kind.START,
            Kind.RESTART, Kind.FOLLOW, Kind.REWIND, Kind.CRASH_RECOVERY);

    final FakeWorld world;
    final String name;
    final int port;
    final HaClock clock;
    final FakeDataDirectory data = new FakeDataDirectory();
    final FakeScript script = new FakeScript();
    FakeTimings timings;

    PostgresState state = STOPPED;
    boolean postmaster;
    /** When the running postmaster started (the clock's wall time), as {@code pg_postmaster_start_time()}. */
    java.time.Instant postmasterStartTime;
    /** {@code server_version_num} the fake reports. */
    int serverVersion = 150004;
    /** The running postmaster is in recovery (decided at start from standby.signal, cleared by promotion). */
    boolean inRecovery;
    boolean promoting;
    boolean replicationPaused;
    ControlData controlDataOverride;
    String clusterStateBeforeStart = "";
    FakeOperation current;
    private final OperationLog log = new OperationLog();
    int reloads;
    int slotSyncs;
    final FakeParameters parameters;

    FakeServerBase(FakeWorld world, String name, int port, FakeTimings timings) {
        this.world = world;
        this.name = name;
        this.port = port;
        this.clock = world.clock();
        this.timings = Objects.requireNonNull(timings, "timings");
        this.parameters = new FakeParameters(name);
    }

    // ---------------------------------------------------------------- plumbing for the actions

    /** The only way the state changes: illegal transitions throw {@link IllegalStateException}. */
    final void move(PostgresState next) {
        state = state.transitionTo(next);
    }

    /** Evaluates the running operation against the clock. */
    final void settle() {
        if (current != null) {
            current.settle();
        }
    }

    final boolean busy() {
        return current != null && current.poll() == FakeOperation.Outcome.RUNNING;
    }

    /**
     * Entry check of every long action: counts the call, throws {@link PostgresException} when
     * the data directory is unusable, and returns why the call breaks the contract (another
     * operation running, or {@code bad}), or null.
     */
    final String admit(Kind kind, BooleanSupplier bad, String why) {
        settle();
        log.called(kind);
        if (NEED_DATA_DIRECTORY.contains(kind) && data.state == DataDirectoryState.INACCESSIBLE) {
            throw new PostgresException(name + ": " + kind + " cannot begin: data directory is inaccessible: " + data.error);
        }
        if (busy()) {
            return "another operation is running: " + current;
        }
        return bad.getAsBoolean() ? why : null;
    }

    /** Records a contract violation (throws in strict mode) and returns a failed operation. */
    final FakeOperation refusal(Kind kind, String what, String problem) {
        world.violation(name + ": " + what + " refused: " + problem);
        return record(FakeOperation.finished(kind, what, clock, false, problem));
    }

    final FakeOperation launch(Kind kind, String what, FakeOperation.Phase... phases) {
        current = new FakeOperation(kind, what, clock, List.of(phases));
        return record(current);
    }

    final FakeOperation record(FakeOperation op) {
        return log.record(op);
    }

    final boolean acceptingNow() {
        return postmaster && state == RUNNING;
    }

    final boolean inRecoveryNow() {
        return inRecovery;
    }

    final boolean promotingNow() {
        return promoting;
    }

    final boolean postmasterNow() {
        return postmaster;
    }

    // ---------------------------------------------------------------- test queries

    /** The member name this server is registered under. */
    public final String name() {
        return name;
    }

    /** Its fake port. */
    public final int port() {
        return port;
    }

    /** The world it is registered in. */
    public final FakeWorld world() {
        return world;
    }

    /** The lifecycle state now. */
    public final PostgresState state() {
        settle();
        return state;
    }

    /** Whether a postmaster is alive. */
    public final boolean isPostmasterRunning() {
        settle();
        return postmaster;
    }

    /** Whether it accepts writes: running, accepting connections, not in recovery, not stopping. */
    public final boolean isWritable() {
        settle();
        return acceptingNow() && !inRecovery && data.isInitialized();
    }

    /** Whether the data directory is configured as a standby ({@code standby.signal}). */
    public final boolean isStandbyConfigured() {
        settle();
        return data.standby;
    }

    /** The member named in the standby configuration, or null. */
    public final String upstream() {
        settle();
        return data.upstream;
    }

    /** The data directory's current timeline (0 when empty), whether or not the server runs. */
    public final long timeline() {
        settle();
        return data.timeline();
    }

    /** The end of WAL in the data directory (flush position, or received-and-replayed on a standby). */
    public final Lsn walPosition() {
        settle();
        return new Lsn(data.wal);
    }

    /** The system identifier, or null when the data directory is empty. */
    public final String systemIdentifier() {
        settle();
        return data.systemIdentifier;
    }

    /** What the data directory holds. */
    public final DataDirectoryState dataDirectory() {
        settle();
        return data.state;
    }

    /** Whether it receives WAL from its upstream now, or why not. */
    public final StreamingStatus streamingStatus() {
        settle();
        return world.status((FakePostgres) this, false);
    }

    /** Bytes of WAL the upstream has and this server has not; 0 without a registered upstream. */
    public final long lagBytes() {
        settle();
        return world.find(data.upstream).map(u -> Math.max(0, u.data.wal - data.wal)).orElse(0L);
    }

    /** Calls of a long action of this kind (refused ones included). */
    public final int count(Kind kind) {
        return log.count(kind);
    }

    /** Calls of {@code start()}. */
    public final int startCount() {
        return count(Kind.START);
    }

    /** Calls of {@code promote()}. */
    public final int promoteCount() {
        return count(Kind.PROMOTE);
    }

    /** Calls of {@code reload()}. */
    public final int reloadCount() {
        return reloads;
    }

    /** Calls of {@code syncReplicationSlots}. */
    public final int slotSyncCount() {
        return slotSyncs;
    }

    /** The PostgreSQL parameters wanted: the DCS's merged with {@link #localParameters}, Patroni's way. */
    public final java.util.Map<String, String> parameters() {
        return parameters.wanted();
    }

    /** The value of a parameter in force in the running server ({@code SHOW name}), or null. */
    public final String setting(String name) {
        settle();
        return postmaster ? parameters.inForce(name) : null;
    }

    /** Whether the running server waits for a restart to apply a parameter of context {@code postmaster}. */
    public final boolean isPendingRestart() {
        settle();
        return postmaster && parameters.pendingRestart();
    }

    /** Reloads that applied changed parameters. */
    public final int parameterReloadCount() {
        return parameters.reloads();
    }

    /** The member's own {@code postgresql.parameters} (as in {@code LocalPostgresConfig}); default none. */
    public final void localParameters(java.util.Map<String, String> value) {
        parameters.local(value);
    }

    /** From now on the server refuses any value of this parameter: it is left out, with a log line. */
    public final void refuseParameter(String name) {
        parameters.refuse(name);
    }

    /** The physical replication slots in the data directory, whether or not the server runs. */
    public final java.util.Set<String> slots() {
        return java.util.Set.copyOf(data.slots.keySet());
    }

    /**
     * The physical replication slots with their {@code restart_lsn} (where each was created,
     * advanced by the standby streaming through it), whether or not the server runs.
     */
    public final java.util.Map<String, Long> slotPositions() {
        return java.util.Map.copyOf(data.slots);
    }

    /** Creates a physical slot at the end of WAL, as a user would (e.g. one pgha must leave alone). */
    public final void createSlot(String slotName) {
        data.slots.putIfAbsent(slotName, data.wal);
    }

    /** The {@code primary_slot_name} this standby is configured with, or null. */
    public final String primarySlotName() {
        return data.slotName;
    }

    /** The last 256 operations (refused ones included), oldest first. */
    public final List<FakeOperation> operations() {
        return log.all();
    }

    /** The most recent operation, if any. */
    public final Optional<FakeOperation> lastOperation() {
        return log.last(null);
    }

    /** The most recent operation of this kind, if kept. */
    public final Optional<FakeOperation> lastOperation(Kind kind) {
        return log.last(Objects.requireNonNull(kind, "kind"));
    }

    /** The operation still running, if any. */
    public final Optional<FakeOperation> runningOperation() {
        return busy() ? Optional.of(current) : Optional.empty();
    }

    // ---------------------------------------------------------------- test controls

    /**
     * Kills the postmaster (kill -9). A running or starting server reports {@code CRASHED} until the next action;
     * a stopping one just ends stopped (its stop succeeds). The running operation, if it needed
     * the postmaster, fails with "postmaster died". pg_control keeps its running state ("in
     * production" for a primary, "in archive recovery" for a standby).
     *
     * @return false when no postmaster was running
     */
    public final boolean crash() {
        settle();
        if (!postmaster) {
            return false;
        }
        boolean stopping = state == STOPPING;
        if (busy()) {
            current.abort(stopping, stopping ? "postmaster exited" : "postmaster died");
        }
        postmaster = false;
        postmasterStartTime = null;
        promoting = false;
        move(stopping ? STOPPED : CRASHED);
        return true;
    }

    /**
     * Appends WAL if the server is writable now.
     *
     * @return false when it is not
     */
    public final boolean write(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("bytes must not be negative: " + bytes);
        }
        if (!isWritable()) {
            return false;
        }
        data.wal += bytes;
        return true;
    }

    /** Stops (true) or resumes (false) receiving WAL, to make a standby lag. */
    public final void pauseReplication(boolean paused) {
        this.replicationPaused = paused;
    }

    /** Whether replication was paused by the test. */
    public final boolean isReplicationPaused() {
        return replicationPaused;
    }

    /**
     * Forces what the data directory holds: {@code EMPTY} wipes it; {@code INACCESSIBLE} hides it
     * (reads fail) until set back to {@code INITIALIZED}, which needs content.
     */
    public final void setDataDirectory(DataDirectoryState next) {
        setDataDirectory(next, "Permission denied");
    }

    /** As {@link #setDataDirectory(DataDirectoryState)}, with the error reported while inaccessible. */
    public final void setDataDirectory(DataDirectoryState next, String error) {
        settle();
        switch (Objects.requireNonNull(next, "next")) {
            case EMPTY -> data.wipe();
            case INACCESSIBLE -> {
                data.state = DataDirectoryState.INACCESSIBLE;
                data.error = error;
            }
            case INITIALIZED -> {
                if (data.systemIdentifier == null) {
                    throw new IllegalArgumentException(name + ": the data directory has no content to restore");
                }
                data.state = DataDirectoryState.INITIALIZED;
                data.error = null;
            }
            default -> throw new IllegalArgumentException(next.toString());
        }
    }

    /** Sets pg_control's "Database cluster state" until the next event that rewrites it (start, stop, ...). */
    public final void setClusterState(String clusterState) {
        settle();
        data.clusterState = Objects.requireNonNull(clusterState, "clusterState");
    }

    /** Makes {@code controlData()} return this value until cleared (null) or the next start, stop or recovery. */
    public final void overrideControlData(ControlData value) {
        this.controlDataOverride = value;
    }

    /** The current timings. */
    public final FakeTimings timings() {
        return timings;
    }

    /** Replaces the timings for operations begun from now on. */
    public final void timings(FakeTimings value) {
        this.timings = Objects.requireNonNull(value, "value");
    }

    /** The next operation of this kind fails after its normal duration with a generic detail. */
    public final void failNext(Kind kind) {
        failNext(kind, "scripted failure");
    }

    /** The next operation of this kind fails after its normal duration with this detail. */
    public final void failNext(Kind kind, String detail) {
        script.add(kind, new FakeScript.Step(FakeScript.Effect.FAIL, null, Objects.requireNonNull(detail)));
    }

    /** The next operation of this kind never completes (until cancelled or the postmaster dies). */
    public final void hangNext(Kind kind) {
        script.add(kind, new FakeScript.Step(FakeScript.Effect.HANG, null, null));
    }

    /** The main phase of the next operation of this kind takes {@code duration}. */
    public final void slowNext(Kind kind, Duration duration) {
        if (duration.isNegative()) {
            throw new IllegalArgumentException("duration must not be negative: " + duration);
        }
        script.add(kind, new FakeScript.Step(FakeScript.Effect.SLOW, duration, null));
    }

    /** Scripted steps not consumed yet for this kind. */
    public final int pendingScript(Kind kind) {
        return script.pending(kind);
    }

    /** Drops every scripted step. */
    public final void clearScript() {
        script.clear();
    }

    /** {@code failNext(START)}. */
    public final void failNextStart() {
        failNext(Kind.START);
    }

    /** {@code failNext(PROMOTE)}: the server stays a standby. */
    public final void failNextPromote() {
        failNext(Kind.PROMOTE);
    }

    /** {@code failNext(REWIND)}: the data directory is left as it was. */
    public final void failNextRewind() {
        failNext(Kind.REWIND);
    }

    /** {@code failNext(CLONE)}: the data directory is left empty. */
    public final void failNextClone() {
        failNext(Kind.CLONE);
    }

    /** {@code hangNext(START)}. */
    public final void hangStart() {
        hangNext(Kind.START);
    }

    /** {@code slowNext(START, duration)}. */
    public final void slowStart(Duration duration) {
        slowNext(Kind.START, duration);
    }

    @Override
    public String toString() {
        return "FakePostgres[" + name + " " + state + (postmaster ? "" : " (no postmaster)") + " tl="
                + data.timeline() + " wal=" + new Lsn(data.wal) + (data.standby ? " standby of " + data.upstream : "")
                + "]";
    }
}
