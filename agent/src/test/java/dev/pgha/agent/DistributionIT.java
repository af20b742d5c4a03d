package dev.pgha.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.testing.EtcdServer;
import dev.pgha.testing.TempPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The distribution as an operator uses it: the tarball ({@code mvn package}'s
 * {@code pgha-agent-<version>-dist.tar.gz}) unpacked into a fresh directory, {@code bin/pgha version},
 * then three members started with {@code bin/pgha <patroni.yml>} from Patroni-style YAML files
 * over a real etcd and real PostgreSQL 15, {@code bin/pgha list} showing one leader and two
 * streaming replicas, and {@code bin/pgha switchover} moving the leader. Runs in Maven's integration-test phase (after package), where the pom sets
 * {@code pgha.dist}.
 */
@EnabledIfSystemProperty(named = "pgha.dist", matches = ".+")
class DistributionIT {

    private static final Duration WAIT = Duration.ofSeconds(90);

    private TempPostgres tmp;
    private EtcdServer etcd;
    private Path home;
    private final Map<String, Process> agents = new LinkedHashMap<>();

    @BeforeEach
    void setUp() throws Exception {
        Path tarball = Path.of(System.getProperty("pgha.dist"));
        assertThat(tarball).as("the distribution, built by mvn package").isRegularFile();
        tmp = TempPostgres.create();
        etcd = EtcdServer.start();
        Path unpacked = Files.createDirectories(tmp.base().resolve("opt"));
        Process tar = new ProcessBuilder("tar", "-xzf", tarball.toString(), "-C", unpacked.toString())
                .redirectErrorStream(true).start();
        String out = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(tar.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(tar.exitValue()).as(out).isZero();
        home = unpacked.resolve("pgha-" + System.getProperty("pgha.version"));
    }

    @AfterEach
    void tearDown() {
        agents.values().forEach(Process::destroyForcibly);
        for (Process p : agents.values()) {
            try {
                p.waitFor(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (tmp != null) {
            tmp.close();   // kills the PostgreSQL servers under it, deletes the unpacked distribution too
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    private ProcessBuilder pgha(String... args) {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/pgha").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("PGHA_JAVA_OPTS");
        pb.environment().keySet().removeIf(k -> k.startsWith("PATRONI_"));
        return pb;
    }

    /** Runs a short {@code bin/pgha} command; its status and output. */
    private String[] command(String... args) throws Exception {
        Process p = pgha(args).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("pgha " + String.join(" ", args)).isTrue();
        return new String[] {Integer.toString(p.exitValue()), out};
    }

    /** A member's patroni.yml in Patroni's layout, the passwords inline as Patroni's files have them. */
    private Path patroniYml(String name) throws IOException {
        Path dir = tmp.base().resolve(name);
        String yml = """
                scope: disttest
                namespace: /service/
                name: %1$s
                restapi:
                  listen: 127.0.0.1:%2$d
                  connect_address: 127.0.0.1:%2$d
                etcd3:
                  hosts: %3$s
                bootstrap:
                  dcs:
                    ttl: 20
                    loop_wait: 1
                    retry_timeout: 3
                    postgresql:
                      use_pg_rewind: true
                      parameters:
                        max_connections: 25
                postgresql:
                  listen: 127.0.0.1:%4$d
                  connect_address: 127.0.0.1:%4$d
                  data_dir: %5$s
                  work_dir: %6$s
                  pgpass: /tmp/pgpass-unused
                  authentication:
                    superuser:
                      username: postgres
                      password: %7$s
                    replication:
                      username: replicator
                      password: %8$s
                  parameters:
                    fsync: "off"
                    shared_buffers: 16MB
                tags:
                  nofailover: false
                shutdown_timeout: 30
                """.formatted(name, TempPostgres.freePort(), etcd.hosts(), TempPostgres.freePort(),
                dir.resolve("data"), dir.resolve("work"), TempPostgres.SUPERUSER_PASSWORD,
                TempPostgres.REPLICATION_PASSWORD);
        Path file = tmp.base().resolve(name + ".yml");
        Files.writeString(file, yml);
        return file;
    }

    private String log(String name) {
        return tmp.read(name + ".log");
    }

    @Test
    void theUnpackedDistributionRunsAThreeMemberClusterFromPatroniYmlFiles() throws Exception {
        String[] version = command("version");
        assertThat(version[0]).as(version[1]).isEqualTo("0");
        assertThat(version[1].strip()).isEqualTo("pgha " + System.getProperty("pgha.version"));

        Map<String, Path> files = new LinkedHashMap<>();
        for (String name : List.of("node1", "node2", "node3")) {
            files.put(name, patroniYml(name));
        }
        start("node1", files.get("node1"));
        TempPostgres.until("node1 leads; log:\n" + log("node1"), WAIT,
                () -> log("node1").contains("INFO pgha.node1 - no action. I am (node1), the leader with the lock"));
        start("node2", files.get("node2"));
        start("node3", files.get("node3"));

        String[] last = {""};
        try {
            awaitList(files.get("node3"), last);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\nlast list:\n" + last[0] + "\nlogs:\n" + log("node1")
                    + log("node2") + log("node3"), e);
        }
        assertThat(last[0]).as("the command names the ignored key first, then prints the table")
                .startsWith(files.get("node3") + ": ignoring setting postgresql.pgpass")
                .contains(System.lineSeparator() + "+ Cluster: disttest (");

        // an operator's switchover through the launcher, reading the same patroni.yml
        String[] switchover = command("switchover", files.get("node1").toString(), "--leader", "node1",
                "--candidate", "node2");
        assertThat(switchover[0]).as(switchover[1]).isEqualTo("0");
        assertThat(switchover[1]).contains("Successfully switched over to \"node2\"");
        String logs = log("node1") + log("node2") + log("node3");
        assertThat(logs).as("the ignored Patroni key is reported by name")
                .contains("WARN pgha.node2 - node2: ignoring setting postgresql.pgpass");
        assertThat(logs).doesNotContain(TempPostgres.SUPERUSER_PASSWORD, TempPostgres.REPLICATION_PASSWORD);
    }

    private void awaitList(Path file, String[] last) {
        TempPostgres.until("list shows a leader and two streaming replicas", WAIT, () -> {
            try {
                String[] list = command("list", file.toString());
                last[0] = list[1];
                return list[0].equals("0")
                        && list[1].matches("(?s).*\\| node1 +\\| 127\\.0\\.0\\.1:\\d+ +\\| Leader +\\| running +\\|.*")
                        && list[1].matches("(?s).*\\| node2 +\\| 127\\.0\\.0\\.1:\\d+ +\\| Replica +\\| streaming +\\|.*")
                        && list[1].matches("(?s).*\\| node3 +\\| 127\\.0\\.0\\.1:\\d+ +\\| Replica +\\| streaming +\\|.*");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });
    }

    private void start(String name, Path file) throws IOException {
        Process p = pgha(file.toString()).redirectErrorStream(true)
                .redirectOutput(tmp.base().resolve(name + ".log").toFile()).start();
        agents.put(name, p);
    }
}
