package dev.pgha.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.agent.Agent;
import dev.pgha.testing.HaproxyServer;
import dev.pgha.testing.TempPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A real HAProxy (Debian's {@code haproxy}) in front of three {@link Agent}s with real
 * PostgreSQL over a real etcd ({@link AgentCluster}), configured as Patroni's documentation shows
 * ({@link HaproxyServer}: {@code mode tcp}, {@code option httpchk OPTIONS /primary},
 * {@code http-check expect status 200}, one {@code listen} per port, each server checked on the
 * member's REST API port). A client that only knows HAProxy's address writes to the leader, and
 * after the leader's host is lost writes to the member promoted in its place.
 *
 * <p>Every client statement goes over a new connection, so each one is routed by HAProxy anew.
 */
class HaproxyRoutingTest {

    /** How long the three members may take to come up (bootstrap, two base backups). */
    private static final Duration CLUSTER_UP = Duration.ofSeconds(120);
    /** How long HAProxy's checks and a failover may take (ttl 10 s, checks every 1 s, fall 2). */
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int ROWS = 10;

    private AgentCluster cluster;
    private HaproxyServer haproxy;

    @AfterEach
    void tearDown() {
        try {
            if (haproxy != null) {
                haproxy.close();
            }
        } finally {
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    @Test
    void a_client_writing_through_haproxy_reaches_the_primary_and_after_host_loss_the_new_one() throws Exception {
        // given a cluster of three: one member leads and the other two stream from it
        cluster = AgentCluster.builder().build();
        cluster.startAll();
        await("one member leads and the other two stream from it", CLUSTER_UP,
                () -> cluster.leader().map(cluster::isHealthyWithLeader).orElse(false));
        String leader = cluster.leader().orElseThrow();
        List<String> replicas = others(leader);

        // and HAProxy in front of it, checking every member's REST API
        List<HaproxyServer.Backend> backends = cluster.names().stream()
                .map(n -> new HaproxyServer.Backend(n, cluster.port(n), cluster.restPort(n))).toList();
        haproxy = HaproxyServer.start(backends);
        // (HAProxy counts a server as up until its first check says otherwise)
        await("HAProxy's checks found the leader for the primary port and the replicas for the replica port",
                WAIT, () -> haproxy.serversUp("primary").equals(Set.of(leader))
                        && haproxy.serversUp("replicas").equals(Set.copyOf(replicas)));

        // when a client connects to HAProxy's primary port and creates a table
        try (Connection c = throughHaproxy(haproxy.primaryPort()); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE writes (id int PRIMARY KEY, server_port int NOT NULL)");
        }
        // and inserts rows, each over a new connection
        List<String> writtenOn = new ArrayList<>();
        for (int id = 1; id <= ROWS; id++) {
            writtenOn.add(memberOnPort(insert(id)));
        }

        // then every insert was executed by the leader's server
        assertThat(writtenOn).hasSize(ROWS).containsOnly(leader);
        // and the rows are on the leader's own server
        assertThat(cluster.query(leader, "SELECT count(*) FROM writes WHERE server_port = " + cluster.port(leader)))
                .containsExactly(Integer.toString(ROWS));

        // when clients connect to HAProxy's replica port
        Set<String> readFrom = new HashSet<>();
        for (int i = 0; i < 4; i++) {
            try (Connection c = throughHaproxy(haproxy.replicaPort()); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery(), inet_server_port()")) {
                assertThat(rs.next()).isTrue();
                // then each one reaches a server in recovery
                assertThat(rs.getBoolean(1)).as("pg_is_in_recovery() through the replica port").isTrue();
                readFrom.add(memberOnPort(rs.getInt(2)));
            }
        }
        // and HAProxy balances them over both replicas (round robin), never the leader
        assertThat(readFrom).containsExactlyInAnyOrderElementsOf(replicas);

        // given the replicas replayed every acknowledged row (replication is asynchronous)
        await("both replicas replayed the " + ROWS + " rows", WAIT,
                () -> replicas.stream().allMatch(r -> rows(r) == ROWS));

        // when the leader's host is lost: agent, guard and postmaster killed together
        long t0 = System.nanoTime();
        cluster.killHost(leader);

        // then, polling with a new connection each time, an INSERT through HAProxy succeeds
        AtomicInteger attempts = new AtomicInteger();
        AtomicReference<SQLException> lastError = new AtomicReference<>();
        AtomicInteger newPort = new AtomicInteger();
        await("an INSERT through HAProxy's primary port succeeds", WAIT, () -> {
            attempts.incrementAndGet();
            try {
                newPort.set(insert(ROWS + 1));
                return true;
            } catch (SQLException e) {
                lastError.set(e);
                return false;
            }
        });
        long failoverMillis = (System.nanoTime() - t0) / 1_000_000;
        System.out.printf("HaproxyRoutingTest: an INSERT through HAProxy succeeded %d ms after the host loss, "
                + "after %d attempts (last refusal: %s)%n", failoverMillis, attempts.get(), lastError.get());

        // and it was executed by another member, the one now holding the leader key
        String promoted = memberOnPort(newPort.get());
        assertThat(promoted).as("the member that took the INSERT").isNotEqualTo(leader).isIn(replicas);
        assertThat(cluster.leader()).contains(promoted);
        assertThat(cluster.query(promoted, "SELECT server_port FROM writes WHERE id = " + (ROWS + 1)))
                .containsExactly(Integer.toString(cluster.port(promoted)));
        // and HAProxy routes the primary port only to the new leader, the replica port to the remaining replica
        String remaining = others(promoted).stream().filter(n -> !n.equals(leader)).findFirst().orElseThrow();
        await("HAProxy routes the primary port to " + promoted + " and the replica port to " + remaining, WAIT,
                () -> haproxy.serversUp("primary").equals(Set.of(promoted))
                        && haproxy.serversUp("replicas").equals(Set.of(remaining)));
        // and every row acknowledged before the loss is there, read through HAProxy and on the server itself
        try (Connection c = throughHaproxy(haproxy.primaryPort()); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*), inet_server_port() FROM writes WHERE id <= " + ROWS
                     + " AND server_port = " + cluster.port(leader))) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).as("rows written on the lost leader, read through HAProxy").isEqualTo(ROWS);
            assertThat(memberOnPort(rs.getInt(2))).isEqualTo(promoted);
        }
        assertThat(rows(promoted)).isEqualTo(ROWS);
    }

    // ---------------------------------------------------------------------------------- helpers

    private List<String> others(String name) {
        return cluster.names().stream().filter(n -> !n.equals(name)).toList();
    }

    /** A new connection to whatever server HAProxy forwards {@code port} to. */
    private static Connection throughHaproxy(int port) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", TempPostgres.SUPERUSER_PASSWORD);
        p.setProperty("connectTimeout", "2");
        p.setProperty("socketTimeout", "10");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    /**
     * Inserts row {@code id} over a new connection to HAProxy's primary port, recording the port
     * of the server that executed it, and returns that port once committed.
     */
    private int insert(int id) throws SQLException {
        try (Connection c = throughHaproxy(haproxy.primaryPort());
             PreparedStatement st = c.prepareStatement(
                     "INSERT INTO writes (id, server_port) VALUES (?, inet_server_port()) RETURNING server_port")) {
            st.setInt(1, id);
            try (ResultSet rs = st.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("INSERT ... RETURNING returned no row");
                }
                return rs.getInt(1);
            }
        }
    }

    /** The member whose PostgreSQL listens on {@code port}. */
    private String memberOnPort(int port) {
        return cluster.names().stream().filter(n -> cluster.port(n) == port).findFirst()
                .orElseThrow(() -> new AssertionError("no member listens on port " + port));
    }

    /** How many of the rows 1..ROWS {@code name} has (-1 when it cannot be asked). */
    private long rows(String name) {
        List<String> r = cluster.query(name, "SELECT count(*) FROM writes WHERE id <= " + ROWS);
        return r.isEmpty() ? -1 : Long.parseLong(r.get(0));
    }

    /** Polls {@code condition} until it holds; on timeout fails with HAProxy's and the agents' output. */
    private void await(String what, Duration timeout, BooleanSupplier condition) {
        try {
            TempPostgres.until(what, timeout, condition);
        } catch (AssertionError e) {
            StringBuilder m = new StringBuilder(e.getMessage());
            if (haproxy != null) {
                m.append("\n--- HAProxy: up for primary ").append(haproxy.serversUp("primary")).append(", for replicas ")
                        .append(haproxy.serversUp("replicas")).append("; output:\n").append(haproxy.logTail(60));
            }
            m.append("\n--- leader key: ").append(cluster.leader().orElse("(none)"));
            for (String n : cluster.names()) {
                List<String> lines = cluster.log(n).lines().toList();
                m.append("\n--- ").append(n).append(" (last 40 lines)\n")
                        .append(String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size())));
            }
            throw new AssertionError(m.toString(), e);
        }
    }
}
