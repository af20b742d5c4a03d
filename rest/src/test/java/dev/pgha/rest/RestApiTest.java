package dev.pgha.rest;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The handler against real controllers of a simulated cluster. */
class RestApiTest {

    private final Cluster c = Cluster.converged();

    private int code(String member, String method, String target) {
        return c.call(member, method, target).status();
    }

    @Test
    void healthEndpointsAnswerByRoleAsPatroniDoes() {
        String l = c.leader();
        String r = c.replica();
        for (String p : List.of("/", "/primary", "/master", "/leader", "/read-write", "/read-only", "/health")) {
            assertThat(code(l, "GET", p)).as("leader GET " + p).isEqualTo(200);
        }
        for (String p : List.of("/replica", "/standby-leader", "/standby_leader", "/synchronous", "/sync",
                "/asynchronous", "/async")) {
            assertThat(code(l, "GET", p)).as("leader GET " + p).isEqualTo(503);
        }
        for (String p : List.of("/replica", "/read-only", "/asynchronous", "/async", "/health", "/replica?lag=1MB")) {
            assertThat(code(r, "GET", p)).as("replica GET " + p).isEqualTo(200);
        }
        for (String p : List.of("/", "/primary", "/master", "/leader", "/read-write", "/standby-leader", "/synchronous",
                "/sync", "/replica?tag_dc=eu")) {
            assertThat(code(r, "GET", p)).as("replica GET " + p).isEqualTo(503);
        }
        assertThat(code(l, "OPTIONS", "/primary")).isEqualTo(200);
        assertThat(code(r, "OPTIONS", "/primary")).isEqualTo(503);
        RestResponse head = c.call(r, "HEAD", "/replica");
        assertThat(head.status()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(c.call(r, "GET", "/replica").contentType()).isEqualTo("application/json");
        for (String m : List.of(l, r)) {
            assertThat(code(m, "GET", "/liveness")).isEqualTo(200);
            assertThat(code(m, "GET", "/readiness")).isEqualTo(200);
        }
    }

    @Test
    void livenessFailsOnceTheLoopStopsAndNotInPause() {
        // given a converged cluster: every member is alive
        String l = c.leader();
        String r = c.replica();
        assertThat(code(l, "GET", "/liveness")).isEqualTo(200);

        // when the leader's agent stops cycling for longer than its next cycle plus ttl
        c.sim.freeze(l, true);
        c.sim.runFor(Duration.ofSeconds(50));

        // then its liveness fails, while the replica's, still cycling, passes
        assertThat(code(l, "GET", "/liveness")).isEqualTo(503);
        assertThat(code(r, "GET", "/liveness")).isEqualTo(200);
    }

    @Test
    void lagLimitsReadAsPatronisSizes() {
        assertThat(HealthCheck.bytes("1MB")).isEqualTo(1L << 20);
        assertThat(HealthCheck.bytes("16 kB")).isEqualTo(16L << 10);
        assertThat(HealthCheck.bytes("100")).isEqualTo(100L);
        assertThat(HealthCheck.bytes("lots")).isNull();
    }

    @Test
    @SuppressWarnings("unchecked")
    void patroniDocumentCarriesPatronisFields() {
        Map<String, Object> leader = Cluster.json(c.call(c.leader(), "GET", "/patroni"));
        assertThat(leader).containsEntry("state", "running").containsEntry("role", "master")
                .containsEntry("server_version", 150004).containsEntry("timeline", 1)
                .containsKeys("postmaster_start_time", "database_system_identifier", "dcs_last_seen")
                .doesNotContainKeys("cluster_unlocked", "pause", "pending_restart");
        assertThat((Map<String, Object>) leader.get("xlog")).containsKey("location");
        assertThat((Map<String, Object>) leader.get("patroni")).containsEntry("scope", "sim")
                .containsEntry("name", c.leader()).containsKey("version");
        assertThat(((Number) leader.get("dcs_last_seen")).longValue()).isCloseTo(c.sim.now().getEpochSecond(),
                org.assertj.core.data.Offset.offset(15L));

        Map<String, Object> replica = Cluster.json(c.call(c.replica(), "GET", "/patroni"));
        assertThat(replica).containsEntry("role", "replica").containsEntry("state", "running");
        assertThat((Map<String, Object>) replica.get("xlog"))
                .containsKeys("received_location", "replayed_location", "replayed_timestamp")
                .containsEntry("paused", false);
    }

    @Test
    @SuppressWarnings("unchecked")
    void clusterDocumentListsTheMembersAsPatronictlReadsThem() {
        c.settle();
        Map<String, Object> cluster = Cluster.json(c.call(c.replica(), "GET", "/cluster"));
        List<Map<String, Object>> members = (List<Map<String, Object>>) cluster.get("members");
        assertThat(members).extracting(m -> m.get("name")).containsExactly("node1", "node2", "node3");
        for (Map<String, Object> m : members) {
            boolean isLeader = m.get("name").equals(c.leader());
            assertThat(m).containsEntry("role", isLeader ? "leader" : "replica").containsEntry("state", "running")
                    .containsEntry("timeline", 1).containsKeys("host", "port");
            assertThat(m.containsKey("lag")).isEqualTo(!isLeader);
        }
        assertThat(cluster).doesNotContainKeys("pause", "scheduled_switchover");
        assertThat(c.call(c.leader(), "GET", "/history").bodyText()).isEqualTo("[]");
    }

    @Test
    @SuppressWarnings("unchecked")
    void configPatchTakesEffectAndPauseShows() {
        RestResponse r = c.call(c.leader(), "PATCH", "/config", "{\"loop_wait\": 5, \"pause\": true}");
        assertThat(r.status()).as(r.bodyText()).isEqualTo(200);
        assertThat(Cluster.json(r)).containsEntry("loop_wait", 5).containsEntry("pause", true);
        c.settle();
        assertThat(Cluster.json(c.call(c.replica(), "GET", "/config"))).containsEntry("loop_wait", 5);
        assertThat(c.sim.node(c.replica()).controller().status().settings().loopWait()).isEqualTo(Duration.ofSeconds(5));
        assertThat(Cluster.json(c.call(c.replica(), "GET", "/patroni"))).containsEntry("pause", true);
        assertThat(Cluster.json(c.call(c.replica(), "GET", "/cluster"))).containsEntry("pause", true);
        assertThat(c.call(c.leader(), "GET", "/metrics").bodyText()).contains("patroni_is_paused{scope=\"sim\"} 1");

        RestResponse bad = c.call(c.leader(), "PATCH", "/config", "{\"ttl\": 5}");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.bodyText()).contains("ttl");
        RestResponse put = c.call(c.leader(), "PUT", "/config", "{\"ttl\": 40, \"loop_wait\": 10, \"retry_timeout\": 10}");
        assertThat(put.status()).as(put.bodyText()).isEqualTo(200);
        c.settle();
        assertThat(c.sim.node(c.replica()).controller().status().paused()).isFalse();
    }

    @Test
    void switchoverThroughTheApiChangesTheLeader() {
        String old = c.leader();
        String candidate = c.replica();
        RestResponse r = c.call(old, "POST", "/switchover",
                "{\"leader\": \"" + old + "\", \"candidate\": \"" + candidate + "\"}");
        assertThat(r.status()).as(r.bodyText() + "\n" + c.sim.log()).isEqualTo(200);
        assertThat(r.bodyText()).isEqualTo("Successfully switched over to \"" + candidate + "\"");
        assertThat(c.sim.leader()).contains(candidate);
        assertThat(c.sim.runUntil(s -> s.isConverged(), Duration.ofMinutes(2))).as(c.sim.log()).isTrue();
        assertThat(code(candidate, "GET", "/primary")).isEqualTo(200);
        assertThat(code(old, "GET", "/replica")).isEqualTo(200);
    }

    @Test
    void failoverThroughTheApiPromotesTheCandidate() {
        String candidate = c.replica();
        RestResponse r = c.call(candidate, "POST", "/failover", "{\"candidate\": \"" + candidate + "\"}");
        assertThat(r.status()).as(r.bodyText()).isEqualTo(200);
        assertThat(r.bodyText()).isEqualTo("Successfully failed over to \"" + candidate + "\"");
    }

    @Test
    @SuppressWarnings("unchecked")
    void scheduledSwitchoverIsAcceptedListedAndCancelled() {
        String at = c.sim.now().plusSeconds(3600).toString();
        RestResponse r = c.call(c.replica(), "POST", "/switchover",
                "{\"leader\": \"" + c.leader() + "\", \"scheduled_at\": \"" + at + "\"}");
        assertThat(r.status()).as(r.bodyText()).isEqualTo(202);
        assertThat(r.bodyText()).isEqualTo("Switchover scheduled");
        c.settle();
        Map<String, Object> cluster = Cluster.json(c.call(c.replica(), "GET", "/cluster"));
        assertThat((Map<String, Object>) cluster.get("scheduled_switchover")).containsEntry("from", c.leader())
                .containsKey("at");
        RestResponse del = c.call(c.replica(), "DELETE", "/switchover");
        assertThat(del.status()).isEqualTo(200);
        assertThat(del.bodyText()).isEqualTo("scheduled switchover deleted");
        RestResponse again = c.call(c.replica(), "DELETE", "/switchover");
        assertThat(again.status()).isEqualTo(404);
        assertThat(again.bodyText()).isEqualTo("no switchover is scheduled");
    }

    @Test
    void restartWithConditionsWaitsForTheOutcome() {
        String r = c.replica();
        RestResponse refused = c.call(c.leader(), "POST", "/restart", "{\"role\": \"replica\"}");
        assertThat(refused.status()).isEqualTo(503);
        assertThat(refused.bodyText()).isEqualTo("restart conditions are not satisfied");
        assertThat(c.call(r, "POST", "/restart", "{\"restart_pending\": true}").bodyText())
                .isEqualTo("restart conditions are not satisfied");

        Object before = Cluster.json(c.call(r, "GET", "/patroni")).get("postmaster_start_time");
        RestResponse done = c.call(r, "POST", "/restart", "{\"role\": \"replica\", \"postgres_version\": \"16.0\"}");
        assertThat(done.status()).as(done.bodyText() + "\n" + c.sim.log()).isEqualTo(200);
        assertThat(done.bodyText()).isEqualTo("restarted successfully");
        assertThat(Cluster.json(c.call(r, "GET", "/patroni")).get("postmaster_start_time")).isNotEqualTo(before);
    }

    @Test
    void pendingRestartShowsAndARestartPendingRequestClearsIt() {
        String r = c.replica();
        RestResponse patch = c.call(c.leader(), "PATCH", "/config",
                "{\"postgresql\": {\"parameters\": {\"max_connections\": 200}}}");
        assertThat(patch.status()).as(patch.bodyText()).isEqualTo(200);
        c.settle();
        assertThat(Cluster.json(c.call(r, "GET", "/patroni"))).containsEntry("pending_restart", true);
        assertThat(c.call(r, "GET", "/metrics").bodyText()).contains("patroni_pending_restart{scope=\"sim\"} 1");
        RestResponse done = c.call(r, "POST", "/restart", "{\"restart_pending\": true}");
        assertThat(done.bodyText()).isEqualTo("restarted successfully");
        assertThat(Cluster.json(c.call(r, "GET", "/patroni"))).doesNotContainKey("pending_restart");
    }

    @Test
    @SuppressWarnings("unchecked")
    void scheduledRestartIsAcceptedShownAndCancelled() {
        String r = c.replica();
        String at = c.sim.now().plusSeconds(3600).toString();
        RestResponse ok = c.call(r, "POST", "/restart", "{\"schedule\": \"" + at + "\", \"role\": \"replica\"}");
        assertThat(ok.status()).as(ok.bodyText()).isEqualTo(202);
        assertThat(ok.bodyText()).isEqualTo("Restart scheduled");
        assertThat((Map<String, Object>) Cluster.json(c.call(r, "GET", "/patroni")).get("scheduled_restart"))
                .containsEntry("role", "replica").containsKey("schedule");
        RestResponse again = c.call(r, "POST", "/restart", "{\"schedule\": \"" + at + "\"}");
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.bodyText()).isEqualTo("Another restart is already scheduled");
        assertThat(c.call(r, "DELETE", "/restart").bodyText()).isEqualTo("scheduled restart deleted");
        RestResponse none = c.call(r, "DELETE", "/restart");
        assertThat(none.status()).isEqualTo(404);
        assertThat(none.bodyText()).isEqualTo("no restarts are scheduled");
        assertThat(Cluster.json(c.call(r, "GET", "/patroni"))).doesNotContainKey("scheduled_restart");
    }

    @Test
    void reinitializeAndReloadAnswerAsPatroni() {
        RestResponse leader = c.call(c.leader(), "POST", "/reinitialize", "{}");
        assertThat(leader.status()).isEqualTo(503);
        assertThat(leader.bodyText()).isEqualTo("I am the leader, can not reinitialize");
        RestResponse replica = c.call(c.replica(), "POST", "/reinitialize", "{\"force\": true}");
        assertThat(replica.status()).as(replica.bodyText()).isEqualTo(200);
        assertThat(replica.bodyText()).isEqualTo("reinitialize started");
        RestResponse reload = c.call(c.leader(), "POST", "/reload");
        assertThat(reload.status()).isEqualTo(202);
        assertThat(reload.bodyText()).isEqualTo("reload scheduled");
    }
}
