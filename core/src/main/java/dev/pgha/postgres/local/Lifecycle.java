package dev.pgha.postgres.local;

import dev.pgha.postgres.local.Operation.Phase;
import dev.pgha.postgres.local.Operation.Progress;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Bringing the postmaster up (Patroni's {@code start()}): wait until no process of a previous
 * postmaster works in the data directory, write the configuration, launch it detached with
 * {@code pg_ctl start --no-wait} (pg_ctl puts it in a session of its own, so it survives the
 * JVM), then wait — one {@link Operation#poll()} at a time — until it accepts connections, it
 * dies, or the start timeout passes. A timed-out start leaves the postmaster starting; later
 * observations see it become ready.
 */
final class Lifecycle {

    /** How long no process may be seen in the data directory before a launched start counts as dead. */
    private static final Duration GRACE = Duration.ofSeconds(2);

    private final Server s;

    Lifecycle(Server s) {
        this.s = s;
    }

    /**
     * The phases of a start; {@code recovery} gives the standby settings to write (read when the
     * configuration is written), and {@code ready} reports whether the start timed out.
     */
    List<Phase> startPhases(Supplier<Map<String, String>> recovery, AwaitReady ready) {
        List<Phase> phases = new ArrayList<>();
        phases.add(s.awaitNoProcesses(s.config.stopTimeout()));
        phases.add(s.step(() -> {
            s.sql.resume();
            Map<String, String> standby = recovery.get();
            s.params.starting(standby.isEmpty() ? null : controlDataLines());
            writeConfiguration(standby);
            ready.logOffset = logSize();
            return null;
        }));
        phases.add(s.child("pg_ctl-start", this::pgCtlStart, Map.of(), code -> code == 0 ? Progress.done("")
                : Progress.failed("pg_ctl start failed (exit " + code + "): " + s.tailOf("pg_ctl-start"))));
        phases.add(ready);
        return phases;
    }

    /** Writes the password file, postgresql.conf (with {@code recovery}), pg_hba.conf, and cleans postgresql.auto.conf. */
    void writeConfiguration(Map<String, String> recovery) throws IOException {
        Path dataDir = s.config.dataDir();
        s.files.writePassfile();
        s.files.writePostgresqlConf(dataDir, recovery);
        s.files.writeHba(dataDir);
        s.files.sanitizeAutoConf(dataDir);
    }

    /** pg_control's lines, for a standby's start; null when they cannot be read. */
    private Map<String, String> controlDataLines() {
        try {
            return s.controlData().raw();
        } catch (dev.pgha.postgres.PostgresException e) {
            return null;
        }
    }

    private List<String> pgCtlStart() {
        return List.of(s.bin.path("pg_ctl"), "start", "-D", s.config.dataDir().toString(), "-l",
                s.postmasterLog().toString(), "-W", "-o", s.files.commandLineForPgCtl());
    }

    private long logSize() {
        try {
            return Files.exists(s.postmasterLog()) ? Files.size(s.postmasterLog()) : 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** The last phase of a start: the postmaster accepts connections, died, or the start timed out. */
    final class AwaitReady implements Phase {
        private long deadline;
        private long logOffset;
        private boolean sawPostmaster;
        private long goneSince = -1;
        private boolean timedOut;

        /** Whether the start failed only because it took longer than the start timeout. */
        boolean timedOut() {
            return timedOut;
        }

        @Override
        public void begin() {
            deadline = s.now() + s.config.startTimeout().toNanos();
        }

        @Override
        public Progress poll() {
            long now = s.now();
            Optional<Postmaster.Found> pm = s.postmaster();
            if (pm.isPresent()) {
                sawPostmaster = true;
                goneSince = -1;
                String status = pm.get().status();
                if (("ready".equals(status) || "standby".equals(status)) && s.sql.observe() != null) {
                    return Progress.done("accepting connections (postmaster pid " + pm.get().pid() + ")");
                }
            } else if (Postmaster.processesIn(s.config.dataDir()).isEmpty()) {
                if (sawPostmaster) {
                    return Progress.failed(exited());
                }
                if (goneSince < 0) {
                    goneSince = now;
                } else if (now - goneSince >= GRACE.toNanos()) {
                    return Progress.failed(exited());
                }
            } else {
                goneSince = -1;
            }
            if (now - deadline >= 0) {
                timedOut = true;
                String sqlError = s.sql.lastError();
                return Progress.failed("PostgreSQL is still starting after " + s.config.startTimeout().toSeconds()
                        + " s" + (pm.isPresent() && sqlError != null ? " (last connection attempt: " + sqlError + ")" : ""));
            }
            return Progress.RUNNING;
        }

        private String exited() {
            String log = Child.readTail(s.postmasterLog(), 8192);
            long size = logSize();
            long fresh = Math.max(0, size - logOffset);
            if (fresh < log.length()) {
                log = log.substring((int) (log.length() - fresh));
            }
            List<String> lines = log.strip().lines().toList();
            return "postmaster exited during start: "
                    + String.join(" | ", lines.subList(Math.max(0, lines.size() - 6), lines.size()));
        }
    }
}
