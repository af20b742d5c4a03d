package dev.pgha.dcs.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The values exactly as Patroni 3.0.2 writes them to etcd (observed from a running Patroni
 * cluster), read and written by the codecs.
 */
class PatroniValuesTest {

    static final String NODE1 = "{\"conn_url\":\"postgres://127.0.0.1:55431/postgres\",\"api_url\":"
            + "\"http://127.0.0.1:58001/patroni\",\"state\":\"running\",\"role\":\"master\",\"version\":\"3.0.2\","
            + "\"xlog_location\":151090208,\"timeline\":13}";
    static final String NODE2 = "{\"conn_url\":\"postgres://127.0.0.1:55432/postgres\",\"api_url\":"
            + "\"http://127.0.0.1:58002/patroni\",\"state\":\"running\",\"role\":\"replica\",\"version\":\"3.0.2\","
            + "\"xlog_location\":151080096,\"timeline\":13}";
    static final String NODE3_DOWN = "{\"conn_url\":\"postgres://127.0.0.1:55433/postgres\",\"api_url\":"
            + "\"http://127.0.0.1:58003/patroni\",\"state\":\"stopped\",\"role\":\"demoted\",\"version\":\"3.0.2\"}";
    static final String CONFIG = "{\"ttl\":30,\"loop_wait\":10,\"retry_timeout\":10,\"maximum_lag_on_failover\":1048576,"
            + "\"postgresql\":{\"use_pg_rewind\":true,\"use_slots\":true,\"parameters\":{\"wal_level\":\"replica\","
            + "\"hot_standby\":\"on\",\"wal_log_hints\":\"on\",\"max_wal_senders\":10,\"max_replication_slots\":10,"
            + "\"max_connections\":50,\"wal_keep_size\":\"128MB\"}}}";
    static final String HISTORY = "[[1,67309192,\"no recovery target specified\",\"2026-11-21T13:20:37.104383+00:00\","
            + "\"node3\"],[2,67359592,\"no recovery target specified\",\"2026-11-21T13:21:48.636385+00:00\",\"node1\"]]";

    private final Problems problems = new Problems();

    @Test
    void membersAreWrittenAsPatroni3WritesThem() {
        Member primary = new Member("node1", "postgres://127.0.0.1:55431/postgres", "http://127.0.0.1:58001/patroni",
                "running", "primary", "3.0.2", 151090208L, null, null, null, 13L, MemberTags.DEFAULT, false);
        Member replica = new Member("node2", "postgres://127.0.0.1:55432/postgres", "http://127.0.0.1:58002/patroni",
                "running", "replica", "3.0.2", 151080096L, null, null, null, 13L, MemberTags.DEFAULT, false);
        Member down = new Member("node3", "postgres://127.0.0.1:55433/postgres", "http://127.0.0.1:58003/patroni",
                "stopped", "demoted", "3.0.2", null, null, null, null, null, MemberTags.DEFAULT, false);

        assertThat(MemberCodec.encode(primary)).isEqualTo(NODE1);
        assertThat(MemberCodec.encode(replica)).isEqualTo(NODE2);
        assertThat(MemberCodec.encode(down)).isEqualTo(NODE3_DOWN);
    }

    @Test
    void membersWrittenByPatroniAreReadWithMasterAsPrimary() {
        Member node1 = MemberCodec.decode("node1", NODE1, problems);
        Member node3 = MemberCodec.decode("node3", NODE3_DOWN, problems);

        assertThat(node1.role()).isEqualTo("primary");
        assertThat(node1.isPrimaryRole()).isTrue();
        assertThat(node1.xlogLocation()).isEqualTo(151090208L);
        assertThat(node1.timeline()).isEqualTo(13L);
        assertThat(node1.connUrl()).isEqualTo("postgres://127.0.0.1:55431/postgres");
        assertThat(node3.state()).isEqualTo("stopped");
        assertThat(node3.xlogLocation()).isNull();
        assertThat(MemberCodec.decode("n", NODE1.replace("master", "primary"), problems).isPrimaryRole()).isTrue();
        assertThat(problems.isEmpty()).isTrue();
    }

    @Test
    void newerMemberFieldsTagsAndThePendingCheckpointAreWrittenInPatronisOrder() {
        MemberTags tags = MemberTags.DEFAULT.withNoFailover(true).withReplicateFrom("node1");
        Member leader = new Member("node1", "postgres://h:5432/postgres", null, "running", "primary", "pgha-0.1.0",
                100L, null, null, null, 2L, tags, true);
        Member replica = new Member("node2", "postgres://h:5433/postgres", null, "running", "replica", "pgha-0.1.0",
                90L, 90L, 80L, "streaming", 2L, MemberTags.DEFAULT, false);

        assertThat(MemberCodec.encode(leader)).isEqualTo("{\"conn_url\":\"postgres://h:5432/postgres\",\"state\":\"running\","
                + "\"role\":\"master\",\"version\":\"pgha-0.1.0\",\"checkpoint_after_promote\":false,"
                + "\"tags\":{\"nofailover\":true,\"replicatefrom\":\"node1\"},\"xlog_location\":100,\"timeline\":2}");
        assertThat(MemberCodec.encode(replica)).isEqualTo("{\"conn_url\":\"postgres://h:5433/postgres\",\"state\":\"running\","
                + "\"role\":\"replica\",\"version\":\"pgha-0.1.0\",\"xlog_location\":90,"
                + "\"replication_state\":\"streaming\",\"replay_lsn\":80,\"receive_lsn\":90,\"timeline\":2}");
    }

    @Test
    void aMemberWhoseRequiredGuardFailedPublishesWatchdogFailedLikePatronisRestStatus() {
        Member replica = new Member("node2", "postgres://h:5433/postgres", null, "running", "replica", "pgha-0.1.0",
                90L, null, null, null, 2L, MemberTags.DEFAULT, false, true);

        String json = MemberCodec.encode(replica);

        assertThat(json).isEqualTo("{\"conn_url\":\"postgres://h:5433/postgres\",\"state\":\"running\","
                + "\"role\":\"replica\",\"version\":\"pgha-0.1.0\",\"xlog_location\":90,\"timeline\":2,"
                + "\"watchdog_failed\":true}");
        assertThat(MemberCodec.decode("node2", json, problems)).isEqualTo(replica);
        assertThat(MemberCodec.encode(replica.withWatchdogFailed(false))).doesNotContain("watchdog_failed");
        // absent (Patroni's own member keys) or false reads as capable
        assertThat(MemberCodec.decode("node2", NODE2, problems).watchdogFailed()).isFalse();
        assertThat(MemberCodec.decode("node2", "{\"watchdog_failed\":false}", problems).watchdogFailed()).isFalse();
        assertThat(problems.isEmpty()).isTrue();
        // an unreadable flag counts as set, like nofailover
        assertThat(MemberCodec.decode("node2", "{\"watchdog_failed\":\"maybe\"}", problems).watchdogFailed()).isTrue();
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

        assertThat(MemberCodec.encode(replica)).isEqualTo(patroni);
        assertThat(MemberCodec.decode("node2", patroni, problems)).isEqualTo(replica);
        assertThat(MemberCodec.encode(replica.withPendingRestart(false))).doesNotContain("pending_restart");
        assertThat(MemberCodec.decode("node2", NODE2, problems).pendingRestart()).isFalse();
        assertThat(problems.isEmpty()).isTrue();
        assertThat(MemberCodec.decode("node2", "{\"pending_restart\":\"soon\"}", problems).pendingRestart()).isFalse();
        assertThat(problems.toString()).contains("pending_restart");
    }

    @Test
    void oddMemberValuesReadAsWhatCanBeUsed() {
        assertThat(MemberCodec.decode("x", "{", problems)).isEqualTo(Member.named("x"));
        assertThat(MemberCodec.decode("x", "[1,2]", problems)).isEqualTo(Member.named("x"));
        assertThat(MemberCodec.decode("x", "", problems)).isEqualTo(Member.named("x"));
        Member m = MemberCodec.decode("x", "{\"xlog_location\":\"abc\",\"timeline\":\"7\",\"state\":5,"
                + "\"tags\":{\"nofailover\":\"maybe\",\"failover_priority\":\"x\",\"zone\":3,\"clonefrom\":\"on\"}}", problems);
        assertThat(m.xlogLocation()).isNull();
        assertThat(m.timeline()).isEqualTo(7L);
        assertThat(m.state()).isNull();
        assertThat(m.tags().noFailover()).as("an unreadable nofailover counts as set").isTrue();
        assertThat(m.tags().failoverPriority()).isEqualTo(1);
        assertThat(m.tags().cloneFrom()).isTrue();
        assertThat(m.tags().custom()).containsEntry("zone", "3");
        assertThat(MemberCodec.decode("x", "postgres://u@h:5432/db", problems).connUrl()).isEqualTo("postgres://u@h:5432/db");
        assertThat(problems.toString()).contains("not a JSON object", "xlog_location", "nofailover");
    }

    @Test
    void configRoundTripsAsTheSameJson() {
        ClusterConfig c = ValueCodec.decodeConfig(CONFIG, 7, problems);

        assertThat(c.version()).isEqualTo(7);
        assertThat(c.data()).containsEntry("ttl", 30L).containsKey("postgresql");
        // the record keeps no top-level order; nested objects keep theirs
        assertThat(Json.parse(ValueCodec.encodeConfig(c))).isEqualTo(Json.parse(CONFIG));
        assertThat(ValueCodec.encodeConfig(c)).contains("\"parameters\":{\"wal_level\":\"replica\",\"hot_standby\":\"on\"");
        assertThat(ValueCodec.decodeConfig("[1]", 9, problems)).isEqualTo(new ClusterConfig(Map.of(), 9));
        assertThat(ValueCodec.decodeConfig("{\"pause\":true,\"x\":null}", 3, problems).data()).isEqualTo(Map.of("pause", true));
    }

    @Test
    void failoverValuesIncludingTheLegacyForm() {
        String patroni = "{\"leader\":\"node1\",\"member\":\"node2\",\"scheduled_at\":\"2026-11-21T13:20:37.104383+00:00\"}";

        assertThat(ValueCodec.decodeFailover(patroni, 5, problems))
                .isEqualTo(new Failover("node1", "node2", "2026-11-21T13:20:37.104383+00:00", 5));
        assertThat(ValueCodec.encodeFailover(new Failover("node1", "node2", "2026-11-21T13:20:37.104383+00:00", 0)))
                .isEqualTo(patroni);
        assertThat(ValueCodec.encodeFailover(new Failover(null, "node2", null, 0))).isEqualTo("{\"member\":\"node2\"}");
        assertThat(ValueCodec.decodeFailover("{}", 5, problems)).isNull();
        assertThat(ValueCodec.decodeFailover("", 5, problems)).isNull();
        assertThat(ValueCodec.decodeFailover("node1:node2", 5, problems)).isEqualTo(new Failover("node1", "node2", null, 5));
        assertThat(ValueCodec.decodeFailover(":node2", 5, problems)).isEqualTo(new Failover(null, "node2", null, 5));
        assertThat(ValueCodec.decodeFailover("node1", 5, problems)).isEqualTo(new Failover("node1", null, null, 5));
        assertThat(ValueCodec.decodeFailover("42", 5, problems)).isNull();
        assertThat(ValueCodec.decodeFailover("{\"leader\":1,\"member\":\"n2\"}", 5, problems))
                .isEqualTo(new Failover(null, "n2", null, 5));
    }

    @Test
    void historyRoundTripsByteForByteAndAnUnusableOneReadsAsUnknown() {
        TimelineHistory h = ValueCodec.decodeHistory(HISTORY, problems);

        assertThat(h.entries()).hasSize(2);
        assertThat(h.clusterTimeline()).isEqualTo(3);
        assertThat(h.entries().get(1)).isEqualTo(new TimelineHistory.Entry(2, 67359592,
                "no recovery target specified", "2026-11-21T13:21:48.636385+00:00", "node1"));
        assertThat(ValueCodec.encodeHistory(h)).isEqualTo(HISTORY);
        assertThat(ValueCodec.encodeHistory(TimelineHistory.EMPTY)).isEqualTo("[]");
        assertThat(ValueCodec.decodeHistory("[[1,100,\"r\"]]", problems).entries())
                .containsExactly(new TimelineHistory.Entry(1, 100, "r", null, null));
        assertThat(problems.isEmpty()).isTrue();
        assertThat(ValueCodec.decodeHistory("[[1,100,\"r\"],[\"x\",2]]", problems)).isEqualTo(TimelineHistory.EMPTY);
        assertThat(ValueCodec.decodeHistory("{}", problems)).isEqualTo(TimelineHistory.EMPTY);
        assertThat(ValueCodec.decodeHistory("[[1]]", problems)).isEqualTo(TimelineHistory.EMPTY);
    }

    @Test
    void statusWithSlotPositionsAndRetainedSlotsAsPatroni4WritesIt() {
        // as Patroni 4 writes it with member_slots_ttl > 0 (json.dumps with separators (',', ':'))
        String patroni4 = "{\"optime\":151090208,\"slots\":{\"node1\":151090208,\"node2\":151080096},"
                + "\"retain_slots\":[\"node1\",\"node2\",\"node3\"]}";
        ClusterStatus status = new ClusterStatus(151090208, Map.of("node1", 151090208L, "node2", 151080096L),
                List.of("node3", "node1", "node2"));

        assertThat(ValueCodec.encodeStatus(status)).isEqualTo(patroni4);
        assertThat(ValueCodec.decodeStatus(patroni4, problems)).isEqualTo(status);
        assertThat(problems.isEmpty()).isTrue();
        // retained names without slot positions, and the forms Patroni also reads
        assertThat(ValueCodec.encodeStatus(new ClusterStatus(5, Map.of(), List.of("node2"))))
                .isEqualTo("{\"optime\":5,\"retain_slots\":[\"node2\"]}");
        assertThat(ValueCodec.decodeStatus("{\"optime\":5,\"slots\":\"{\\\"a\\\":1}\",\"retain_slots\":\"[\\\"a\\\"]\"}",
                problems)).isEqualTo(new ClusterStatus(5, Map.of("a", 1L), List.of("a")));
        assertThat(problems.isEmpty()).isTrue();
        assertThat(ValueCodec.decodeStatus("{\"optime\":5,\"retain_slots\":{\"a\":1}}", problems))
                .isEqualTo(new ClusterStatus(5, Map.of()));
        assertThat(ValueCodec.decodeStatus("{\"optime\":5,\"retain_slots\":[\"a\",3,null]}", problems))
                .isEqualTo(new ClusterStatus(5, Map.of(), List.of("a")));
        assertThat(problems.toString()).contains("retain_slots");
    }

    @Test
    void statusSyncAndFailsafe() {
        assertThat(ValueCodec.encodeStatus(new ClusterStatus(151090208, Map.of()))).isEqualTo("{\"optime\":151090208}");
        assertThat(ValueCodec.encodeStatus(new ClusterStatus(5, Map.of("node2", 4L))))
                .isEqualTo("{\"optime\":5,\"slots\":{\"node2\":4}}");
        assertThat(ValueCodec.decodeStatus("{\"optime\":151090208}", problems)).isEqualTo(new ClusterStatus(151090208, Map.of()));
        assertThat(ValueCodec.decodeStatus("{\"optime\":\"x\",\"slots\":{\"a\":1,\"b\":\"?\"}}", problems))
                .isEqualTo(new ClusterStatus(0, Map.of("a", 1L)));
        assertThat(ValueCodec.decodeStatus("17", problems)).isEqualTo(ClusterStatus.EMPTY);
        assertThat(ValueCodec.decodeLegacyOptime("12345", problems)).isEqualTo(new ClusterStatus(12345, Map.of()));

        assertThat(ValueCodec.encodeSync(new SyncState("node1", Set.of("node3", "node2"), 0, 0)))
                .isEqualTo("{\"leader\":\"node1\",\"sync_standby\":\"node2,node3\"}");
        assertThat(ValueCodec.encodeSync(new SyncState("node1", Set.of(), 0, 0)))
                .isEqualTo("{\"leader\":\"node1\",\"sync_standby\":null}");
        assertThat(ValueCodec.decodeSync("{\"leader\":\"node1\",\"sync_standby\":\"node2, node3\"}", 4, problems))
                .isEqualTo(new SyncState("node1", Set.of("node2", "node3"), 0, 4));
        assertThat(ValueCodec.decodeSync("[]", 4, problems)).isNull();

        assertThat(ValueCodec.decodeFailsafe("{\"node1\":\"http://a/patroni\",\"node2\":3}", problems))
                .isEqualTo(Map.of("node1", "http://a/patroni"));
        assertThat(ValueCodec.decodeFailsafe("x", problems)).isEmpty();
    }

    @Test
    void keyLayoutFollowsPatroni() {
        assertThat(new KeyLayout("/service", "demo").prefix()).isEqualTo("/service/demo/");
        assertThat(new KeyLayout("service/", "demo").prefix()).isEqualTo("/service/demo/");
        assertThat(new KeyLayout("/", "demo").prefix()).isEqualTo("/demo/");
        assertThat(new KeyLayout("/a//b/", "demo").prefix()).isEqualTo("/a/b/demo/");
        assertThat(KeyLayout.memberName("members/node1")).isEqualTo("node1");
        assertThat(KeyLayout.memberName("members/a/b")).isNull();
        assertThat(KeyLayout.memberName("members/")).isNull();
        assertThat(KeyLayout.memberName("leader")).isNull();
    }
}
