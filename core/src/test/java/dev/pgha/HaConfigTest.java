package dev.pgha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.cluster.MemberTags;
import java.time.Duration;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

/** Defaults and validation of {@link HaConfig}: Patroni's values, and every rule failing at build(). */
class HaConfigTest {

    private static HaConfig.Builder valid() {
        return HaConfig.builder().scope("demo").name("node1");
    }

    /** Asserts that building fails with an {@link HaConfigException} for {@code field}, whose message names it. */
    private static void assertRejected(UnaryOperator<HaConfig.Builder> change, String field, String... messageParts) {
        assertThatThrownBy(() -> change.apply(valid()).build())
                .isInstanceOfSatisfying(HaConfigException.class, e -> {
                    assertThat(e.field()).isEqualTo(field);
                    assertThat(e.getMessage()).startsWith("invalid HA configuration: " + field + " ");
                    assertThat(e.getMessage()).contains(messageParts);
                });
    }

    @Test
    void defaultsArePatronis() {
        HaConfig c = valid().build();

        assertThat(c.scope()).isEqualTo("demo");
        assertThat(c.name()).isEqualTo("node1");
        assertThat(c.bootstrapDcs().ttl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.bootstrapDcs().loopWait()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.bootstrapDcs().retryTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(c.bootstrapDcs().primaryStartTimeout()).isEqualTo(Duration.ofSeconds(300));
        assertThat(c.bootstrapDcs().primaryStopTimeout()).isEqualTo(Duration.ZERO);
        assertThat(c.bootstrapDcs().maximumLagOnFailover()).isEqualTo(1_048_576L);
        assertThat(c.bootstrapDcs().checkTimeline()).as("pgha deliberately defaults to true: safety first").isTrue();
        assertThat(c.bootstrapDcs().usePgRewind()).isFalse();
        assertThat(c.removeDataDirectoryOnRewindFailure()).isFalse();
        assertThat(c.removeDataDirectoryOnDivergedTimelines()).isFalse();
        assertThat(c.tags()).isEqualTo(MemberTags.DEFAULT);
        assertThat(c.apiUrl()).isNull();
        assertThat(c.bootstrapDcs()).isEqualTo(ClusterSettings.DEFAULTS);
    }

    @Test
    void patroniDefaultsSitExactlyOnTheLeaseRule() {
        HaConfig c = valid().build();
        assertThat(c.bootstrapDcs().loopWait().plus(c.bootstrapDcs().retryTimeout().multipliedBy(2))).isEqualTo(c.bootstrapDcs().ttl());
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {" ", "\t"})
    void blankScopeIsRejected(String scope) {
        assertRejected(b -> b.scope(scope), "scope", "must not be blank");
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"  "})
    void blankNameIsRejected(String name) {
        assertRejected(b -> b.name(name), "name", "must not be blank");
    }

    @Test
    void slashInNameIsRejected() {
        assertRejected(b -> b.name("a/b"), "name", "'/'", "'a/b'");
    }

    @Test
    void slashInScopeIsRejected() {
        assertRejected(b -> b.scope("prod/db"), "scope", "'/'", "'prod/db'");
    }

    @Test
    void surroundingSpacesInNameAreRejected() {
        assertRejected(b -> b.name(" node1"), "name", "' node1'");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1})
    void nonPositiveTtlIsRejected(long seconds) {
        assertRejected(b -> b.ttl(Duration.ofSeconds(seconds)), "ttl", "must be a positive duration");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1})
    void nonPositiveLoopWaitIsRejected(long seconds) {
        assertRejected(b -> b.loopWait(Duration.ofSeconds(seconds)), "loop_wait", "must be a positive duration");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, -1})
    void nonPositiveRetryTimeoutIsRejected(long seconds) {
        assertRejected(b -> b.retryTimeout(Duration.ofSeconds(seconds)), "retry_timeout",
                "must be a positive duration");
    }

    @Test
    void missingDurationsAreRejectedByName() {
        assertRejected(b -> b.ttl(null), "ttl", "was null");
        assertRejected(b -> b.loopWait(null), "loop_wait", "was null");
        assertRejected(b -> b.retryTimeout(null), "retry_timeout", "was null");
        assertRejected(b -> b.primaryStartTimeout(null), "primary_start_timeout", "was null");
        assertRejected(b -> b.primaryStopTimeout(null), "primary_stop_timeout", "was null");
    }

    @Test
    void negativePrimaryStartTimeoutIsRejected() {
        assertRejected(b -> b.primaryStartTimeout(Duration.ofSeconds(-1)), "primary_start_timeout",
                "must be zero or a positive duration");
    }

    @Test
    void negativePrimaryStopTimeoutIsRejected() {
        assertRejected(b -> b.primaryStopTimeout(Duration.ofMillis(-1)), "primary_stop_timeout",
                "must be zero or a positive duration");
    }

    @Test
    void negativeLagIsRejected() {
        assertRejected(b -> b.maximumLagOnFailover(-1), "maximum_lag_on_failover", "must not be negative", "-1");
    }

    @Test
    void zeroTimeoutsAndZeroLagAreValid() {
        HaConfig c = valid().primaryStartTimeout(Duration.ZERO).primaryStopTimeout(Duration.ZERO)
                .maximumLagOnFailover(0).build();
        assertThat(c.bootstrapDcs().primaryStartTimeout()).isZero();
        assertThat(c.bootstrapDcs().maximumLagOnFailover()).isZero();
    }

    @Test
    void leaseRuleViolationNamesLoopWaitAndShowsTheArithmetic() {
        assertRejected(b -> b.loopWait(Duration.ofSeconds(11)), "loop_wait",
                "loop_wait + 2*retry_timeout <= ttl", "11s + 2*10s = 31s > ttl 30s");
    }

    @Test
    void leaseRuleViolationFromRetryTimeoutOrTtlStillNamesLoopWait() {
        assertRejected(b -> b.retryTimeout(Duration.ofSeconds(15)), "loop_wait", "10s + 2*15s = 40s > ttl 30s");
        assertRejected(b -> b.ttl(Duration.ofSeconds(20)), "loop_wait", "10s + 2*10s = 30s > ttl 20s");
    }

    @Test
    void leaseRuleArithmeticShowsMillisecondsWhenNeeded() {
        assertRejected(b -> b.ttl(Duration.ofSeconds(2)).loopWait(Duration.ofMillis(500))
                .retryTimeout(Duration.ofSeconds(1)), "loop_wait", "500ms + 2*1s = 2500ms > ttl 2s");
    }

    @Test
    void leaseRuleIsNeverSilentlyAdjusted() {
        // Patroni lowers loop_wait when the rule breaks; pgha refuses instead.
        assertThatThrownBy(() -> valid().ttl(Duration.ofSeconds(20)).build()).isInstanceOf(HaConfigException.class);
    }

    @Test
    void exactlyEqualLeaseArithmeticBuilds() {
        HaConfig c = valid().ttl(Duration.ofSeconds(20)).loopWait(Duration.ofSeconds(2))
                .retryTimeout(Duration.ofSeconds(9)).build();
        assertThat(c.bootstrapDcs().loopWait().plus(c.bootstrapDcs().retryTimeout().multipliedBy(2))).isEqualTo(c.bootstrapDcs().ttl());

        HaConfig fast = valid().ttl(Duration.ofMillis(1500)).loopWait(Duration.ofMillis(500))
                .retryTimeout(Duration.ofMillis(500)).build();
        assertThat(fast.bootstrapDcs().ttl()).isEqualTo(Duration.ofMillis(1500));
    }

    @Test
    void exceptionIsAnIllegalArgumentException() {
        assertThatThrownBy(() -> valid().name("").build()).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void blankApiUrlReadsAsNoneAndNullTagsAsDefault() {
        HaConfig c = valid().apiUrl("  ").tags(null).build();
        assertThat(c.apiUrl()).isNull();
        assertThat(c.tags()).isEqualTo(MemberTags.DEFAULT);
    }

    @Test
    void toBuilderRoundTripKeepsEveryField() {
        HaConfig original = HaConfig.builder().scope("prod").name("db-2")
                .ttl(Duration.ofSeconds(40)).loopWait(Duration.ofSeconds(5)).retryTimeout(Duration.ofSeconds(12))
                .primaryStartTimeout(Duration.ofSeconds(60)).primaryStopTimeout(Duration.ofSeconds(30))
                .maximumLagOnFailover(4096).checkTimeline(false).usePgRewind(true)
                .removeDataDirectoryOnRewindFailure(true).removeDataDirectoryOnDivergedTimelines(true)
                .tags(MemberTags.DEFAULT.withFailoverPriority(3).withCloneFrom(true))
                .apiUrl("http://10.0.0.2:8008/patroni")
                .build();

        HaConfig copy = original.toBuilder().build();

        assertThat(copy).isEqualTo(original);
    }

    @Test
    void toBuilderChangesOnlyWhatIsSet() {
        HaConfig original = valid().checkTimeline(false).usePgRewind(true).build();

        HaConfig changed = original.toBuilder().name("node2").build();

        assertThat(changed.name()).isEqualTo("node2");
        assertThat(changed).isEqualTo(new HaConfig("demo", "node2", MemberTags.DEFAULT, null, false, false,
                original.bootstrapDcs()));
        assertThat(changed.bootstrapDcs().checkTimeline()).isFalse();
        assertThat(changed.bootstrapDcs().usePgRewind()).isTrue();
    }

    @Test
    void slotSettingsHavePatronisDefaultsAndSurviveToBuilder() {
        HaConfig defaults = valid().build();
        assertThat(defaults.bootstrapDcs().useSlots()).isTrue();
        assertThat(defaults.bootstrapDcs().memberSlotsTtl()).isEqualTo(Duration.ofMinutes(30));
        assertThat(defaults.bootstrapDcs().ignoreSlots()).isEmpty();
        HaConfig set = valid().useSlots(false).memberSlotsTtl(Duration.ZERO).ignoreSlots(java.util.Set.of("keep"))
                .build();
        assertThat(set.toBuilder().build()).isEqualTo(set);
        assertThatThrownBy(() -> valid().memberSlotsTtl(Duration.ofSeconds(-1)).build())
                .isInstanceOfSatisfying(HaConfigException.class,
                        e -> assertThat(e.field()).isEqualTo("member_slots_ttl"));
    }

    @Test
    void toBuilderRevalidates() {
        HaConfig original = valid().build();
        assertThatThrownBy(() -> original.toBuilder().retryTimeout(Duration.ofSeconds(11)).build())
                .isInstanceOfSatisfying(HaConfigException.class, e -> assertThat(e.field()).isEqualTo("loop_wait"));
    }

    @Test
    void ignoreSlotsByNameBecomeNamedEntries() {
        HaConfig c = valid().ignoreSlots(java.util.Set.of("b", "a")).build();
        assertThat(c.bootstrapDcs().ignoreSlots()).containsExactly(ClusterSettings.IgnoreSlot.named("a"),
                ClusterSettings.IgnoreSlot.named("b"));
        assertThat(c.bootstrapDcs().ignoresPhysicalSlot("a")).isTrue();
        assertThat(c.bootstrapDcs().ignoresPhysicalSlot("c")).isFalse();
    }
}
