package dev.pgha.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Patroni 3's merge of the DCS's {@code postgresql.parameters} with a member's own. */
class PostgresParametersTest {

    @Test
    void withNothingSetTheClusterWideParametersHavePatronisDefaults() {
        PostgresParameters.Effective e = PostgresParameters.merge(Map.of(), Map.of());
        assertThat(e.parameters()).containsExactlyEntriesOf(PostgresParameters.CLUSTER_WIDE);
        assertThat(e.parameters()).containsEntry("wal_level", "replica").containsEntry("max_connections", "100")
                .containsEntry("hot_standby", "on").containsEntry("wal_keep_size", "128MB");
        assertThat(e.ignored()).isEmpty();
    }

    @Test
    void theDcsSetsAnyParameterAndTheMembersOwnValueWinsForThoseThatAreNotClusterWide() {
        PostgresParameters.Effective e = PostgresParameters.merge(
                Map.of("work_mem", "8MB", "shared_buffers", "1GB", "max_connections", "150"),
                Map.of("shared_buffers", "256MB", "log_line_prefix", "%m "));
        assertThat(e.parameters()).containsEntry("work_mem", "8MB").containsEntry("shared_buffers", "256MB")
                .containsEntry("log_line_prefix", "%m ").containsEntry("max_connections", "150");
        assertThat(e.ignored()).isEmpty();
    }

    @Test
    void aMembersOwnValueForAClusterWideParameterIsIgnored() {
        PostgresParameters.Effective e = PostgresParameters.merge(Map.of("max_connections", "150"),
                Map.of("max_connections", "20", "wal_level", "logical", "wal_keep_size", "1GB"));
        assertThat(e.parameters()).containsEntry("max_connections", "150").containsEntry("wal_level", "replica")
                .containsEntry("wal_keep_size", "128MB");
        assertThat(e.ignored()).containsOnlyKeys("local.max_connections", "local.wal_level", "local.wal_keep_size");
        assertThat(e.ignored().get("local.max_connections")).contains("only the DCS sets it");
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({"max_connections,24", "max_connections,lots", "max_wal_senders,2", "max_locks_per_transaction,31",
            "max_replication_slots,3", "max_worker_processes,1", "max_prepared_transactions,-1", "wal_level,minimal",
            "track_commit_timestamp,maybe", "wal_keep_size,15MB", "wal_keep_size,8000kB", "hot_standby,off",
            "wal_log_hints,off"})
    void aDcsValueFailingPatronisCheckKeepsTheDefault(String name, String value) {
        PostgresParameters.Effective e = PostgresParameters.merge(Map.of(name, value, "work_mem", "8MB"), Map.of());
        assertThat(e.parameters()).containsEntry(name, PostgresParameters.CLUSTER_WIDE.get(name))
                .containsEntry("work_mem", "8MB");
        assertThat(e.ignored()).containsOnlyKeys("dcs." + name);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({"max_connections,25,25", "wal_level,logical,logical", "wal_level,hot_standby,replica",
            "wal_keep_size,1GB,1GB", "wal_keep_size,16,16", "track_commit_timestamp,on,on",
            "max_prepared_transactions,0,0"})
    void aDcsValuePassingPatronisCheckIsTaken(String name, String value, String inForce) {
        assertThat(PostgresParameters.merge(Map.of(name, value), Map.of()).parameters()).containsEntry(name, inForce);
    }

    @Test
    void walKeepSegmentsFromAnOlderClusterBecomesWalKeepSize() {
        assertThat(PostgresParameters.merge(Map.of("wal_keep_segments", "32"), Map.of()).parameters())
                .containsEntry("wal_keep_size", "512MB").doesNotContainKey("wal_keep_segments");
        assertThat(PostgresParameters.merge(Map.of("wal_keep_segments", "32", "wal_keep_size", "64MB"), Map.of())
                .parameters()).containsEntry("wal_keep_size", "64MB");
    }

    @Test
    void membersAddressesAndRecoverySettingsNeverComeFromTheDcs() {
        PostgresParameters.Effective e = PostgresParameters.merge(Map.of("port", "5433", "listen_addresses", "*",
                "cluster_name", "x", "primary_conninfo", "host=x", "restore_command", "cp", "hba_file", "/etc/x"),
                Map.of());
        assertThat(e.parameters()).containsOnlyKeys(PostgresParameters.CLUSTER_WIDE.keySet());
        assertThat(e.ignored()).containsOnlyKeys("dcs.port", "dcs.listen_addresses", "dcs.cluster_name",
                "dcs.primary_conninfo", "dcs.restore_command", "dcs.hba_file");
    }

    @Test
    void namesAreCaseInsensitiveAndCustomOnesWithADotPass() {
        PostgresParameters.Effective e = PostgresParameters.merge(Map.of("Work_Mem", "8MB", "MAX_CONNECTIONS", "200",
                "pg_stat_statements.max", "5000"), Map.of("WORK_MEM", "16MB"));
        assertThat(e.parameters()).containsEntry("work_mem", "16MB").containsEntry("max_connections", "200")
                .containsEntry("pg_stat_statements.max", "5000").doesNotContainKey("Work_Mem");
        assertThat(PostgresParameters.isClusterWide("Max_Connections")).isTrue();
        assertThat(PostgresParameters.isClusterWide("work_mem")).isFalse();
    }

    @Test
    void unusableNamesAndValuesAreLeftOut() {
        PostgresParameters.Effective e = PostgresParameters.merge(Map.of("bad name", "1", "work_mem", "8MB\n9MB"),
                Map.of());
        assertThat(e.parameters()).doesNotContainKeys("bad name", "work_mem");
        assertThat(e.ignored()).containsOnlyKeys("dcs.bad name", "dcs.work_mem");
    }
}
