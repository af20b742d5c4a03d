package dev.pgha.postgres.local;

import dev.pgha.HaClock;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.PostgresException;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.local.Operation.Phase;
import dev.pgha.postgres.local.Operation.Progress;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every part of {@link LocalPostgres} shares: the configuration, the clock, the binaries,
 * the data directory, pgha's connection, the lifecycle state (moved only through
 * {@link PostgresState#transitionTo}), the entry check of actions, and the building blocks of
 * operations (a child-process phase, a wait for leftover processes, a quick synchronous step).
 */
final class Server {

    private static final Logger log = LoggerFactory.getLogger(Server.class);
    private static final int HISTORY = 64;
    private static final Duration QUICK_LIMIT = Duration.ofSeconds(30);

    final LocalPostgresConfig config;
    final HaClock clock;
    final Host host;
    final Binaries bin;
    final Parameters params;
    final ConfigFiles files;
    final DataDirectory data;
    final Sql sql;
    final String name;
    final Path workDir;
    final Object lock;
    RewindResult lastRewind;

    private PostgresState state = PostgresState.STOPPED;
    private Postmaster.Found known;       // the postmaster postmaster() found last, with knownWatch on it
    private ProcessWatch knownWatch;
    private final Deque<PostgresState> history = new ArrayDeque<>();

    Server(LocalPostgresConfig config, HaClock clock, Host host, Binaries bin, Object lock) {
        this.config = config;
        this.clock = clock;
        this.host = host;
        this.bin = bin;
        this.name = config.name();
        this.workDir = config.workDir();
        this.params = new Parameters(config.name(), config.parameters());
        this.files = new ConfigFiles(config, host, params, this::parameterRefusal);
        this.data = new DataDirectory(config.dataDir(), workDir, bin.majorVersion());
        this.sql = new Sql(config, files.localHost());
        this.lock = lock;
        history.add(state);
    }

    // ---------------------------------------------------------------- state

    PostgresState state() {
        return state;
    }

    /** Moves to {@code next}; an illegal transition throws (a bug). */
    void move(PostgresState next) {
        if (next == state) {
            return;
        }
        PostgresState from = state;
        state = state.transitionTo(next);
        history.addLast(next);
        while (history.size() > HISTORY) {
            history.removeFirst();
        }
        log.info("{}: state {} -> {}", name, from.patroniName(), next.patroniName());
    }

    /**
     * An action begins in state {@code next}: a settled failure state (crashed, start failed,
     * initdb failed, ...) without a direct edge to it is left through STOPPED first.
     */
    void begin(PostgresState next) {
        if (!state.canTransitionTo(next) && state.canTransitionTo(PostgresState.STOPPED)
                && PostgresState.STOPPED.canTransitionTo(next)) {
            move(PostgresState.STOPPED);
        }
        move(next);
    }

    List<PostgresState> history() {
        return List.copyOf(history);
    }

    long now() {
        return clock.nanoTime();
    }

    // ---------------------------------------------------------------- processes

    /**
     * The live postmaster of the data directory, if any. The one found last is remembered with a
     * {@link ProcessWatch}: while that process lives and the pid file still names it, a call costs
     * one read of {@code /proc/<pid>/statm} and one of the pid file (for its status line); the full
     * check that a pid is this data directory's postmaster runs only for a pid not seen before.
     */
    synchronized Optional<Postmaster.Found> postmaster() {
        if (known != null && knownWatch.alive()) {
            Optional<Postmaster.PidFile> file = Postmaster.readPidFile(config.dataDir());
            if (file.isPresent() && Math.abs(file.get().pid()) == known.pid()) {
                known = new Postmaster.Found(known.process(), file.get().status());
                return Optional.of(known);
            }
        }
        forgetPostmaster();
        Optional<Postmaster.Found> found = Postmaster.find(config.dataDir());
        if (found.isPresent()) {
            knownWatch = ProcessWatch.of(found.get().pid());
            known = knownWatch != null ? found.get() : null;
        }
        return found;
    }

    /**
     * The pid of the live postmaster, 0 when there is none: {@link #postmaster()} without reading
     * the pid file while the known postmaster lives, so cheap enough to be asked every few tens of
     * milliseconds.
     */
    synchronized long postmasterPid() {
        if (known != null && knownWatch.alive()) {
            return known.pid();
        }
        if (!config.dataDir().resolve("postmaster.pid").toFile().exists()) {   // no exception when absent
            forgetPostmaster();
            return 0;
        }
        return postmaster().map(Postmaster.Found::pid).orElse(0L);
    }

    /** Whether the data directory's postmaster runs: {@link #postmasterPid()} is not 0. */
    boolean running() {
        return postmasterPid() != 0;
    }

    private void forgetPostmaster() {
        if (knownWatch != null) {
            knownWatch.close();
        }
        known = null;
        knownWatch = null;
    }

    /** Closes the watch on the known postmaster (the postmaster is left alone). */
    synchronized void close() {
        forgetPostmaster();
    }

    /** The environment of every command: the password file. */
    Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PGPASSFILE", config.passfile().toString());
        env.put("PGCONNECT_TIMEOUT", Long.toString(Math.max(2, config.connectTimeout().toSeconds())));
        return env;
    }

    /** Launches a server binary as the server's user, output to {@code <workDir>/<name>.log}. */
    Child launch(String what, List<String> args, Map<String, String> extraEnv) {
        Map<String, String> env = env();
        env.putAll(extraEnv);
        log.info("{}: running {}", name, String.join(" ", args));
        return Child.start(what, host.command(args), env, workDir.resolve(what + ".log"), workDir);
    }

    /** Runs a quick tool to completion as the server's user. */
    Child.Result quick(String what, List<String> args) {
        return Child.run(what, host.command(args), env(), workDir.resolve(what + ".log"), workDir, QUICK_LIMIT);
    }

    /**
     * Reads {@code pg_controldata}.
     *
     * @throws PostgresException when it fails (no control file, unreadable data directory)
     */
    ControlData controlData() {
        Child.Result r = quick("pg_controldata", List.of(bin.path("pg_controldata"), "-D", config.dataDir().toString()));
        if (!r.ok()) {
            throw new PostgresException(name + ": pg_controldata failed: " + r.output().strip());
        }
        return ControlFiles.parse(name, r.output());
    }

    /**
     * Asks PostgreSQL whether it accepts {@code parameters}: {@code postgres -C} on the data
     * directory with them as {@code -c} options, which parses and checks every value (and exits,
     * also while the server runs) exactly as a start would. Null when it accepts them; otherwise
     * its message, which names the first parameter it refuses.
     */
    String parameterRefusal(Map<String, String> parameters) {
        List<String> args = new ArrayList<>(List.of(bin.path("postgres"), "-D", config.dataDir().toString(), "-C",
                "data_directory"));
        args.addAll(Parameters.asOptions(parameters));
        Map<String, String> env = env();
        env.put("LC_ALL", "C");
        Child.Result r = Child.run("postgres-check", host.command(args), env, workDir.resolve("postgres-check.log"),
                workDir, QUICK_LIMIT);
        if (r.ok()) {
            return null;
        }
        List<String> said = r.output().lines().filter(l -> l.contains("FATAL:") || l.contains("HINT:"))
                .map(l -> l.substring(l.indexOf(l.contains("FATAL:") ? "FATAL:" : "HINT:")).strip()).toList();
        return said.isEmpty() ? "postgres -C failed (exit " + r.exitCode() + "): " + r.output().strip()
                : String.join(" ", said).replace("FATAL:  ", "").replace("FATAL: ", "");
    }

    /** The conninfo of pgha's own superuser connection to this server. */
    String localConninfo() {
        return ConfigFiles.conninfo(files.connection(files.localHost(), config.port(), config.superuser().username(),
                "postgres"));
    }

    Path postmasterLog() {
        return workDir.resolve("postgres.log");
    }

    /**
     * Entry check of a long action: throws when the data directory is unusable, and returns why
     * the call breaks the contract (an operation {@code running}; no initialized data directory;
     * or, with {@code mayBeEmpty} for bootstrap and clone, one that is not empty or has a running
     * postmaster), or null.
     */
    String admit(String what, boolean mayBeEmpty, Operation running) {
        DataDirectory.Inspection dir = data.inspect();
        if (dir.state() == DataDirectoryState.INACCESSIBLE) {
            throw new PostgresException(name + ": " + what + " cannot begin: " + dir.error());
        }
        if (running != null) {
            return "another operation is running: " + running;
        }
        if (!mayBeEmpty && dir.state() != DataDirectoryState.INITIALIZED && !what.equals("post_bootstrap")) {
            return "the data directory " + config.dataDir() + " is not initialized";
        }
        if (mayBeEmpty && dir.state() == DataDirectoryState.INITIALIZED) {
            return "the data directory " + config.dataDir() + " is not empty";
        }
        if (mayBeEmpty && postmaster().isPresent()) {
            return "a postmaster is running in " + config.dataDir();
        }
        return null;
    }

    /**
     * Removes the data directory's contents; throws while an operation is {@code running} or
     * processes still work in it.
     */
    void removeDataDirectory(Operation running) {
        if (running != null) {
            throw new PostgresException(name + ": cannot remove the data directory: another operation is running: "
                    + running);
        }
        if (postmaster().isPresent() || !Postmaster.processesIn(config.dataDir()).isEmpty()) {
            throw new PostgresException(name + ": cannot remove the data directory: processes still work in "
                    + config.dataDir());
        }
        data.removeContents(name);
        move(PostgresState.STOPPED);
        log.info("{}: removed the contents of {}", name, config.dataDir());
    }

    /** The switch points of the current timeline's history file; empty when none or unreadable. */
    List<TimelineHistory.Entry> timelineHistory() {
        try {
            if (data.inspect().state() != DataDirectoryState.INITIALIZED) {
                return List.of();
            }
            Sql.Observation o = postmaster().isPresent() ? sql.observe() : null;
            long timeline = o != null ? o.timeline() : controlData().checkpointTimeline();
            return ControlFiles.history(config.dataDir(), timeline);
        } catch (IOException | RuntimeException e) {
            log.warn("{}: cannot read the timeline history: {}", name, e.toString());
            return List.of();
        }
    }

    // ---------------------------------------------------------------- phases

    /** A phase that runs a child process and maps its exit code to the outcome. */
    Phase child(String what, Supplier<List<String>> args, Map<String, String> extraEnv,
                IntFunction<Progress> onExit) {
        return new Phase() {
            private Child child;

            @Override
            public void begin() {
                child = launch(what, args.get(), extraEnv);
            }

            @Override
            public Progress poll() {
                Integer code = child.exitCode();
                return code == null ? Progress.RUNNING : onExit.apply(code);
            }

            @Override
            public void cancel() {
                if (child != null && child.isAlive()) {
                    log.info("{}: killing {}", name, child);
                    child.kill();
                }
            }

            @Override
            public String toString() {
                return what;
            }
        };
    }

    /** The tail of a child's output file, for failure details. */
    String tailOf(String what) {
        String text = Child.readTail(workDir.resolve(what + ".log"), 2048).strip();
        List<String> lines = text.lines().toList();
        return String.join(" | ", lines.subList(Math.max(0, lines.size() - 4), lines.size()));
    }

    /** A phase that runs {@code step} once; a non-null result is a failure detail. */
    Phase step(Callable<String> step) {
        return () -> {
            String failure = step.call();
            return failure == null ? Progress.done("") : Progress.failed(failure);
        };
    }

    /**
     * A phase that runs {@code phases} in order if {@code needed} says so when it begins, and is
     * done at once otherwise.
     */
    Phase optional(Callable<Boolean> needed, Supplier<List<Phase>> phases) {
        return new Phase() {
            private List<Phase> inner = List.of();
            private int index;
            private boolean begun;

            @Override
            public void begin() throws Exception {
                inner = Boolean.TRUE.equals(needed.call()) ? phases.get() : List.of();
            }

            @Override
            public Progress poll() throws Exception {
                while (index < inner.size()) {
                    Phase p = inner.get(index);
                    if (!begun) {
                        begun = true;
                        p.begin();
                    }
                    Progress progress = p.poll();
                    if (progress.outcome() != PostgresOperation.Outcome.SUCCEEDED) {
                        return progress;
                    }
                    index++;
                    begun = false;
                }
                return Progress.done("");
            }

            @Override
            public void cancel() {
                if (index < inner.size() && begun) {
                    inner.get(index).cancel();
                }
            }
        };
    }

    /**
     * A phase that waits until no process works in the data directory any more (a killed
     * postmaster's children exit a second or two after it), up to {@code limit}.
     */
    Phase awaitNoProcesses(Duration limit) {
        // Done once nothing works in the data directory; then a postmaster.pid left behind is stale and
        // removed: PostgreSQL would refuse to start while its pid exists, and a killed postmaster that
        // nobody has reaped yet (a zombie) still exists.
        return new Phase() {
            private long deadline;

            @Override
            public void begin() {
                deadline = now() + limit.toNanos();
            }

            @Override
            public Progress poll() {
                List<ProcessHandle> left = Postmaster.processesIn(config.dataDir());
                if (left.isEmpty()) {
                    Postmaster.removeStalePidFile(config.dataDir()).ifPresent(pid -> log.info(
                            "{}: removed a stale postmaster.pid: pid {} is no running postmaster of {}", name, pid,
                            config.dataDir()));
                    return Progress.done("");
                }
                if (now() - deadline >= 0) {
                    List<Long> pids = new ArrayList<>();
                    left.forEach(p -> pids.add(p.pid()));
                    return Progress.failed("processes still work in " + config.dataDir() + " (pids " + pids
                            + ") after " + limit.toSeconds() + " s");
                }
                return Progress.RUNNING;
            }
        };
    }
}
