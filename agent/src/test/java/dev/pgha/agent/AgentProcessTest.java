package dev.pgha.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.testing.EtcdServer;
import dev.pgha.testing.TempPostgres;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two agents as separate processes over real etcd and real PostgreSQL, configured by properties
 * files: one leads and the other follows, both log a line per cycle in Patroni's words,
 * {@code list} prints them like patronictl, and SIGTERM on the leader's agent stops its PostgreSQL
 * and releases the key so the replica takes over long before the ttl could run out.
 */
class AgentProcessTest {

    private static final Duration WAIT = Duration.ofSeconds(90);

    private TempPostgres tmp;
    private EtcdServer etcd;
    private final List<Process> agents = new ArrayList<>();

    @BeforeEach
    void setUp() {
        tmp = TempPostgres.create();
        etcd = EtcdServer.start();
    }

    @AfterEach
    void tearDown() {
        agents.forEach(Process::destroyForcibly);
        for (Process p : agents) {
            try {
                p.waitFor(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        tmp.close();
        etcd.close();
    }

    private Path settings(String name) throws IOException {
        Path dir = tmp.base().resolve(name);
        Path suPw = tmp.base().resolve("su.pw");
        Files.writeString(suPw, TempPostgres.SUPERUSER_PASSWORD + "\n");
        String props = String.join("\n",
                "scope=agenttest",
                "name=" + name,
                "dcs.type=etcd",
                "etcd.hosts=" + etcd.hosts(),
                "ttl=30",
                "loop_wait=1",
                "retry_timeout=3",
                "postgresql.use_pg_rewind=true",
                "postgresql.data_dir=" + dir.resolve("data"),
                "postgresql.work_dir=" + dir.resolve("work"),
                "postgresql.port=" + TempPostgres.freePort(),
                "restapi.listen=127.0.0.1:" + TempPostgres.freePort(),
                "postgresql.authentication.superuser.password_file=" + suPw,
                "postgresql.authentication.replication.password_env=PGHA_TEST_REPL_PW",
                "postgresql.parameters.fsync=off",
                "postgresql.parameters.shared_buffers=16MB",
                "bootstrap.dcs.postgresql.parameters.max_connections=25",
                "shutdown_timeout=60",
                "");
        Path file = tmp.base().resolve(name + ".properties");
        Files.writeString(file, props);
        return file;
    }

    private Process agent(String name, Path settings) throws IOException {
        Path log = tmp.base().resolve(name + ".log");
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), Agent.class.getName(), settings.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("PGHA_TEST_REPL_PW", TempPostgres.REPLICATION_PASSWORD);
        Process p = pb.start();
        agents.add(p);
        return p;
    }

    private String log(String name) {
        return tmp.read(name + ".log");
    }

    private String list(Path settings) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Agent.list(settings, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(rc).as(err.toString(StandardCharsets.UTF_8)).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }

    @Test
    void twoAgentsLeadAndFollowAndSigtermHandsTheLockOver() throws Exception {
        Path s1 = settings("node1");
        Path s2 = settings("node2");
        Process a1 = agent("node1", s1);
        TempPostgres.until("node1 leads; log:\n" + log("node1"), WAIT,
                () -> log("node1").contains("INFO pgha.node1 - no action. I am (node1), the leader with the lock"));
        Process a2 = agent("node2", s2);
        TempPostgres.until("node2 follows; log:\n" + log("node2"), WAIT, () -> log("node2")
                .contains("INFO pgha.node2 - no action. I am (node2), a secondary, and following a leader (node1)"));

        TempPostgres.until("list shows a leader and a streaming replica", Duration.ofSeconds(10), () -> {
            String table = list(s1);
            return table.matches("(?s).*\\| node1 +\\| 127\\.0\\.0\\.1:\\d+ +\\| Leader +\\| running +\\| +1 \\|.*")
                    && table.matches("(?s).*\\| node2 +\\| 127\\.0\\.0\\.1:\\d+ +\\| Replica +\\| streaming +\\|.*");
        });
        assertThat(log("node1") + log("node2")).doesNotContain(TempPostgres.SUPERUSER_PASSWORD,
                TempPostgres.REPLICATION_PASSWORD);

        // SIGTERM: graceful shutdown; node2 takes over well within the ttl of 30 s.
        long t0 = System.nanoTime();
        a1.destroy();
        assertThat(a1.waitFor(60, TimeUnit.SECONDS)).as(log("node1")).isTrue();
        assertThat(log("node1")).contains("shut down: PostgreSQL stopped and leader key released");
        TempPostgres.until("node2 leads; log:\n" + log("node2"), WAIT,
                () -> log("node2").contains("INFO pgha.node2 - no action. I am (node2), the leader with the lock"));
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(seconds).as("takeover after SIGTERM").isLessThan(20);
        String table = list(s2);
        assertThat(table).containsPattern("\\| node2 +\\| 127\\.0\\.0\\.1:\\d+ +\\| Leader ");
        assertThat(a2.isAlive()).isTrue();
    }
}
