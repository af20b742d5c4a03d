package dev.pgha.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link MemberTags}: Patroni's conflict rules (nofailover and failover_priority, nosync and sync_priority), and publishing. */
class MemberTagsTest {

    @Test
    void defaultMemberMayFailOverWithPriorityOne() {
        assertThat(MemberTags.DEFAULT.canFailover()).isTrue();
        assertThat(MemberTags.DEFAULT.failoverPriority()).isEqualTo(1);
        assertThat(MemberTags.DEFAULT.asPatroniMap()).isEmpty();
    }

    @ParameterizedTest(name = "nofailover={0}, failover_priority={1} -> canFailover={2}")
    @CsvSource({
        "false, 1, true",
        "false, 2, true",
        "false, 0, false",
        "false, -1, false",
        "true, 1, false",
        "true, 5, false",
        "true, 0, false",
    })
    void conflictRules(boolean noFailover, int priority, boolean expected) {
        MemberTags tags = MemberTags.DEFAULT.withNoFailover(noFailover).withFailoverPriority(priority);
        assertThat(tags.canFailover()).isEqualTo(expected);
    }

    @ParameterizedTest(name = "nosync={0}, sync_priority={1} -> canSync={2}")
    @CsvSource({
        "false, 1, true",
        "false, 3, true",
        "false, 0, false",
        "false, -1, false",
        "true, 1, false",
        "true, 5, false",
    })
    void syncConflictRules(boolean noSync, int priority, boolean expected) {
        MemberTags tags = MemberTags.DEFAULT.withNoSync(noSync).withSyncPriority(priority);
        assertThat(tags.canSync()).isEqualTo(expected);
    }

    @Test
    void patroniMapNamesEveryTagThatDiffersFromTheDefault() {
        MemberTags tags = new MemberTags(true, 3, true, true, true, 2, "node3", Map.of("zone", "b"));

        assertThat(tags.asPatroniMap()).containsOnly(
                entry("nofailover", true),
                entry("failover_priority", 3),
                entry("clonefrom", true),
                entry("noloadbalance", true),
                entry("nosync", true),
                entry("sync_priority", 2),
                entry("replicatefrom", "node3"),
                entry("zone", "b"));
    }

    @Test
    void priorityZeroIsPublishedSoOthersSeeTheRefusal() {
        assertThat(MemberTags.DEFAULT.withFailoverPriority(0).asPatroniMap())
                .containsOnly(entry("failover_priority", 0));
    }

    @Test
    void patroniMapIsSortedByName() {
        MemberTags tags = MemberTags.DEFAULT.withNoSync(true).withCloneFrom(true);
        assertThat(tags.asPatroniMap().keySet()).containsExactly("clonefrom", "nosync");
    }

    @Test
    void blankReplicateFromReadsAsNone() {
        assertThat(MemberTags.DEFAULT.withReplicateFrom(" ").replicateFrom()).isNull();
        assertThat(MemberTags.DEFAULT.withReplicateFrom(" ").asPatroniMap()).isEmpty();
    }

    @Test
    void customTagsAreCopied() {
        Map<String, String> custom = new HashMap<>(Map.of("rack", "r1"));
        MemberTags tags = new MemberTags(false, 1, false, false, false, 1, null, custom);
        custom.put("rack", "r2");

        assertThat(tags.custom()).containsOnly(entry("rack", "r1"));
        assertThat(new MemberTags(false, 1, false, false, false, 1, null, null).custom()).isEmpty();
    }

    @Test
    void withersChangeOneTagOnly() {
        MemberTags tags = MemberTags.DEFAULT.withNoLoadBalance(true);
        assertThat(tags).isEqualTo(new MemberTags(false, 1, false, true, false, 1, null, Map.of()));
    }
}
