package dev.pgha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Reading and writing the {@code config} key's cluster-wide settings, as Patroni and patronictl write them. */
class ClusterSettingsTest {

    @Test
    void anEmptyKeyReadsAsTheDefaults() {
        assertThat(ClusterSettings.fromConfig(Map.of())).isEqualTo(ClusterSettings.DEFAULTS);
        assertThat(ClusterSettings.fromConfig(null)).isEqualTo(ClusterSettings.DEFAULTS);
    }

    @Test
    void patronisOwnValueReads() {
        // The config key Patroni 3.0.2 writes after bootstrap, as read from a live cluster.
        Map<String, Object> patroni = Map.of("ttl", 30, "loop_wait", 10, "retry_timeout", 10,
                "maximum_lag_on_failover", 1048576, "postgresql", Map.of("use_pg_rewind", true, "use_slots", true,
                        "parameters", Map.of("max_connections", 100, "wal_level", "replica", "hot_standby", "on")));
        ClusterSettings s = ClusterSettings.fromConfig(patroni);
        assertThat(s.ttl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.usePgRewind()).isTrue();
        assertThat(s.postgresqlParameters()).containsEntry("max_connections", "100").containsEntry("wal_level", "replica");
        assertThat(s.checkTimeline()).as("absent: pgha's default").isTrue();
    }

    @Test
    void writtenValuesReadBackEqual() {
        ClusterSettings s = ClusterSettings.builder().ttl(Duration.ofMillis(1500)).loopWait(Duration.ofMillis(500))
                .retryTimeout(Duration.ofMillis(500)).primaryStartTimeout(Duration.ZERO)
                .primaryStopTimeout(Duration.ofSeconds(7)).maximumLagOnFailover(0).checkTimeline(false)
                .usePgRewind(true).useSlots(false).memberSlotsTtl(Duration.ofMinutes(5))
                .ignoreSlots(List.of(ClusterSettings.IgnoreSlot.named("keep"),
                        new ClusterSettings.IgnoreSlot(null, "logical", "app", "pgoutput")))
                .postgresqlParameters(Map.of("work_mem", "8MB")).build();
        assertThat(ClusterSettings.fromConfig(s.toConfig())).isEqualTo(s);
        assertThat(s.toConfig()).containsEntry("ttl", 1.5).containsEntry("primary_stop_timeout", 7L);
    }

    static Stream<Arguments> durations() {
        return Stream.of(Arguments.of(30, Duration.ofSeconds(30)), Arguments.of(2.5, Duration.ofMillis(2500)),
                Arguments.of("45", Duration.ofSeconds(45)), Arguments.of("30min", Duration.ofMinutes(30)),
                Arguments.of("1500ms", Duration.ofMillis(1500)), Arguments.of(" 2h ", Duration.ofHours(2)),
                Arguments.of("1d", Duration.ofDays(1)), Arguments.of(0, Duration.ZERO));
    }

    @ParameterizedTest
    @MethodSource("durations")
    void durationsAreSecondsOrTextWithAUnit(Object value, Duration expected) {
        assertThat(ClusterSettings.fromConfig(Map.of("member_slots_ttl", value)).memberSlotsTtl()).isEqualTo(expected);
    }

    @Test
    void booleansTakePatronisWords() {
        for (Object yes : List.of(true, "on", "TRUE", "yes", "1")) {
            assertThat(ClusterSettings.fromConfig(Map.of("check_timeline", false, "postgresql",
                    Map.of("use_pg_rewind", yes))).usePgRewind()).as("%s", yes).isTrue();
        }
        for (Object no : List.of(false, "off", "False", "no", "0")) {
            assertThat(ClusterSettings.fromConfig(Map.of("check_timeline", no)).checkTimeline()).as("%s", no).isFalse();
        }
    }

    @Test
    void parametersBecomePostgresText() {
        ClusterSettings s = ClusterSettings.fromConfig(Map.of("postgresql", Map.of("parameters",
                Map.of("hot_standby", true, "max_connections", 200, "random_page_cost", 1.1, "work_mem", "4MB"))));
        assertThat(s.postgresqlParameters()).containsExactlyInAnyOrderEntriesOf(Map.of("hot_standby", "on",
                "max_connections", "200", "random_page_cost", "1.1", "work_mem", "4MB"));
    }

    @Test
    void ignoreSlotsMatchLikePatroni() {
        ClusterSettings s = ClusterSettings.fromConfig(Map.of("ignore_slots",
                List.of(Map.of("name", "keep"), Map.of("type", "logical"))));
        assertThat(s.ignoresPhysicalSlot("keep")).isTrue();
        assertThat(s.ignoresPhysicalSlot("other")).as("a logical-only entry protects no physical slot").isFalse();
        assertThat(ClusterSettings.fromConfig(Map.of("ignore_slots", List.of(Map.of("type", "physical"))))
                .ignoresPhysicalSlot("any")).isTrue();
    }

    @Test
    void numbersOfBytesAreNumbersOrTheirText() {
        assertThat(ClusterSettings.fromConfig(Map.of("maximum_lag_on_failover", 1048576)).maximumLagOnFailover())
                .isEqualTo(1048576);
        assertThat(ClusterSettings.fromConfig(Map.of("maximum_lag_on_failover", " 2048 ")).maximumLagOnFailover())
                .isEqualTo(2048);
        assertThat(ClusterSettings.fromConfig(Map.of("maximum_lag_on_failover", 4096L)).maximumLagOnFailover())
                .isEqualTo(4096);
    }

    @Test
    void aKeyWithSomeSettingsKeepsTheDefaultsOfTheOthers() {
        ClusterSettings s = ClusterSettings.fromConfig(Map.of("ttl", 45, "loop_wait", 10));
        assertThat(s.ttl()).isEqualTo(Duration.ofSeconds(45));
        assertThat(s.usePgRewind()).as("use_pg_rewind absent").isFalse();
        assertThat(s.useSlots()).as("use_slots absent").isTrue();
        assertThat(s.checkTimeline()).as("check_timeline absent").isTrue();
        assertThat(s.toBuilder().ttl(ClusterSettings.DEFAULTS.ttl()).build()).isEqualTo(ClusterSettings.DEFAULTS);
    }

    @Test
    void unknownKeysAreIgnoredAsPatroniDoes() {
        assertThat(ClusterSettings.fromConfig(Map.of("standby_cluster", Map.of(), "citus", Map.of())))
                .isEqualTo(ClusterSettings.DEFAULTS);
    }

    @Test
    void synchronousModeTakesPatronisWords() {
        for (Object on : List.of(true, "on", "true", "yes", "1")) {
            assertThat(ClusterSettings.fromConfig(Map.of("synchronous_mode", on)).synchronousMode()).as("%s", on)
                    .isEqualTo(ClusterSettings.SynchronousMode.ON);
        }
        for (Object off : List.of(false, "off", "false", "no")) {
            assertThat(ClusterSettings.fromConfig(Map.of("synchronous_mode", off)).synchronousMode()).as("%s", off)
                    .isEqualTo(ClusterSettings.SynchronousMode.OFF);
        }
        assertThat(ClusterSettings.fromConfig(Map.of("synchronous_mode", "Quorum")).synchronousMode())
                .isEqualTo(ClusterSettings.SynchronousMode.QUORUM);
    }

    @Test
    void synchronousSettingsReadBackEqualAndAreWrittenOnlyWhenSet() {
        ClusterSettings s = ClusterSettings.builder().synchronousMode(ClusterSettings.SynchronousMode.QUORUM)
                .synchronousModeStrict(true).synchronousNodeCount(2).maximumLagOnSyncnode(1 << 20).build();
        assertThat(s.toConfig()).containsEntry("synchronous_mode", "quorum").containsEntry("synchronous_mode_strict", true)
                .containsEntry("synchronous_node_count", 2).containsEntry("maximum_lag_on_syncnode", 1048576L);
        assertThat(ClusterSettings.fromConfig(s.toConfig())).isEqualTo(s);
        ClusterSettings on = ClusterSettings.builder().synchronousMode(ClusterSettings.SynchronousMode.ON).build();
        assertThat(on.toConfig()).containsEntry("synchronous_mode", true)
                .doesNotContainKeys("synchronous_mode_strict", "synchronous_node_count", "maximum_lag_on_syncnode");
        assertThat(ClusterSettings.fromConfig(on.toConfig())).isEqualTo(on);
        assertThat(DynamicSettings.changes(ClusterSettings.DEFAULTS, on)).containsExactly("synchronous_mode (none) -> true");
    }

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of(Map.of("ttl", "thirty"), "ttl", "'thirty'"),
                Arguments.of(Map.of("ttl", true), "ttl", "true"),
                Arguments.of(Map.of("loop_wait", List.of(1)), "loop_wait", "a list"),
                Arguments.of(Map.of("retry_timeout", "10 parsecs"), "retry_timeout", "'10 parsecs'"),
                Arguments.of(Map.of("primary_start_timeout", -1), "primary_start_timeout", "zero or a positive"),
                Arguments.of(Map.of("loop_wait", 0), "loop_wait", "positive"),
                Arguments.of(Map.of("maximum_lag_on_failover", 1.5), "maximum_lag_on_failover", "whole number"),
                Arguments.of(Map.of("maximum_lag_on_failover", -3), "maximum_lag_on_failover", "negative"),
                Arguments.of(Map.of("maximum_lag_on_failover", true), "maximum_lag_on_failover", "bytes, was true"),
                Arguments.of(Map.of("maximum_lag_on_failover", Map.of("mb", 1)), "maximum_lag_on_failover",
                        "bytes, was an object"),
                Arguments.of(Map.of("check_timeline", "perhaps"), "check_timeline", "'perhaps'"),
                Arguments.of(Map.of("ttl", 15), "loop_wait", "10s + 2*10s = 30s > ttl 15s"),
                Arguments.of(Map.of("postgresql", List.of()), "postgresql", "must be an object"),
                Arguments.of(Map.of("postgresql", Map.of(1, "x")), "postgresql", "must be an object, was an object"),
                Arguments.of(Map.of("postgresql", Map.of("use_slots", "sometimes")), "postgresql.use_slots", "true or false"),
                Arguments.of(Map.of("postgresql", Map.of("parameters", "work_mem=4MB")), "postgresql.parameters",
                        "must be an object"),
                Arguments.of(Map.of("postgresql", Map.of("parameters", Map.of("bad name", "1"))),
                        "postgresql.parameters", "invalid name"),
                Arguments.of(Map.of("ignore_slots", "all"), "ignore_slots", "a list"),
                Arguments.of(Map.of("ignore_slots", List.of(Map.of("name", 5))), "ignore_slots", "text values"),
                Arguments.of(Map.of("synchronous_mode", "remote_apply"), "synchronous_mode",
                        "must be on, off or quorum, was 'remote_apply'"),
                Arguments.of(Map.of("synchronous_mode", 2), "synchronous_mode", "on, off or quorum"),
                Arguments.of(Map.of("synchronous_mode_strict", "always"), "synchronous_mode_strict", "'always'"),
                Arguments.of(Map.of("synchronous_node_count", 0), "synchronous_node_count", "at least 1, was 0"),
                Arguments.of(Map.of("synchronous_node_count", -2), "synchronous_node_count", "at least 1"),
                Arguments.of(Map.of("synchronous_node_count", "two"), "synchronous_node_count",
                        "must be a whole number, was 'two'"),
                Arguments.of(Map.of("maximum_lag_on_syncnode", "1MB"), "maximum_lag_on_syncnode", "whole number of bytes"));
    }

    @ParameterizedTest
    @MethodSource("badValues")
    void badValuesAreRefusedNamingTheSetting(Map<String, Object> data, String field, String detail) {
        assertThatThrownBy(() -> ClusterSettings.fromConfig(data))
                .isInstanceOfSatisfying(HaConfigException.class, e -> assertThat(e.field()).isEqualTo(field))
                .hasMessageContaining(detail);
    }

    @Test
    void changesAreListedByPatronisNames() {
        ClusterSettings after = ClusterSettings.DEFAULTS.toBuilder().ttl(Duration.ofSeconds(40))
                .postgresqlParameters(Map.of("work_mem", "8MB")).build();
        assertThat(DynamicSettings.changes(ClusterSettings.DEFAULTS, after))
                .containsExactly("postgresql.parameters.work_mem (none) -> 8MB", "ttl 30 -> 40");
    }
}
