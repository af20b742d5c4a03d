package dev.pgha.fencing;

import dev.pgha.LeaseGuard;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link LeaseGuard} for real hosts: a small guard process, started by this object and fed over
 * its stdin pipe, that stops the local postmaster when the lease deadline passes unrenewed or when
 * the host JVM disappears. It runs outside the JVM, so it works while the JVM is frozen (GC pause,
 * SIGSTOP, a stopped VM) or dead, which is what Patroni needs a watchdog device for.
 *
 * <h2>The guard process</h2>
 * A bash script (bash 5; {@code lease-guard.sh}, a resource of this package, handed to
 * {@code bash -c} in the environment, so nothing is written to disk). Every {@link #arm} sends one line, the deadline in epoch milliseconds;
 * {@link #disarm} sends {@code disarm}. Its timer is bash's {@code read -t}: it waits on the pipe
 * and burns no CPU.
 * <ul>
 *   <li><b>When it fences:</b> at {@code deadline - min(margin, a third of the time left when
 *       armed)}. The margin (default 5 s, Patroni's {@code safety_margin}) covers stopping the
 *       postmaster and clock differences, so writes end before any other node can hold the key,
 *       which the store frees no earlier than the deadline. The cap keeps a short {@code ttl} from
 *       fencing right after every renewal.</li>
 *   <li><b>When the feeder goes away</b> (end of input: the JVM died or closed the pipe) while
 *       armed, it fences <em>at once</em>: nothing can renew the lease any more, so the node will
 *       lose it; every write accepted until the deadline would be at risk of being lost to the
 *       failover that follows. While disarmed it simply exits. (Patroni's watchdog instead fires
 *       at its timeout; a watchdog device cannot tell a dead feeder from a slow one, a pipe can.)</li>
 *   <li><b>How it fences:</b> SIGQUIT (PostgreSQL's immediate shutdown) to the postmaster named
 *       by {@code postmaster.pid} (read when it fences; a pid that is not a live process working
 *       in the pid file's directory, or named {@code postgres}, is left alone: a stale file after
 *       a crash must not kill a stranger), then SIGKILL to it and its children if it has not gone within
 *       2 s. Signals need no OS user switch: the guard runs as the JVM's user, which is root or
 *       the server's owner. Alternatively a {@linkplain Builder#fenceCommand fence command} (for
 *       example {@code pg_ctl stop -m immediate -D ...}), run as {@link Builder#osUser} through
 *       {@code runuser} when given; if it fails, the guard signals the postmaster as above.</li>
 *   <li><b>It never outlives its purpose:</b> it exits after fencing and when its input ends;
 *       {@link #close()} disarms and closes the pipe.</li>
 * </ul>
 * The deadline is wall-clock time; a step of the host's clock shifts the guard's timer alike.
 * The guard is a child of the JVM, in the same cgroup: it survives SIGSTOP, a crash or
 * {@code kill -9} of the JVM, but not a freeze of the whole cgroup or machine
 * ({@code docker pause}, a stopped VM), which stops PostgreSQL with it.
 *
 * <h2>Modes, as Patroni's watchdog</h2>
 * <ul>
 *   <li>{@link Mode#OFF}: does nothing, like {@link LeaseGuard#NONE}.</li>
 *   <li>{@link Mode#AUTOMATIC} (default): used if it can start; if not, a warning is logged and
 *       the node runs without fencing.</li>
 *   <li>{@link Mode#REQUIRED}: {@link #activate()} returns false while the guard process cannot
 *       run, so the engine does not promote ("Not promoting self because watchdog could not be
 *       activated") or demotes ("Demoting self because watchdog could not be activated"); and
 *       {@link #canActivate()} answers false while it is known that the process cannot run (a
 *       failed start, bash missing), so the node does not even race for the leader key and
 *       publishes {@code watchdog_failed}.</li>
 * </ul>
 * A guard process that exits (it fenced, or was killed) is started again on the next
 * {@link #activate()} or {@link #arm}.
 *
 * <p>Not thread-safe beyond what the engine needs: call it from the cycle thread (methods are
 * synchronized, so {@link #close()} from a shutdown hook is fine).
 *
 * <pre>{@code
 * PostmasterGuard guard = PostmasterGuard.builder().dataDirectory(dataDir).mode(Mode.REQUIRED).build();
 * HaController ha = HaController.builder()...leaseGuard(guard).build();
 * }</pre>
 */
public final class PostmasterGuard implements LeaseGuard, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PostmasterGuard.class);

    /** Exit status of the guard process after it fenced. */
    public static final int EXIT_FENCED = 3;

    /** Like Patroni's {@code watchdog.mode}. */
    public enum Mode {
        /** No fencing: the guard does nothing. */
        OFF,
        /** Fence if the guard process can run; otherwise warn and run without. */
        AUTOMATIC,
        /** The node may be primary only while the guard process runs. */
        REQUIRED
    }

    /** Exit status of the guard process when its environment is unusable (e.g. bash older than 5). */
    private static final int EXIT_ENVIRONMENT = 2;

    private static final String SCRIPT = script();

    private final Mode mode;
    private final List<String> command;
    private final Path pidFile;
    private final ProcessBuilder.Redirect stderr;
    /** The executables the guard process needs (bash, and runuser with an {@code osUser}). */
    private final List<Path> executables;

    private Process process;
    private OutputStream input;
    private boolean warned;
    /** The last attempt to start the guard process failed (cleared by a successful start). */
    private boolean startFailed;
    private Instant armedDeadline;

    private PostmasterGuard(Builder b) {
        this.mode = b.mode;
        this.pidFile = b.pidFile.toAbsolutePath().normalize();
        this.stderr = b.log == null ? ProcessBuilder.Redirect.INHERIT : ProcessBuilder.Redirect.appendTo(b.log.toFile());
        List<String> cmd = new ArrayList<>();
        cmd.add(b.bash.toString());
        cmd.add("-c");
        cmd.add("eval \"$PGHA_LEASE_GUARD\""); // the script travels in the environment: a short ps line
        cmd.add("pgha-lease-guard");
        cmd.add(Long.toString(b.margin.toMillis()));
        cmd.add(pidFile.toString());
        if (!b.fenceCommand.isEmpty()) {
            if (b.osUser != null) {
                cmd.addAll(List.of(b.runuser.toString(), "-u", b.osUser, "--"));
            }
            cmd.addAll(b.fenceCommand);
        }
        this.command = List.copyOf(cmd);
        this.executables = b.osUser != null && !b.fenceCommand.isEmpty() ? List.of(b.bash, b.runuser) : List.of(b.bash);
    }

    /** A builder; {@link Builder#dataDirectory} or {@link Builder#pidFile} is required. */
    public static Builder builder() {
        return new Builder();
    }

    /** This guard's mode. */
    public Mode mode() {
        return mode;
    }

    /** The postmaster's pid file the guard reads when it fences. */
    public Path pidFile() {
        return pidFile;
    }

    /** The running guard process, if any (for monitoring and tests). */
    public synchronized Optional<ProcessHandle> process() {
        return process != null && process.isAlive() ? Optional.of(process.toHandle()) : Optional.empty();
    }

    /**
     * Whether the last guard process ended because it fenced (exit status {@link #EXIT_FENCED}).
     * False while it runs.
     */
    public synchronized boolean hasFenced() {
        return process != null && !process.isAlive() && process.exitValue() == EXIT_FENCED;
    }

    @Override
    public synchronized boolean activate() {
        if (mode == Mode.OFF) {
            return true;
        }
        return ensureRunning() || mode == Mode.AUTOMATIC;
    }

    /**
     * Whether {@link #activate()} could succeed, without starting anything: always true unless the
     * mode is {@link Mode#REQUIRED}; then true while the guard process runs, and otherwise only if
     * the last start did not fail, the last guard process did not exit reporting an unusable
     * environment (status 2, e.g. bash older than 5), and bash (and {@code runuser}, with an
     * {@code osUser}) are executable files. A start that failed is tried again only through
     * {@link #activate()}, which the engine calls about once per {@code ttl} while this answers false.
     */
    @Override
    public synchronized boolean canActivate() {
        if (mode != Mode.REQUIRED || process != null && process.isAlive()) {
            return true;
        }
        if (startFailed || process != null && process.exitValue() == EXIT_ENVIRONMENT) {
            return false;
        }
        return executables.stream().allMatch(Files::isExecutable);
    }

    @Override
    public synchronized void arm(Instant leaseDeadline) {
        Objects.requireNonNull(leaseDeadline, "leaseDeadline");
        if (mode == Mode.OFF || !ensureRunning()) {
            return;
        }
        if (send(leaseDeadline.toEpochMilli() + "\n")) {
            armedDeadline = leaseDeadline;
        }
    }

    @Override
    public synchronized void disarm() {
        if (armedDeadline == null) {
            return;
        }
        armedDeadline = null;
        if (process != null && process.isAlive()) {
            send("disarm\n");
        }
    }

    /** The deadline the guard process was last armed with, or null while disarmed. */
    public synchronized Instant armedDeadline() {
        return armedDeadline;
    }

    /**
     * Disarms the guard and closes its input, so the guard process exits. Call it only once this
     * node no longer acts as primary: closing while armed is, by design, the same as a vanished
     * feeder, and fences.
     */
    @Override
    public synchronized void close() {
        disarm();
        closeInput();
    }

    /**
     * Closes the guard's input without disarming it, as if the host JVM had died: an armed guard
     * fences at once. For tests and for hosts that want to hand over to the guard on purpose.
     */
    public synchronized void abandon() {
        armedDeadline = null;
        closeInput();
    }

    private void closeInput() {
        if (input != null) {
            try {
                input.close();
            } catch (IOException e) {
                log.debug("closing the lease guard's input: {}", e.toString());
            }
            input = null;
        }
    }

    /** Starts the guard process unless it runs; false if it cannot. */
    private boolean ensureRunning() {
        if (process != null && process.isAlive()) {
            return true;
        }
        if (process != null) {
            log.warn("lease guard process {} exited with status {}{}; starting a new one", process.pid(),
                    process.exitValue(), process.exitValue() == EXIT_FENCED ? " (it fenced the postmaster)" : "");
            process = null;
            input = null;
            armedDeadline = null;
        }
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(false)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(stderr);
            pb.environment().put("PGHA_LEASE_GUARD", SCRIPT);
            process = pb.start();
            input = process.getOutputStream();
            warned = false;
            startFailed = false;
            log.info("lease guard process {} started for {}", process.pid(), pidFile);
            return true;
        } catch (IOException | RuntimeException e) {
            process = null;
            input = null;
            startFailed = true;
            if (!warned) {
                warned = true;
                if (mode == Mode.REQUIRED) {
                    log.error("could not start the lease guard process (mode required): {}", e.toString());
                } else {
                    log.warn("could not start the lease guard process; running without fencing: {}", e.toString());
                }
            }
            return false;
        }
    }

    private boolean send(String line) {
        if (input == null) {
            return false;
        }
        try {
            input.write(line.getBytes(StandardCharsets.US_ASCII)); // one write: the guard reads whole lines
            input.flush();
            return true;
        } catch (IOException e) {
            log.error("could not feed the lease guard process {}: {}", process.pid(), e.toString());
            process.destroyForcibly();
            input = null;
            return false;
        }
    }

    private static String script() {
        try (InputStream in = PostmasterGuard.class.getResourceAsStream("lease-guard.sh")) {
            if (in == null) {
                throw new IllegalStateException("resource dev/pgha/fencing/lease-guard.sh is missing");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Configuration of a {@link PostmasterGuard}; see the class documentation for the defaults. */
    public static final class Builder {

        private Mode mode = Mode.AUTOMATIC;
        private Path pidFile;
        private Duration margin = Duration.ofSeconds(5);
        private List<String> fenceCommand = List.of();
        private String osUser;
        private Path bash = Path.of("/bin/bash");
        private Path runuser = Path.of("/usr/sbin/runuser");
        private Path log;

        private Builder() {
        }

        /** Off, automatic (default) or required. */
        public Builder mode(Mode value) {
            this.mode = Objects.requireNonNull(value, "mode");
            return this;
        }

        /** The data directory; the pid file is its {@code postmaster.pid}. */
        public Builder dataDirectory(Path value) {
            this.pidFile = Objects.requireNonNull(value, "dataDirectory").resolve("postmaster.pid");
            return this;
        }

        /** The postmaster's pid file (default: {@code postmaster.pid} of the {@link #dataDirectory}). */
        public Builder pidFile(Path value) {
            this.pidFile = Objects.requireNonNull(value, "pidFile");
            return this;
        }

        /**
         * How long before the lease deadline the guard fences (default 5 s, Patroni's
         * {@code safety_margin}); capped at a third of the time left whenever it is armed.
         */
        public Builder margin(Duration value) {
            if (value.isNegative()) {
                throw new IllegalArgumentException("margin must not be negative: " + value);
            }
            this.margin = value;
            return this;
        }

        /**
         * A command that fences instead of signalling the postmaster, for example
         * {@code [/usr/lib/postgresql/16/bin/pg_ctl, stop, -m, immediate, -D, <data dir>]}.
         * Empty (default): SIGQUIT, then SIGKILL, to the pid in the pid file.
         */
        public Builder fenceCommand(List<String> value) {
            this.fenceCommand = List.copyOf(value);
            return this;
        }

        /** The OS user the {@link #fenceCommand} runs as, through {@code runuser} (the JVM must be root). */
        public Builder osUser(String value) {
            this.osUser = value;
            return this;
        }

        /** The bash (version 5 or later) that runs the guard (default {@code /bin/bash}). */
        public Builder bash(Path value) {
            this.bash = Objects.requireNonNull(value, "bash");
            return this;
        }

        /** The runuser binary used with {@link #osUser} (default {@code /usr/sbin/runuser}). */
        public Builder runuser(Path value) {
            this.runuser = Objects.requireNonNull(value, "runuser");
            return this;
        }

        /** A file the guard process appends its messages to (default: the JVM's stderr). */
        public Builder log(Path value) {
            this.log = value;
            return this;
        }

        /** The guard; its process starts on first {@link PostmasterGuard#activate()} or arm. */
        public PostmasterGuard build() {
            Objects.requireNonNull(pidFile, "dataDirectory or pidFile");
            if (osUser != null && fenceCommand.isEmpty()) {
                throw new IllegalArgumentException("osUser applies to a fenceCommand only");
            }
            return new PostmasterGuard(this);
        }
    }
}
