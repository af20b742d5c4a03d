package dev.pgha.postgres.local;

import static dev.pgha.postgres.PostgresState.CRASHED;
import static dev.pgha.postgres.PostgresState.INITIALIZING_NEW_CLUSTER;
import static dev.pgha.postgres.PostgresState.RESTARTING;
import static dev.pgha.postgres.PostgresState.RUNNING;
import static dev.pgha.postgres.PostgresState.STARTING;
import static dev.pgha.postgres.PostgresState.STOPPED;
import static dev.pgha.postgres.PostgresState.STOPPING;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.HaListener.Callback;
import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;
import dev.pgha.postgres.StopMode;
import dev.pgha.postgres.StopResult;
import dev.pgha.testing.RecordingListener;
import dev.pgha.testing.TempPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One real PostgreSQL 15 server through its lifecycle: bootstrap, stop in each mode with
 * Patroni's hooks, the stop timeout, restart, reload, kill -9, single-user crash recovery, and
 * adoption by a new LocalPostgres.
 */
class LocalPostgresLifecycleTest {

    private TempPostgres tmp;

    @BeforeEach
    void setUp() {
        tmp = TempPostgres.create();
    }

    @AfterEach
    void tearDown() {
        tmp.close();
    }

    @Test
    void bootstrapStartsAPrimaryThatSurvivesTheJvmWithPasswordsOnlyInThePassfile() throws Exception {
        LocalPostgres pg = LocalPostgres.create(tmp.node("node1").build());
        assertThat(pg.status().dataDirectory()).isEqualTo(DataDirectoryState.EMPTY);

        Pg.ok(pg.bootstrap());
        Pg.ok(pg.postBootstrap());

        assertThat(pg.stateHistory()).containsExactly(STOPPED, INITIALIZING_NEW_CLUSTER, STARTING, RUNNING);
        PostgresStatus st = pg.status();
        assertThat(st.state()).isEqualTo(RUNNING);
        assertThat(st.isRunningPrimary()).isTrue();
        assertThat(st.timeline()).isEqualTo(1);
        assertThat(st.walPosition().value()).isPositive();
        assertThat(st.systemIdentifier()).matches("\\d{10,}").isEqualTo(pg.controlData().systemIdentifier());
        assertThat(pg.controlData().clusterState()).isEqualTo("in production");
        assertThat(pg.connectionUrl()).isEqualTo("postgres://127.0.0.1:" + pg.config().port() + "/postgres");
        assertThat(pg.timelineHistory()).isEmpty();

        // The replication role logs in with its password; the superuser needs its own.
        try (Connection c = Pg.connect(pg, pg.config().replication())) {
            assertThat(c.isValid(2)).isTrue();
        }
        assertThat(Pg.query(pg, "SELECT rolreplication FROM pg_roles WHERE rolname = 'replicator'")).containsExactly("t");

        // The postmaster is detached from the JVM (it survives it) and carries this node's settings.
        long pid = Pg.pid(pg);
        assertThat(ProcessHandle.current().descendants().mapToLong(ProcessHandle::pid)).doesNotContain(pid);
        String cmdline = Pg.commandLine(pid);
        assertThat(cmdline).contains("port=" + pg.config().port(), "listen_addresses=127.0.0.1", "wal_log_hints=on");

        // Files: pgha's postgresql.conf over initdb's, pg_hba with scram, a 0600 passfile owned by the server user.
        Path data = pg.config().dataDir();
        assertThat(Pg.read(data.resolve("postgresql.conf"))).startsWith("# Written by pgha")
                .contains("include_if_exists = 'postgresql.base.conf'", "fsync = 'off'");
        assertThat(data.resolve("postgresql.base.conf")).exists();
        assertThat(Pg.read(data.resolve("pg_hba.conf"))).contains("scram-sha-256");
        Path passfile = pg.config().passfile();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(passfile))).isEqualTo("rw-------");
        if (TempPostgres.runAs() != null) {
            assertThat(Files.getOwner(passfile).getName()).isEqualTo(TempPostgres.runAs());
            assertThat(Files.getOwner(data).getName()).isEqualTo(TempPostgres.runAs());
        }
        assertThat(Pg.read(passfile)).contains(TempPostgres.SUPERUSER_PASSWORD, TempPostgres.REPLICATION_PASSWORD);

        // ... and nowhere else: not in the data directory, the work directory's logs, or command lines.
        String everything = Pg.allText(data) + Pg.allText(pg.config().workDir());
        assertThat(everything).doesNotContain(TempPostgres.SUPERUSER_PASSWORD, TempPostgres.REPLICATION_PASSWORD);
        assertThat(cmdline).doesNotContain(TempPostgres.SUPERUSER_PASSWORD);
        pg.close();
    }

    @Test
    void stopsInEachModeWithHooksAndStates() throws Exception {
        LocalPostgres pg = Pg.primary(tmp, "node1");
        List<String> hooks = new ArrayList<>();
        StopHooks recording = new StopHooks() {
            @Override
            public void beforeShutdown() {
                hooks.add("before_shutdown");
            }

            @Override
            public void onSafepoint() {
                hooks.add("on_safepoint");
            }

            @Override
            public void onShutdown(Lsn checkpoint, Lsn previous) {
                hooks.add("on_shutdown " + checkpoint + " " + previous);
            }
        };

        for (StopMode mode : StopMode.values()) {
            if (mode != StopMode.SMART) {
                Pg.ok(pg.start());
            }
            hooks.clear();
            int before = pg.stateHistory().size();
            StopOperation stop = pg.stop(mode, true, recording);
            assertThat(pg.status().state()).isEqualTo(STOPPING);
            assertThat(pg.status().acceptingConnections()).as("no writes once the stop began").isFalse();
            Pg.ok(stop);

            assertThat(stop.stopResult()).isEqualTo(StopResult.STOPPED);
            assertThat(stop.signaled()).isTrue();
            List<PostgresState> states = pg.stateHistory();
            assertThat(states.subList(before, states.size())).as(mode.name()).containsExactly(STOPPING, STOPPED);
            assertThat(pg.status().postmasterRunning()).isFalse();
            ControlData cd = pg.controlData();
            if (mode == StopMode.IMMEDIATE) {
                assertThat(cd.clusterState()).isEqualTo("in production");
                assertThat(hooks).containsExactly("before_shutdown", "on_safepoint");
            } else {
                assertThat(cd.clusterState()).isEqualTo("shut down");
                assertThat(hooks).hasSize(3);
                assertThat(hooks.get(0)).isEqualTo("before_shutdown");
                assertThat(hooks).contains("on_safepoint");
                String shutdown = hooks.stream().filter(h -> h.startsWith("on_shutdown")).findFirst().orElseThrow();
                String[] lsns = shutdown.split(" ");
                assertThat(Lsn.parse(lsns[1])).isEqualTo(cd.checkpointLocation());
                assertThat(Lsn.parse(lsns[2])).isLessThan(cd.checkpointLocation());
            }
        }

        // No postmaster: at once, not signaled, on_safepoint still called.
        hooks.clear();
        StopOperation none = pg.stop(StopMode.FAST, true, recording);
        assertThat(none.poll()).isEqualTo(PostgresOperation.Outcome.SUCCEEDED);
        assertThat(none.signaled()).isFalse();
        assertThat(none.stopResult()).isEqualTo(StopResult.STOPPED);
        assertThat(hooks).containsExactly("on_safepoint");
    }

    @Test
    void aStopThatOverrunsTheStopTimeoutIsEscalated() throws Exception {
        LocalPostgres pg = LocalPostgres.create(tmp.node("node1").stopTimeout(Duration.ofSeconds(1)).build());
        Pg.ok(pg.bootstrap());
        try (Connection client = Pg.connect(pg)) {
            // A smart shutdown waits for clients: this one never leaves.
            assertThat(client.isValid(2)).isTrue();
            StopOperation stop = pg.stop(StopMode.SMART, false, StopHooks.NONE);
            assertThat(stop.stopResult()).isEqualTo(StopResult.IN_PROGRESS);
            Pg.ok(stop);
            assertThat(stop.detail()).isEqualTo("postmaster exited after escalation");
            assertThat(stop.stopResult()).isEqualTo(StopResult.STOPPED);
        }
        assertThat(pg.status().state()).isEqualTo(STOPPED);
    }

    @Test
    void restartAndReload() throws Exception {
        RecordingListener events = new RecordingListener();
        LocalPostgres pg = LocalPostgres.create(tmp.node("node1").build(), dev.pgha.HaClock.system(), events);
        Pg.ok(pg.bootstrap());
        long before = Pg.pid(pg);
        int from = pg.stateHistory().size();

        PostgresOperation restart = pg.restart();
        assertThat(pg.status().state()).isEqualTo(RESTARTING);
        Pg.ok(restart);

        List<PostgresState> states = pg.stateHistory();
        assertThat(states.subList(from, states.size())).containsExactly(RESTARTING, RUNNING);
        assertThat(Pg.pid(pg)).isNotEqualTo(before);
        assertThat(pg.controlData().clusterState()).isEqualTo("in production");
        assertThat(events.callbacks()).isEmpty(); // the engine announces on_restart, not LocalPostgres

        assertThat(pg.reload()).isTrue();
        assertThat(events.callbacks()).containsExactly("on_reload primary");
        Pg.ok(pg.stop(StopMode.FAST, false));
        assertThat(pg.reload()).as("nothing to reload").isFalse();
    }

    @Test
    void killMinus9IsCrashedUntilTheNextActionAndSingleUserRecoveryShutsDownCleanly() throws Exception {
        LocalPostgres pg = Pg.primary(tmp, "node1");
        Pg.execute(pg, "CREATE TABLE t AS SELECT 1 AS x");

        Pg.killMinus9(pg);

        PostgresStatus st = pg.status();
        assertThat(st.state()).isEqualTo(CRASHED);
        assertThat(st.postmasterRunning()).isFalse();
        assertThat(pg.status().state()).as("CRASHED persists").isEqualTo(CRASHED);
        assertThat(pg.controlData().clusterState()).isEqualTo("in production");
        assertThat(pg.controlData().needsCrashRecovery()).isTrue();

        Pg.ok(pg.crashRecovery()); // waits for the killed postmaster's children first
        assertThat(pg.controlData().clusterState()).isEqualTo("shut down");
        assertThat(pg.status().state()).isEqualTo(STOPPED);
        List<PostgresState> states = pg.stateHistory();
        assertThat(states.subList(states.size() - 3, states.size())).containsExactly(RUNNING, CRASHED, STOPPED);

        Pg.ok(pg.start());
        assertThat(Pg.query(pg, "SELECT x FROM t")).containsExactly("1");
    }

    @Test
    void aStartAfterKillMinus9WaitsForTheLeftoversAndComesUp() throws Exception {
        LocalPostgres pg = Pg.primary(tmp, "node1");
        Pg.killMinus9(pg);
        assertThat(pg.status().state()).isEqualTo(CRASHED);

        Pg.ok(pg.start());

        assertThat(pg.status().state()).isEqualTo(RUNNING);
        List<PostgresState> states = pg.stateHistory();
        assertThat(states.subList(states.size() - 3, states.size())).containsExactly(CRASHED, STARTING, RUNNING);
    }

    @Test
    void aNewLocalPostgresAdoptsTheRunningServerInsteadOfRestartingIt() throws Exception {
        LocalPostgresConfig config = tmp.node("node1").build();
        LocalPostgres first = LocalPostgres.create(config);
        Pg.ok(first.bootstrap());
        Pg.execute(first, "CREATE TABLE marker (x int)");
        long pid = Pg.pid(first);
        first.close();

        LocalPostgres second = LocalPostgres.create(config); // e.g. after the host JVM restarted
        PostgresStatus st = second.status();

        assertThat(st.state()).isEqualTo(RUNNING);
        assertThat(st.isRunningPrimary()).isTrue();
        assertThat(Pg.pid(second)).isEqualTo(pid);
        assertThat(second.stateHistory()).containsExactly(STOPPED, RUNNING);
        PostgresOperation start = second.start();
        assertThat(start.poll()).isEqualTo(PostgresOperation.Outcome.SUCCEEDED);
        assertThat(start.detail()).contains("already running");
        assertThat(Pg.pid(second)).isEqualTo(pid);

        Pg.ok(second.stop(StopMode.FAST, true));
        assertThat(first.status().state()).as("the first instance sees it stopped").isEqualTo(CRASHED);
    }

    @Test
    void callbacksOfTheConfigurationRunThroughShellCallbacks() throws Exception {
        Path record = tmp.base().resolve("cb.txt");
        Path script = tmp.script("cb.sh", "#!/bin/sh\necho \"$@\" >> " + record + "\n");
        LocalPostgres pg = LocalPostgres.create(tmp.node("node1").callback(Callback.ON_RELOAD, script.toString())
                .callback(Callback.ON_START, script.toString()).build());
        Pg.ok(pg.bootstrap());

        assertThat(pg.reload()).isTrue();
        TempPostgres.until("on_reload recorded", Duration.ofSeconds(10), () -> Files.exists(record)
                && Pg.read(record).contains("on_reload primary test"));
        pg.listener().callback("node1", Callback.ON_START, PostgresRole.PRIMARY);
        TempPostgres.until("on_start recorded", Duration.ofSeconds(10),
                () -> Pg.read(record).contains("on_start primary test"));
    }
}
