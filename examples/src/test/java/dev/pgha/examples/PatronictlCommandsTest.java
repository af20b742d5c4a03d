package dev.pgha.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.dcs.DcsException;
import dev.pgha.testing.Patronictl;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * Patroni's own {@code patronictl} 3.0.2 operating a cluster of three pgha agents (each its own
 * JVM with its own PostgreSQL 15, one real etcd): every command an operator uses, each through
 * the members' REST API — never patronictl's fallback to writing the DCS itself — and each
 * checked by its effect on the servers and in the DCS, not by its output alone.
 *
 * <p>The scenarios share one cluster (starting three servers costs more than most scenarios);
 * each begins from a whole cluster — a leader, two replicas streaming through their slots, not
 * paused — whoever leads, so none depends on another having run.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PatronictlCommandsTest {

    private static final Duration WAIT = Duration.ofSeconds(120);

    private AgentCluster cluster;
    private Patronictl patronictl;
    private String scope;

    @BeforeAll
    void startTheCluster() {
        cluster = AgentCluster.builder().scope("ctl").build();
        scope = cluster.scope();
        cluster.startAll();
        patronictl = new Patronictl(cluster.etcd().hosts(), "/service", scope);
    }

    @AfterAll
    void stopTheCluster() {
        if (patronictl != null) {
            patronictl.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    // ------------------------------------------------------------------------------------ given

    /**
     * Given a whole cluster, not paused: a leader, two replicas streaming through their slots, and
     * every member key publishing the leader's timeline (what a switchover's candidate is judged by).
     *
     * @return the leader
     */
    private String givenAWholeCluster() {
        await("a leader with two replicas streaming through their slots on its timeline, not paused", () -> {
            if (!cluster.leader().map(cluster::isHealthyWithLeader).orElse(false)) {
                return false;
            }
            ClusterView v = view();
            Long timeline = v.leaderMember().map(Member::timeline).orElse(null);
            return !v.isPaused() && timeline != null && cluster.names().stream().allMatch(n -> v.member(n)
                    .filter(m -> !m.pause() && timeline.equals(m.timeline())).isPresent());
        });
        return cluster.leader().orElseThrow();
    }

    private List<String> replicasOf(String leader) {
        return cluster.names().stream().filter(n -> !n.equals(leader)).toList();
    }

    // ---------------------------------------------------------------------------- scenarios

    @Test
    @Order(1)
    void list_shows_the_leader_and_two_streaming_replicas_and_show_config_the_dynamic_settings() {
        String leader = givenAWholeCluster();

        // when the operator lists the cluster, it shows one Leader and two Replicas, all running on its timeline
        // (patronictl 3.0.2 shows a member key's state; "streaming" is Patroni 3.0.4's)
        await("list shows one Leader and two Replicas, all running on one timeline", () -> {
            Map<String, String> rows = new HashMap<>();
            for (JsonNode row : ctlJson("list", "-f", "json")) {
                rows.put(row.path("Member").asText(), row.path("Role").asText() + "/" + row.path("State").asText()
                        + "/" + row.path("TL").asText());
            }
            String tl = "/" + view().member(leader).map(Member::timeline).orElse(-1L);
            return rows.size() == 3 && rows.get(leader).equals("Leader/running" + tl)
                    && replicasOf(leader).stream().allMatch(r -> ("Replica/running" + tl).equals(rows.get(r)));
        });
        String table = ctl("list");
        assertThat(table).contains("Cluster: " + scope).contains("127.0.0.1:" + cluster.port(leader));

        // and shows the configuration the cluster was bootstrapped with
        String config = ctl("show-config");
        assertThat(config).contains("ttl: 10").contains("loop_wait: 1").contains("retry_timeout: 3")
                .containsPattern("max_connections: '?30'?\n");
    }

    @Test
    @Order(2)
    void switchover_now_to_a_named_candidate_and_then_to_any_and_history_records_both() {
        String leader = givenAWholeCluster();
        String candidate = replicasOf(leader).get(0);
        int historyBefore = ctlJson("history", "-f", "json").size();

        // when the operator switches over to a named replica
        String out = ctl("switchover", "--leader", leader, "--candidate", candidate, "--force");

        // then patronictl reports the outcome the leader's API waited for, and the candidate leads and takes writes
        assertThat(out).contains("Successfully switched over to \"" + candidate + "\"");
        assertThat(cluster.leader()).contains(candidate);
        await(candidate + " accepts writes", () -> cluster.acceptsWrites(candidate));
        String second = givenAWholeCluster();
        assertThat(second).isEqualTo(candidate);

        // when the operator switches over without naming a candidate
        out = ctl("switchover", "--leader", second, "--force");

        // then some other member leads
        assertThat(out).containsPattern("Successfully switched over to \"node\\d\"");
        String third = givenAWholeCluster();
        assertThat(third).isNotEqualTo(second);

        // and the history holds one line per switchover, each naming the timeline it ended
        JsonNode history = ctlJson("history", "-f", "json");
        assertThat(history).hasSize(historyBefore + 2);
        long lastTimeline = history.get(history.size() - 1).path("TL").asLong();
        assertThat(history.get(history.size() - 2).path("TL").asLong()).isEqualTo(lastTimeline - 1);
        assertThat(cluster.timeline(third)).isEqualTo((int) lastTimeline + 1);
    }

    @Test
    @Order(3)
    void a_scheduled_switchover_happens_at_its_time_and_flush_discards_another() {
        String leader = givenAWholeCluster();
        String candidate = replicasOf(leader).get(1);
        OffsetDateTime at = OffsetDateTime.now(ZoneOffset.UTC).plusSeconds(15).truncatedTo(ChronoUnit.SECONDS);

        // when the operator schedules a switchover 15 s ahead
        String out = ctl("switchover", "--leader", leader, "--candidate", candidate, "--scheduled", at.toString(),
                "--force");

        // then it is scheduled, not done: the failover key carries the time and list shows it
        assertThat(out).contains("Switchover scheduled");
        assertThat(view().failover()).isNotNull();
        assertThat(ctl("list")).contains("Switchover scheduled at:");
        assertThat(cluster.leader()).contains(leader);

        // and at that time the candidate takes over, not before
        await(candidate + " leads", () -> cluster.leader().filter(candidate::equals).isPresent());
        Instant seen = Instant.now();
        assertThat(seen).isAfterOrEqualTo(at.toInstant());
        givenAWholeCluster();
        assertThat(view().failover()).isNull();

        // when another switchover is scheduled an hour ahead and the operator flushes it
        String later = OffsetDateTime.now(ZoneOffset.UTC).plusHours(1).truncatedTo(ChronoUnit.SECONDS).toString();
        assertThat(ctl("switchover", "--leader", candidate, "--candidate", leader, "--scheduled", later, "--force"))
                .contains("Switchover scheduled");
        await("the failover key written", () -> view().failover() != null);
        out = ctl("flush", scope, "switchover", "--force");

        // then it is gone and nothing changes
        assertThat(out).contains("Success: scheduled switchover deleted");
        await("the failover key deleted", () -> view().failover() == null);
        assertThat(cluster.leader()).contains(candidate);
    }

    @Test
    @Order(4)
    void failover_to_a_candidate() {
        String leader = givenAWholeCluster();
        String candidate = replicasOf(leader).get(0);

        // when the operator fails over to a named replica (patronictl names no leader)
        String out = ctl("failover", "--candidate", candidate, "--force");

        // then the candidate leads and takes writes, and the old leader follows it
        assertThat(out).contains("Successfully failed over to \"" + candidate + "\"");
        assertThat(givenAWholeCluster()).isEqualTo(candidate);
    }

    @Test
    @Order(5)
    void pause_and_resume_wait_until_every_member_published_them() {
        String leader = givenAWholeCluster();

        // when the operator pauses the cluster and waits
        String out = ctl("pause", "--wait");

        // then every member key says pause, list shows maintenance mode, and the leader still leads
        assertThat(out).contains("Success: cluster management is paused").doesNotContain("didn't recognized");
        ClusterView paused = view();
        assertThat(paused.isPaused()).isTrue();
        for (String n : cluster.names()) {
            assertThat(paused.member(n).orElseThrow().pause()).as("%s publishes pause", n).isTrue();
        }
        assertThat(ctl("list")).contains("Maintenance mode: on");
        assertThat(cluster.leader()).contains(leader);
        assertThat(cluster.acceptsWrites(leader)).isTrue();

        // when the operator resumes and waits
        out = ctl("resume", "--wait");

        // then no member publishes pause any more
        assertThat(out).contains("Success: cluster management is resumed").doesNotContain("didn't recognized");
        ClusterView resumed = view();
        assertThat(resumed.isPaused()).isFalse();
        for (String n : cluster.names()) {
            assertThat(resumed.member(n).orElseThrow().pause()).as("%s publishes pause", n).isFalse();
        }
        assertThat(ctl("list")).doesNotContain("Maintenance mode");
    }

    @Test
    @Order(6)
    void restart_a_member_now_and_at_a_scheduled_time_and_flush_a_scheduled_restart() {
        String leader = givenAWholeCluster();
        String replica = replicasOf(leader).get(0);

        // when the operator restarts a replica now
        String started = startTime(replica);
        String out = ctl("restart", scope, replica, "--force");

        // then its postmaster was restarted before patronictl returned, and it streams again
        assertThat(out).contains("Success: restart on member " + replica);
        assertThat(startTime(replica)).isNotEqualTo(started).isNotEmpty();
        givenAWholeCluster();

        // when the operator schedules a restart of the leader 10 s ahead
        String startedLeader = startTime(leader);
        OffsetDateTime at = OffsetDateTime.now(ZoneOffset.UTC).plusSeconds(10).truncatedTo(ChronoUnit.SECONDS);
        out = ctl("restart", scope, leader, "--scheduled", at.toString(), "--force");

        // then the member key and list carry it, and at that time the leader restarts in place
        assertThat(out).contains("Success: restart scheduled on member " + leader);
        await("the scheduled restart published", () -> view().member(leader).map(Member::scheduledRestart)
                .isPresent());
        assertThat(scheduledRestarts().get(leader)).isNotEmpty();
        await(leader + " restarted", () -> {
            String now = startTime(leader);
            return !now.isEmpty() && !now.equals(startedLeader);
        });
        assertThat(Instant.now()).isAfterOrEqualTo(at.toInstant());
        assertThat(givenAWholeCluster()).isEqualTo(leader);
        await("the scheduled restart gone from the member key",
                () -> view().member(leader).map(m -> m.scheduledRestart() == null).orElse(false));

        // when a restart scheduled an hour ahead is flushed
        String later = OffsetDateTime.now(ZoneOffset.UTC).plusHours(1).truncatedTo(ChronoUnit.SECONDS).toString();
        assertThat(ctl("restart", scope, replica, "--scheduled", later, "--force"))
                .contains("Success: restart scheduled on member " + replica);
        await("the scheduled restart published", () -> view().member(replica)
                .map(m -> m.scheduledRestart() != null).orElse(false));
        out = ctl("flush", scope, replica, "restart", "--force");

        // then it is gone from the member key
        assertThat(out).contains("Success: flush scheduled restart for member " + replica);
        await("the scheduled restart gone", () -> view().member(replica)
                .map(m -> m.scheduledRestart() == null).orElse(false));
    }

    @Test
    @Order(7)
    void restart_pending_restarts_exactly_the_members_whose_settings_wait_for_it() {
        givenAWholeCluster();
        Map<String, String> started = new HashMap<>();
        cluster.names().forEach(n -> started.put(n, startTime(n)));

        // when nothing is pending, a restart --pending restarts nobody
        String out = ctl("restart", scope, "--pending", "--force");
        for (String n : cluster.names()) {
            assertThat(out).contains("Failed: restart for member " + n + ", status code=503, "
                    + "(restart conditions are not satisfied)");
            assertThat(startTime(n)).isEqualTo(started.get(n));
        }

        // when the operator edits a parameter that takes effect only at a restart
        out = ctl("edit-config", "--force", "-p", "wal_buffers=1MB");
        assertThat(out).contains("Configuration changed");

        // then every member shows a pending restart
        await("list shows a pending restart on every member", () -> {
            Map<String, String> pending = new HashMap<>();
            ctlJson("list", "-f", "json").forEach(r -> pending.put(r.path("Member").asText(),
                    r.path("Pending restart").asText("")));
            return cluster.names().stream().allMatch(n -> "*".equals(pending.get(n)));
        });

        // when the operator restarts the pending ones
        out = ctl("restart", scope, "--pending", "--force");

        // then every member restarted with the new value, and nothing is pending any more
        for (String n : cluster.names()) {
            assertThat(out).contains("Success: restart on member " + n);
            assertThat(cluster.query(n, "SHOW wal_buffers")).containsExactly("1MB");
            assertThat(startTime(n)).isNotEqualTo(started.get(n));
        }
        givenAWholeCluster();
        await("no member shows a pending restart", () -> {
            boolean[] none = {true};
            ctlJson("list", "-f", "json").forEach(r -> none[0] &= r.path("Pending restart").asText("").isEmpty());
            return none[0];
        });
    }

    @Test
    @Order(8)
    void reinit_clones_a_replica_again_and_waits_for_it() throws Exception {
        String leader = givenAWholeCluster();
        String replica = replicasOf(leader).get(1);
        Path marker = cluster.base().resolve(replica).resolve("data").resolve("pgha-reinit-marker");
        Files.writeString(marker, "written before reinit\n");

        // when the operator reinitializes a replica and waits
        String out = ctl("reinit", scope, replica, "--force", "--wait");

        // then its data directory was made anew from the leader, and it streams again
        assertThat(out).contains("Success: reinitialize for member " + replica)
                .contains("Reinitialize is completed on: " + replica);
        assertThat(marker).doesNotExist();
        assertThat(givenAWholeCluster()).isEqualTo(leader);
    }

    @Test
    @Order(9)
    void reload_makes_every_server_read_its_configuration_again() {
        givenAWholeCluster();
        Map<String, String> loaded = new HashMap<>();
        cluster.names().forEach(n -> loaded.put(n, confLoadTime(n)));

        // when the operator reloads the cluster
        String out = ctl("reload", scope, "--force");

        // then each member accepted it and its server loaded its configuration files again within a cycle
        for (String n : cluster.names()) {
            assertThat(out).contains("Reload request received for member " + n);
            await(n + " reloaded", () -> {
                String now = confLoadTime(n);
                return !now.isEmpty() && !now.equals(loaded.get(n));
            });
        }
    }

    // ------------------------------------------------------------------------------------ helpers

    /** Runs patronictl, which must succeed through the REST API: exit 0, no fallback to the DCS. */
    private String ctl(String... args) {
        Patronictl.Result r = patronictl.execute(args);
        assertThat(r.exit()).as("exit of patronictl %s\nstdout: %s\nstderr: %s", String.join(" ", args), r.stdout(),
                r.stderr()).isZero();
        assertThat(r.fellBackToDcs()).as("patronictl %s went around the REST API\nstdout: %s\nstderr: %s",
                String.join(" ", args), r.stdout(), r.stderr()).isFalse();
        return r.stdout();
    }

    private JsonNode ctlJson(String... args) {
        String out = ctl(args);
        try {
            return new ObjectMapper().readTree(out);
        } catch (JsonProcessingException e) {
            throw new AssertionError("patronictl " + String.join(" ", args) + " printed no JSON: " + out, e);
        }
    }

    /** The "Scheduled restart" column of {@code patronictl list -f json}, by member. */
    private Map<String, String> scheduledRestarts() {
        Map<String, String> out = new HashMap<>();
        ctlJson("list", "-f", "json").forEach(r -> out.put(r.path("Member").asText(),
                r.path("Scheduled restart").asText("")));
        return out;
    }

    private ClusterView view() {
        try {
            return cluster.view();
        } catch (DcsException e) {
            return ClusterView.EMPTY;
        }
    }

    /** {@code pg_postmaster_start_time()} of a member's server ("" when it cannot be asked). */
    private String startTime(String name) {
        List<String> r = cluster.query(name, "SELECT pg_postmaster_start_time()");
        return r.isEmpty() ? "" : r.get(0);
    }

    /** {@code pg_conf_load_time()} of a member's server ("" when it cannot be asked). */
    private String confLoadTime(String name) {
        List<String> r = cluster.query(name, "SELECT pg_conf_load_time()");
        return r.isEmpty() ? "" : r.get(0);
    }

    private void await(String what, BooleanSupplier condition) {
        cluster.await(what, WAIT, condition);
    }
}
