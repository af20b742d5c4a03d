package dev.pgha.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgha.ClusterSettings;
import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.HaClock;
import dev.pgha.HaConfig;
import dev.pgha.HaController;
import dev.pgha.agent.AgentLoop;
import dev.pgha.cluster.ClusterView;
import dev.pgha.dcs.etcd.EtcdDcsClient;
import dev.pgha.postgres.PostgresStatus;
import dev.pgha.postgres.local.LocalPostgres;
import dev.pgha.testing.EtcdServer;
import dev.pgha.testing.Patronictl;
import dev.pgha.testing.TempPostgres;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.LeaseOption;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Patroni's {@code patronictl edit-config} against a pgha cluster on real etcd and real
 * PostgreSQL 15: a leader and a replica, each an {@link HaController} over {@link LocalPostgres}
 * and the etcd adapter, driven in real time by its own {@link AgentLoop}. The new ttl, loop_wait,
 * maximum_lag_on_failover and PostgreSQL parameters act within two cycles on both members: in
 * their settings, in the leader key's lease and the spacing of cycles, in {@code SHOW work_mem};
 * {@code max_connections} waits for a restart, which {@code patronictl list} shows in its "Pending
 * restart" column until {@link HaController#restart()} applied it on each member.
 */
class PatronictlEditConfigTest {

    private static final Logger LOG = LoggerFactory.getLogger(PatronictlEditConfigTest.class);
    private static final String SCOPE = "editconfig";
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private EtcdServer etcd;
    private TempPostgres tmp;
    private final Map<String, Node> nodes = new LinkedHashMap<>();

    /** One member: its server, controller and loop, and every cycle it ran (after the cycle, with the settings then in force). */
    private record Node(LocalPostgres postgres, HaController controller, AgentLoop loop, List<Cycle> cycles) {
    }

    private record Cycle(long endedNanos, CycleResult result, ClusterSettings settings) {
    }

    @BeforeEach
    void startTheCluster() {
        etcd = EtcdServer.start();
        tmp = TempPostgres.create();
        for (String name : List.of("node1", "node2")) {
            LocalPostgres pg = LocalPostgres.create(tmp.node(name).scope(SCOPE).build(), HaClock.system());
            HaConfig config = HaConfig.builder().scope(SCOPE).name(name).ttl(Duration.ofSeconds(10))
                    .loopWait(Duration.ofSeconds(1)).retryTimeout(Duration.ofSeconds(3)).build();
            EtcdDcsClient dcs = EtcdDcsClient.builder().endpoints(etcd.endpoints()).scope(SCOPE).member(name).build();
            HaController controller = HaController.builder().config(config).dcs(dcs).postgres(pg)
                    .listener(pg.listener()).build();
            List<Cycle> cycles = new CopyOnWriteArrayList<>();
            AgentLoop loop = new AgentLoop(name, controller, dcs,
                    r -> cycles.add(new Cycle(System.nanoTime(), r, controller.status().settings())));
            nodes.put(name, new Node(pg, controller, loop, cycles));
        }
        nodes.values().forEach(n -> n.loop().start());
    }

    @AfterEach
    void stopEverything() {
        nodes.values().forEach(n -> n.loop().halt());
        nodes.values().forEach(n -> n.postgres().close());
        if (tmp != null) {
            tmp.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    @Test
    void editConfigActsOnEveryMemberWithinTwoCyclesAndMaxConnectionsWaitsForARestart() throws Exception {
        // given a leader and a replica streaming from it, with ttl 10, loop_wait 1 and Patroni's max_connections 100
        until("a leader and a streaming replica", () -> leader() != null && replica() != null
                && nodes.get(replica()).postgres().status().streaming());
        String leader = leader();
        String replica = replica();
        for (Node n : nodes.values()) {
            assertThat(n.controller().status().settings().ttl()).isEqualTo(Duration.ofSeconds(10));
            assertThat(show(n, "max_connections")).isEqualTo("100");
        }
        try (Patronictl patronictl = new Patronictl(etcd.hosts(), "/service", SCOPE);
             Client etcdClient = Client.builder().endpoints(etcd.endpoints().toArray(String[]::new)).build()) {
            Map<String, Integer> cyclesBefore = new HashMap<>();
            nodes.forEach((name, n) -> cyclesBefore.put(name, n.cycles().size()));

            // when an operator edits the cluster's configuration with Patroni's own tool
            String out = patronictl.run("edit-config", "--force", "-s", "ttl=20", "-s", "loop_wait=2",
                    "-s", "maximum_lag_on_failover=2097152", "-p", "work_mem=8MB", "-p", "max_connections=150");
            assertThat(out).contains("Configuration changed");

            // then, on both members, the second cycle after the edit at the latest has the new settings in force
            for (Map.Entry<String, Node> e : nodes.entrySet()) {
                Node n = e.getValue();
                int from = cyclesBefore.get(e.getKey());
                until(e.getKey() + " ran two cycles after the edit", () -> n.cycles().size() >= from + 2);
                ClusterSettings s = n.cycles().get(from + 1).settings();
                assertThat(s.ttl()).as("%s's ttl", e.getKey()).isEqualTo(Duration.ofSeconds(20));
                assertThat(s.loopWait()).isEqualTo(Duration.ofSeconds(2));
                assertThat(s.maximumLagOnFailover()).isEqualTo(2_097_152L);
                assertThat(s.postgresqlParameters()).containsEntry("work_mem", "8MB")
                        .containsEntry("max_connections", "150");
                assertThat(n.controller().status().settings()).isEqualTo(s);
            }

            // and they act: the leader key's lease is the new ttl, cycles come every 2 s
            until("the leader key on a 20 s lease", () -> leaderLeaseTtl(etcdClient) == 20);
            for (Map.Entry<String, Node> e : nodes.entrySet()) {
                List<Cycle> steady = steadyCyclesFrom(e.getValue(), 3);
                for (Cycle c : steady) {
                    assertThat(c.result().nextCycleIn()).as("%s asks to be called again after loop_wait", e.getKey())
                            .isGreaterThan(Duration.ofSeconds(1)).isLessThanOrEqualTo(Duration.ofSeconds(2));
                }
                long gap = steady.get(2).endedNanos() - steady.get(1).endedNanos();
                assertThat(Duration.ofNanos(gap)).as("%s's cycles %s apart", e.getKey(), Duration.ofNanos(gap))
                        .isGreaterThanOrEqualTo(Duration.ofMillis(1500));
            }

            // and PostgreSQL: work_mem was reloaded on both servers, max_connections waits for a restart
            for (Node n : nodes.values()) {
                until("work_mem 8MB on " + n, () -> show(n, "work_mem").equals("8MB"));
                assertThat(show(n, "max_connections")).isEqualTo("100");
                assertThat(n.postgres().status().state().patroniName()).isEqualTo("running");
            }
            until("patronictl list showing a pending restart on both members", () -> {
                Map<String, String> pending = pendingRestart(patronictl);
                return "*".equals(pending.get(leader)) && "*".equals(pending.get(replica));
            });
            LOG.info("patronictl list with the restart pending:\n{}", patronictl.run("list"));
            ClusterView view = readCluster();
            assertThat(view.member(leader).orElseThrow().pendingRestart()).isTrue();
            assertThat(view.member(replica).orElseThrow().pendingRestart()).isTrue();

            // when the operator restarts the replica first (a standby needs at least its primary's
            // max_connections), then the leader
            for (String name : List.of(replica, leader)) {
                Node n = nodes.get(name);
                assertThat(n.controller().restart().accepted()).as("restart of %s", name).isTrue();
                until(name + " restarted with max_connections 150", () -> show(n, "max_connections").equals("150")
                        && !n.postgres().status().pendingRestart());
                until("patronictl list without a pending restart for " + name,
                        () -> pendingRestart(patronictl).getOrDefault(name, "").isEmpty());
            }

            // then the flag is gone everywhere, the leader still leads, and the replica streams from it
            until("the replica streaming again", () -> nodes.get(replica).postgres().status().streaming());
            assertThat(leader()).isEqualTo(leader);
            assertThat(pendingRestart(patronictl).values()).allMatch(String::isEmpty);
            String list = patronictl.run("list");
            LOG.info("patronictl list after the restarts:\n{}", list);
            assertThat(list).doesNotContain("Pending restart");
        }
    }

    // ---------------------------------------------------------------- helpers

    private String leader() {
        return nodes.entrySet().stream().filter(e -> e.getValue().controller().status().lockHeld()
                && e.getValue().postgres().status().isRunningPrimary()).map(Map.Entry::getKey).findFirst()
                .orElse(null);
    }

    private String replica() {
        String leader = leader();
        return nodes.entrySet().stream().filter(e -> !e.getKey().equals(leader)).filter(e -> {
            PostgresStatus st = e.getValue().postgres().status();
            return st.acceptingConnections() && st.inRecovery();
        }).map(Map.Entry::getKey).findFirst().orElse(null);
    }

    private ClusterView readCluster() {
        try (EtcdDcsClient observer = EtcdDcsClient.builder().endpoints(etcd.endpoints()).scope(SCOPE)
                .member("observer").build()) {
            return observer.readCluster();
        }
    }

    /** The next {@code n} cycles of a member that end after now and take no action (the steady state). */
    private static List<Cycle> steadyCyclesFrom(Node node, int n) {
        int from = node.cycles().size();
        List<Cycle> out = new ArrayList<>();
        until(n + " steady cycles", () -> {
            out.clear();
            List<Cycle> all = node.cycles();
            for (int i = from; i < all.size() && out.size() < n; i++) {
                if (all.get(i).result().action() == CycleAction.NONE) {
                    out.add(all.get(i));
                } else {
                    out.clear();
                }
            }
            return out.size() == n;
        });
        return out;
    }

    /** The granted TTL of the leader key's lease, in seconds (0 when there is none). */
    private static long leaderLeaseTtl(Client client) {
        try {
            var kvs = client.getKVClient().get(ByteSequence.from("/service/" + SCOPE + "/leader",
                    StandardCharsets.UTF_8)).get(5, TimeUnit.SECONDS).getKvs();
            if (kvs.isEmpty() || kvs.get(0).getLease() == 0) {
                return 0;
            }
            return client.getLeaseClient().timeToLive(kvs.get(0).getLease(), LeaseOption.DEFAULT)
                    .get(5, TimeUnit.SECONDS).getGrantedTTL();
        } catch (Exception e) {
            return 0;
        }
    }

    /** The "Pending restart" column of {@code patronictl list -f json}, by member ("" when empty or absent). */
    private static Map<String, String> pendingRestart(Patronictl patronictl) {
        JsonNode rows = patronictl.json("list", "-f", "json");
        Map<String, String> out = new HashMap<>();
        rows.forEach(r -> out.put(r.path("Member").asText(), r.path("Pending restart").asText("")));
        return out;
    }

    /** {@code SHOW name} on a member's server ("" when it cannot be asked). */
    private static String show(Node n, String name) {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", TempPostgres.SUPERUSER_PASSWORD);
        p.setProperty("connectTimeout", "3");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + n.postgres().config().port()
                + "/postgres", p); Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW " + name)) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            return "";
        }
    }

    /** Waits for {@code condition} (polled every 20 ms) up to {@link #DEADLINE}. */
    private static void until(String what, BooleanSupplier condition) {
        TempPostgres.until(what, DEADLINE, condition);
    }
}
