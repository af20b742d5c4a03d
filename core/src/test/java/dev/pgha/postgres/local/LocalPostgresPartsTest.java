package dev.pgha.postgres.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.cluster.Member;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.PostgresException;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.StopResult;
import dev.pgha.postgres.local.Operation.Progress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The parts of LocalPostgres that need no server: parsers, file writers, the operation sequencer, data directory rules. */
class LocalPostgresPartsTest {

    @TempDir
    Path dir;

    private static final String CONTROLDATA = """
            pg_control version number:            1300
            Database system identifier:           7710644234103349428
            Database cluster state:               shut down in recovery
            pg_control last modified:             Sat Nov 21 15:17:42 2026
            Latest checkpoint location:           0/1511A60
            Latest checkpoint's TimeLineID:       3
            Latest checkpoint's oldestCommitTsXid:0
            Minimum recovery ending location:     0/3000100
            Min recovery ending loc's timeline:   2
            """;

    @Test
    void parsesPgControldata() {
        ControlData cd = ControlFiles.parse("n", CONTROLDATA);
        assertThat(cd.clusterState()).isEqualTo("shut down in recovery");
        assertThat(cd.systemIdentifier()).isEqualTo("7710644234103349428");
        assertThat(cd.checkpointTimeline()).isEqualTo(3);
        assertThat(cd.checkpointLocation()).isEqualTo(Lsn.parse("0/1511A60"));
        assertThat(cd.minRecoveryEndLocation()).isEqualTo(Lsn.parse("0/3000100"));
        assertThat(cd.minRecoveryEndTimeline()).isEqualTo(2);
        assertThat(cd.raw()).containsEntry("pg_control last modified", "Sat Nov 21 15:17:42 2026")
                .containsEntry("Latest checkpoint's oldestCommitTsXid", "0");
        assertThatThrownBy(() -> ControlFiles.parse("n", "pg_controldata: error: could not open file"))
                .isInstanceOf(PostgresException.class).hasMessageContaining("could not open file");
    }

    @Test
    void readsThePreviousRecordFromPgWaldump() {
        String line = "rmgr: XLOG        len (rec/tot):    114/   114, tx:          0, lsn: 0/02000028, "
                + "prev 0/01511B50, desc: CHECKPOINT_SHUTDOWN redo 0/2000028; tli 1";
        assertThat(ControlFiles.previousRecord(line)).contains(Lsn.parse("0/1511B50"));
        assertThat(ControlFiles.previousRecord("nothing")).isEmpty();
    }

    @Test
    void readsTimelineHistoryFiles() throws Exception {
        Files.createDirectories(dir.resolve("pg_wal"));
        Files.writeString(dir.resolve("pg_wal/00000003.history"),
                "1\t0/3000060\tno recovery target specified\n\n2\t0/5000000\tno recovery target specified\n");
        List<TimelineHistory.Entry> h = ControlFiles.history(dir, 3);
        assertThat(h).extracting(TimelineHistory.Entry::timeline).containsExactly(1L, 2L);
        assertThat(h.get(0).switchLsn()).isEqualTo(Lsn.parse("0/3000060").value());
        assertThat(h.get(1).reason()).isEqualTo("no recovery target specified");
        assertThat(ControlFiles.history(dir, 1)).isEmpty();
        assertThat(ControlFiles.history(dir, 7)).isEmpty();
    }

    private LocalPostgresConfig config() {
        return LocalPostgresConfig.builder().scope("demo").name("node1").dataDir(dir.resolve("data")).port(5433)
                .superuser(Credentials.of("postgres", "s3cret")).replication(Credentials.of("rep:l", "p:w\\x"))
                .parameter("shared_buffers", "16MB").parameter("wal_level", "minimal")
                .parameter("log_line_prefix", "%m 'quoted' \\ ").build();
    }

    /** The files of {@link #config()} with the DCS setting {@code wal_level} and {@code work_mem}. */
    private ConfigFiles files() {
        Parameters p = new Parameters("node1", config().parameters());
        p.dcs(Map.of("wal_level", "logical", "work_mem", "8MB", "shared_buffers", "1GB"));
        return new ConfigFiles(config(), Host.unprivileged("node1"), p, Parameters.Check.NONE);
    }

    @Test
    void writesPostgresqlConfOverInitdbsAndReadsTheStandbySettingsBack() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve("postgresql.conf"), "max_connections = 100\n");
        ConfigFiles files = files();
        Map<String, String> recovery = new LinkedHashMap<>();
        recovery.put("primary_conninfo", "host=h port=1 application_name='a b'");
        recovery.put("recovery_target_timeline", "latest");

        files.writePostgresqlConf(data, recovery);

        assertThat(Files.readString(data.resolve("postgresql.base.conf"))).isEqualTo("max_connections = 100\n");
        String conf = Files.readString(data.resolve("postgresql.conf"));
        assertThat(conf).startsWith("# Written by pgha").contains("include_if_exists = 'postgresql.base.conf'",
                "shared_buffers = '16MB'", "log_line_prefix = '%m ''quoted'' \\\\ '", "wal_keep_size = '128MB'",
                "work_mem = '8MB'");
        assertThat(conf).as("the cluster-wide settings are in the file too, as Patroni writes them")
                .contains("wal_level = 'logical'", "max_connections = '100'");
        assertThat(conf).as("this node's address stays off the file").doesNotContain("\nport = ", "listen_addresses");
        assertThat(files.readRecovery(data)).isEqualTo(recovery);

        files.writePostgresqlConf(data, Map.of());
        assertThat(files.readRecovery(data)).isEmpty();
        assertThat(Files.readString(data.resolve("postgresql.base.conf"))).isEqualTo("max_connections = 100\n");
    }

    @Test
    void commandLineCarriesThisNodesAddressAndTheClusterWideSettings() {
        ConfigFiles files = files();
        assertThat(files.commandLine()).containsEntry("port", "5433").containsEntry("listen_addresses", "127.0.0.1")
                .containsEntry("unix_socket_directories", "").containsEntry("cluster_name", "demo")
                .as("the DCS's wal_level; the member's own is ignored").containsEntry("wal_level", "logical")
                .containsEntry("wal_log_hints", "on").containsEntry("max_connections", "100")
                .doesNotContainKeys("shared_buffers", "work_mem", "wal_keep_size");
        assertThat(files.commandLineForPgCtl()).startsWith("-c 'listen_addresses=127.0.0.1' -c 'port=5433'");
        assertThat(ConfigFiles.shellQuote("it's")).isEqualTo("'it'\\''s'");
    }

    @Test
    void removesStaleRecoverySettingsFromAutoConf() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve("postgresql.auto.conf"), "# Do not edit\nwork_mem = '8MB'\n"
                + "primary_conninfo = 'host=old'\nPrimary_Slot_Name='x'\n");
        new ConfigFiles(config(), Host.unprivileged("node1")).sanitizeAutoConf(data);
        assertThat(Files.readString(data.resolve("postgresql.auto.conf"))).isEqualTo("# Do not edit\nwork_mem = '8MB'\n");
    }

    @Test
    void writesAPrivatePassfileWithEscapes() throws Exception {
        LocalPostgresConfig config = config();
        Files.createDirectories(config.workDir());
        new ConfigFiles(config, Host.unprivileged("node1")).writePassfile();
        assertThat(Files.readString(config.passfile())).isEqualTo("*:*:*:postgres:s3cret\n*:*:*:rep\\:l:p\\:w\\\\x\n"
                + "*:*:*:postgres:s3cret\n");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(config.passfile())))
                .isEqualTo("rw-------");
        assertThat(ConfigFiles.conninfo(Map.of("application_name", "a b'c"))).isEqualTo("application_name='a b\\'c'");
    }

    @Test
    void defaultsDerivedFromTheDataDirectory() {
        LocalPostgresConfig c = config();
        assertThat(c.workDir()).isEqualTo(dir.resolve("data.pgha"));
        assertThat(c.passfile()).isEqualTo(dir.resolve("data.pgha/pgpass"));
        assertThat(c.connectAddress()).isEqualTo("127.0.0.1");
        assertThat(c.rewindCredentials()).isEqualTo(c.superuser());
        assertThat(c.toString()).doesNotContain("s3cret");
    }

    @Test
    void tellsUserBackendsFromPostgresqlsOwnProcesses() {
        assertThat(Postmaster.isAuxiliary("postgres: demo: checkpointer ", "demo")).isTrue();
        assertThat(Postmaster.isAuxiliary("postgres: walsender replicator 127.0.0.1(5432) streaming 0/3", null)).isTrue();
        assertThat(Postmaster.isAuxiliary("postgres: demo: postgres app 127.0.0.1(4711) idle", "demo")).isFalse();
        assertThat(Postmaster.isAuxiliary("postgres: postgres postgres [local] SELECT", null)).isFalse();
    }

    @Test
    void readsEndpointsFromConnUrls() {
        assertThat(Replication.endpoint(member("postgres://10.0.0.1:5433/postgres")))
                .contains(new Replication.Endpoint("10.0.0.1", 5433));
        assertThat(Replication.endpoint(member("postgres://[::1]/postgres"))).contains(new Replication.Endpoint("::1", 5432));
        assertThat(Replication.endpoint(member(null))).isEmpty();
        assertThat(Replication.endpoint(member("not a url"))).isEmpty();
    }

    private static Member member(String url) {
        return new Member("m", url, null, null, null, null, null, null, null, null, null, null, false);
    }

    @Test
    void removesOnlyPostgresqlsOrItsOwnDataDirectories() throws Exception {
        Path work = Files.createDirectories(dir.resolve("work"));
        Path data = Files.createDirectories(dir.resolve("data"));
        DataDirectory dd = new DataDirectory(data, work, 15);
        assertThat(dd.inspect().state()).isEqualTo(DataDirectoryState.EMPTY);

        Files.writeString(data.resolve("mine.txt"), "x");
        assertThat(dd.inspect().state()).isEqualTo(DataDirectoryState.INACCESSIBLE);
        assertThatThrownBy(() -> dd.removeContents("n")).isInstanceOf(PostgresException.class);
        assertThat(data.resolve("mine.txt")).exists();

        dd.markCreating(Host.unprivileged("n")); // pgha was filling it (e.g. pg_basebackup): its contents are pgha's
        assertThat(dd.inspect().state()).isEqualTo(DataDirectoryState.EMPTY);
        dd.removeContents("n");
        assertThat(data).isEmptyDirectory();
        assertThat(dd.isCreating()).isFalse();

        Files.createDirectories(data.resolve("global"));
        Files.writeString(data.resolve("PG_VERSION"), "15\n");
        Files.writeString(data.resolve("global/pg_control"), "x");
        Files.createSymbolicLink(data.resolve("pg_wal"), Files.createDirectories(dir.resolve("wal")));
        Files.writeString(dir.resolve("wal/000000010000000000000001"), "wal");
        assertThat(dd.inspect().state()).isEqualTo(DataDirectoryState.INITIALIZED);
        dd.removeContents("n");
        assertThat(data).isEmptyDirectory();
        assertThat(dir.resolve("wal/000000010000000000000001")).as("a symlinked pg_wal's target is left").exists();
    }

    @Test
    void operationsRunPhasesInOrderAndEndOnce() {
        Object lock = new Object();
        List<String> log = new ArrayList<>();
        int[] polls = {0};
        Operation op = new Operation(lock, "n", "test", (ok, detail, cancelled) -> log.add("end " + ok + " " + detail));
        op.then(() -> Progress.done("first"), () -> ++polls[0] < 3 ? Progress.RUNNING : Progress.done("second"));
        assertThat(op.poll()).isEqualTo(PostgresOperation.Outcome.RUNNING);
        assertThat(op.stopResult()).isEqualTo(StopResult.IN_PROGRESS);
        assertThat(op.poll()).isEqualTo(PostgresOperation.Outcome.RUNNING);
        assertThat(op.poll()).isEqualTo(PostgresOperation.Outcome.SUCCEEDED);
        assertThat(op.poll()).isEqualTo(PostgresOperation.Outcome.SUCCEEDED);
        assertThat(op.detail()).isEqualTo("second");
        assertThat(log).containsExactly("end true second");

        Operation failing = new Operation(lock, "n", "failing", (ok, detail, cancelled) -> log.add("end " + ok + " " + detail));
        failing.then(() -> {
            throw new IllegalStateException("boom");
        }, () -> Progress.done("never"));
        assertThat(failing.poll()).isEqualTo(PostgresOperation.Outcome.FAILED);
        assertThat(failing.detail()).isEqualTo("boom");

        Operation cancelled = new Operation(lock, "n", "slow", (ok, detail, c) -> log.add("cancelled " + c));
        cancelled.then(() -> Progress.RUNNING);
        cancelled.poll();
        cancelled.cancel();
        cancelled.cancel();
        assertThat(cancelled.poll()).isEqualTo(PostgresOperation.Outcome.FAILED);
        assertThat(log).containsExactly("end true second", "end false boom", "cancelled true");
    }
}
