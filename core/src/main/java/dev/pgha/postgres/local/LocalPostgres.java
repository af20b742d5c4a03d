package dev.pgha.postgres.local;

import dev.pgha.HaClock;
import dev.pgha.HaListener;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.PostgresException;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresProcess;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;
import dev.pgha.postgres.ReplicationState;
import dev.pgha.postgres.StopMode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The real {@link PostgresProcess}: one PostgreSQL 15+ server driven through its server binaries
 * and pgjdbc. Configure it with a {@link LocalPostgresConfig}.
 *
 * <p><b>No threads, no blocking.</b> Long actions run as child processes ({@code initdb},
 * {@code pg_ctl}, {@code pg_basebackup}, {@code pg_rewind}, {@code postgres --single},
 * {@code psql -c CHECKPOINT}) whose output goes to files in the work directory; the returned
 * {@link PostgresOperation} advances only when polled (and when {@link #status()} is called),
 * checking exit codes, {@code postmaster.pid} and a JDBC probe with short timeouts. Time comes
 * only from the injected {@link HaClock}. A host that calls {@link #changed()} every few tens of
 * milliseconds between cycles (as the examples' agent loop does) advances them that often, and
 * learns at once that the postmaster died or a long action ended.
 *
 * <p><b>The postmaster survives the JVM.</b> It is started detached ({@code pg_ctl start
 * --no-wait} runs it in a session of its own), and a new {@code LocalPostgres} on the same data
 * directory adopts a running server — found through {@code postmaster.pid}, checked to really be
 * that data directory's postmaster — instead of restarting it. A postmaster that disappears while
 * running or starting is reported {@link PostgresState#CRASHED} until the next action begins.
 *
 * <p><b>Root.</b> PostgreSQL refuses to run as root; when the JVM is root, every server binary is
 * run as {@link LocalPostgresConfig#osUser()} through {@code runuser}, and the directories and
 * files pgha creates are owned by that user. Passwords live only in the 0600 password file.
 *
 * <p><b>Callbacks.</b> The engine decides when Patroni's callbacks fire and tells its
 * {@link HaListener}. {@link #listener()} is the listener to give the controller
 * ({@code HaController.builder().postgres(pg).listener(pg.listener())}): the
 * {@link ShellCallbacks} running the configured commands ({@link #callbacks()}), plus the host's
 * own listener if one was given at creation. The one event only this class sees — a reload
 * ({@link #reload()}, or a running standby re-pointed by {@link #follow}) — goes to that same
 * listener as {@code ON_RELOAD}.
 */
public final class LocalPostgres implements PostgresProcess, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(LocalPostgres.class);

    private final Server s;
    private final Actions actions;
    private final Replication replication;
    private final Observer observer;
    private final ParameterSync parameters;
    private final ReplicationQuery replicationQuery;
    private final ShellCallbacks callbacks;
    private final HaListener events;
    private Operation current;
    // what changed() saw last: whether it looked yet, the postmaster's pid (0: none), whether an action ran
    private boolean probed;
    private long probedPid;
    private boolean probedBusy;

    private LocalPostgres(LocalPostgresConfig config, HaClock clock, HaListener events) {
        Host host = Host.of(config.name(), config.osUser());
        Binaries bin = Binaries.find(config.name(), config.binDir());
        this.s = new Server(config, clock, host, bin, this);
        try {
            host.createDirectories(config.workDir());
            s.files.writePassfile();
        } catch (IOException e) {
            throw new PostgresException(config.name() + ": cannot prepare the work directory " + config.workDir()
                    + ": " + e, e);
        }
        this.callbacks = ShellCallbacks.of(config.scope(), config.callbacks(), config.workDir().resolve("callbacks.log"));
        this.events = events != null ? HaListener.all(callbacks, events) : callbacks;
        this.actions = new Actions(s, new Lifecycle(s), new Stopper(s));
        this.replication = new Replication(s, actions, this::fireReload);
        this.observer = new Observer(s);
        this.parameters = new ParameterSync(s, this::fireReload);
        this.replicationQuery = new ReplicationQuery(s);
        log.info("{}: LocalPostgres for {} with {} {}", config.name(), config.dataDir(), bin, host);
    }

    /** A server on the system clock, without a host listener. */
    public static LocalPostgres create(LocalPostgresConfig config) {
        return create(config, HaClock.system(), null);
    }

    /** A server on {@code clock}, without a host listener. */
    public static LocalPostgres create(LocalPostgresConfig config, HaClock clock) {
        return create(config, clock, null);
    }

    /**
     * A server on {@code clock}; {@code hostListener} (nullable) becomes part of
     * {@link #listener()}. Finds the binaries, checks the OS user and prepares the work directory
     * and password file; it does not touch the server.
     *
     * @throws PostgresException when a binary is missing, the JVM is root without an OS user,
     *                           or the work directory cannot be prepared (the message names it)
     */
    public static LocalPostgres create(LocalPostgresConfig config, HaClock clock, HaListener hostListener) {
        return new LocalPostgres(config, clock, hostListener);
    }

    /** The configuration. */
    public LocalPostgresConfig config() {
        return s.config;
    }

    /** Patroni's callback commands of the configuration. */
    public ShellCallbacks callbacks() {
        return callbacks;
    }

    /** The listener for {@code HaController.builder().listener(...)}: {@link #callbacks()} and the host's listener. */
    public HaListener listener() {
        return events;
    }

    /** The postmaster's log file (in the work directory). */
    public Path logFile() {
        return s.postmasterLog();
    }

    /** The states this instance moved through, oldest first (the last 64), for diagnostics and tests. */
    public synchronized List<PostgresState> stateHistory() {
        return s.history();
    }

    /** The outcome of the last pg_rewind, if one ran. */
    public synchronized Optional<RewindResult> lastRewind() {
        return Optional.ofNullable(s.lastRewind);
    }

    /** The pid of this data directory's live postmaster, if any. */
    public OptionalLong postmasterPid() {
        return s.postmaster().map(f -> OptionalLong.of(f.pid())).orElse(OptionalLong.empty());
    }

    // ---------------------------------------------------------------- observation

    @Override
    public synchronized PostgresStatus status() {
        try {
            settle();
            parameters.syncIfNeeded(!busy());
            return observer.observe(busy());
        } catch (RuntimeException e) {
            log.error("{}: observing PostgreSQL failed", s.name, e);
            return new PostgresStatus(s.state(), false, false, false, 0, Lsn.ZERO, null, null, false, null,
                    DataDirectoryState.INACCESSIBLE, e.toString());
        }
    }

    @Override
    public synchronized ControlData controlData() {
        settle();
        DataDirectory.Inspection dir = s.data.inspect();
        if (dir.state() != DataDirectoryState.INITIALIZED) {
            throw new PostgresException(s.name + ": no control file to read: " + (dir.error() != null ? dir.error()
                    : s.config.dataDir() + " is empty"));
        }
        return s.controlData();
    }

    @Override
    public synchronized List<TimelineHistory.Entry> timelineHistory() {
        settle();
        return s.timelineHistory();
    }

    @Override
    public String connectionUrl() {
        String host = s.config.connectAddress();
        return "postgres://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + s.config.port() + "/postgres";
    }

    /**
     * Whether the postmaster died or appeared, or the running long action ended, since the previous
     * call (the first call takes the baseline and says no). Cheap enough to be called every few tens
     * of milliseconds: while the same postmaster runs it costs one read of its {@code /proc/<pid>/statm},
     * kept open, plus what one poll of the running action does; the pid file is read, and the pid
     * checked to be this data directory's postmaster, only when that process is gone or none was
     * known. A change of the same postmaster's state (its pid file's status line) is seen by the
     * next {@link #status()}, not here.
     */
    @Override
    public synchronized boolean changed() {
        try {
            settle();
            boolean busyNow = busy();
            long pid = s.postmasterPid();
            boolean changed = probed && (pid != probedPid || probedBusy && !busyNow);
            probed = true;
            probedPid = pid;
            probedBusy = busyNow;
            return changed;
        } catch (RuntimeException e) {
            log.warn("{}: looking for changes failed: {}", s.name, e.toString());
            return false;
        }
    }

    // ---------------------------------------------------------------- long actions

    @Override
    public synchronized PostgresOperation bootstrap() {
        String refused = admit("bootstrap", true);
        return refused != null ? actions.refuse("bootstrap", refused) : track(replication.bootstrap());
    }

    @Override
    public synchronized PostgresOperation postBootstrap() {
        String refused = admit("post_bootstrap", false);
        return refused != null ? actions.refuse("post_bootstrap", refused) : track(replication.postBootstrap());
    }

    @Override
    public synchronized PostgresOperation cloneFrom(Member source) {
        String refused = admit("clone", true);
        return refused != null ? actions.refuse("clone", refused) : track(replication.cloneFrom(source));
    }

    @Override
    public synchronized PostgresOperation start() {
        String refused = admit("start", false);
        return refused != null ? actions.refuse("start", refused) : track(actions.start());
    }

    @Override
    public PostgresOperation stop(StopMode mode, boolean checkpoint) {
        return stop(mode, checkpoint, StopHooks.NONE);
    }

    /**
     * Stops the postmaster with Patroni's hooks; see {@link StopHooks} and {@link StopOperation}.
     * Without a running postmaster it succeeds at once, not signaled.
     */
    public synchronized StopOperation stop(StopMode mode, boolean checkpoint, StopHooks hooks) {
        settle();
        if (busy()) {
            return actions.refuse("stop", "another operation is running: " + current);
        }
        return track(actions.stop(mode, checkpoint, hooks));
    }

    @Override
    public synchronized PostgresOperation restart() {
        String refused = admit("restart", false);
        return refused != null ? actions.refuse("restart", refused) : track(actions.restart("restart",
                () -> s.files.readRecovery(s.config.dataDir()), List.of()));
    }

    @Override
    public PostgresOperation follow(Member upstream) {
        return follow(upstream, null);
    }

    /** Also writes {@code primary_slot_name} when {@code slotName} is given (and there is an upstream). */
    @Override
    public synchronized PostgresOperation follow(Member upstream, String slotName) {
        String refused = admit("follow", false);
        if (refused == null && slotName != null && !dev.pgha.cluster.SlotNames.isValid(slotName)) {
            refused = "invalid replication slot name: " + slotName;
        }
        return refused != null ? actions.refuse("follow", refused) : track(replication.follow(upstream, slotName));
    }

    /** The physical, non-temporary slots ({@code pg_replication_slots}); empty when the server cannot be asked. */
    @Override
    public synchronized Set<String> replicationSlots() {
        settle();
        return !s.running() ? Set.of() : s.sql.physicalSlots();
    }

    /** The physical, non-temporary slots with their {@code restart_lsn}; empty when the server cannot be asked. */
    @Override
    public synchronized Map<String, Lsn> replicationSlotPositions() {
        settle();
        return !s.running() ? Map.of() : s.sql.physicalSlotPositions();
    }

    /**
     * {@code pg_create_physical_replication_slot(name, true)} for missing slots and
     * {@code pg_drop_replication_slot(name)} for physical slots not in use; each in its own statement.
     */
    @Override
    public synchronized boolean syncReplicationSlots(Set<String> create, Set<String> drop) {
        settle();
        return create.isEmpty() && drop.isEmpty() || s.running() && s.sql.syncPhysicalSlots(create, drop);
    }

    /** One statement on pgha's kept session ({@link ReplicationQuery#QUERY}); unknown when the server cannot be asked. */
    @Override
    public synchronized ReplicationState replicationState() {
        settle();
        return replicationQuery.state();
    }

    /** Patroni's {@code set_synchronous_standby_names}: see {@link ParameterSync#synchronousStandbyNames}. */
    @Override
    public synchronized void synchronousStandbyNames(String value) {
        try {
            settle();
            parameters.synchronousStandbyNames(value, replicationQuery, !busy());
        } catch (RuntimeException e) {
            log.error("{}: assigning synchronous_standby_names failed", s.name, e);
        }
    }

    @Override
    public synchronized PostgresOperation promote() {
        settle();
        if (busy() || !s.running()) {
            return actions.refuse("promote", busy() ? "another operation is running: " + current : "the server is not running");
        }
        Sql.Observation o = s.sql.observe();
        boolean standby = o != null ? o.inRecovery() : s.data.isStandby();
        if (!standby) {
            return o != null ? track(Operation.finished(s.lock, s.name, "promote", true, "already primary",
                    (ok, d, c) -> { })) : actions.refuse("promote", "the server is not a standby");
        }
        return track(replication.promote());
    }

    @Override
    public synchronized PostgresOperation rewind(Member source) {
        String refused = admitStopped("rewind");
        return refused != null ? actions.refuse("rewind", refused) : track(replication.rewind(source));
    }

    @Override
    public synchronized PostgresOperation crashRecovery() {
        String refused = admitStopped("crash recovery");
        return refused != null ? actions.refuse("crash recovery", refused) : track(replication.crashRecovery());
    }

    @Override
    public synchronized void removeDataDirectory() {
        settle();
        s.removeDataDirectory(busy() ? current : null);
    }

    @Override
    public synchronized boolean reload() {
        settle();
        return parameters.reload();
    }

    /**
     * Merges the DCS's parameters with {@link LocalPostgresConfig#parameters()} (Patroni's rules,
     * {@link dev.pgha.postgres.PostgresParameters}); they are checked by PostgreSQL
     * ({@code postgres -C}) before they are written. A running server gets them at once by a
     * reload ({@code on_reload}); one that does not run at its next start.
     */
    @Override
    public synchronized void applyParameters(Map<String, String> dcsParameters) {
        try {
            settle();
            s.params.dcs(dcsParameters);
            parameters.syncIfNeeded(!busy());
        } catch (RuntimeException e) {
            log.error("{}: applying the PostgreSQL parameters failed", s.name, e);
        }
    }

    /** Closes pgha's connection to the server; the server keeps running. */
    @Override
    public synchronized void close() {
        s.sql.close();
        s.close();
    }

    // ---------------------------------------------------------------- internals

    /** Entry check of a long action: advances the running one, then {@link Server#admit}. */
    private String admit(String what, boolean mayBeEmpty) {
        settle();
        return s.admit(what, mayBeEmpty, busy() ? current : null);
    }

    /** {@link #admit} for an action on a stopped server. */
    private String admitStopped(String what) {
        String refused = admit(what, false);
        return refused == null && s.running() ? "the server is running" : refused;
    }

    private <T extends Operation> T track(T op) {
        current = op;
        op.poll();
        return op;
    }

    private void settle() {
        if (current != null) {
            current.poll();
        }
    }

    private boolean busy() {
        return current != null && current.isRunning();
    }

    private void fireReload() {
        PostgresRole role = s.data.isStandby() ? PostgresRole.REPLICA : PostgresRole.PRIMARY;
        try {
            events.callback(s.name, HaListener.Callback.ON_RELOAD, role);
        } catch (RuntimeException e) {
            log.warn("{}: reload listener threw; ignored", s.name, e);
        }
    }

    @Override
    public String toString() {
        return "LocalPostgres[" + s.name + " " + s.config.dataDir() + " port " + s.config.port() + "]";
    }
}
