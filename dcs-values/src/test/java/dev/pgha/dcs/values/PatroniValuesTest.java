package dev.pgha.dcs.values;

import static dev.pgha.testing.PatroniSamples.CONFIG;
import static dev.pgha.testing.PatroniSamples.HISTORY;
import static dev.pgha.testing.PatroniSamples.NODE1;
import static dev.pgha.testing.PatroniSamples.NODE2;
import static dev.pgha.testing.PatroniSamples.NODE3_DOWN;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Leader;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import java.util.ArrayList;
import java.util.List;
import dev.pgha.testing.PatroniSamples;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The values exactly as Patroni 3.0.2 writes them to etcd (observed from a running Patroni
 * cluster: the test kit's {@link PatroniSamples}), read and written through {@link PatroniValues}.
 */
class PatroniValuesTest {

    /** What the decoders of a test ignored. */
    private final List<String> problems = new ArrayList<>();

    private <T> T read(Decoded<T> decoded) {
        problems.addAll(decoded.problems());
        return decoded.value();
    }

    @Test
    void membersAreWrittenAsPatroni3WritesThem() {
        Member primary = new Member("node1", "postgres://127.0.0.1:55431/postgres", "http://127.0.0.1:58001/patroni",
                "running", "primary", "3.0.2", 151090208L, null, null, null, 13L, MemberTags.DEFAULT, false);
        Member replica = new Member("node2", "postgres://127.0.0.1:55432/postgres", "http://127.0.0.1:58002/patroni",
                "running", "replica", "3.0.2", 151080096L, null, null, null, 13L, MemberTags.DEFAULT, false);
        Member down = new Member("node3", "postgres://127.0.0.1:55433/postgres", "http://127.0.0.1:58003/patroni",
                "stopped", "demoted", "3.0.2", null, null, null, null, null, MemberTags.DEFAULT, false);

        assertThat(PatroniValues.encodeMember(primary)).isEqualTo(NODE1);
        assertThat(PatroniValues.encodeMember(replica)).isEqualTo(NODE2);
        assertThat(PatroniValues.encodeMember(down)).isEqualTo(NODE3_DOWN);
    }

    @Test
    void membersWrittenByPatroniAreReadWithMasterAsPrimary() {
        Member node1 = read(PatroniValues.decodeMember("node1", NODE1));
        Member node3 = read(PatroniValues.decodeMember("node3", NODE3_DOWN));

        assertThat(node1.role()).isEqualTo("primary");
        assertThat(node1.isPrimaryRole()).isTrue();
        assertThat(node1.xlogLocation()).isEqualTo(151090208L);
        assertThat(node1.timeline()).isEqualTo(13L);
        assertThat(node1.connUrl()).isEqualTo("postgres://127.0.0.1:55431/postgres");
        assertThat(node3.state()).isEqualTo("stopped");
        assertThat(node3.xlogLocation()).isNull();
        assertThat(read(PatroniValues.decodeMember("n", NODE1.replace("master", "primary"))).isPrimaryRole()).isTrue();
        assertThat(problems.isEmpty()).isTrue();
    }

    @Test
    void newerMemberFieldsTagsAndThePendingCheckpointAreWrittenInPatronisOrder() {
        MemberTags tags = MemberTags.DEFAULT.withNoFailover(true).withReplicateFrom("node1");
        Member leader = new Member("node1", "postgres://h:5432/postgres", null, "running", "primary", "pgha-0.1.0",
                100L, null, null, null, 2L, tags, true);
        Member replica = new Member("node2", "postgres://h:5433/postgres", null, "running", "replica", "pgha-0.1.0",
                90L, 90L, 80L, "streaming", 2L, MemberTags.DEFAULT, false);

        assertThat(PatroniValues.encodeMember(leader)).isEqualTo("{\"conn_url\":\"postgres://h:5432/postgres\",\"state\":\"running\","
                + "\"role\":\"master\",\"version\":\"pgha-0.1.0\",\"checkpoint_after_promote\":false,"
                + "\"tags\":{\"nofailover\":true,\"replicatefrom\":\"node1\"},\"xlog_location\":100,\"timeline\":2}");
        assertThat(PatroniValues.encodeMember(replica)).isEqualTo("{\"conn_url\":\"postgres://h:5433/postgres\",\"state\":\"running\","
                + "\"role\":\"replica\",\"version\":\"pgha-0.1.0\",\"xlog_location\":90,"
                + "\"replication_state\":\"streaming\",\"replay_lsn\":80,\"receive_lsn\":90,\"timeline\":2}");
    }

    @Test
    void aMemberWhoseRequiredGuardFailedPublishesWatchdogFailedLikePatronisRestStatus() {
        Member replica = new Member("node2", "postgres://h:5433/postgres", null, "running", "replica", "pgha-0.1.0",
                90L, null, null, null, 2L, MemberTags.DEFAULT, false, true);

        String json = PatroniValues.encodeMember(replica);

        assertThat(json).isEqualTo("{\"conn_url\":\"postgres://h:5433/postgres\",\"state\":\"running\","
                + "\"role\":\"replica\",\"version\":\"pgha-0.1.0\",\"xlog_location\":90,\"timeline\":2,"
                + "\"watchdog_failed\":true}");
        assertThat(read(PatroniValues.decodeMember("node2", json))).isEqualTo(replica);
        assertThat(PatroniValues.encodeMember(replica.withWatchdogFailed(false))).doesNotContain("watchdog_failed");
        // absent (Patroni's own member keys) or false reads as capable
        assertThat(read(PatroniValues.decodeMember("node2", NODE2)).watchdogFailed()).isFalse();
        assertThat(read(PatroniValues.decodeMember("node2", "{\"watchdog_failed\":false}")).watchdogFailed()).isFalse();
        assertThat(problems.isEmpty()).isTrue();
        // an unreadable flag counts as set, like nofailover
        assertThat(read(PatroniValues.decodeMember("node2", "{\"watchdog_failed\":\"maybe\"}")).watchdogFailed()).isTrue();
        assertThat(problems.toString()).contains("watchdog_failed");
    }

    @Test
    void aPendingRestartIsWrittenWherePatroni3WritesItAndReadBack() {
        // Patroni 3.0.2's touch_member(): after the tags, before the WAL position; only when true
        String patroni = "{\"conn_url\":\"postgres://127.0.0.1:55432/postgres\",\"api_url\":"
                + "\"http://127.0.0.1:58002/patroni\",\"state\":\"running\",\"role\":\"replica\",\"version\":\"3.0.2\","
                + "\"tags\":{\"nofailover\":true},\"pending_restart\":true,\"xlog_location\":151080096,\"timeline\":13}";
        Member replica = new Member("node2", "postgres://127.0.0.1:55432/postgres", "http://127.0.0.1:58002/patroni",
                "running", "replica", "3.0.2", 151080096L, null, null, null, 13L,
                MemberTags.DEFAULT.withNoFailover(true), false, false, true);

        assertThat(PatroniValues.encodeMember(replica)).isEqualTo(patroni);
        assertThat(read(PatroniValues.decodeMember("node2", patroni))).isEqualTo(replica);
        assertThat(PatroniValues.encodeMember(replica.withPendingRestart(false))).doesNotContain("pending_restart");
        assertThat(read(PatroniValues.decodeMember("node2", NODE2)).pendingRestart()).isFalse();
        assertThat(problems.isEmpty()).isTrue();
        assertThat(read(PatroniValues.decodeMember("node2", "{\"pending_restart\":\"soon\"}")).pendingRestart()).isFalse();
        assertThat(problems.toString()).contains("pending_restart");
    }

    @Test
    void aQuorumVoteIsWrittenLastAndReadBackAndAnOddOneIsNoVote() {
        Member voter = new Member("node2", "postgres://127.0.0.1:55432/postgres", null, "running", "replica", "pgha",
                151090208L, null, null, "streaming", 13L, MemberTags.DEFAULT, false, false, false, null, false, 42L);

        String json = PatroniValues.encodeMember(voter);
        assertThat(json).endsWith(",\"timeline\":13,\"quorum_vote\":42}");
        assertThat(read(PatroniValues.decodeMember("node2", json))).isEqualTo(voter);
        assertThat(problems.isEmpty()).isTrue();
        // Patroni's own member keys have none: no vote
        assertThat(read(PatroniValues.decodeMember("node2", "{\"xlog_location\":1}")).quorumVote()).isNull();
        // an odd value is no vote, with a problem reported
        assertThat(read(PatroniValues.decodeMember("node2", "{\"quorum_vote\":\"soon\"}")).quorumVote()).isNull();
        assertThat(problems.toString()).contains("quorum_vote");
    }

    @Test
    void aScheduledRestartAndPauseAreWrittenAsPatroniWritesThemAndReadBack() {
        // Patroni 3.0.2's touch_member(): scheduled_restart and pause after the WAL fields
        String patroni = "{\"conn_url\":\"postgres://127.0.0.1:55431/postgres\",\"state\":\"running\","
                + "\"role\":\"master\",\"version\":\"3.0.2\",\"xlog_location\":151090208,\"timeline\":13,"
                + "\"scheduled_restart\":{\"schedule\":\"2026-12-02T20:00:00+00:00\"},\"pause\":true}";
        Member leader = new Member("node1", "postgres://127.0.0.1:55431/postgres", null, "running", "primary", "3.0.2",
                151090208L, null, null, null, 13L, MemberTags.DEFAULT, false, false, false,
                "2026-12-02T20:00:00+00:00", true);

        assertThat(PatroniValues.encodeMember(leader)).isEqualTo(patroni);
        assertThat(read(PatroniValues.decodeMember("node1", patroni))).isEqualTo(leader);
        assertThat(problems.isEmpty()).isTrue();
        // Patroni's own value carries the postmaster start time and filters too: the schedule is read
        Member patroniWritten = read(PatroniValues.decodeMember("node1", "{\"scheduled_restart\":{\"schedule\":"
                + "\"2026-12-02T20:00:00+00:00\",\"postmaster_start_time\":\"2026-12-02 18:00:00.1+00:00\","
                + "\"postgres_version\":\"16.1\"}}"));
        assertThat(patroniWritten.scheduledRestart()).isEqualTo("2026-12-02T20:00:00+00:00");
        // odd values read as absent, with a problem reported
        Member odd = read(PatroniValues.decodeMember("node1", "{\"scheduled_restart\":\"soon\",\"pause\":\"x\"}"));
        assertThat(odd.scheduledRestart()).isNull();
        assertThat(odd.pause()).isFalse();
        assertThat(problems.toString()).contains("scheduled_restart").contains("pause");
    }

    @Test
    void oddMemberValuesReadAsWhatCanBeUsed() {
        assertThat(read(PatroniValues.decodeMember("x", "{"))).isEqualTo(Member.named("x"));
        assertThat(read(PatroniValues.decodeMember("x", "[1,2]"))).isEqualTo(Member.named("x"));
        assertThat(read(PatroniValues.decodeMember("x", ""))).isEqualTo(Member.named("x"));
        Member m = read(PatroniValues.decodeMember("x", "{\"xlog_location\":\"abc\",\"timeline\":\"7\",\"state\":5,"
                + "\"tags\":{\"nofailover\":\"maybe\",\"failover_priority\":\"x\",\"sync_priority\":2.5,\"zone\":3,"
                + "\"clonefrom\":\"on\"}}"));
        assertThat(m.xlogLocation()).isNull();
        assertThat(m.timeline()).isEqualTo(7L);
        assertThat(m.state()).isNull();
        assertThat(m.tags().noFailover()).as("an unreadable nofailover counts as set").isTrue();
        assertThat(m.tags().failoverPriority()).isEqualTo(1);
        assertThat(m.tags().syncPriority()).isEqualTo(1);
        assertThat(m.tags().cloneFrom()).isTrue();
        assertThat(m.tags().custom()).containsEntry("zone", "3");
        assertThat(read(PatroniValues.decodeMember("x", "postgres://u@h:5432/db")).connUrl()).isEqualTo("postgres://u@h:5432/db");
        assertThat(problems.toString()).contains("not a JSON object", "xlog_location", "nofailover", "sync_priority");
    }

    @Test
    void configRoundTripsAsTheSameJson() {
        ClusterConfig c = read(PatroniValues.decodeConfig(CONFIG, 7));

        assertThat(c.version()).isEqualTo(7);
        assertThat(c.data()).containsEntry("ttl", 30L).containsKey("postgresql");
        // the record keeps no top-level order; nested objects keep theirs
        assertThat(Json.parse(PatroniValues.encodeConfig(c))).isEqualTo(Json.parse(CONFIG));
        assertThat(PatroniValues.encodeConfig(c)).contains("\"parameters\":{\"wal_level\":\"replica\",\"hot_standby\":\"on\"");
        assertThat(read(PatroniValues.decodeConfig("[1]", 9))).isEqualTo(new ClusterConfig(Map.of(), 9));
        assertThat(read(PatroniValues.decodeConfig("{\"pause\":true,\"x\":null}", 3)).data()).isEqualTo(Map.of("pause", true));
    }

    @Test
    void failoverValuesIncludingTheLegacyForm() {
        String patroni = "{\"leader\":\"node1\",\"member\":\"node2\",\"scheduled_at\":\"2026-11-21T13:20:37.104383+00:00\"}";

        assertThat(read(PatroniValues.decodeFailover(patroni, 5)))
                .isEqualTo(new Failover("node1", "node2", "2026-11-21T13:20:37.104383+00:00", 5));
        assertThat(PatroniValues.encodeFailover(new Failover("node1", "node2", "2026-11-21T13:20:37.104383+00:00", 0)))
                .isEqualTo(patroni);
        assertThat(PatroniValues.encodeFailover(new Failover(null, "node2", null, 0))).isEqualTo("{\"member\":\"node2\"}");
        assertThat(read(PatroniValues.decodeFailover("{}", 5))).isNull();
        assertThat(read(PatroniValues.decodeFailover("", 5))).isNull();
        assertThat(read(PatroniValues.decodeFailover("node1:node2", 5))).isEqualTo(new Failover("node1", "node2", null, 5));
        assertThat(read(PatroniValues.decodeFailover(":node2", 5))).isEqualTo(new Failover(null, "node2", null, 5));
        assertThat(read(PatroniValues.decodeFailover("node1", 5))).isEqualTo(new Failover("node1", null, null, 5));
        assertThat(read(PatroniValues.decodeFailover("42", 5))).isNull();
        assertThat(read(PatroniValues.decodeFailover("{\"leader\":1,\"member\":\"n2\"}", 5)))
                .isEqualTo(new Failover(null, "n2", null, 5));
    }

    @Test
    void historyRoundTripsByteForByteAndAnUnusableOneReadsAsUnknown() {
        TimelineHistory h = read(PatroniValues.decodeHistory(HISTORY));

        assertThat(h.entries()).hasSize(2);
        assertThat(h.clusterTimeline()).isEqualTo(3);
        assertThat(h.entries().get(1)).isEqualTo(new TimelineHistory.Entry(2, 67359592,
                "no recovery target specified", "2026-11-21T13:21:48.636385+00:00", "node1"));
        assertThat(PatroniValues.encodeHistory(h)).isEqualTo(HISTORY);
        assertThat(PatroniValues.encodeHistory(TimelineHistory.EMPTY)).isEqualTo("[]");
        assertThat(read(PatroniValues.decodeHistory("[[1,100,\"r\"]]")).entries())
                .containsExactly(new TimelineHistory.Entry(1, 100, "r", null, null));
        assertThat(problems.isEmpty()).isTrue();
        assertThat(read(PatroniValues.decodeHistory("[[1,100,\"r\"],[\"x\",2]]"))).isEqualTo(TimelineHistory.EMPTY);
        assertThat(read(PatroniValues.decodeHistory("{}"))).isEqualTo(TimelineHistory.EMPTY);
        assertThat(read(PatroniValues.decodeHistory("[[1]]"))).isEqualTo(TimelineHistory.EMPTY);
    }

    @Test
    void historyTimestampsAreWrittenInPatronisFormatAndReadInEitherForm() {
        TimelineHistory written = new TimelineHistory(List.of(new TimelineHistory.Entry(1, 100, "r",
                TimelineHistory.formatTimestamp(java.time.Instant.parse("2026-11-21T13:20:37.104383917Z")), "node2")));
        assertThat(PatroniValues.encodeHistory(written))
                .isEqualTo("[[1,100,\"r\",\"2026-11-21T13:20:37.104383+00:00\",\"node2\"]]");

        // as earlier pgha builds wrote it: kept as stored, and read as the same time
        TimelineHistory zulu = read(PatroniValues.decodeHistory("[[1,100,\"r\",\"2026-11-21T13:20:37.104383Z\",\"node2\"]]"));
        assertThat(zulu.entries().get(0).timestamp()).isEqualTo("2026-11-21T13:20:37.104383Z");
        assertThat(zulu.entries().get(0).time().orElseThrow().toInstant())
                .isEqualTo(written.entries().get(0).time().orElseThrow().toInstant());
        assertThat(problems).isEmpty();
    }

    @Test
    void statusWithSlotPositionsAndRetainedSlotsAsPatroni4WritesIt() {
        // as Patroni 4 writes it with member_slots_ttl > 0 (json.dumps with separators (',', ':'))
        String patroni4 = "{\"optime\":151090208,\"slots\":{\"node1\":151090208,\"node2\":151080096},"
                + "\"retain_slots\":[\"node1\",\"node2\",\"node3\"]}";
        ClusterStatus status = new ClusterStatus(151090208, Map.of("node1", 151090208L, "node2", 151080096L),
                List.of("node3", "node1", "node2"));

        assertThat(PatroniValues.encodeStatus(status)).isEqualTo(patroni4);
        assertThat(read(PatroniValues.decodeStatus(patroni4))).isEqualTo(status);
        assertThat(problems.isEmpty()).isTrue();
        // retained names without slot positions, and the forms Patroni also reads
        assertThat(PatroniValues.encodeStatus(new ClusterStatus(5, Map.of(), List.of("node2"))))
                .isEqualTo("{\"optime\":5,\"retain_slots\":[\"node2\"]}");
        assertThat(read(PatroniValues.decodeStatus(
                "{\"optime\":5,\"slots\":\"{\\\"a\\\":1}\",\"retain_slots\":\"[\\\"a\\\"]\"}")))
                .isEqualTo(new ClusterStatus(5, Map.of("a", 1L), List.of("a")));
        assertThat(problems.isEmpty()).isTrue();
        assertThat(read(PatroniValues.decodeStatus("{\"optime\":5,\"retain_slots\":{\"a\":1}}")))
                .isEqualTo(new ClusterStatus(5, Map.of()));
        assertThat(read(PatroniValues.decodeStatus("{\"optime\":5,\"retain_slots\":[\"a\",3,null]}")))
                .isEqualTo(new ClusterStatus(5, Map.of(), List.of("a")));
        assertThat(problems.toString()).contains("retain_slots");
    }

    @Test
    void statusSyncAndFailsafe() {
        assertThat(PatroniValues.encodeStatus(new ClusterStatus(151090208, Map.of()))).isEqualTo("{\"optime\":151090208}");
        assertThat(PatroniValues.encodeStatus(new ClusterStatus(5, Map.of("node2", 4L))))
                .isEqualTo("{\"optime\":5,\"slots\":{\"node2\":4}}");
        assertThat(read(PatroniValues.decodeStatus("{\"optime\":151090208}"))).isEqualTo(new ClusterStatus(151090208, Map.of()));
        assertThat(read(PatroniValues.decodeStatus("{\"optime\":\"x\",\"slots\":{\"a\":1,\"b\":\"?\"}}")))
                .isEqualTo(new ClusterStatus(0, Map.of("a", 1L)));
        assertThat(read(PatroniValues.decodeStatus("17"))).isEqualTo(ClusterStatus.EMPTY);
        assertThat(read(PatroniValues.decodeLegacyOptime("12345"))).isEqualTo(new ClusterStatus(12345, Map.of()));

        assertThat(PatroniValues.encodeSync(new SyncState("node1", Set.of("node3", "node2"), 0, 0)))
                .isEqualTo("{\"leader\":\"node1\",\"sync_standby\":\"node2,node3\"}");
        assertThat(PatroniValues.encodeSync(new SyncState("node1", Set.of(), 0, 0)))
                .isEqualTo("{\"leader\":\"node1\",\"sync_standby\":null}");
        assertThat(read(PatroniValues.decodeSync("{\"leader\":\"node1\",\"sync_standby\":\"node2, node3\"}", 4)))
                .isEqualTo(new SyncState("node1", Set.of("node2", "node3"), 0, 4));
        assertThat(read(PatroniValues.decodeSync("[]", 4))).as("unusable, its version kept for compare-and-set")
                .isEqualTo(new SyncState(null, Set.of(), 0, 4));

        assertThat(read(PatroniValues.decodeFailsafe("{\"node1\":\"http://a/patroni\",\"node2\":3}")))
                .isEqualTo(Map.of("node1", "http://a/patroni"));
        assertThat(read(PatroniValues.decodeFailsafe("x"))).isEmpty();
    }

    @Test
    void leaderInitializeAndFailsafeValues() {
        assertThat(PatroniValues.encodeLeader("node1")).isEqualTo("node1");
        assertThat(read(PatroniValues.decodeLeader("node1"))).isEqualTo(new Leader("node1"));
        assertThat(PatroniValues.encodeInitialize("7710613807138954252")).isEqualTo("7710613807138954252");
        assertThat(read(PatroniValues.decodeInitialize("7710613807138954252"))).isEqualTo("7710613807138954252");
        assertThat(read(PatroniValues.decodeInitialize(""))).as("a bootstrap is running").isEmpty();
        assertThat(PatroniValues.encodeFailsafe(Map.of("node2", "http://b/patroni", "node1", "http://a/patroni")))
                .isEqualTo("{\"node1\":\"http://a/patroni\",\"node2\":\"http://b/patroni\"}");
        assertThat(problems).isEmpty();

        Decoded<Leader> blank = PatroniValues.decodeLeader(" ");
        assertThat(blank.value()).as("kept: the key exists").isEqualTo(new Leader(" "));
        assertThat(blank.isClean()).isFalse();
        assertThat(blank.problems()).containsExactly("blank holder name");
    }

    @Test
    void eachDecodeReportsOnlyItsOwnProblemsAndNothingThrowsForNull() {
        Decoded<Member> bad = PatroniValues.decodeMember("x", "{\"timeline\":\"?\"}");
        Decoded<Member> good = PatroniValues.decodeMember("x", NODE2);

        assertThat(bad.problems()).containsExactly("timeline is not an integer");
        assertThat(good.isClean()).isTrue();
        assertThat(PatroniValues.decodeMember("x", null).value()).isEqualTo(Member.named("x"));
        assertThat(PatroniValues.decodeConfig(null, 3).value()).isEqualTo(new ClusterConfig(Map.of(), 3));
        assertThat(PatroniValues.decodeFailover(null, 3).value()).isNull();
        assertThat(PatroniValues.decodeSync(null, 3).value()).isNull();
        assertThat(PatroniValues.decodeHistory(null).value()).isEqualTo(TimelineHistory.EMPTY);
        assertThat(PatroniValues.decodeStatus(null).value()).isEqualTo(ClusterStatus.EMPTY);
        assertThat(PatroniValues.decodeLegacyOptime(null).value()).isEqualTo(ClusterStatus.EMPTY);
        assertThat(PatroniValues.decodeFailsafe(null).value()).isEmpty();
        assertThat(PatroniValues.decodeLeader(null).value()).isEqualTo(new Leader(""));
    }

    @Test
    void memberKeysAreNamedAsPatroniNamesThem() {
        assertThat(PatroniKeys.member("node1")).isEqualTo("members/node1");
        assertThat(PatroniKeys.memberName("members/node1")).isEqualTo("node1");
        assertThat(PatroniKeys.memberName("members/a/b")).isNull();
        assertThat(PatroniKeys.memberName("members/")).isNull();
        assertThat(PatroniKeys.memberName("leader")).isNull();
        assertThat(PatroniKeys.memberName(null)).isNull();
    }
}
