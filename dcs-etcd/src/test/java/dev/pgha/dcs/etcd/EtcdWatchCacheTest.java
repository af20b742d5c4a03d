package dev.pgha.dcs.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import dev.pgha.testing.EtcdServer;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The watch-fed read cache and the load an idle cluster puts on etcd, measured from etcd's own
 * {@code /metrics} ({@code grpc_server_msg_received_total} by method), and the lock's safety when
 * a node's view is stale. Each test has its own etcd, so the counters are this test's alone.
 */
class EtcdWatchCacheTest {

    private static final Logger LOG = LoggerFactory.getLogger(EtcdWatchCacheTest.class);
    private static final Duration RETRY_TIMEOUT = Duration.ofSeconds(3);

    private static EtcdServer etcd;
    private static Client raw;

    private final String scope = "cache-" + UUID.randomUUID().toString().substring(0, 8);
    private final List<EtcdDcsClient> clients = new ArrayList<>();

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
    void closeClients() {
        clients.forEach(EtcdDcsClient::close);
    }

    private EtcdDcsClient client(String member) {
        EtcdDcsClient c = EtcdDcsClient.builder().endpoints(etcd.endpoints()).scope(scope).member(member)
                .retryTimeout(RETRY_TIMEOUT).build();
        clients.add(c);
        return c;
    }

    @Test
    void anIdleClusterSendsEtcdAtMostOneRequestPerMemberPerCycle() throws Exception {
        Duration ttl = Duration.ofSeconds(4);
        Duration cycle = Duration.ofMillis(500);
        int cycles = 24;
        List<EtcdDcsClient> members = List.of(client("node1"), client("node2"), client("node3"));
        members.forEach(c -> c.watch(() -> { }));
        assertThat(members.get(0).acquireLeader(ttl)).isTrue();
        for (int i = 0; i < 3; i++) {
            idleCycle(members, ttl);
            pace(cycle);
        }
        await("every member reads from its cache", Duration.ofSeconds(5),
                () -> members.stream().allMatch(EtcdDcsClient::readsFromCache));

        Map<String, Long> before = etcdMessages("grpc_server_msg_received_total");
        Map<String, Long> streamsBefore = etcdMessages("grpc_server_started_total");
        long[] keepAlivesBefore = members.stream().mapToLong(EtcdDcsClient::leaseKeepAlives).toArray();
        for (int i = 0; i < cycles; i++) {
            idleCycle(members, ttl);
            for (EtcdDcsClient c : members) {
                assertThat(c.readCluster().members()).as("every member key stays").hasSize(3);
            }
            pace(cycle);
        }
        Map<String, Long> sent = delta(before, etcdMessages("grpc_server_msg_received_total"));
        Map<String, Long> streams = delta(streamsBefore, etcdMessages("grpc_server_started_total"));
        long[] keepAlives = new long[3];
        for (int i = 0; i < 3; i++) {
            keepAlives[i] = members.get(i).leaseKeepAlives() - keepAlivesBefore[i];
        }
        long total = sent.values().stream().mapToLong(Long::longValue).sum();
        double perMemberPerCycle = total / (3.0 * cycles);
        LOG.info("idle cluster, {} cycles of {} (ttl {}): etcd received {} (streams started {}); keep-alives sent "
                        + "per member {} {} {}; {} requests per member per cycle", cycles, cycle, ttl, sent, streams,
                keepAlives[0], keepAlives[1], keepAlives[2], String.format("%.2f", perMemberPerCycle));
        System.out.printf("etcd requests per member per cycle, idle cluster: %.2f %s%n", perMemberPerCycle, sent);

        assertThat(sent.getOrDefault("Range", 0L)).as("no reads: the cache serves them").isZero();
        assertThat(sent.getOrDefault("Put", 0L)).as("no member key writes: nothing changed").isZero();
        assertThat(sent.getOrDefault("Watch", 0L)).as("no new watches").isZero();
        assertThat(sent.getOrDefault("Txn", 0L)).as("the leader's compare-on-value refresh, once a cycle")
                .isEqualTo(cycles);
        long keepAliveTotal = keepAlives[0] + keepAlives[1] + keepAlives[2];
        assertThat(sent.getOrDefault("LeaseKeepAlive", 0L)).as("one message per lease refresh")
                .isEqualTo(keepAliveTotal);
        assertThat(streams.getOrDefault("LeaseKeepAlive", 0L)).as("one stream per lease refresh")
                .isEqualTo(keepAliveTotal);
        assertThat(keepAlives[0]).as("the leader refreshes every cycle").isEqualTo(cycles);
        // ttl/2 is 4 cycles here: a replica refreshes when, by its next cycle, less than that would be left
        assertThat(keepAlives[1]).as("a replica refreshes less often than every cycle").isBetween(1L, cycles / 2L);
        assertThat(keepAlives[2]).as("a replica refreshes less often than every cycle").isBetween(1L, cycles / 2L);
        assertThat(perMemberPerCycle).isLessThanOrEqualTo(1.0);
    }

    @Test
    void aNodeWithAStaleViewCannotTakeTheLockAnotherHoldsNorKeepALockAnotherTook() {
        Duration ttl = Duration.ofSeconds(5);
        EtcdDcsClient a = client("node1");
        EtcdDcsClient b = client("node2");
        assertThat(a.readCluster().isUnlocked()).isTrue();
        await("node1 reads from its cache", Duration.ofSeconds(5), a::readsFromCache);

        a.holdBackWatchEvents(true);
        assertThat(b.acquireLeader(ttl)).isTrue();
        assertThat(a.readsFromCache()).isTrue();
        assertThat(a.readCluster().isUnlocked()).as("node1's view is stale: it misses node2's lock").isTrue();
        assertThat(a.acquireLeader(ttl)).as("the stale view does not let node1 take node2's lock").isFalse();
        assertThat(leaderInEtcd()).isEqualTo("node2");
        a.holdBackWatchEvents(false);
        await("node1's view catches up", Duration.ofSeconds(5),
                () -> a.readCluster().leaderName().orElse("").equals("node2"));

        assertThat(b.releaseLeader()).isTrue();
        assertThat(a.acquireLeader(ttl)).isTrue();
        await("node1 sees its own lock from its cache", Duration.ofSeconds(5),
                () -> a.readsFromCache() && a.readCluster().isLeader("node1"));
        a.holdBackWatchEvents(true);
        // node1's key goes (as when its lease ran out) and node2 takes the lock
        raw.getKVClient().delete(bs("/service/" + scope + "/leader")).join();
        assertThat(b.acquireLeader(ttl)).isTrue();
        assertThat(a.readCluster().isLeader("node1")).as("node1's view is stale: it still shows its lock").isTrue();
        assertThat(a.refreshLeader(ttl)).as("the stale view does not let node1 keep a lock node2 took").isFalse();
        KeyValue leader = leaderKey();
        assertThat(leader.getValue().toString(UTF_8)).isEqualTo("node2");
        assertThat(leader.getLease()).as("the key is on node2's lease").isEqualTo(b.leaseId()).isNotEqualTo(a.leaseId());
        a.holdBackWatchEvents(false);
        await("node1's view catches up", Duration.ofSeconds(5), () -> a.readCluster().isLeader("node2"));
    }

    @Test
    void aReadShowsTheClientsOwnWritesAndOthersWritesOnceTheWatchDeliversThem() {
        EtcdDcsClient a = client("node1");
        EtcdDcsClient b = client("node2");
        a.readCluster();
        b.readCluster();
        await("both read from their caches", Duration.ofSeconds(5), () -> a.readsFromCache() && b.readsFromCache());
        for (int i = 0; i < 20; i++) {
            String candidate = "node" + (3 + i);
            assertThat(a.setFailover(new Failover(null, candidate, null, 0), -1)).isTrue();
            assertThat(a.readsFromCache()).isTrue();
            assertThat(a.readCluster().failover().candidate()).as("own write, read at once").isEqualTo(candidate);
            await("node2 sees node1's write", Duration.ofSeconds(2),
                    () -> b.readCluster().failover() != null && candidate.equals(b.readCluster().failover().candidate()));
        }
        assertThat(a.deleteFailover(-1)).isTrue();
        assertThat(a.readCluster().failover()).isNull();
        await("node2 sees the delete", Duration.ofSeconds(2), () -> b.readCluster().failover() == null);
    }

    @Test
    void theMemberKeyIsWrittenOnlyWhenItChangesOrIsMissing() {
        Duration ttl = Duration.ofSeconds(5);
        EtcdDcsClient a = client("node1");
        Member m = member("node1", 1000L);
        a.touchMember(m, ttl);
        long first = memberKey("node1").getModRevision();
        a.readCluster();
        await("node1 reads from its cache", Duration.ofSeconds(5), a::readsFromCache);
        await("the cache holds node1's key", Duration.ofSeconds(5), () -> a.readCluster().member("node1").isPresent());
        for (int i = 0; i < 5; i++) {
            a.touchMember(m, ttl);
        }
        assertThat(memberKey("node1").getModRevision()).as("unchanged: not written again").isEqualTo(first);

        a.touchMember(member("node1", 2000L), ttl);
        long second = memberKey("node1").getModRevision();
        assertThat(second).as("a changed value is written").isGreaterThan(first);

        raw.getKVClient().delete(bs("/service/" + scope + "/members/node1")).join();
        await("the cache sees the key go", Duration.ofSeconds(5), () -> a.readCluster().member("node1").isEmpty());
        a.touchMember(member("node1", 2000L), ttl);
        assertThat(memberKey("node1")).as("a missing key is written again").isNotNull();
        assertThat(memberKey("node1").getLease()).isEqualTo(a.leaseId());
    }

    @Test
    void theWatchWakesTheHostWithTheChangeAlreadyInTheCache() {
        Duration ttl = Duration.ofSeconds(5);
        EtcdDcsClient a = client("node1");
        EtcdDcsClient b = client("node2");
        AtomicInteger wakeUps = new AtomicInteger();
        List<Boolean> seenLocked = new java.util.concurrent.CopyOnWriteArrayList<>();
        b.readCluster();
        b.watch(() -> {
            wakeUps.incrementAndGet();
            seenLocked.add(b.readsFromCache() && !b.readCluster().isUnlocked());
        });
        await("node2 reads from its cache", Duration.ofSeconds(5), b::readsFromCache);
        assertThat(a.acquireLeader(ttl)).isTrue();
        await("node2 is woken", Duration.ofSeconds(5), () -> wakeUps.get() > 0);
        assertThat(seenLocked).as("a read from the callback shows the new lock").contains(true);
    }

    @Test
    void afterTheWatchFailsReadsGoToEtcdUntilANewWatchIsConfirmedAndMissNothing() {
        try (EtcdServer own = EtcdServer.start()) {
            EtcdDcsClient a = track(EtcdDcsClient.builder().endpoints(own.endpoints()).scope(scope).member("node1")
                    .retryTimeout(RETRY_TIMEOUT).build());
            EtcdDcsClient b = track(EtcdDcsClient.builder().endpoints(own.endpoints()).scope(scope).member("node2")
                    .retryTimeout(RETRY_TIMEOUT).build());
            assertThat(a.readCluster().failover()).isNull();
            await("node1 reads from its cache", Duration.ofSeconds(5), a::readsFromCache);

            own.stop(0);
            await("the broken watch stops the cache", Duration.ofSeconds(10), () -> !a.readsFromCache());
            own.restart(0);
            own.awaitHealthy(Duration.ofSeconds(20));
            await("a write accepted again", Duration.ofSeconds(10), () -> {
                try {
                    return b.setFailover(new Failover(null, "node2", null, 0), -1);
                } catch (dev.pgha.dcs.DcsException e) {
                    return false;
                }
            });
            await("node1 reads the write made while its watch was down", Duration.ofSeconds(10), () -> {
                try {
                    Failover f = a.readCluster().failover();
                    return f != null && "node2".equals(f.candidate());
                } catch (dev.pgha.dcs.DcsException e) {
                    return false;
                }
            });
            await("a new watch is confirmed and serves reads again", Duration.ofSeconds(15), a::readsFromCache);
            assertThat(a.watchRestarts()).isPositive();
            assertThat(a.readCluster().failover().candidate()).isEqualTo("node2");
            assertThat(b.deleteFailover(-1)).isTrue();
            await("the new watch delivers later writes", Duration.ofSeconds(5), () -> a.readCluster().failover() == null);
            assertThat(a.readsFromCache()).isTrue();
        }
    }

    // ------------------------------------------------------------------ helpers

    private EtcdDcsClient track(EtcdDcsClient c) {
        clients.add(c);
        return c;
    }

    private void idleCycle(List<EtcdDcsClient> members, Duration ttl) {
        for (EtcdDcsClient c : members) {
            ClusterView view = c.readCluster();
            assertThat(view.leaderName()).contains("node1");
            if (view.isLeader(c.member())) {
                assertThat(c.refreshLeader(ttl)).isTrue();
            }
            c.touchMember(member(c.member(), 151090208L), ttl);
        }
    }

    private static Member member(String name, long position) {
        boolean primary = "node1".equals(name);
        return new Member(name, "postgres://127.0.0.1:5432/postgres", "http://127.0.0.1:8008/patroni", "running",
                primary ? "primary" : "replica", "pgha-test", position, primary ? null : position,
                primary ? null : position, primary ? null : "streaming", 1L, MemberTags.DEFAULT, false, false);
    }

    private String leaderInEtcd() {
        KeyValue kv = leaderKey();
        return kv == null ? null : kv.getValue().toString(UTF_8);
    }

    private KeyValue leaderKey() {
        return key("/service/" + scope + "/leader");
    }

    private KeyValue memberKey(String name) {
        return key("/service/" + scope + "/members/" + name);
    }

    private static KeyValue key(String key) {
        List<KeyValue> kvs = raw.getKVClient().get(bs(key)).join().getKvs();
        return kvs.isEmpty() ? null : kvs.get(0);
    }

    private static ByteSequence bs(String s) {
        return ByteSequence.from(s, UTF_8);
    }

    /** A counter of etcd's {@code /metrics}, summed by {@code grpc_method}. */
    private static Map<String, Long> etcdMessages(String counter) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(etcd.endpoint(0) + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        Map<String, Long> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("(?m)^" + counter + "\\{[^}]*grpc_method=\"(\\w+)\"[^}]*} (\\S+)$").matcher(r.body());
        while (m.find()) {
            out.merge(m.group(1), (long) Double.parseDouble(m.group(2)), Long::sum);
        }
        return out;
    }

    private static Map<String, Long> delta(Map<String, Long> before, Map<String, Long> after) {
        Map<String, Long> out = new LinkedHashMap<>();
        after.forEach((k, v) -> {
            long d = v - before.getOrDefault(k, 0L);
            if (d != 0) {
                out.put(k, d);
            }
        });
        return out;
    }

    /** Waits out the rest of one loop interval, as a host's loop does between cycles. */
    private static void pace(Duration cycle) throws InterruptedException {
        TimeUnit.MILLISECONDS.sleep(cycle.toMillis());
    }

    private static void await(String what, Duration within, BooleanSupplier condition) {
        long end = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - end).as(what + " within " + within).isNegative();
            try {
                TimeUnit.MILLISECONDS.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
