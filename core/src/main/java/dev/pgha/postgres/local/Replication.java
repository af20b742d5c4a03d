package dev.pgha.postgres.local;

import static dev.pgha.postgres.PostgresState.CREATING_REPLICA;
import static dev.pgha.postgres.PostgresState.INITDB_FAILED;
import static dev.pgha.postgres.PostgresState.INITIALIZING_NEW_CLUSTER;
import static dev.pgha.postgres.PostgresState.RUNNING;
import static dev.pgha.postgres.PostgresState.STARTING;
import static dev.pgha.postgres.PostgresState.START_FAILED;
import static dev.pgha.postgres.PostgresState.STOPPED;

import dev.pgha.cluster.Member;
import dev.pgha.postgres.PostgresException;
import dev.pgha.postgres.local.Operation.Phase;
import dev.pgha.postgres.local.Operation.Progress;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The actions that create or change what a data directory is: bootstrap (initdb, then start),
 * clone (pg_basebackup), follow (standby settings, then start, reload or restart), promote
 * (then CHECKPOINT), rewind (pg_rewind, after single-user crash recovery if the target was not
 * shut down cleanly) and single-user crash recovery.
 */
final class Replication {

    private static final Logger log = LoggerFactory.getLogger(Replication.class);

    /** A member's host and port, from its {@code conn_url}. */
    record Endpoint(String host, int port) {
    }

    private final Server s;
    private final Actions actions;
    private final Runnable onReload;
    private boolean removedStandbySignal;
    private boolean removedRecoverySignal;

    Replication(Server s, Actions actions, Runnable onReload) {
        this.s = s;
        this.actions = actions;
        this.onReload = onReload;
    }

    // ---------------------------------------------------------------- bootstrap and clone

    Operation bootstrap() {
        Path pwfile = s.workDir.resolve("initdb.pw");
        s.begin(INITIALIZING_NEW_CLUSTER);
        Lifecycle.AwaitReady ready = actions.lifecycle().new AwaitReady();
        Operation op = new Operation(s.lock, s.name, "bootstrap", (ok, detail, cancelled) -> {
            deleteQuietly(pwfile);
            if (ok) {
                s.move(RUNNING);
            } else if (s.state() == INITIALIZING_NEW_CLUSTER) {
                removeWhatWeCreated();
                s.move(INITDB_FAILED);
            } else {
                actions.afterStart(false, ready, START_FAILED);
            }
        });
        op.then(s.step(() -> {
            prepareEmptyDataDirectory();
            if (s.config.superuser().hasPassword()) {
                s.host.writePrivate(pwfile, s.config.superuser().password() + "\n");
            }
            return null;
        }));
        op.then(s.child("initdb", () -> initdbArgs(pwfile), Map.of(), code -> code == 0 ? Progress.done("")
                : Progress.failed("initdb failed (exit " + code + "): " + s.tailOf("initdb"))));
        op.then(s.step(() -> {
            deleteQuietly(pwfile);
            s.data.creationFinished();
            s.move(STARTING);
            return null;
        }));
        return op.then(actions.lifecycle().startPhases(Map::of, ready));
    }

    private List<String> initdbArgs(Path pwfile) {
        List<String> args = new ArrayList<>(List.of(s.bin.path("initdb"), "-D", s.config.dataDir().toString(), "-U",
                s.config.superuser().username(), "-E", s.config.encoding(), "--locale=" + s.config.locale(),
                "--auth=trust"));
        if (s.config.superuser().hasPassword()) {
            args.add("--pwfile=" + pwfile);
        }
        if (s.config.dataChecksums()) {
            args.add("--data-checksums");
        }
        if (!s.config.syncToDisk()) {
            args.add("--no-sync");
        }
        args.addAll(s.config.initdbArgs());
        return args;
    }

    /** Post-bootstrap: roles with their passwords (quick JDBC work, so it finishes at once). */
    Operation postBootstrap() {
        try {
            s.sql.createRoles();
            return Operation.finished(s.lock, s.name, "post_bootstrap", true, "roles created", (ok, d, c) -> { });
        } catch (java.sql.SQLException e) {
            return Operation.finished(s.lock, s.name, "post_bootstrap", false, "creating roles failed: "
                    + e.getMessage(), (ok, d, c) -> { });
        }
    }

    Operation cloneFrom(Member source) {
        String what = "clone from " + source.name();
        Optional<Endpoint> ep = endpoint(source);
        if (ep.isEmpty()) {
            return Operation.finished(s.lock, s.name, what, false, "member " + source.name()
                    + " has no usable conn_url: " + source.connUrl(), (ok, d, c) -> { });
        }
        s.begin(CREATING_REPLICA);
        Operation op = new Operation(s.lock, s.name, what, (ok, detail, cancelled) -> {
            if (!ok) {
                removeWhatWeCreated();
            }
            s.move(STOPPED);
        });
        Map<String, String> conn = s.files.connection(ep.get().host(), ep.get().port(),
                s.config.replication().username(), null);
        conn.put("application_name", s.name);
        List<String> args = new ArrayList<>(List.of(s.bin.path("pg_basebackup"), "-D", s.config.dataDir().toString(),
                "-X", "stream", "-c", "fast", "-d", ConfigFiles.conninfo(conn)));
        if (!s.config.syncToDisk()) {
            args.add("--no-sync");
        }
        return op.then(s.step(() -> {
            s.files.writePassfile();
            prepareEmptyDataDirectory();
            return null;
        }), s.child("pg_basebackup", () -> args, Map.of(), code -> code == 0 ? Progress.done("")
                : Progress.failed("pg_basebackup failed (exit " + code + "): " + s.tailOf("pg_basebackup"))),
                s.step(() -> {
                    s.data.creationFinished();
                    return null;
                }));
    }

    /** Clears what a crashed earlier attempt left, creates the data directory (owned, 0700) and marks it as pgha's. */
    private void prepareEmptyDataDirectory() throws IOException {
        if (s.data.isCreating()) {
            s.data.removeContents(s.name);
        }
        if (!s.host.createDirectories(s.config.dataDir())) {
            s.host.own(s.config.dataDir()); // an existing, empty directory: the server's user must own it
            Files.setPosixFilePermissions(s.config.dataDir(), java.nio.file.attribute.PosixFilePermissions
                    .fromString("rwx------"));
        }
        s.data.markCreating(s.host);
    }

    private void removeWhatWeCreated() {
        if (s.data.isCreating()) {
            try {
                s.data.removeContents(s.name);
            } catch (PostgresException e) {
                log.error("{}: cleaning up after a failed attempt: {}", s.name, e.getMessage());
            }
        }
    }

    // ---------------------------------------------------------------- follow and promote

    /**
     * The standby settings for following {@code upstream} (null: a standby without upstream),
     * streaming through the physical slot {@code slotName} on it (null: none).
     */
    Map<String, String> recoverySettings(Member upstream, String slotName) {
        Map<String, String> out = new LinkedHashMap<>();
        if (upstream != null) {
            Endpoint ep = endpoint(upstream).orElseThrow(() -> new PostgresException(s.name + ": member "
                    + upstream.name() + " has no usable conn_url: " + upstream.connUrl()));
            Map<String, String> conn = s.files.connection(ep.host(), ep.port(), s.config.replication().username(), null);
            conn.put("application_name", s.name);
            out.put("primary_conninfo", ConfigFiles.conninfo(conn));
            if (slotName != null) {
                out.put("primary_slot_name", slotName);
            }
        }
        out.put("recovery_target_timeline", "latest");
        return out;
    }

    Operation follow(Member upstream, String slotName) {
        String what = "follow " + (upstream == null ? "nobody" : upstream.name());
        Map<String, String> recovery;
        try {
            recovery = recoverySettings(upstream, slotName);
        } catch (PostgresException e) {
            return Operation.finished(s.lock, s.name, what, false, e.getMessage(), (ok, d, c) -> { });
        }
        Phase standby = s.step(() -> {
            writeStandbySignal();
            return null;
        });
        Optional<Postmaster.Found> pm = s.postmaster();
        if (pm.isEmpty()) {
            return actions.startWith(what, () -> recovery, List.of(standby));
        }
        Sql.Observation o = s.sql.observe();
        boolean inRecovery = o != null ? o.inRecovery() : s.data.isStandby();
        if (!inRecovery) {
            return actions.restart(what + " (restart as standby)", () -> recovery, List.of(standby));
        }
        if (recovery.equals(s.files.readRecovery(s.config.dataDir())) && s.data.isStandby()) {
            return Operation.finished(s.lock, s.name, what, true, "already following", (ok, d, c) -> { });
        }
        try {
            writeStandbySignal();
            actions.lifecycle().writeConfiguration(recovery);
        } catch (IOException e) {
            return Operation.finished(s.lock, s.name, what, false, "writing the standby settings failed: " + e,
                    (ok, d, c) -> { });
        }
        boolean reloaded = o != null ? s.sql.reloadConf() : s.quick("pg_ctl-reload", List.of(s.bin.path("pg_ctl"),
                "reload", "-D", s.config.dataDir().toString())).ok();
        if (reloaded) {
            onReload.run();
        }
        if (o != null) {
            return Operation.finished(s.lock, s.name, what, reloaded, reloaded ? "reloaded: primary_conninfo changed"
                    : "reload failed", (ok, d, c) -> { });
        }
        Lifecycle.AwaitReady ready = actions.lifecycle().new AwaitReady();
        return new Operation(s.lock, s.name, what, (ok, d, c) -> actions.afterStart(ok, ready, START_FAILED))
                .then(ready);
    }

    private void writeStandbySignal() throws IOException {
        Path dir = s.config.dataDir();
        s.host.writePrivate(dir.resolve(DataDirectory.STANDBY_SIGNAL), "");
        Files.deleteIfExists(dir.resolve(DataDirectory.RECOVERY_SIGNAL));
    }

    /** Promotes the running standby (also one still starting up: the startup process takes the request). */
    Operation promote() {
        Operation op = new Operation(s.lock, s.name, "promote", (ok, d, c) -> { });
        Phase awaitPromoted = new Phase() {
            private long deadline;

            @Override
            public void begin() {
                deadline = s.now() + s.config.startTimeout().toNanos();
            }

            @Override
            public Progress poll() {
                Sql.Observation now = s.sql.observe();
                if (now != null && !now.inRecovery()) {
                    return Progress.done("promoted to timeline " + now.timeline());
                }
                if (!s.running()) {
                    return Progress.failed("the postmaster exited during promote");
                }
                return s.now() - deadline >= 0 ? Progress.failed("still in recovery after "
                        + s.config.startTimeout().toSeconds() + " s") : Progress.RUNNING;
            }
        };
        return op.then(s.child("pg_ctl-promote", () -> List.of(s.bin.path("pg_ctl"), "promote", "-D",
                s.config.dataDir().toString(), "-W"), Map.of(), code -> code == 0 ? Progress.done("")
                : Progress.failed("pg_ctl promote failed (exit " + code + "): " + s.tailOf("pg_ctl-promote"))),
                awaitPromoted, actions.stopper().checkpoint("checkpoint-after-promote", false));
    }

    // ---------------------------------------------------------------- rewind and crash recovery

    Operation rewind(Member source) {
        String what = "pg_rewind from " + source.name();
        Optional<Endpoint> ep = endpoint(source);
        if (ep.isEmpty()) {
            String why = "member " + source.name() + " has no usable conn_url: " + source.connUrl();
            s.lastRewind = new RewindResult(source.name(), false, why, s.clock.wallTime());
            return Operation.finished(s.lock, s.name, what, false, why, (ok, d, c) -> { });
        }
        s.begin(STOPPED);
        Operation op = new Operation(s.lock, s.name, what, (ok, detail, cancelled) -> {
            restoreSignals();
            s.lastRewind = new RewindResult(source.name(), ok, detail, s.clock.wallTime());
        });
        Map<String, String> conn = s.files.connection(ep.get().host(), ep.get().port(),
                s.config.rewindCredentials().username(), "postgres");
        List<String> args = new ArrayList<>(List.of(s.bin.path("pg_rewind"), "-D", s.config.dataDir().toString(),
                "--source-server=" + ConfigFiles.conninfo(conn)));
        if (!s.config.syncToDisk()) {
            args.add("--no-sync");
        }
        op.then(s.awaitNoProcesses(s.config.stopTimeout()));
        op.then(s.optional(() -> !cleanlyShutDown(), this::singleUserPhases));
        return op.then(s.child("pg_rewind", () -> args, Map.of("PGOPTIONS", "-c statement_timeout=0"),
                code -> code == 0 ? Progress.done(s.tailOf("pg_rewind"))
                        : Progress.failed("pg_rewind failed (exit " + code + "): " + s.tailOf("pg_rewind"))));
    }

    private boolean cleanlyShutDown() {
        String state = s.controlData().clusterState();
        return state.equals("shut down") || state.equals("shut down in recovery");
    }

    Operation crashRecovery() {
        s.begin(STOPPED);
        Operation op = new Operation(s.lock, s.name, "crash recovery in single-user mode",
                (ok, d, c) -> restoreSignals());
        return op.then(s.awaitNoProcesses(s.config.stopTimeout())).then(singleUserPhases());
    }

    /**
     * {@code postgres --single} on the stopped data directory: crash recovery to a clean "shut
     * down". A standby's signal files are set aside meanwhile (single-user mode cannot run as a
     * standby) and put back afterwards. WAL is kept for pg_rewind (archive_mode on, with an
     * archive command that never succeeds, as Patroni does).
     */
    private List<Phase> singleUserPhases() {
        List<String> args = new ArrayList<>(List.of(s.bin.path("postgres"), "--single", "-D",
                s.config.dataDir().toString()));
        args.addAll(s.files.commandLineArgs());
        args.addAll(List.of("-c", "archive_mode=on", "-c", "archive_command=false", "template1"));
        return List.of(s.step(() -> {
            Path dir = s.config.dataDir();
            removedStandbySignal |= Files.deleteIfExists(dir.resolve(DataDirectory.STANDBY_SIGNAL));
            removedRecoverySignal |= Files.deleteIfExists(dir.resolve(DataDirectory.RECOVERY_SIGNAL));
            return null;
        }), s.child("single-user", () -> args, Map.of(), code -> code == 0 ? Progress.done("crash recovery finished")
                : Progress.failed("Crash recovery finished with code=" + code + ": " + s.tailOf("single-user"))),
                s.step(() -> {
                    restoreSignals();
                    return null;
                }));
    }

    private void restoreSignals() {
        Path dir = s.config.dataDir();
        try {
            if (removedStandbySignal) {
                s.host.writePrivate(dir.resolve(DataDirectory.STANDBY_SIGNAL), "");
            }
            if (removedRecoverySignal) {
                s.host.writePrivate(dir.resolve(DataDirectory.RECOVERY_SIGNAL), "");
            }
            removedStandbySignal = false;
            removedRecoverySignal = false;
        } catch (IOException e) {
            log.error("{}: could not put the standby signal files back: {}", s.name, e.toString());
        }
    }

    /** The host and port of a member's {@code conn_url} ({@code postgres://host:port/db}). */
    static Optional<Endpoint> endpoint(Member m) {
        if (m == null || m.connUrl() == null) {
            return Optional.empty();
        }
        try {
            URI uri = URI.create(m.connUrl());
            String host = uri.getHost();
            if (host == null || host.isEmpty()) {
                return Optional.empty();
            }
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            return Optional.of(new Endpoint(host, uri.getPort() > 0 ? uri.getPort() : 5432));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException e) {
            // a leftover password file in the 0700 work directory is overwritten next time
        }
    }
}
