package dev.pgha.postgres.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.HaClock;
import dev.pgha.postgres.PostgresState;
import dev.pgha.testing.RecordingListener;
import dev.pgha.testing.TempPostgres;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The DCS's {@code postgresql.parameters} on a real PostgreSQL 15 server: those of the first
 * start, a reload for what a reload changes, {@code pending_restart} for context
 * {@code postmaster} until a restart, values PostgreSQL refuses left out, and Patroni's rule that
 * the cluster-wide parameters come from the DCS only.
 */
class LocalPostgresParametersTest {

    private static final Duration SOON = Duration.ofSeconds(10);

    private TempPostgres tmp;

    @BeforeEach
    void setUp() {
        tmp = TempPostgres.create();
    }

    @AfterEach
    void tearDown() {
        tmp.close();
    }

    private static String show(LocalPostgres pg, String name) {
        try {
            return Pg.query(pg, "SHOW " + name).get(0);
        } catch (SQLException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theFirstStartHasTheDcsParametersAndAReloadOrARestartTheLaterOnes() {
        RecordingListener events = new RecordingListener();
        LocalPostgres pg = LocalPostgres.create(tmp.node("node1").parameter("work_mem", "6MB")
                .parameter("max_connections", "20").build(), HaClock.system(), events);

        // given the DCS's parameters before the bootstrap (the member's own max_connections is ignored)
        pg.applyParameters(Map.of("max_connections", "50", "work_mem", "8MB", "maintenance_work_mem", "32MB"));
        Pg.ok(pg.bootstrap());
        Pg.ok(pg.postBootstrap());

        // then the first start has them, the member's own work_mem winning over the DCS's
        assertThat(show(pg, "max_connections")).isEqualTo("50");
        assertThat(show(pg, "work_mem")).isEqualTo("6MB");
        assertThat(show(pg, "maintenance_work_mem")).isEqualTo("32MB");
        assertThat(pg.status().pendingRestart()).isFalse();

        // when the DCS changes one a reload changes
        events.clear();
        pg.applyParameters(Map.of("max_connections", "50", "work_mem", "8MB", "maintenance_work_mem", "64MB"));

        // then it is in force after the reload (on_reload announced), with no restart pending
        TempPostgres.until("maintenance_work_mem 64MB", SOON, () -> show(pg, "maintenance_work_mem").equals("64MB"));
        assertThat(events.callbacks()).containsExactly("on_reload primary");
        assertThat(pg.status().pendingRestart()).isFalse();

        // when it changes one of context postmaster
        pg.applyParameters(Map.of("max_connections", "60", "work_mem", "8MB", "maintenance_work_mem", "64MB",
                "max_files_per_process", "900"));

        // then nothing restarts: the old values stay in force and a restart is pending
        TempPostgres.until("a pending restart", SOON, () -> pg.status().pendingRestart());
        assertThat(show(pg, "max_connections")).isEqualTo("50");
        assertThat(show(pg, "max_files_per_process")).isEqualTo("1000");
        assertThat(pg.status().state()).isEqualTo(PostgresState.RUNNING);

        // and a restart applies them and clears it
        Pg.ok(pg.restart());
        assertThat(show(pg, "max_connections")).isEqualTo("60");
        assertThat(show(pg, "max_files_per_process")).isEqualTo("900");
        assertThat(pg.status().pendingRestart()).isFalse();
    }

    @Test
    void changingAPostmasterParameterBackBeforeARestartClearsThePendingRestart() {
        LocalPostgres pg = Pg.primary(tmp, "node1");
        pg.applyParameters(Map.of("max_connections", "70"));
        TempPostgres.until("a pending restart", SOON, () -> pg.status().pendingRestart());

        pg.applyParameters(Map.of());

        TempPostgres.until("no pending restart", SOON, () -> !pg.status().pendingRestart());
        assertThat(show(pg, "max_connections")).isEqualTo("100");
    }

    @Test
    void aValuePostgresqlRefusesIsLeftOutAndTheRestStillApplies() {
        LocalPostgres pg = Pg.primary(tmp, "node1");

        // when the DCS has a bad value, an unknown parameter and a good one
        pg.applyParameters(Map.of("work_mem", "lots", "no_such_parameter", "1", "maintenance_work_mem", "48MB",
                "max_connections", "100000000"));

        // then the good one is in force (an unknown name in the file would have blocked the whole reload)
        TempPostgres.until("maintenance_work_mem 48MB", SOON, () -> show(pg, "maintenance_work_mem").equals("48MB"));
        assertThat(show(pg, "work_mem")).isEqualTo("4MB");
        assertThat(pg.status().pendingRestart()).as("max_connections stays 100").isFalse();
        String conf = Pg.read(pg.config().dataDir().resolve("postgresql.conf"));
        assertThat(conf).doesNotContain("'lots'", "no_such_parameter").contains("max_connections = '100'");

        // and the server still restarts with its file
        Pg.ok(pg.restart());
        assertThat(show(pg, "maintenance_work_mem")).isEqualTo("48MB");
    }

    @Test
    void aStandbyStartsWithItsPrimarysHigherValuesFromPgControlAndARestartPending() throws Exception {
        // given a primary running with max_connections 150
        LocalPostgres primary = LocalPostgres.create(tmp.node("node1").build());
        primary.applyParameters(Map.of("max_connections", "150"));
        Pg.ok(primary.bootstrap());
        Pg.ok(primary.postBootstrap());

        // when a replica whose parameters say 100 is cloned and starts (the DCS was lowered meanwhile)
        LocalPostgres replica = LocalPostgres.create(tmp.node("node2").build());
        replica.applyParameters(Map.of("max_connections", "100"));
        Pg.ok(replica.cloneFrom(Pg.member(primary, "primary")));
        Pg.ok(replica.follow(Pg.member(primary, "primary")));

        // then it runs as a hot standby with pg_control's 150 (with 100 PostgreSQL would not), and says a restart is pending
        assertThat(show(replica, "max_connections")).isEqualTo("150");
        assertThat(Pg.query(replica, "SELECT pg_is_in_recovery()")).containsExactly("t");
        assertThat(replica.status().pendingRestart()).isTrue();
    }

    @Test
    void aNewInstanceAdoptingTheServerLeavesItsParametersAloneAndReloadsNothingForTheSameOnes() {
        LocalPostgres first = LocalPostgres.create(tmp.node("node1").build());
        first.applyParameters(Map.of("work_mem", "8MB"));
        Pg.ok(first.bootstrap());
        first.close();

        // when the JVM restarts: a new instance adopts the running server, observes it, and gets the same parameters
        RecordingListener events = new RecordingListener();
        LocalPostgres again = LocalPostgres.create(first.config(), HaClock.system(), events);
        TempPostgres.until("the server adopted", SOON, () -> again.status().state() == PostgresState.RUNNING);
        assertThat(show(again, "work_mem")).as("untouched before the DCS's parameters are known").isEqualTo("8MB");
        again.applyParameters(Map.of("work_mem", "8MB"));
        again.status();

        // then nothing was reloaded
        assertThat(events.callbacks()).isEmpty();
        assertThat(show(again, "work_mem")).isEqualTo("8MB");
        assertThat(again.status().pendingRestart()).isFalse();
    }

    @Test
    void aStoppedServerGetsTheParametersAtItsNextStartWithoutAReload() {
        RecordingListener events = new RecordingListener();
        LocalPostgres pg = LocalPostgres.create(tmp.node("node1").build(), HaClock.system(), events);
        Pg.ok(pg.bootstrap());
        Pg.ok(pg.stop(dev.pgha.postgres.StopMode.FAST, false));
        events.clear();

        pg.applyParameters(Map.of("max_connections", "40", "work_mem", "12MB"));
        assertThat(events.callbacks()).isEmpty();
        Pg.ok(pg.start());

        assertThat(show(pg, "max_connections")).isEqualTo("40");
        assertThat(show(pg, "work_mem")).isEqualTo("12MB");
        assertThat(pg.status().pendingRestart()).isFalse();
    }
}
