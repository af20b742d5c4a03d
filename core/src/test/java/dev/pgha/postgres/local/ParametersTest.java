package dev.pgha.postgres.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The parameter bookkeeping of LocalPostgres and the comparison of values with pg_settings. */
class ParametersTest {

    @Test
    void whatPostgresqlRefusesIsLeftOutOneByOneAndAClusterWideOneGoesBackToItsDefault() {
        Parameters p = new Parameters("n", Map.of("work_mem", "lots"));
        p.dcs(Map.of("max_connections", "100000000", "maintenance_work_mem", "64MB", "bogus", "1"));
        List<Map<String, String>> asked = new ArrayList<>();
        Parameters.Check check = given -> {
            asked.add(given);
            if ("lots".equals(given.get("work_mem"))) {
                return "invalid value for parameter \"work_mem\": \"lots\"";
            }
            if (given.containsKey("bogus")) {
                return "unrecognized configuration parameter \"bogus\"";
            }
            if (!"100".equals(given.get("max_connections"))) {
                return "100000000 is outside the valid range for parameter \"max_connections\" (1 .. 262143)";
            }
            return null;
        };

        Map<String, String> written = p.forFile(check);

        assertThat(written).containsEntry("maintenance_work_mem", "64MB").containsEntry("max_connections", "100")
                .doesNotContainKeys("work_mem", "bogus");
        assertThat(asked).hasSize(4);
        assertThat(p.unwritten()).isFalse();
        // checked once: writing again asks nothing
        p.forFile(check);
        assertThat(asked).hasSize(4);
    }

    @Test
    void aRefusalNamingNothingOfOursLeavesTheParametersAsTheyAre() {
        Parameters p = new Parameters("n", Map.of("work_mem", "8MB"));
        assertThat(p.forFile(given -> "could not access the server configuration file")).containsEntry("work_mem",
                "8MB");
    }

    @Test
    void aChangeOfTheDcsParametersIsUnwrittenUntilTheFileIsWritten() {
        Parameters p = new Parameters("n", Map.of());
        assertThat(p.unwritten()).as("before the DCS's parameters are known, a running server is left alone")
                .isFalse();
        p.forFile(Parameters.Check.NONE);
        assertThat(p.dcs(Map.of())).isFalse();
        assertThat(p.dcs(Map.of("work_mem", "8MB"))).isTrue();
        assertThat(p.unwritten()).isTrue();
        assertThat(p.dcs(Map.of("work_mem", "8MB"))).isFalse();
        assertThat(p.forFile(Parameters.Check.NONE)).containsEntry("work_mem", "8MB");
        assertThat(p.unwritten()).isFalse();
        assertThat(p.dcs(Map.of("work_mem", "8MB", "max_connections", "20"))).as("refused by Patroni's check: nothing changes")
                .isFalse();
    }

    @Test
    void thePendingRestartIsPredictedUntilTheSessionSawTheReloadThenPgSettingsTells() {
        Parameters p = new Parameters("n", Map.of());
        assertThat(p.pendingRestart("t0", false)).isFalse();
        p.reloadRequested("t0", true);
        assertThat(p.pendingRestart("t0", false)).as("reload not processed yet").isTrue();
        assertThat(p.pendingRestart("t1", false)).as("processed: pg_settings says no").isFalse();
        assertThat(p.pendingRestart("t1", true)).isTrue();
        p.starting(null);
        assertThat(p.pendingRestart("t2", false)).isFalse();
    }

    @Test
    void aStandbyStartsWithPgControlsHigherValuesAndARestartPending() {
        Parameters p = new Parameters("n", Map.of());
        p.dcs(Map.of("max_connections", "100", "max_worker_processes", "16"));
        p.starting(Map.of("max_connections setting", "150", "max_worker_processes setting", "8",
                "max_locks_per_xact setting", "64"));

        assertThat(p.forFile(Parameters.Check.NONE)).containsEntry("max_connections", "150")
                .containsEntry("max_worker_processes", "16").containsEntry("max_locks_per_transaction", "64");
        assertThat(p.forStart()).containsEntry("max_connections", "150");
        assertThat(p.pendingRestart("t", false)).isTrue();

        p.starting(null);
        assertThat(p.forFile(Parameters.Check.NONE)).containsEntry("max_connections", "100");
        assertThat(p.pendingRestart("t", false)).isFalse();
    }

    @Test
    void valuesCompareAsPostgresqlReadsThem() {
        assertThat(GucValues.same(new Sql.Setting("shared_buffers", "16384", "8kB", "integer", "postmaster"), "128MB"))
                .isTrue();
        assertThat(GucValues.same(new Sql.Setting("work_mem", "4096", "kB", "integer", "user"), "4MB")).isTrue();
        assertThat(GucValues.same(new Sql.Setting("work_mem", "4096", "kB", "integer", "user"), "8MB")).isFalse();
        assertThat(GucValues.same(new Sql.Setting("work_mem", "4096", "kB", "integer", "user"), "4096")).isTrue();
        assertThat(GucValues.same(new Sql.Setting("checkpoint_timeout", "300", "s", "integer", "sighup"), "5min"))
                .isTrue();
        assertThat(GucValues.same(new Sql.Setting("max_connections", "100", null, "integer", "postmaster"), "150"))
                .isFalse();
        assertThat(GucValues.same(new Sql.Setting("fsync", "off", null, "bool", "sighup"), "false")).isTrue();
        assertThat(GucValues.same(new Sql.Setting("wal_level", "replica", null, "enum", "postmaster"), "Replica"))
                .isTrue();
        assertThat(GucValues.same(new Sql.Setting("random_page_cost", "1.1", null, "real", "user"), "1.10")).isTrue();
        assertThat(GucValues.same(new Sql.Setting("search_path", "a, b", null, "string", "user"), "'a, b'")).isTrue();
        assertThat(GucValues.same(new Sql.Setting("work_mem", "4096", "kB", "integer", "user"), "4 apples")).isFalse();
    }
}
