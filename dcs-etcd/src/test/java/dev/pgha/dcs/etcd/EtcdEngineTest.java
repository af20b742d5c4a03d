package dev.pgha.dcs.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgha.HaConfig;
import dev.pgha.testing.EtcdServer;
import dev.pgha.testing.Patronictl;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine over real etcd: three {@link dev.pgha.HaController}s with fake PostgreSQL in real
 * time (ttl 10 s, loop_wait 1 s, retry_timeout 3 s). One node leads and the others follow;
 * Patroni's {@code patronictl} lists the cluster as Patroni would show it; when the leader's host
 * stops cycling, another node takes the lock within ttl plus one cycle.
 */
class EtcdEngineTest {

    private static final Duration TTL = Duration.ofSeconds(10);
    private static final Duration LOOP_WAIT = Duration.ofSeconds(1);
    private static final Duration RETRY_TIMEOUT = Duration.ofSeconds(3);

    private static final Logger LOG = LoggerFactory.getLogger(EtcdEngineTest.class);

    private static EtcdServer etcd;

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdServer.start();
    }

    @AfterAll
    static void stopEtcd() {
        if (etcd != null) {
            etcd.close();
        }
    }

    @Test
    void oneLeaderOthersFollowPatronictlAgreesAndAFrozenLeaderIsReplacedWithinTtlPlusOneCycle() {
        String scope = "engine-" + UUID.randomUUID().toString().substring(0, 8);
        HaConfig.Builder config = HaConfig.builder().ttl(TTL).loopWait(LOOP_WAIT).retryTimeout(RETRY_TIMEOUT);
        try (RealTimeHaCluster cluster = new RealTimeHaCluster(etcd, scope, config, List.of("node1", "node2", "node3"));
             Patronictl patronictl = new Patronictl(etcd.hosts(), "/service", scope)) {

            assertThat(cluster.runUntil(cluster::isConverged, Duration.ofSeconds(30)))
                    .as("a leader and two streaming replicas").isTrue();
            String leader = cluster.leader().orElseThrow();

            assertPatronictlList(patronictl, scope, leader);

            long frozenAt = System.nanoTime();
            cluster.freeze(leader);
            boolean taken = cluster.runUntil(() -> cluster.leader().filter(l -> !l.equals(leader)).isPresent(),
                    TTL.plus(LOOP_WAIT).plusSeconds(5));
            Duration took = Duration.ofNanos(System.nanoTime() - frozenAt);
            assertThat(taken).as("another node takes the lock after the leader froze").isTrue();
            assertThat(took).as("time until another node held the lock").isLessThanOrEqualTo(TTL.plus(LOOP_WAIT));
            assertThat(cluster.fencings(leader)).as("the frozen leader's guard fenced its primary").isEqualTo(1);

            String newLeader = cluster.leader().orElseThrow();
            assertThat(cluster.runUntil(cluster::isConverged, Duration.ofSeconds(20)))
                    .as("the new leader is primary and the remaining replica follows it").isTrue();
            assertThat(cluster.writablePrimaries()).containsExactly(newLeader);
        }
    }

    @Test
    void patronictlSwitchoverIsCarriedOutByTheEngine() {
        String scope = "switchover-" + UUID.randomUUID().toString().substring(0, 8);
        HaConfig.Builder config = HaConfig.builder().ttl(TTL).loopWait(LOOP_WAIT).retryTimeout(RETRY_TIMEOUT);
        try (RealTimeHaCluster cluster = new RealTimeHaCluster(etcd, scope, config, List.of("node1", "node2", "node3"));
             Patronictl patronictl = new Patronictl(etcd.hosts(), "/service", scope)) {
            assertThat(cluster.runUntil(cluster::isConverged, Duration.ofSeconds(30))).isTrue();
            String leader = cluster.leader().orElseThrow();
            String candidate = leader.equals("node2") ? "node3" : "node2";

            // pgha members publish no REST API, so patronictl falls back to writing the failover key
            String out = patronictl.run("switchover", "--leader", leader, "--candidate", candidate, "--force");
            LOG.info("patronictl switchover:\n{}", out);

            // the new leader records the timeline switch in its first cycle as primary
            assertThat(cluster.runUntil(() -> cluster.leader().filter(candidate::equals).isPresent()
                    && cluster.isConverged()
                    && !cluster.observer().readCluster().history().entries().isEmpty(), Duration.ofSeconds(30)))
                    .as("%s took over from %s and recorded the timeline switch", candidate, leader).isTrue();
            assertThat(cluster.observer().readCluster().failover()).as("the request is consumed").isNull();
            LOG.info("patronictl list after the switchover:\n{}", patronictl.run("list"));

            JsonNode history = patronictl.json("history", "-f", "json");
            LOG.info("patronictl history -f json: {}", history);
            assertThat(history).as("the timeline switch, as patronictl history reads it").hasSize(1);
            assertThat(history.get(0).path("TL").asInt()).isEqualTo(1);
            assertThat(history.get(0).path("New Leader").asText()).isEqualTo(candidate);
            String stored = cluster.observer().readCluster().history().entries().get(0).timestamp();
            assertThat(stored).as("Patroni's timestamp format (Python's isoformat() in UTC), no Z")
                    .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d{6})?\\+00:00");
            assertThat(history.get(0).path("Timestamp").asText()).as("as patronictl shows it").isEqualTo(stored);
            assertThat(patronictl.run("show-config")).as("the dynamic configuration pgha wrote")
                    .contains("ttl: 10", "loop_wait: 1", "retry_timeout: 3");

            patronictl.run("edit-config", "--force", "-q", "-p", "work_mem=8MB");
            Object postgresql = cluster.observer().readCluster().config().data().get("postgresql");
            assertThat(postgresql).as("edit-config's write, read by the adapter").isInstanceOf(Map.class);
            assertThat(((Map<?, ?>) postgresql).get("parameters")).isEqualTo(Map.of("work_mem", "8MB"));
            assertThat(cluster.observer().readCluster().config().data()).containsEntry("ttl", 10L);
        }
    }

    private static void assertPatronictlList(Patronictl patronictl, String scope, String leader) {
        LOG.info("patronictl list:\n{}", patronictl.run("list"));
        JsonNode rows = patronictl.json("list", "-f", "json");
        LOG.info("patronictl list -f json: {}", rows);
        assertThat(rows.isArray()).as("patronictl list -f json: %s", rows).isTrue();
        Map<String, JsonNode> byMember = new HashMap<>();
        rows.forEach(r -> byMember.put(r.path("Member").asText(), r));
        assertThat(byMember.keySet()).containsExactlyInAnyOrder("node1", "node2", "node3");
        for (JsonNode row : rows) {
            String member = row.path("Member").asText();
            assertThat(row.path("Cluster").asText()).isEqualTo(scope);
            assertThat(row.path("Role").asText()).as("Role of %s in %s", member, rows)
                    .isEqualTo(member.equals(leader) ? "Leader" : "Replica");
            assertThat(row.path("State").asText()).as("State of %s in %s", member, rows).isEqualTo("running");
            assertThat(row.path("TL").asInt()).as("TL of %s", member).isEqualTo(1);
            if (!member.equals(leader)) {
                assertThat(row.path("Lag in MB").asInt(-1)).as("Lag of %s", member).isEqualTo(0);
            }
        }
    }
}
