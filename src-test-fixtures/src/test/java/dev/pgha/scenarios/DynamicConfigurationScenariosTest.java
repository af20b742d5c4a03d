package dev.pgha.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.ClusterSettings;
import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.HaStatus;
import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.Member;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The cluster-wide settings live in the {@code config} key, Patroni's dynamic configuration: a
 * change by another tool ({@code patronictl edit-config}) acts from the next cycle, and a value
 * that breaks a rule leaves the settings in force, with one log line naming the setting.
 */
class DynamicConfigurationScenariosTest {

    private static Duration leaseLeft(HaScenario ha, CycleResult r) {
        return Duration.between(ha.clock().wallTime(), r.leaseDeadline());
    }

    @Test
    void a_new_ttl_loop_wait_and_retry_timeout_act_from_the_next_cycle() {
        // given a leader running with Patroni's defaults (ttl 30, loop_wait 10, retry_timeout 10)
        HaScenario ha = HaScenario.create().leading();
        CycleResult before = ha.runCycle();
        assertThat(leaseLeft(ha, before)).isEqualTo(Duration.ofSeconds(30));
        assertThat(before.nextCycleIn()).isEqualTo(Duration.ofSeconds(10));

        // when an operator edits the config key
        ha.editConfig(Map.of("ttl", 20, "loop_wait", 3, "retry_timeout", 5));
        CycleResult after = ha.runCycle();

        // then the lease refreshed in that very cycle is the new ttl, and the next cycle comes after the new loop_wait
        assertThat(after.lockHeld()).isTrue();
        assertThat(leaseLeft(ha, after)).isEqualTo(Duration.ofSeconds(20));
        assertThat(after.nextCycleIn()).isEqualTo(Duration.ofSeconds(3));
        assertThat(ha.dcsClient().retryTimeout()).isEqualTo(Duration.ofSeconds(5));
        HaStatus status = ha.controller().status();
        assertThat(status.settings().ttl()).isEqualTo(Duration.ofSeconds(20));
        assertThat(status.settings().loopWait()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void a_larger_maximum_lag_on_failover_lets_a_lagging_replica_take_over() {
        // given an unlocked cluster whose last primary position is 10 MB ahead of this replica
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        long lsn = ha.postgres().status().walPosition().value();
        Member other = Members.replica("other", lsn);
        ha.given(Clusters.builder().initialize(ha.systemId()).status(lsn + 10_000_000)
                .config(ha.config().bootstrapDcs().toConfig()).members(other).build());
        CycleResult refused = ha.runCycle();
        assertThat(refused.lockHeld()).isFalse();
        assertThat(refused.message()).contains("not the healthiest");

        // when maximum_lag_on_failover is raised to 16 MB in the config key
        ha.editConfig(Map.of("maximum_lag_on_failover", 16 * 1024 * 1024));
        ha.peersPublish();
        CycleResult r = ha.runCycle();

        // then the next race is won
        assertThat(r.lockHeld()).isTrue();
        assertThat(r.action()).isEqualTo(CycleAction.PROMOTE);
        assertThat(r.message()).isEqualTo("promoted self to leader by acquiring session lock");
    }

    @Test
    void the_bootstrap_winner_writes_every_cluster_wide_setting_and_a_missing_key_is_repaired_from_those_in_force() {
        HaScenario ha = HaScenario.create().leading();
        ha.editConfig(Map.of("ttl", 40));
        ha.runCycle();

        // when the key disappears
        ha.dcs().putConfig(new ClusterConfig(Map.of(), 0));
        ha.runCycle();

        // then the leader writes the settings in force, in Patroni's shape
        Map<String, Object> data = ha.dcs().snapshot().config().data();
        assertThat(data).containsEntry("ttl", 40L).containsEntry("loop_wait", 10L).containsEntry("retry_timeout", 10L)
                .containsEntry("maximum_lag_on_failover", 1_048_576L).containsKeys("postgresql", "check_timeline");
        assertThat(ClusterSettings.fromConfig(data).ttl()).isEqualTo(Duration.ofSeconds(40));
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of("a wrong type", Map.of("ttl", "thirty"), "ttl"),
                Arguments.of("an object where a number belongs", Map.of("loop_wait", Map.of("a", 1)), "loop_wait"),
                Arguments.of("an unknown boolean word", Map.of("check_timeline", "maybe"), "check_timeline"),
                Arguments.of("a negative duration", Map.of("primary_start_timeout", -5), "primary_start_timeout"),
                Arguments.of("a negative lag", Map.of("maximum_lag_on_failover", -1), "maximum_lag_on_failover"),
                Arguments.of("a broken lease rule", Map.of("loop_wait", 25), "loop_wait + 2*retry_timeout <= ttl"),
                Arguments.of("a postgresql section that is no object", Map.of("postgresql", "on"), "postgresql"),
                Arguments.of("a parameter that is a list", Map.of("postgresql", Map.of("parameters",
                        Map.of("work_mem", List.of(1)))), "postgresql.parameters.work_mem"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badValues")
    void a_bad_value_keeps_the_settings_in_force_with_one_log_line(String kind, Map<String, Object> bad,
                                                                    String named) {
        // given a leader whose config key was changed to ttl 40 (so the settings in force are not the bootstrap ones)
        HaScenario ha = HaScenario.create().leading();
        ha.editConfig(Map.of("ttl", 40));
        assertThat(leaseLeft(ha, ha.runCycle())).isEqualTo(Duration.ofSeconds(40));

        // when another tool writes a bad value, and several cycles run
        ha.editConfig(bad);
        List<String> log = LogCapture.stderrLines(() -> {
            ha.runCycle();
            ha.runCycleAfter(Duration.ofSeconds(1));
            ha.runCycleAfter(Duration.ofSeconds(1));
        });
        CycleResult last = ha.runCycle();

        // then the node keeps leading with the settings in force
        assertThat(last.lockHeld()).isTrue();
        assertThat(last.action()).isEqualTo(CycleAction.NONE);
        assertThat(ha.postgres().isWritable()).isTrue();
        assertThat(leaseLeft(ha, last)).isEqualTo(Duration.ofSeconds(40));
        assertThat(ha.controller().status().settings().ttl()).isEqualTo(Duration.ofSeconds(40));
        // and said so once, naming the setting
        assertThat(log).filteredOn(l -> l.contains("config key")).singleElement().satisfies(l -> {
            assertThat(l).contains(HaScenario.NAME).contains(named);
        });

        // and once the key is fixed, its settings act
        ha.editConfig(ClusterSettings.DEFAULTS.toBuilder().ttl(Duration.ofSeconds(44)).build().toConfig());
        assertThat(leaseLeft(ha, ha.runCycle())).isEqualTo(Duration.ofSeconds(44));
    }

    @Test
    void status_shows_the_bootstrap_settings_before_a_key_was_read() {
        HaScenario ha = HaScenario.create(b -> b.ttl(Duration.ofSeconds(40)).loopWait(Duration.ofSeconds(5)));
        assertThat(ha.controller().status().settings().ttl()).isEqualTo(Duration.ofSeconds(40));
        assertThat(ha.controller().status().settings().loopWait()).isEqualTo(Duration.ofSeconds(5));
    }
}
