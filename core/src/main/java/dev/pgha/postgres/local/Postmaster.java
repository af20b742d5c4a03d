package dev.pgha.postgres.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Finding the postmaster of a data directory (Patroni's {@code postmaster.py}): read
 * {@code postmaster.pid}, and accept its pid only if that process really is this data
 * directory's postmaster — its start time matches the pid file's, or it is a {@code postgres}
 * executable whose working directory is the data directory. Also finds every process still
 * working in the data directory (a killed postmaster's children linger for a second or two) and
 * tells user backends from PostgreSQL's own processes by their process titles.
 */
final class Postmaster {

    /** The lines of {@code postmaster.pid} pgha reads. */
    record PidFile(long pid, long startEpochSeconds, String status) {
        /** A single-user server writes its pid negated. */
        boolean singleUser() {
            return pid < 0;
        }
    }

    /** A live postmaster and what its pid file says about it ("starting", "ready", "standby", "stopping"). */
    record Found(ProcessHandle process, String status) {
        long pid() {
            return process.pid();
        }
    }

    private static final Duration START_TIME_SLACK = Duration.ofSeconds(3);
    private static final Set<String> EXECUTABLES = Set.of("postgres", "postmaster");
    /** Titles of PostgreSQL's own processes (after {@code "postgres: "} and the cluster name). */
    private static final List<String> AUXILIARY = List.of("checkpointer", "background writer", "walwriter",
            "autovacuum launcher", "autovacuum worker", "logical replication launcher", "logical replication worker",
            "logical replication apply worker", "logical replication tablesync worker", "archiver", "startup",
            "walreceiver", "walsender", "logger", "stats collector", "bgworker:", "wal sender", "wal receiver",
            "wal writer", "writer");

    private Postmaster() {
    }

    /** Reads {@code postmaster.pid}; empty when absent or unreadable. */
    static Optional<PidFile> readPidFile(Path dataDir) {
        try {
            List<String> lines = Files.readAllLines(dataDir.resolve("postmaster.pid"), StandardCharsets.UTF_8);
            if (lines.isEmpty()) {
                return Optional.empty();
            }
            long pid = Long.parseLong(lines.get(0).strip());
            long start = lines.size() > 2 ? parseLong(lines.get(2)) : 0;
            String status = lines.size() > 7 ? lines.get(7).strip() : "";
            return Optional.of(new PidFile(pid, start, status));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /** The live postmaster of {@code dataDir}, if there is one. */
    static Optional<Found> find(Path dataDir) {
        Optional<PidFile> file = readPidFile(dataDir);
        if (file.isEmpty() || file.get().pid() == 0) {
            return Optional.empty();
        }
        PidFile pf = file.get();
        long pid = Math.abs(pf.pid());
        Optional<ProcessHandle> handle = ProcessHandle.of(pid).filter(Postmaster::isAlive);
        if (handle.isEmpty() || pid == ProcessHandle.current().pid()) {
            return Optional.empty();
        }
        return isPostmasterOf(handle.get(), pf, dataDir) ? Optional.of(new Found(handle.get(), pf.status()))
                : Optional.empty();
    }

    /**
     * Deletes {@code postmaster.pid} when it names no running postmaster of {@code dataDir}: the
     * postmaster was killed and is gone (or a zombie not reaped yet), or its pid now belongs to
     * another process. Call only when no process works in the data directory.
     *
     * @return the pid the removed file named
     */
    static Optional<Long> removeStalePidFile(Path dataDir) {
        Optional<PidFile> file = readPidFile(dataDir);
        if (file.isEmpty() || find(dataDir).isPresent()) {
            return Optional.empty();
        }
        try {
            return Files.deleteIfExists(dataDir.resolve("postmaster.pid")) ? Optional.of(Math.abs(file.get().pid()))
                    : Optional.empty();
        } catch (IOException e) {
            return Optional.empty();   // PostgreSQL will say why it cannot start
        }
    }

    private static boolean isPostmasterOf(ProcessHandle p, PidFile pf, Path dataDir) {
        Optional<Instant> started = p.info().startInstant();
        if (started.isPresent() && pf.startEpochSeconds() > 0) {
            long diff = Math.abs(started.get().getEpochSecond() - pf.startEpochSeconds());
            if (diff <= START_TIME_SLACK.toSeconds()) {
                return true;
            }
        }
        String exe = p.info().command().map(c -> Path.of(c).getFileName().toString()).orElse(null);
        if (exe != null && !EXECUTABLES.contains(exe)) {
            return false;
        }
        Optional<Path> cwd = cwdOf(p.pid());
        return cwd.map(c -> sameDirectory(c, dataDir)).orElse(exe != null);
    }

    /** Every live process whose working directory is {@code dataDir} (postmaster, backends, single-user, leftovers). */
    static List<ProcessHandle> processesIn(Path dataDir) {
        Path real;
        try {
            real = dataDir.toRealPath();
        } catch (IOException e) {
            return List.of();
        }
        List<ProcessHandle> out = new ArrayList<>();
        long self = ProcessHandle.current().pid();
        try (DirectoryStream<Path> proc = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path entry : proc) {
                long pid;
                try {
                    pid = Long.parseLong(entry.getFileName().toString());
                } catch (NumberFormatException e) {
                    continue;
                }
                if (pid != self && cwdOf(pid).filter(real::equals).isPresent()) {
                    ProcessHandle.of(pid).filter(Postmaster::isAlive).ifPresent(out::add);
                }
            }
        } catch (IOException | SecurityException e) {
            return out;
        }
        return out;
    }

    /** Children of the postmaster that serve clients (not PostgreSQL's own auxiliary processes). */
    static List<ProcessHandle> userBackends(ProcessHandle postmaster, String clusterName) {
        List<ProcessHandle> out = new ArrayList<>();
        postmaster.children().forEach(child -> {
            String title = titleOf(child.pid());
            if (title != null && !isAuxiliary(title, clusterName)) {
                out.add(child);
            }
        });
        return out;
    }

    static boolean isAuxiliary(String title, String clusterName) {
        String t = title.strip();
        if (!t.startsWith("postgres: ")) {
            return true; // not a titled backend (e.g. still forking): do not count it as a client
        }
        t = t.substring("postgres: ".length());
        if (clusterName != null && t.startsWith(clusterName + ": ")) {
            t = t.substring(clusterName.length() + 2);
        }
        for (String aux : AUXILIARY) {
            if (t.startsWith(aux)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a process is alive and not a zombie: a postmaster started by pg_ctl is re-parented to
     * PID 1, which may reap exited children only after a while.
     */
    static boolean isAlive(ProcessHandle p) {
        if (!p.isAlive()) {
            return false;
        }
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(p.pid()), "stat"), StandardCharsets.UTF_8);
            int close = stat.lastIndexOf(')');
            char state = close > 0 && close + 2 < stat.length() ? stat.charAt(close + 2) : 'R';
            return state != 'Z' && state != 'X';
        } catch (java.nio.file.NoSuchFileException e) {
            return false;
        } catch (IOException | SecurityException e) {
            return true;
        }
    }

    /** Kills the postmaster and its children with SIGKILL (children collected first). */
    static void killAll(ProcessHandle postmaster) {
        List<ProcessHandle> children = postmaster.children().toList();
        postmaster.destroyForcibly();
        children.forEach(ProcessHandle::destroyForcibly);
    }

    private static String titleOf(long pid) {
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline"));
            return new String(raw, StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException | SecurityException e) {
            return null;
        }
    }

    private static Optional<Path> cwdOf(long pid) {
        try {
            return Optional.of(Files.readSymbolicLink(Path.of("/proc", Long.toString(pid), "cwd")));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return Optional.empty();
        }
    }

    private static boolean sameDirectory(Path a, Path b) {
        try {
            return a.equals(b.toRealPath());
        } catch (IOException e) {
            return a.equals(b);
        }
    }

    private static long parseLong(String s) {
        try {
            return Long.parseLong(s.strip());
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
