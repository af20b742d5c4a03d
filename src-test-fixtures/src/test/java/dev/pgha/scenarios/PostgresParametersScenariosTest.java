package dev.pgha.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.ActionResult;
import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.Member;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeOperation.Kind;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Patroni's {@code postgresql.parameters} in the {@code config} key act on every member: a
 * parameter PostgreSQL can change at a reload takes effect at the next cycle; one of context
 * {@code postmaster} waits for a restart, and meanwhile the member key says
 * {@code pending_restart}. The parameters of {@code bootstrap.dcs} are those of the first start.
 */
class PostgresParametersScenariosTest {


    private static Member published(HaScenario ha) {
        return ha.dcs().snapshot().member(HaScenario.NAME).orElseThrow();
    }

    @Test
    void a_parameter_that_a_reload_changes_takes_effect_at_the_next_cycle() {
        // given a leader with PostgreSQL's default work_mem
        HaScenario ha = HaScenario.create().leading();
        assertThat(ha.postgres().setting("work_mem")).isNull();

        // when an operator sets work_mem in the config key
        ha.editParameters(Map.of("work_mem", "8MB"));
        CycleResult r = ha.runCycle();

        // then the next cycle reloads PostgreSQL with it, nothing restarts, and no restart is pending
        assertThat(ha.postgres().setting("work_mem")).isEqualTo("8MB");
        assertThat(ha.postgres().parameterReloadCount()).isEqualTo(1);
        assertThat(ha.postgres().count(Kind.RESTART)).isZero();
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(published(ha).pendingRestart()).isFalse();

        // and an unchanged key reloads nothing more
        ha.runCycles(3);
        assertThat(ha.postgres().parameterReloadCount()).isEqualTo(1);
    }

    @Test
    void a_postmaster_parameter_waits_for_a_restart_and_the_member_key_says_so_until_then() {
        // given a leader with Patroni's default max_connections of 100
        HaScenario ha = HaScenario.create().leading();
        assertThat(ha.postgres().setting("max_connections")).isEqualTo("100");

        // when an operator raises it in the config key and cycles run
        ha.editParameters(Map.of("max_connections", 150, "work_mem", "8MB"));
        ha.runCycle();
        CycleResult later = ha.runCycles(5);

        // then nothing restarts by itself: the server keeps 100, the rest of the change is in force,
        // and the member key publishes pending_restart
        assertThat(ha.postgres().setting("max_connections")).isEqualTo("100");
        assertThat(ha.postgres().setting("work_mem")).isEqualTo("8MB");
        assertThat(ha.postgres().count(Kind.RESTART)).isZero();
        assertThat(ha.postgres().startCount()).isZero();
        assertThat(later.message()).isEqualTo("no action. I am (postgresql0), the leader with the lock");
        assertThat(published(ha).pendingRestart()).isTrue();
        assertThat(ha.postgres().status().pendingRestart()).isTrue();

        // when the operator restarts the member
        ActionResult restart = ha.controller().restart();
        assertThat(restart.accepted()).isTrue();
        ha.runCycles(6);

        // then it runs with the new value and the flag is gone
        assertThat(ha.postgres().setting("max_connections")).isEqualTo("150");
        assertThat(ha.postgres().count(Kind.RESTART)).isEqualTo(1);
        assertThat(published(ha).pendingRestart()).isFalse();
        assertThat(ha.controller().status().lockHeld()).isTrue();
    }

    @Test
    void changing_a_postmaster_parameter_back_before_a_restart_clears_the_flag() {
        HaScenario ha = HaScenario.create().leading();
        ha.editParameters(Map.of("shared_buffers", "1GB"));
        ha.runCycle();
        assertThat(published(ha).pendingRestart()).isTrue();

        Map<String, Object> data = new HashMap<>(ha.dcs().snapshot().config().data());
        data.put("postgresql", Map.of("use_slots", true));
        ha.dcs().putConfig(new ClusterConfig(data, 0));
        ha.runCycle();

        assertThat(published(ha).pendingRestart()).isFalse();
    }

    @Test
    void the_bootstrap_winner_starts_with_the_parameters_of_bootstrap_dcs_and_writes_them_to_the_key() {
        // given an empty data directory, an empty DCS and bootstrap.dcs parameters
        HaScenario ha = HaScenario.create(b -> b.postgresqlParameters(Map.of("max_connections", "200",
                "work_mem", "16MB")));

        // when it bootstraps the cluster
        ha.runCycles(8);

        // then its first start already had them: no restart is pending
        assertThat(ha.controller().status().lockHeld()).isTrue();
        assertThat(ha.postgres().setting("max_connections")).isEqualTo("200");
        assertThat(ha.postgres().setting("work_mem")).isEqualTo("16MB");
        assertThat(published(ha).pendingRestart()).isFalse();
        assertThat(ha.postgres().count(Kind.RESTART)).isZero();
        // and the config key holds them for the other members
        assertThat(ha.dcs().snapshot().config().data().get("postgresql")).asString()
                .contains("max_connections=200").contains("work_mem=16MB");
    }

    @Test
    void a_new_replica_starts_with_the_parameters_of_the_config_key_not_its_own_bootstrap_dcs() {
        // given a leader whose config key sets max_connections 300, and this node's bootstrap.dcs saying 200
        HaScenario ha = HaScenario.create(b -> b.postgresqlParameters(Map.of("max_connections", "200")));
        FakePostgres leader = ha.peer("leader");
        ha.finish(leader.bootstrap());
        Map<String, Object> config = ha.config().bootstrapDcs().toBuilder()
                .postgresqlParameters(Map.of("max_connections", "300")).build().toConfig();
        ha.given(Clusters.builder().initialize(leader.systemIdentifier()).leader("leader").config(config)
                .member(Members.primary("leader", leader.walPosition().value())).build());

        // when it clones from the leader and starts
        ha.runCycles(4);

        // then it streams with the key's value
        assertThat(ha.postgres().upstream()).isEqualTo("leader");
        assertThat(ha.postgres().setting("max_connections")).isEqualTo("300");
        assertThat(published(ha).pendingRestart()).isFalse();
    }

    @Test
    void the_members_own_value_wins_unless_the_parameter_is_cluster_wide() {
        // given a leader whose own postgresql.parameters set work_mem and (ignored) max_connections
        HaScenario ha = HaScenario.create();
        ha.postgres().localParameters(Map.of("work_mem", "4MB", "max_connections", "20"));
        ha.runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(HaScenario.NAME)
                .config(ha.config().bootstrapDcs().toConfig()).build());
        ha.runCycle();

        // when the config key sets both
        ha.editParameters(Map.of("work_mem", "8MB", "max_connections", 150, "maintenance_work_mem", "64MB"));
        ha.runCycle();
        ha.controller().restart();
        ha.runCycles(6);

        // then work_mem is the member's, max_connections the DCS's, and the rest applies
        assertThat(ha.postgres().setting("work_mem")).isEqualTo("4MB");
        assertThat(ha.postgres().setting("max_connections")).isEqualTo("150");
        assertThat(ha.postgres().setting("maintenance_work_mem")).isEqualTo("64MB");
    }

    @Test
    void a_value_postgresql_refuses_is_left_out_with_a_log_line_and_the_node_keeps_leading() {
        // given a leader whose server refuses any work_mem
        HaScenario ha = HaScenario.create().leading();
        ha.postgres().refuseParameter("work_mem");

        // when the config key sets it along with another parameter
        String log = String.join("\n", LogCapture.stderrLines(() -> {
            ha.editParameters(Map.of("work_mem", "lots", "maintenance_work_mem", "64MB"));
            ha.runCycle();
        }));
        CycleResult r = ha.runCycleAfter(Duration.ofSeconds(10));

        // then the other one applies, the node keeps leading, and the log names the parameter
        assertThat(ha.postgres().setting("maintenance_work_mem")).isEqualTo("64MB");
        assertThat(ha.postgres().setting("work_mem")).isNull();
        assertThat(r.lockHeld()).isTrue();
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(log).contains("postgresql.parameters.work_mem");
    }
}
