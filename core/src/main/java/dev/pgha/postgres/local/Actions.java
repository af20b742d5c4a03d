package dev.pgha.postgres.local;

import static dev.pgha.postgres.PostgresState.RESTARTING;
import static dev.pgha.postgres.PostgresState.RESTART_FAILED;
import static dev.pgha.postgres.PostgresState.RUNNING;
import static dev.pgha.postgres.PostgresState.STARTING;
import static dev.pgha.postgres.PostgresState.START_FAILED;
import static dev.pgha.postgres.PostgresState.STOPPED;
import static dev.pgha.postgres.PostgresState.STOPPING;
import static dev.pgha.postgres.PostgresState.STOP_FAILED;

import dev.pgha.postgres.PostgresProcess;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.StopMode;
import dev.pgha.postgres.local.Operation.Phase;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Start, stop and restart as operations, with the states they pass through: STARTING → RUNNING
 * or START_FAILED (a timed-out start stays STARTING); STOPPING → STOPPED or STOP_FAILED;
 * RESTARTING (through the inner stop and start, whose own states and callbacks it blocks, as
 * Patroni's restart does) → RUNNING or RESTART_FAILED.
 */
final class Actions {

    private static final Logger log = LoggerFactory.getLogger(Actions.class);

    private final Server s;
    private final Lifecycle life;
    private final Stopper stopper;

    Actions(Server s, Lifecycle life, Stopper stopper) {
        this.s = s;
        this.life = life;
        this.stopper = stopper;
    }

    Lifecycle lifecycle() {
        return life;
    }

    Stopper stopper() {
        return stopper;
    }

    /** A refused call (it breaks the {@link PostgresProcess} contract): a failed operation, state untouched. */
    Operation refuse(String what, String why) {
        log.error("{}: {} refused: {}", s.name, what, why);
        return Operation.finished(s.lock, s.name, what, false, why, (ok, d, c) -> { });
    }

    /** Starts the postmaster with the standby settings already in the data directory. */
    Operation start() {
        if (s.running()) {
            log.error("{}: Cannot start PostgreSQL because one is already running.", s.name);
            return Operation.finished(s.lock, s.name, "start", true,
                    "Cannot start PostgreSQL because one is already running.", (ok, d, c) -> { });
        }
        return startWith("start", () -> s.files.readRecovery(s.config.dataDir()), List.of());
    }

    /** Starts with the given standby settings, after {@code before} (e.g. writing standby.signal). */
    Operation startWith(String what, Supplier<Map<String, String>> recovery, List<Phase> before) {
        s.begin(STARTING);
        Lifecycle.AwaitReady ready = life.new AwaitReady();
        Operation op = new Operation(s.lock, s.name, what, (ok, d, c) -> afterStart(ok, ready, START_FAILED));
        return op.then(before).then(life.startPhases(recovery, ready));
    }

    /** Stops the postmaster; without one it is stopped at once and "not signaled". */
    Operation stop(StopMode mode, boolean checkpoint, StopHooks hooks) {
        Optional<Postmaster.Found> pm = s.postmaster();
        String what = "stop (" + mode.name().toLowerCase(java.util.Locale.ROOT) + ")";
        if (pm.isEmpty()) {
            hooks.onSafepoint();
            s.move(STOPPED);
            if (Postmaster.processesIn(s.config.dataDir()).isEmpty()) {
                return Operation.finished(s.lock, s.name, what, true, "not signaled: no postmaster", (ok, d, c) -> { });
            }
            // A killed postmaster's children are still exiting: stopped means they are gone too.
            return new Operation(s.lock, s.name, what, (ok, d, c) -> { })
                    .then(s.awaitNoProcesses(s.config.stopTimeout()),
                            () -> Operation.Progress.done("not signaled: no postmaster"));
        }
        Optional<Postmaster.PidFile> pidFile = Postmaster.readPidFile(s.config.dataDir());
        if (pidFile.isPresent() && pidFile.get().singleUser()) {
            return refuse(what, "Cannot stop server; single-user server is running (PID: " + pm.get().pid() + ")");
        }
        s.begin(STOPPING);
        Operation op = new Operation(s.lock, s.name, what, (ok, d, c) -> {
            s.sql.resume();
            if (ok || !s.running()) {
                s.move(STOPPED);
            } else {
                log.warn("{}: pg_ctl stop failed", s.name);
                s.move(STOP_FAILED);
            }
        });
        return op.then(stopper.stopPhases(op, pm.get(), mode, checkpoint, hooks));
    }

    /** Stop (fast, with CHECKPOINT) and start, in state RESTARTING; {@code before} runs between them. */
    Operation restart(String what, Supplier<Map<String, String>> recovery, List<Phase> before) {
        Optional<Postmaster.Found> pm = s.postmaster();
        s.begin(RESTARTING);
        Lifecycle.AwaitReady ready = life.new AwaitReady();
        Operation op = new Operation(s.lock, s.name, what, (ok, d, c) -> afterStart(ok, ready, RESTART_FAILED));
        pm.ifPresent(p -> op.then(stopper.stopPhases(op, p, StopMode.FAST, true, StopHooks.NONE)));
        return op.then(before).then(life.startPhases(recovery, ready));
    }

    /** The end of a start or restart: RUNNING, still STARTING (timed out), or the failed state. */
    void afterStart(boolean ok, Lifecycle.AwaitReady ready, PostgresState failed) {
        s.sql.resume();
        if (ok) {
            s.move(RUNNING);
        } else if (ready.timedOut() || (failed == START_FAILED && s.running())) {
            s.move(STARTING);
        } else {
            s.move(failed);
        }
    }
}
