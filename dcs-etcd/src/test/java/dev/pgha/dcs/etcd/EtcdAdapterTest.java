package dev.pgha.dcs.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.dcs.values.PatroniValues;
import dev.pgha.testing.PatroniSamples;
import dev.pgha.testing.EtcdServer;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** What the etcd adapter stores and reads beyond the SPI contract: Patroni's layout, leases, robustness. */
class EtcdAdapterTest {

    private static final Duration TTL = Duration.ofSeconds(5);

    private static EtcdServer etcd;
    private static Client raw;

    private final String scope = "adapter-" + UUID.randomUUID().toString().substring(0, 8);
    private final String prefix = "/service/" + scope + "/";
    private final EtcdDcsClient node1 = client("node1");

    @BeforeAll
    static void start() {
        etcd = EtcdServer.start();
        raw = Client.builder().endpoints(etcd.endpoints().toArray(String[]::new)).build();
    }

    @AfterAll
    static void stop() {
        if (raw != null) {
            raw.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    @AfterEach
    void closeClient() {
        node1.close();
    }

    private EtcdDcsClient client(String member) {
        return EtcdDcsClient.builder().endpoints(etcd.endpoints()).scope(scope).member(member)
                .retryTimeout(Duration.ofSeconds(3)).build();
    }

    @Test
    void keysAndValuesAreWrittenAsPatroniWritesThem() throws Exception {
        Member me = new Member("node1", "postgres://127.0.0.1:5432/postgres", "http://127.0.0.1:8008/patroni",
                "running", "primary", "pgha-test", 151090208L, null, null, null, 13L, MemberTags.DEFAULT, false);
        node1.touchMember(me, TTL);
        node1.acquireLeader(TTL);
        node1.writeStatus(new ClusterStatus(151090208, Map.of()));
        node1.setInitialize("7710613807138954252");
        node1.setConfig(new ClusterConfig(Map.of("ttl", 30L), 0), 0);
        node1.writeHistory(new TimelineHistory(List.of(new TimelineHistory.Entry(12, 150000000, "r", null, null))));

        Map<String, KeyValue> kvs = rawRead();
        assertThat(kvs.keySet()).containsExactlyInAnyOrder("leader", "members/node1", "status", "initialize",
                "config", "history");
        assertThat(text(kvs.get("leader"))).isEqualTo("node1");
        assertThat(text(kvs.get("members/node1"))).isEqualTo(PatroniValues.encodeMember(me)).contains("\"role\":\"master\"");
        assertThat(text(kvs.get("status"))).isEqualTo("{\"optime\":151090208}");
        assertThat(text(kvs.get("initialize"))).isEqualTo("7710613807138954252");
        assertThat(text(kvs.get("config"))).isEqualTo("{\"ttl\":30}");
        assertThat(text(kvs.get("history"))).isEqualTo("[[12,150000000,\"r\"]]");

        long lease = kvs.get("leader").getLease();
        assertThat(lease).as("the leader key is bound to a lease").isNotZero();
        assertThat(kvs.get("members/node1").getLease()).as("one lease for the member and the leader key").isEqualTo(lease);
        assertThat(kvs.get("config").getLease()).isZero();
        assertThat(raw.getLeaseClient().timeToLive(lease, io.etcd.jetcd.options.LeaseOption.DEFAULT)
                .get(5, TimeUnit.SECONDS).getGrantedTTL()).isEqualTo(5);
    }

    @Test
    void aClusterWrittenByPatroniIsReadAsPatroniMeantIt() throws Exception {
        long lease = raw.getLeaseClient().grant(30).get(5, TimeUnit.SECONDS).getID();
        PutOption leased = PutOption.builder().withLeaseId(lease).build();
        rawPut("members/node1", PatroniSamples.NODE1, leased);
        rawPut("leader", "node1", leased);
        rawPut("members/node2", PatroniSamples.NODE2, PutOption.DEFAULT);
        rawPut("members/node3", PatroniSamples.NODE3_DOWN, PutOption.DEFAULT);
        rawPut("config", PatroniSamples.CONFIG, PutOption.DEFAULT);
        rawPut("history", PatroniSamples.HISTORY, PutOption.DEFAULT);
        rawPut("initialize", "7710613807138954252", PutOption.DEFAULT);
        rawPut("status", "{\"optime\":151090208}", PutOption.DEFAULT);
        rawPut("failover", "{}", PutOption.DEFAULT);

        ClusterView v = node1.readCluster();

        assertThat(v.leaderName()).contains("node1");
        assertThat(v.leaderMember().orElseThrow().isPrimaryRole()).isTrue();
        assertThat(v.members()).extracting(Member::name).containsExactlyInAnyOrder("node1", "node2", "node3");
        assertThat(v.member("node2").orElseThrow().xlogLocation()).isEqualTo(151080096L);
        assertThat(v.member("node3").orElseThrow().isRunning()).isFalse();
        assertThat(v.config().data()).containsEntry("loop_wait", 10L);
        assertThat(v.timeline()).isEqualTo(3);
        assertThat(v.hasValidInitialize()).isTrue();
        assertThat(v.status().optime()).isEqualTo(151090208L);
        assertThat(v.failover()).as("an emptied failover key is no request").isNull();
        assertThat(node1.refreshLeader(TTL)).as("the adapter takes over a lock Patroni's node1 held").isTrue();
        raw.getLeaseClient().revoke(lease).get(5, TimeUnit.SECONDS);
    }

    @Test
    void unusableValuesInEveryKeyNeverBreakReadingNorTheLock() throws Exception {
        rawPut("leader", "", PutOption.DEFAULT);
        rawPut("members/x", "{", PutOption.DEFAULT);
        rawPut("members/y", "[]", PutOption.DEFAULT);
        rawPut("members/a/b", "{}", PutOption.DEFAULT);
        rawPut("members/", PatroniSamples.NODE2, PutOption.DEFAULT);
        raw.getKVClient().put(key("members/z"), ByteSequence.from(new byte[] {(byte) 0xff, 0, (byte) 0xc3}))
                .get(5, TimeUnit.SECONDS);
        rawPut("config", "[", PutOption.DEFAULT);
        rawPut("failover", "42", PutOption.DEFAULT);
        rawPut("sync", "nope", PutOption.DEFAULT);
        rawPut("history", "[[\"x\"]]", PutOption.DEFAULT);
        rawPut("status", "{", PutOption.DEFAULT);
        rawPut("failsafe", "[]", PutOption.DEFAULT);
        rawPut("something/else", "?", PutOption.DEFAULT);

        ClusterView v = node1.readCluster();

        assertThat(v.isUnlocked()).as("a blank leader key names nobody").isTrue();
        // undecodable member data is a member known only by name (the leader keeps no slot for it);
        // a key without a name or a deeper path names no member at all
        assertThat(v.members()).containsExactlyInAnyOrder(Member.named("x"), Member.named("y"), Member.named("z"));
        assertThat(v.config().data()).isEmpty();
        assertThat(v.config().version()).as("the version stays usable for compare-and-set").isPositive();
        assertThat(v.failover()).isNull();
        assertThat(v.sync().leader()).as("an unusable sync key names no leader; its version is kept").isNull();
        assertThat(v.sync().version()).isPositive();
        assertThat(v.history()).isEqualTo(TimelineHistory.EMPTY);
        assertThat(v.status()).isEqualTo(ClusterStatus.EMPTY);
        assertThat(v.failsafe()).isEmpty();
        assertThat(node1.readCluster()).as("reading again (logged at debug only)").isEqualTo(v);

        assertThat(node1.acquireLeader(TTL)).as("the blank key still exists").isFalse();
        raw.getKVClient().delete(key("leader")).get(5, TimeUnit.SECONDS);
        assertThat(node1.acquireLeader(TTL)).isTrue();
        assertThat(node1.setConfig(new ClusterConfig(Map.of("ttl", 30L), 0), v.config().version())).isTrue();
        assertThat(node1.setFailover(new Failover(null, "node2", null, 0), 0))
                .as("an undecodable failover key counts as absent").isTrue();
        assertThat(node1.readCluster().failover().candidate()).isEqualTo("node2");
    }

    @Test
    void aTtlChangeMovesTheKeysToANewLease() throws Exception {
        node1.touchMember(Member.named("node1"), TTL);
        assertThat(node1.acquireLeader(TTL)).isTrue();
        long first = rawRead().get("leader").getLease();

        assertThat(node1.refreshLeader(Duration.ofMillis(6500))).isTrue();
        node1.touchMember(Member.named("node1"), Duration.ofMillis(6500));

        Map<String, KeyValue> kvs = rawRead();
        long second = kvs.get("leader").getLease();
        assertThat(second).isNotEqualTo(first);
        assertThat(kvs.get("members/node1").getLease()).isEqualTo(second);
        assertThat(raw.getLeaseClient().timeToLive(second, io.etcd.jetcd.options.LeaseOption.DEFAULT)
                .get(5, TimeUnit.SECONDS).getGrantedTTL()).as("ttl rounded up to whole seconds").isEqualTo(7);
    }

    @Test
    void aHostOwnedJetcdClientIsUsedButNotClosed() throws Exception {
        try (Client host = Client.builder().endpoints(etcd.endpoints().toArray(String[]::new)).build()) {
            EtcdDcsClient adapter = EtcdDcsClient.builder().client(host).scope(scope).member("node2").build();
            assertThat(adapter.acquireLeader(TTL)).isTrue();
            adapter.close();

            assertThat(host.getKVClient().get(key("leader")).get(5, TimeUnit.SECONDS).getKvs()).hasSize(1);
            assertThatThrownBy(adapter::readCluster).isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        }
    }

    @Test
    void theBuilderRefusesIncompleteOrConflictingSettings() {
        assertThatThrownBy(() -> EtcdDcsClient.builder().scope("s").member("m").build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("endpoints");
        assertThatThrownBy(() -> EtcdDcsClient.builder().endpoints("127.0.0.1:2379").member("m").build())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scope");
        assertThatThrownBy(() -> EtcdDcsClient.builder().endpoints("127.0.0.1:2379").scope("s").build())
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("member");
        assertThatThrownBy(() -> EtcdDcsClient.builder().endpoints("127.0.0.1:2379").scope("a/b").member("m").build())
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> EtcdDcsClient.builder().client(raw).endpoints("127.0.0.1:2379").scope("s").member("m")
                .build()).isInstanceOf(IllegalStateException.class).hasMessageContaining("not both");
        assertThatThrownBy(() -> EtcdDcsClient.builder().retryTimeout(Duration.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> node1.acquireLeader(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> node1.setConfig(ClusterConfig.EMPTY, -2)).isInstanceOf(IllegalArgumentException.class);

        EtcdDcsClient c = EtcdDcsClient.builder().endpoints("127.0.0.1:1").namespace("pg").scope("s").member("m").build();
        assertThat(c.keyPrefix()).isEqualTo("/pg/s/");
        assertThat(c.retryTimeout()).isEqualTo(Duration.ofSeconds(10));
        c.setRetryTimeout(Duration.ofSeconds(2));
        assertThat(c.retryTimeout()).isEqualTo(Duration.ofSeconds(2));
        c.close();
        c.close();
    }

    // ---------------------------------------------------------------- raw access

    private ByteSequence key(String relative) {
        return ByteSequence.from(prefix + relative, UTF_8);
    }

    private void rawPut(String relative, String value, PutOption option) throws Exception {
        raw.getKVClient().put(key(relative), ByteSequence.from(value, UTF_8), option).get(5, TimeUnit.SECONDS);
    }

    private Map<String, KeyValue> rawRead() throws Exception {
        List<KeyValue> kvs = raw.getKVClient().get(ByteSequence.from(prefix, UTF_8),
                GetOption.builder().isPrefix(true).build()).get(5, TimeUnit.SECONDS).getKvs();
        return kvs.stream().collect(Collectors.toMap(kv -> kv.getKey().toString(UTF_8).substring(prefix.length()),
                Function.identity()));
    }

    private static String text(KeyValue kv) {
        return kv.getValue().toString(UTF_8);
    }
}
