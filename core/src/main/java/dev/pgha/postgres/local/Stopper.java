package dev.pgha.postgres.local;

import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.PostgresException;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.StopMode;
import dev.pgha.postgres.StopResult;
import dev.pgha.postgres.local.Operation.Phase;
import dev.pgha.postgres.local.Operation.Progress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stopping the postmaster (Patroni's {@code stop()} / {@code _do_stop()}): CHECKPOINT first
 * unless immediate (a {@code psql} child, bounded by the stop timeout), {@code before_shutdown},
 * the stop signal ({@code pg_ctl stop --no-wait}), then one {@link Operation#poll()} at a time:
 * {@code on_safepoint} once no user backend is left, {@code on_shutdown} once pg_controldata
 * reads "shut down", and the postmaster's exit. After the stop timeout a fast or smart stop is
 * escalated to immediate, and after another stop timeout the postmaster and its children get
 * SIGKILL.
 */
final class Stopper {

    private static final Logger log = LoggerFactory.getLogger(Stopper.class);
    private static final Duration CONTROLDATA_INTERVAL = Duration.ofMillis(200);

    private final Server s;

    Stopper(Server s) {
        this.s = s;
    }

    /** The phases of a stop of the running postmaster {@code pm}; they report into {@code op}. */
    List<Phase> stopPhases(Operation op, Postmaster.Found pm, StopMode mode, boolean checkpoint, StopHooks hooks) {
        List<Phase> phases = new ArrayList<>();
        if (checkpoint && mode != StopMode.IMMEDIATE && ("ready".equals(pm.status()) || "standby".equals(pm.status()))) {
            phases.add(checkpoint("checkpoint-before-stop", false));
        }
        phases.add(s.step(() -> {
            s.sql.pause();
            hooks.beforeShutdown();
            return null;
        }));
        phases.add(s.child("pg_ctl-stop", () -> pgCtlStop(mode), Map.of(), code -> {
            if (code == 0) {
                op.markSignaled();
                return Progress.done("");
            }
            if (!Postmaster.isAlive(pm.process())) {
                return Progress.done("not signaled: the postmaster had already exited");
            }
            op.stopResult(StopResult.FAILED);
            return Progress.failed("could not signal the postmaster: " + s.tailOf("pg_ctl-stop"));
        }));
        phases.add(new AwaitExit(op, pm.process(), mode, hooks));
        return phases;
    }

    /**
     * A phase running CHECKPOINT through psql, bounded by the stop timeout. With {@code required}
     * false a failure is only logged (the stop goes on).
     */
    Phase checkpoint(String what, boolean required) {
        Phase run = s.child(what, () -> List.of(s.bin.path("psql"), "-X", "-w", "-q", "-v", "ON_ERROR_STOP=1", "-d",
                s.localConninfo(), "-c", "CHECKPOINT"), Map.of("PGOPTIONS", "-c statement_timeout=0"),
                code -> {
                    if (code == 0) {
                        return Progress.done("");
                    }
                    String why = "CHECKPOINT failed (exit " + code + "): " + s.tailOf(what);
                    if (required) {
                        return Progress.failed(why);
                    }
                    log.warn("{}: {}; stopping anyway", s.name, why);
                    return Progress.done("");
                });
        return new Phase() {
            private long deadline;

            @Override
            public void begin() throws Exception {
                deadline = s.now() + s.config.stopTimeout().toNanos();
                run.begin();
            }

            @Override
            public Progress poll() throws Exception {
                Progress p = run.poll();
                if (p.outcome() == PostgresOperation.Outcome.RUNNING && s.now() - deadline >= 0) {
                    run.cancel();
                    String why = "CHECKPOINT did not finish within " + s.config.stopTimeout().toSeconds() + " s";
                    if (required) {
                        return Progress.failed(why);
                    }
                    log.warn("{}: {}; stopping anyway", s.name, why);
                    return Progress.done("");
                }
                return p;
            }

            @Override
            public void cancel() {
                run.cancel();
            }
        };
    }

    private List<String> pgCtlStop(StopMode mode) {
        return List.of(s.bin.path("pg_ctl"), "stop", "-D", s.config.dataDir().toString(), "-m",
                mode.name().toLowerCase(Locale.ROOT), "-W");
    }

    /** Waits for the postmaster to exit, calling the hooks and escalating after the stop timeout. */
    private final class AwaitExit implements Phase {
        private final Operation op;
        private final ProcessHandle pm;
        private final StopMode mode;
        private final StopHooks hooks;
        private long deadline;
        private int escalation;
        private boolean safepointCalled;
        private boolean shutdownWatched;
        private long nextControlRead;

        AwaitExit(Operation op, ProcessHandle pm, StopMode mode, StopHooks hooks) {
            this.op = op;
            this.pm = pm;
            this.mode = mode;
            this.hooks = hooks;
            this.shutdownWatched = hooks == StopHooks.NONE || mode == StopMode.IMMEDIATE;
        }

        @Override
        public void begin() {
            deadline = s.now() + s.config.stopTimeout().toNanos();
        }

        @Override
        public Progress poll() {
            boolean alive = Postmaster.isAlive(pm);
            if (!safepointCalled && (!alive || Postmaster.userBackends(pm, s.config.scope()).isEmpty())) {
                safepoint();
            }
            if (!shutdownWatched && (!alive || s.now() - nextControlRead >= 0)) {
                watchShutdown();
                nextControlRead = s.now() + CONTROLDATA_INTERVAL.toNanos();
            }
            if (!alive && (Postmaster.processesIn(s.config.dataDir()).isEmpty() || s.now() - deadline >= 0)) {
                // Stopped means nothing works in the data directory any more (a SIGKILLed
                // postmaster's children exit a moment after it).
                safepoint();
                op.stopResult(StopResult.STOPPED);
                return Progress.done(escalation == 0 ? "postmaster exited" : "postmaster exited after escalation");
            }
            if (!alive) {
                return Progress.RUNNING;
            }
            if (s.now() - deadline >= 0) {
                return escalate();
            }
            return Progress.RUNNING;
        }

        private Progress escalate() {
            deadline = s.now() + s.config.stopTimeout().toNanos();
            if (escalation == 0 && mode != StopMode.IMMEDIATE) {
                escalation = 1;
                log.warn("{}: Timeout during postmaster stop, aborting Postgres.", s.name);
                safepoint();
                s.launch("pg_ctl-stop-immediate", pgCtlStop(StopMode.IMMEDIATE), Map.of());
                return Progress.RUNNING;
            }
            if (escalation < 2) {
                escalation = 2;
                log.warn("{}: Sending SIGKILL to Postmaster and its children", s.name);
                safepoint();
                Postmaster.killAll(pm);
                return Progress.RUNNING;
            }
            op.stopResult(StopResult.FAILED);
            return Progress.failed("the postmaster (pid " + pm.pid() + ") did not exit even after SIGKILL");
        }

        private void safepoint() {
            if (!safepointCalled) {
                safepointCalled = true;
                hooks.onSafepoint();
            }
        }

        /** Patroni's on_shutdown polling: once "shut down", report the checkpoint; stop on "shut down in recovery". */
        private void watchShutdown() {
            ControlData cd;
            try {
                cd = s.controlData();
            } catch (PostgresException e) {
                return;
            }
            if ("shut down".equals(cd.clusterState())) {
                shutdownWatched = true;
                Lsn checkpoint = cd.checkpointLocation();
                hooks.onShutdown(checkpoint, previousRecord(checkpoint).orElse(checkpoint));
            } else if (cd.clusterState().startsWith("shut down")) {
                shutdownWatched = true;
            }
        }

        @Override
        public void cancel() {
            // Nothing runs on our side: the postmaster keeps stopping on its own.
        }
    }

    /** The record before {@code checkpoint}, from {@code pg_waldump}'s {@code prev} pointer. */
    private Optional<Lsn> previousRecord(Lsn checkpoint) {
        if (!s.bin.has(Binaries.WALDUMP)) {
            return Optional.empty();
        }
        Child.Result r = s.quick("pg_waldump", List.of(s.bin.path(Binaries.WALDUMP), "-p",
                s.config.dataDir().resolve("pg_wal").toString(), "-s", checkpoint.toString(), "-n", "1"));
        return r.ok() ? ControlFiles.previousRecord(r.output()) : Optional.empty();
    }
}
