package dev.pgha.agent;

import static org.assertj.core.api.Assertions.assertThat;

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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How the {@code switchover} command asks the new leader whether it accepts writes, on a real
 * PostgreSQL 15: yes for a running primary with the right credentials; no (the member key then
 * decides) with other credentials or when nothing listens; and how it finds the superuser's password.
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
    void asksTheNewLeadersPostgresqlWhetherItIsOutOfRecovery() {
        LocalPostgres pg = LocalPostgres.create(tmp.node("node1").build());
        assertThat(TempPostgres.await(pg.bootstrap(), LONG)).isEqualTo(PostgresOperation.Outcome.SUCCEEDED);
        Member m = new Member("node1", pg.connectionUrl(), null, "running", "replica", null, null, null, null, null,
                null, null, false);
        Credentials su = pg.config().superuser();

        assertThat(AgentRequest.acceptsWrites(m, su)).as("a running primary").isTrue();
        assertThat(AgentRequest.acceptsWrites(m, Credentials.of(su.username(), "wrong"))).as("other credentials")
                .isFalse();
        assertThat(AgentRequest.acceptsWrites(new Member("x", "postgres://127.0.0.1:" + FreePorts.allocate()
                + "/postgres", null, "running", "primary", null, null, null, null, null, null, null, false), su))
                .as("nothing listens").isFalse();

        assertThat(TempPostgres.await(pg.stop(StopMode.FAST, false), LONG)).isEqualTo(PostgresOperation.Outcome.SUCCEEDED);
        assertThat(AgentRequest.acceptsWrites(m, su)).as("stopped").isFalse();
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
