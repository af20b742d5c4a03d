package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.ActionResult;
import dev.pgha.ClusterAdmin;
import dev.pgha.ConfigUpdate;
import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.RestartRequest;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.testing.FakeOperation.Kind;
import dev.pgha.testing.HaScenario;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Patroni's conditional and scheduled restarts ({@code POST /restart}, {@code patronictl restart
 * [--role] [--pg-version] [--pending] [--scheduled]}; ha.py's restart_matches,
 * schedule_future_restart and evaluate_scheduled_restart), and the config key changes of
 * {@code PATCH}/{@code PUT /config}, on a leader with one replica.
 */
class RestartRequestScenariosTest {

    private static RestartRequest now(PostgresRole role, int belowVersion, boolean pendingOnly) {
        return new RestartRequest(role, belowVersion, pendingOnly, null, null);
    }

    @Test
    void a_restart_whose_conditions_hold_restarts_postgres() {
        // given the leader with the lock
        HaScenario ha = HaScenario.create().leading("b");
        int before = ha.postgres().count(Kind.RESTART);

        // when a restart is requested for the primary role, on a server older than 99.0
        ActionResult r = ha.controller().restart(now(PostgresRole.PRIMARY, RestartRequest.versionNumber("99.0"), false));

        // then it restarts, keeping the lock
        assertThat(r.accepted()).isTrue();
        assertThat(r.message()).isEqualTo("restart initiated");
        ha.cycleFor(Duration.ofSeconds(30));
        assertThat(ha.postgres().count(Kind.RESTART)).isGreaterThan(before);
        assertThat(ha.postgres().isWritable()).isTrue();
        assertThat(ha.controller().status().lockHeld()).isTrue();
    }

    @Test
    void a_restart_whose_conditions_do_not_hold_is_refused() {
        HaScenario ha = HaScenario.create().leading("b");
        int before = ha.postgres().count(Kind.RESTART);

        // role, version (the fake reports 15.4) and a pending restart that is not pending
        for (RestartRequest refused : new RestartRequest[] {now(PostgresRole.REPLICA, 0, false),
                now(null, RestartRequest.versionNumber("15.4"), false), now(null, 0, true)}) {
            ActionResult r = ha.controller().restart(refused);
            assertThat(r.accepted()).as(refused.toString()).isFalse();
            assertThat(r.message()).isEqualTo("restart conditions are not satisfied");
        }
        ha.cycleFor(Duration.ofSeconds(30));
        assertThat(ha.postgres().count(Kind.RESTART)).isEqualTo(before);
    }

    @Test
    void a_pending_restart_is_done_only_when_pending() {
        // given the leader, and max_connections changed in the config key: a restart is pending
        HaScenario ha = HaScenario.create().leading("b");
        ha.editParameters(Map.of("max_connections", "200"));
        ha.cycleFor(Duration.ofSeconds(20));
        assertThat(ha.controller().status().postgres().pendingRestart()).isTrue();

        // when a restart of pending members is requested, then it restarts, and the flag clears
        assertThat(ha.controller().restart(now(null, 0, true)).accepted()).isTrue();
        ha.cycleFor(Duration.ofSeconds(30));
        assertThat(ha.controller().status().postgres().pendingRestart()).isFalse();
        assertThat(ha.postgres().setting("max_connections")).isEqualTo("200");
    }

    @Test
    void a_scheduled_restart_is_published_and_runs_when_due() {
        // given the leader with the lock
        HaScenario ha = HaScenario.create().leading("b");
        int before = ha.postgres().count(Kind.RESTART);
        Instant at = ha.clock().wallTime().plus(Duration.ofSeconds(60));

        // when a restart is scheduled a minute ahead
        ActionResult r = ha.controller().restart(RestartRequest.NOW.scheduled(at));
        assertThat(r.message()).isEqualTo("Restart scheduled");

        // then a second one is refused, and the member key shows the schedule
        assertThat(ha.controller().restart(RestartRequest.NOW.scheduled(at)).message())
                .isEqualTo("Another restart is already scheduled");
        ha.runCycle();
        assertThat(ha.dcs().snapshot().member(NAME).orElseThrow().scheduledRestart())
                .isEqualTo(dev.pgha.cluster.TimelineHistory.formatTimestamp(at));
        assertThat(ha.controller().status().scheduledRestart()).isNotNull();

        // and nothing restarts before the time; at the time it restarts, and the schedule is gone
        ha.cycleFor(Duration.ofSeconds(40));
        assertThat(ha.postgres().count(Kind.RESTART)).isEqualTo(before);
        ha.cycleFor(Duration.ofSeconds(40));
        assertThat(ha.postgres().count(Kind.RESTART)).isGreaterThan(before);
        assertThat(ha.controller().status().scheduledRestart()).isNull();
        assertThat(ha.dcs().snapshot().member(NAME).orElseThrow().scheduledRestart()).isNull();
    }

    @Test
    void a_scheduled_restart_is_dropped_when_postgres_restarted_meanwhile() {
        HaScenario ha = HaScenario.create().leading("b");
        Instant at = ha.clock().wallTime().plus(Duration.ofSeconds(60));
        ha.controller().restart(RestartRequest.NOW.scheduled(at));

        // when PostgreSQL is restarted by hand before the time
        ha.cycleFor(Duration.ofSeconds(5));
        ha.controller().restart();
        ha.cycleFor(Duration.ofSeconds(20));
        int afterManual = ha.postgres().count(Kind.RESTART);

        // then the scheduled one is cancelled ("postgres restart has already happened")
        ha.cycleFor(Duration.ofSeconds(60));
        assertThat(ha.postgres().count(Kind.RESTART)).isEqualTo(afterManual);
        assertThat(ha.controller().status().scheduledRestart()).isNull();
    }

    @Test
    void a_scheduled_restart_can_be_cancelled() {
        HaScenario ha = HaScenario.create().leading("b");
        int before = ha.postgres().count(Kind.RESTART);
        assertThat(ha.controller().cancelScheduledRestart().message()).isEqualTo("no restarts are scheduled");
        ha.controller().restart(RestartRequest.NOW.scheduled(ha.clock().wallTime().plus(Duration.ofSeconds(30))));

        assertThat(ha.controller().cancelScheduledRestart().message()).isEqualTo("scheduled restart deleted");
        ha.cycleFor(Duration.ofSeconds(60));
        assertThat(ha.postgres().count(Kind.RESTART)).isEqualTo(before);
    }

    @Test
    void no_restart_is_scheduled_in_pause() {
        HaScenario ha = HaScenario.create().leading("b");
        ha.editConfig(Map.of("pause", true));
        ha.runCycle();
        ActionResult r = ha.controller().restart(RestartRequest.NOW.scheduled(ha.clock().wallTime().plusSeconds(60)));
        assertThat(r.accepted()).isFalse();
        assertThat(r.message()).isEqualTo("Can't schedule restart in the paused state");
    }

    @Test
    void a_restart_with_a_timeout_fails_over_when_the_start_takes_longer() {
        // given the leader with the lock and a healthy replica; its next start hangs
        HaScenario ha = HaScenario.create().leading("b");
        ha.postgres().hangNext(Kind.RESTART);

        // when a restart with a 20 s timeout is requested (primary_start_timeout is 300 s)
        ha.controller().restart(new RestartRequest(null, 0, false, null, Duration.ofSeconds(20)));
        CycleResult last = null;
        for (int i = 0; i < 20 && (last == null || last.action() != CycleAction.DEMOTE); i++) {
            ha.peersPublish();
            last = ha.runCycleAfter(Duration.ofSeconds(5));
        }

        // then past the timeout it stops PostgreSQL so that the replica takes over
        assertThat(last.message()).isEqualTo("stopped PostgreSQL because of startup timeout");
    }

    @Test
    void postgres_version_is_read_as_patroni_reads_it() {
        assertThat(RestartRequest.versionNumber("15.4")).isEqualTo(150004);
        assertThat(RestartRequest.versionNumber("9.6.1")).isEqualTo(90601);
        assertThat(RestartRequest.versionNumber("10.1")).isEqualTo(100001);
        assertThatThrownBy(() -> RestartRequest.versionNumber("10"))
                .hasMessage("Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 10");
        assertThatThrownBy(() -> RestartRequest.versionNumber("9.6"))
                .hasMessage("Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 9.6");
        assertThatThrownBy(() -> RestartRequest.versionNumber("a.b.c")).hasMessage("Invalid PostgreSQL version: a.b.c");
    }

    // ---------------------------------------------------------------- PATCH / PUT /config

    @Test
    void a_config_patch_merges_deletes_and_is_validated() {
        HaScenario ha = HaScenario.create().leading("b");
        ClusterAdmin admin = ClusterAdmin.of(ha.config(), ha.dcs().client("admin"));

        // a nested merge and a deletion
        Map<String, Object> patch = new LinkedHashMap<>();
        patch.put("loop_wait", 5);
        patch.put("postgresql", Map.of("parameters", Map.of("work_mem", "8MB")));
        patch.put("member_slots_ttl", null);
        ConfigUpdate u = admin.patchConfig(patch);
        assertThat(u.outcome()).isEqualTo(ConfigUpdate.Outcome.APPLIED);
        assertThat(ha.dcs().snapshot().config().data()).containsEntry("loop_wait", 5).doesNotContainKey("member_slots_ttl");
        @SuppressWarnings("unchecked")
        Map<String, Object> pg = (Map<String, Object>) ha.dcs().snapshot().config().data().get("postgresql");
        assertThat(pg).containsKey("use_slots");
        assertThat(pg.get("parameters")).isEqualTo(Map.of("work_mem", "8MB"));

        // the same again changes nothing; a value the settings reject is not written
        assertThat(admin.patchConfig(Map.of("loop_wait", 5)).outcome()).isEqualTo(ConfigUpdate.Outcome.UNCHANGED);
        ConfigUpdate bad = admin.patchConfig(Map.of("loop_wait", 100));
        assertThat(bad.outcome()).isEqualTo(ConfigUpdate.Outcome.INVALID);
        assertThat(bad.message()).contains("loop_wait");
        assertThat(ha.dcs().snapshot().config().data()).containsEntry("loop_wait", 5);

        // and the members act on an accepted one: pause
        admin.patchConfig(Map.of("pause", true));
        assertThat(ha.runCycle().message()).startsWith("PAUSE: ");
        assertThat(admin.isPaused()).isTrue();
    }

    @Test
    void a_config_replace_writes_the_whole_value() {
        HaScenario ha = HaScenario.create().leading("b");
        ClusterAdmin admin = ClusterAdmin.of(ha.config(), ha.dcs().client("admin"));
        ConfigUpdate u = admin.replaceConfig(Map.of("ttl", 20, "loop_wait", 2, "retry_timeout", 5));
        assertThat(u.ok()).isTrue();
        assertThat(ha.dcs().snapshot().config().data()).isEqualTo(Map.of("ttl", 20, "loop_wait", 2, "retry_timeout", 5));
        assertThat(admin.replaceConfig(Map.of("ttl", "soon")).outcome()).isEqualTo(ConfigUpdate.Outcome.INVALID);
    }
}
