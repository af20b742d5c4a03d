package dev.pgha.dcs.values;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.testing.PatroniSamples;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** A whole cluster read assembled from stored values, as an adapter's {@code readCluster()} does. */
class ClusterDecoderTest {

    private final List<UnusableValue> reported = new ArrayList<>();
    private final ClusterDecoder decoder = new ClusterDecoder("node1", "/service/demo/", reported::add);
    private final Map<String, StoredValue> store = new LinkedHashMap<>();

    private void put(String key, String value) {
        store.put(key, new StoredValue(value, store.size() + 10));
    }

    @Test
    void aClusterWrittenByPatroniIsReadAsPatroniMeantIt() {
        put("members/node1", PatroniSamples.NODE1);
        put("leader", "node1");
        put("members/node2", PatroniSamples.NODE2);
        put("members/node3", PatroniSamples.NODE3_DOWN);
        put("config", PatroniSamples.CONFIG);
        put("history", PatroniSamples.HISTORY);
        put("initialize", "7710613807138954252");
        put("status", "{\"optime\":151090208}");
        put("failover", "{}");

        ClusterView v = decoder.decode(store);

        assertThat(v.leaderName()).contains("node1");
        assertThat(v.leaderMember().orElseThrow().isPrimaryRole()).isTrue();
        assertThat(v.members()).extracting(Member::name).containsExactly("node1", "node2", "node3");
        assertThat(v.member("node2").orElseThrow().xlogLocation()).isEqualTo(151080096L);
        assertThat(v.config().data()).containsEntry("loop_wait", 10L);
        assertThat(v.config().version()).as("the stored version, for compare-and-set").isEqualTo(14);
        assertThat(v.timeline()).isEqualTo(3);
        assertThat(v.hasValidInitialize()).isTrue();
        assertThat(v.status().optime()).isEqualTo(151090208L);
        assertThat(v.failover()).as("an emptied failover key is no request").isNull();
        assertThat(reported).isEmpty();
    }

    @Test
    void aKeyThatDidNotChangeIsNotDecodedAgainAndAChangedOneIs() {
        put("members/node1", PatroniSamples.NODE1);
        put("members/node2", PatroniSamples.NODE2);
        put("config", PatroniSamples.CONFIG);
        ClusterView first = decoder.decode(store);

        store.put("members/node2", new StoredValue(PatroniSamples.NODE2.replace("151080096", "151080200"), 99));
        ClusterView second = decoder.decode(store);

        assertThat(second.member("node1").orElseThrow()).as("unchanged: the same value")
                .isSameAs(first.member("node1").orElseThrow());
        assertThat(second.config()).isSameAs(first.config());
        assertThat(second.member("node2").orElseThrow().xlogLocation()).as("changed: decoded again")
                .isEqualTo(151080200L);
        store.put("members/node1", new StoredValue(PatroniSamples.NODE1, 98));
        assertThat(decoder.decode(store).member("node1").orElseThrow()).as("a new version is decoded again")
                .isNotSameAs(first.member("node1").orElseThrow()).isEqualTo(first.member("node1").orElseThrow());
    }

    @Test
    void unusableValuesInEveryKeyReadAsAbsentAndAreReportedEachTime() {
        put("leader", "");
        put("members/x", "{");
        put("members/y", "[]");
        put("members/", "{}");
        put("members/a/b", "{}");
        put("members/z", "\uFFFD\u0000\uFFFD");
        put("config", "[");
        put("failover", "42");
        put("sync", "nope");
        put("history", "[[\"x\"]]");
        put("status", "{");
        put("failsafe", "[]");
        put("something/else", "?");

        ClusterView v = decoder.decode(store);

        assertThat(v.isUnlocked()).as("a blank leader key names nobody").isTrue();
        assertThat(v.members()).as("undecodable members are known by name only; no member has an empty name")
                .containsExactlyInAnyOrder(Member.named("x"), Member.named("y"), Member.named("z"));
        assertThat(v.config().data()).isEmpty();
        assertThat(v.config().version()).as("the version stays usable for compare-and-set").isEqualTo(16);
        assertThat(v.failover()).isNull();
        assertThat(v.sync()).as("a sync key naming no leader, its version kept").satisfies(s -> {
            assertThat(s.leader()).isNull();
            assertThat(s.syncStandbys()).isEmpty();
            assertThat(s.version()).isPositive();
        });
        assertThat(v.history()).isEqualTo(TimelineHistory.EMPTY);
        assertThat(v.status()).isEqualTo(ClusterStatus.EMPTY);
        assertThat(v.failsafe()).isEmpty();
        assertThat(reported).extracting(UnusableValue::key).containsExactlyInAnyOrder("leader", "members/x",
                "members/y", "members/z", "config", "failover", "sync", "history", "status", "failsafe");
        assertThat(reported).filteredOn(u -> u.key().equals("members/z")).singleElement()
                .satisfies(u -> assertThat(u.value()).isEqualTo("???"))
                .satisfies(u -> assertThat(u.outcome()).isEqualTo("read with what could be used"));
        assertThat(reported).filteredOn(u -> u.key().equals("config")).singleElement()
                .satisfies(u -> assertThat(u.problems()).containsExactly("not a JSON object"))
                .satisfies(u -> assertThat(u.version()).isEqualTo(16));

        int first = reported.size();
        assertThat(decoder.decode(store)).as("reading again (logged at debug only)").isEqualTo(v);
        assertThat(reported).hasSize(2 * first);
    }

    @Test
    void theLegacyOptimeKeyIsReadOnlyWithoutAStatusKey() {
        put("optime/leader", "12345");
        assertThat(decoder.decode(store).status()).isEqualTo(new ClusterStatus(12345, Map.of()));

        put("status", "{\"optime\":99}");
        assertThat(decoder.decode(store).status().optime()).isEqualTo(99);
    }

    @Test
    void noStoredTextMakesItThrow() {
        String[] keys = {"leader", "members/m", "config", "initialize", "failover", "sync", "history", "status",
            "optime/leader", "failsafe"};
        String[] pieces = {"{", "}", "[", "]", "\"", ":", ",", "null", "true", "1", "-9223372036854775809", "1e400",
            "\"optime\"", "\"slots\"", "\"retain_slots\"", "\"tags\"", "\"nofailover\"", "\"sync_standby\"",
            "\"scheduled_at\"", "\"failover_priority\"", "\\u0000", "x", " "};
        Random random = new Random(42);
        for (int round = 0; round < 2000; round++) {
            store.clear();
            for (String key : keys) {
                StringBuilder text = new StringBuilder();
                for (int i = random.nextInt(12); i > 0; i--) {
                    text.append(pieces[random.nextInt(pieces.length)]);
                }
                put(key, text.toString());
            }
            assertThatCode(() -> decoder.decode(store)).as("values %s", store).doesNotThrowAnyException();
        }
    }
}
