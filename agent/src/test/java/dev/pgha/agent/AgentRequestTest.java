package dev.pgha.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.StopMode;
import dev.pgha.postgres.local.Credentials;
import dev.pgha.postgres.local.LocalPostgres;
import dev.pgha.testing.FreePorts;
import dev.pgha.testing.TempPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the {@code switchover} command asks the possible new leaders whether they left recovery, on
 * a real PostgreSQL 15: a session to each member but the leader, opened once the request is written; none
 * (the member key then decides) with other credentials or when nothing listens, and a session that
 * fails is dropped; and how it finds the superuser's password.
 */
class AgentRequestTest {

    private static final Duration LONG = Duration.ofSeconds(90);
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
    void asksThePossibleNewLeadersOnTheirOwnSessions() {
        LocalPostgres pg = LocalPostgres.create(tmp.node("node1").build());
        assertThat(TempPostgres.await(pg.bootstrap(), LONG)).isEqualTo(PostgresOperation.Outcome.SUCCEEDED);
        Member node1 = new Member("node1", pg.connectionUrl(), null, "running", "replica", null, null, null, null, null,
                null, null, false);
        Member deaf = new Member("node3", "postgres://127.0.0.1:" + FreePorts.allocate() + "/postgres", null, "running",
                "replica", null, null, null, null, null, null, null, false);
        Member old = new Member("node0", null, null, "running", "primary", null, null, null, null, null, null, null,
                false);
        ClusterView view = new ClusterView(null, ClusterConfig.EMPTY, null, ClusterStatus.EMPTY,
                List.of(old, node1, deaf), null, null, null, null);
        Credentials su = pg.config().superuser();

        try (AgentRequest.Sessions s = AgentRequest.Sessions.open(view, "node0", null, su)) {
            assertThat(s.members()).as("every member but the leader that can be reached").containsExactly("node1");
            assertThat(s.outOfRecovery()).as("a running primary").isEqualTo("node1");

            assertThat(TempPostgres.await(pg.stop(StopMode.FAST, false), LONG))
                    .isEqualTo(PostgresOperation.Outcome.SUCCEEDED);
            assertThat(s.outOfRecovery()).as("stopped: cannot be asked").isNull();
            assertThat(s.members()).as("its session is dropped: the member key decides").isEmpty();
        }
        try (AgentRequest.Sessions s = AgentRequest.Sessions.open(view, "node0", "node1",
                Credentials.of(su.username(), "wrong"))) {
            assertThat(s.members()).as("other credentials: no session").isEmpty();
        }
    }

    @Test
    void readsOnlyTheSuperusersPasswordFromTheSettings(@TempDir Path dir) throws Exception {
        Path pw = Files.writeString(dir.resolve("su.pw"), "s3cret\n");
        Path withFile = Files.writeString(dir.resolve("a.properties"),
                "postgresql.authentication.superuser.password_file=" + pw + "\n"
                        + "postgresql.authentication.replication.password_env=NOT_SET_ANYWHERE_4711\n");
        Path without = Files.writeString(dir.resolve("b.properties"), "name=node1\n");
        Credentials user = Credentials.withoutPassword("admin");

        assertThat(AgentRequest.superuser(withFile, user)).isEqualTo(Credentials.of("admin", "s3cret"));
        assertThat(AgentRequest.superuser(without, user)).isEqualTo(user);
        assertThat(AgentRequest.superuser(dir.resolve("missing.properties"), user)).isEqualTo(user);
    }
}
