package dev.pgha.postgres.local;

import static dev.pgha.postgres.PostgresState.CREATING_REPLICA;
import static dev.pgha.postgres.PostgresState.RUNNING;
import static dev.pgha.postgres.PostgresState.STOPPED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.pgha.HaConfigException;
import dev.pgha.cluster.Member;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.PostgresException;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;
import dev.pgha.testing.TempPostgres;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Bad input gives a clear error or a failed operation, and pgha deletes nothing it did not create. */
class LocalPostgresBadInputTest {

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
    void aWrongBinDirNamesTheMissingBinary() {
        LocalPostgresConfig config = tmp.node("node1").binDir(tmp.base()).build();
        assertThatThrownBy(() -> LocalPostgres.create(config)).isInstanceOf(PostgresException.class)
                .hasMessageContaining("initdb not found in " + tmp.base());
        LocalPostgresConfig missing = tmp.node("node1").binDir(Path.of("/no/such/bin")).build();
        assertThatThrownBy(() -> LocalPostgres.create(missing)).isInstanceOf(PostgresException.class)
                .hasMessageContaining("/no/such/bin").hasMessageContaining("not a directory");
    }

    @Test
    void rootWithoutAnOsUserIsRefusedWithTheReason() {
        assumeTrue(TempPostgres.isRoot(), "only as root");
        LocalPostgresConfig config = tmp.node("node1").osUser(null).build();
        assertThatThrownBy(() -> LocalPostgres.create(config)).isInstanceOf(PostgresException.class)
                .hasMessageContaining("PostgreSQL refuses to run as root").hasMessageContaining("os_user");
        assertThatThrownBy(() -> LocalPostgres.create(tmp.node("node1").osUser("no-such-user-x").build()))
                .isInstanceOf(PostgresException.class).hasMessageContaining("'no-such-user-x' does not exist");
    }

    @Test
    void aDataDirectoryThatIsNotPostgresqlsIsReportedAndNeverTouched() throws Exception {
        LocalPostgresConfig config = tmp.node("node1").build();
        Files.createDirectories(config.dataDir());
        Path precious = config.dataDir().resolve("precious.txt");
        Files.writeString(precious, "keep me");
        LocalPostgres pg = LocalPostgres.create(config);

        PostgresStatus st = pg.status();
        assertThat(st.dataDirectory()).isEqualTo(DataDirectoryState.INACCESSIBLE);
        assertThat(st.dataDirectoryError()).contains(config.dataDir().toString(), "not a PostgreSQL data directory");
        assertThatThrownBy(pg::bootstrap).isInstanceOf(PostgresException.class).hasMessageContaining("bootstrap cannot begin");
        assertThatThrownBy(() -> pg.cloneFrom(Member.named("x"))).isInstanceOf(PostgresException.class);
        assertThatThrownBy(pg::start).isInstanceOf(PostgresException.class);
        assertThatThrownBy(pg::removeDataDirectory).isInstanceOf(PostgresException.class)
                .hasMessageContaining("refusing to remove");
        assertThatThrownBy(pg::controlData).isInstanceOf(PostgresException.class);

        assertThat(Files.readString(precious)).isEqualTo("keep me");
        assertThat(pg.stateHistory()).containsExactly(STOPPED);
    }

    @Test
    void aDataDirectoryOfAnotherMajorVersionIsReported() throws Exception {
        LocalPostgresConfig config = tmp.node("node1").build();
        Files.createDirectories(config.dataDir().resolve("global"));
        Files.writeString(config.dataDir().resolve("PG_VERSION"), "14\n");
        Files.writeString(config.dataDir().resolve("global").resolve("pg_control"), "x");

        PostgresStatus st = LocalPostgres.create(config).status();

        assertThat(st.dataDirectory()).isEqualTo(DataDirectoryState.INACCESSIBLE);
        assertThat(st.dataDirectoryError()).contains("PostgreSQL 14 cluster", "binaries are PostgreSQL 1");
    }

    @Test
    void aPortInUseFailsTheStartWithTheReasonAndKeepsTheData() throws Exception {
        LocalPostgresConfig config = tmp.node("node1").build();
        LocalPostgres pg = LocalPostgres.create(config);
        try (ServerSocket squatter = new ServerSocket(config.port(), 1, InetAddress.getByName("127.0.0.1"))) {
            assertThat(squatter.isBound()).isTrue();
            PostgresOperation bootstrap = Pg.failed(pg.bootstrap());
            assertThat(bootstrap.detail()).contains("postmaster exited during start", "Address already in use");
            assertThat(pg.status().state()).isEqualTo(PostgresState.START_FAILED);
            assertThat(pg.status().dataDirectory()).as("initdb's work is kept").isEqualTo(DataDirectoryState.INITIALIZED);
        }
        Pg.ok(pg.start());
        assertThat(pg.status().state()).isEqualTo(RUNNING);
    }

    @Test
    void aFailedCloneCleansUpOnlyWhatItCreated() throws Exception {
        LocalPostgresConfig config = tmp.node("node2").build();
        Path parent = config.dataDir().getParent();
        Files.createDirectories(parent);
        Path neighbour = parent.resolve("neighbour.txt");
        Files.writeString(neighbour, "not pgha's");
        LocalPostgres pg = LocalPostgres.create(config);
        Member nobody = new Member("ghost", "postgres://127.0.0.1:" + TempPostgres.freePort() + "/postgres", null,
                "running", "primary", null, null, null, null, null, null, null, false);

        PostgresOperation clone = Pg.failed(pg.cloneFrom(nobody));

        assertThat(clone.detail()).contains("pg_basebackup failed");
        assertThat(pg.stateHistory()).containsExactly(STOPPED, CREATING_REPLICA, STOPPED);
        assertThat(pg.status().dataDirectory()).isEqualTo(DataDirectoryState.EMPTY);
        assertThat(config.dataDir()).isEmptyDirectory();
        assertThat(Files.readString(neighbour)).isEqualTo("not pgha's");

        PostgresOperation noUrl = Pg.failed(pg.cloneFrom(Member.named("ghost")));
        assertThat(noUrl.detail()).contains("has no usable conn_url");
    }

    @Test
    void callsThatBreakTheContractReturnFailedOperations() throws Exception {
        LocalPostgres pg = LocalPostgres.create(tmp.node("node1").build());
        assertThat(Pg.failed(pg.start()).detail()).contains("not initialized");
        assertThat(Pg.failed(pg.promote()).detail()).contains("not running");

        PostgresOperation bootstrap = pg.bootstrap();
        assertThat(Pg.failed(pg.restart()).detail()).contains("another operation is running");
        Pg.ok(bootstrap);
        assertThat(Pg.failed(pg.bootstrap()).detail()).contains("not empty");
        assertThat(Pg.failed(pg.rewind(Member.named("x"))).detail()).contains("the server is running");
        assertThat(Pg.failed(pg.crashRecovery()).detail()).contains("the server is running");
        assertThatThrownBy(pg::removeDataDirectory).isInstanceOf(PostgresException.class)
                .hasMessageContaining("processes still work");
        PostgresOperation promote = pg.promote();
        assertThat(promote.poll()).isEqualTo(PostgresOperation.Outcome.SUCCEEDED);
        assertThat(promote.detail()).isEqualTo("already primary");
        assertThat(pg.status().state()).isEqualTo(RUNNING);
    }

    @Test
    void theConfigurationNamesTheBadField() {
        List<Runnable> bad = List.of(
                () -> tmp.node("n").port(0).build(),
                () -> tmp.node("n").parameter("port", "5433").build(),
                () -> tmp.node("n").parameter("primary_conninfo", "host=x").build(),
                () -> LocalPostgresConfig.builder().scope("s").name("n").build(),
                () -> tmp.node("n").listenAddresses("*").build(),
                () -> tmp.node("n").socketDirectory(Path.of("/tmp/" + "x".repeat(100))).build(),
                () -> tmp.node("n").osUser("root").build(),
                () -> tmp.node("n").name("two words").build(),
                () -> tmp.node("n").workDir(tmp.base().resolve("n/data/work")).build());
        List<String> fields = List.of("postgresql.port", "postgresql.parameters.port",
                "postgresql.parameters.primary_conninfo", "postgresql.data_dir", "postgresql.connect_address",
                "postgresql.unix_socket_directories", "postgresql.os_user", "name", "pgha.work_dir");
        for (int i = 0; i < bad.size(); i++) {
            Runnable r = bad.get(i);
            assertThatThrownBy(r::run).isInstanceOf(HaConfigException.class)
                    .satisfies(e -> assertThat(((HaConfigException) e).field()).isEqualTo(fields.get(fields.indexOf(
                            ((HaConfigException) e).field()))))
                    .hasMessageContaining(fields.get(i));
        }
        LocalPostgresConfig ok = tmp.node("n").listenAddresses("*").connectAddress("10.0.0.5").build();
        assertThat(ok.toBuilder().build()).isEqualTo(ok);
        assertThat(ok.toString()).doesNotContain(TempPostgres.SUPERUSER_PASSWORD).contains("password ******");
    }
}
