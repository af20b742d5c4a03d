package dev.pgha.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.dcs.DcsClient;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The contract of the keys without a TTL: {@code initialize} (the bootstrap race), and the
 * version-checked {@code failover}, {@code config} and {@code sync} keys, plus {@code status} and
 * {@code history}. Part of {@link DcsClientContractTest}.
 *
 * <p>Versions: {@code -1} writes unconditionally, {@code 0} only when the key is absent (an
 * emptied failover key counts as absent), any other value only when it is the version last read;
 * every write changes the version. Numbers in the config come back as {@code Long}.
 */
public abstract class DcsKeysContract extends DcsContractSupport {

    /** A switchover scheduled with Patroni's timestamp format. */
    protected static final String SCHEDULED_AT = "2026-11-21T13:20:37.104383+00:00";

    DcsKeysContract() {
    }

    @Test
    void anEmptyStoreReadsAsAnEmptyCluster() {
        ClusterView v = client("node1").readCluster();

        assertNull(v.initialize());
        assertTrue(v.isUnlocked());
        assertTrue(v.members().isEmpty());
        assertTrue(v.config().data().isEmpty());
        assertNull(v.failover());
        assertNull(v.sync());
        assertEquals(0, v.status().optime());
        assertTrue(v.history().entries().isEmpty());
        assertTrue(v.failsafe().isEmpty());
    }

    @Test
    void exactlyOneInitializeWinsARace() throws Exception {
        List<DcsClient> racers = IntStream.rangeClosed(1, 5).mapToObj(i -> client("node" + i)).toList();

        List<Boolean> won = race(racers.stream().<Callable<Boolean>>map(c -> () -> c.initialize("")).toList());

        assertEquals(1, won.stream().filter(b -> b).count(), "winners of the initialize race: " + won);
        assertEquals("", racers.get(0).readCluster().initialize());
    }

    @Test
    void initializeKeyLifecycle() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");
        assertTrue(a.initialize(""));

        a.setInitialize("7710613807138954252");
        assertTrue(seenBy(b, "the system identifier", v -> "7710613807138954252".equals(v.initialize()))
                .hasValidInitialize());
        assertFalse(b.initialize(""), "initialize must not overwrite an existing key");

        a.cancelInitialization();
        seenBy(b, "no initialize key", v -> v.initialize() == null);
        assertTrue(b.initialize(""), "after cancelInitialization the race is open again");
        a.cancelInitialization();
        a.cancelInitialization();
    }

    @Test
    void failoverKeyRoundTripWithVersions() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");

        assertTrue(a.setFailover(new Failover("node1", "node2", SCHEDULED_AT, 0), 0));
        Failover first = seenBy(b, "the failover key", v -> v.failover() != null).failover();
        assertEquals("node1", first.leader());
        assertEquals("node2", first.candidate());
        assertEquals(SCHEDULED_AT, first.scheduledAt());
        assertTrue(first.version() > 0, "a stored key has a positive version");

        assertFalse(b.setFailover(new Failover(null, "node3", null, 0), 0), "0 creates only when absent");
        assertTrue(b.setFailover(new Failover(null, "node3", null, 0), first.version()));
        Failover second = seenBy(a, "node2's failover request", v -> v.failover() != null
                && "node3".equals(v.failover().candidate())).failover();
        assertNull(second.leader());
        assertEquals("node3", second.candidate());
        assertNull(second.scheduledAt());
        assertNotEquals(first.version(), second.version(), "every write changes the version");

        assertFalse(a.setFailover(new Failover("node1", null, null, 0), first.version()), "stale version");
        assertFalse(a.deleteFailover(first.version()), "stale version");
        assertEquals(second, a.readCluster().failover());
        assertTrue(a.deleteFailover(second.version()));
        seenBy(b, "no failover key", v -> v.failover() == null);
    }

    @Test
    void anEmptiedFailoverKeyReadsAsNoRequestAndCountsAsAbsent() {
        DcsClient a = client("node1");
        assertTrue(a.setFailover(new Failover("node1", "node2", null, 0), 0));

        assertTrue(a.setFailover(new Failover(null, null, null, 0), -1), "-1 overwrites");
        assertNull(a.readCluster().failover(), "an emptied key is no request");

        assertTrue(a.setFailover(new Failover(null, "node2", null, 0), 0), "0 creates over an emptied key");
        assertEquals("node2", a.readCluster().failover().candidate());
        assertTrue(a.deleteFailover(-1), "-1 deletes unconditionally");
        assertNull(a.readCluster().failover());
    }

    @Test
    void configCompareAndSet() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");
        Map<String, Object> data = Map.of("ttl", 30L, "loop_wait", 10L, "retry_timeout", 10L,
                "postgresql", Map.of("use_pg_rewind", true,
                        "parameters", Map.of("wal_level", "replica", "max_connections", 50L)),
                "synchronous_mode", false, "tags", List.of("a", "b"));

        assertTrue(a.setConfig(new ClusterConfig(data, 0), 0));
        ClusterConfig read = seenBy(b, "the config key", v -> !v.config().data().isEmpty()).config();
        assertEquals(data, read.data());
        assertTrue(read.version() > 0);

        assertFalse(b.setConfig(new ClusterConfig(Map.of("ttl", 20L), 0), 0), "0 creates only when absent");
        assertTrue(b.setConfig(new ClusterConfig(Map.of("ttl", 20L), 0), read.version()));
        ClusterConfig changed = seenBy(a, "node2's config", v -> v.config().version() != read.version()).config();
        assertEquals(Map.of("ttl", 20L), changed.data());
        assertNotEquals(read.version(), changed.version());
        assertFalse(a.setConfig(new ClusterConfig(Map.of("ttl", 40L), 0), read.version()), "stale version");

        assertTrue(a.setConfig(new ClusterConfig(Map.of("pause", true), 0), -1), "-1 overwrites");
        seenBy(b, "pause", ClusterView::isPaused);
    }

    @Test
    void syncKeyCompareAndSet() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");

        assertTrue(a.writeSync(new SyncState("node1", Set.of("node2", "node3"), 0, 0), 0));
        SyncState read = seenBy(b, "the sync key", v -> v.sync() != null).sync();
        assertEquals("node1", read.leader());
        assertEquals(Set.of("node2", "node3"), read.syncStandbys());
        assertTrue(read.version() > 0);

        assertFalse(a.writeSync(new SyncState("node1", Set.of(), 0, 0), 0), "0 creates only when absent");
        assertTrue(a.writeSync(new SyncState("node1", Set.of(), 0, 0), read.version()));
        seenBy(b, "the emptied sync key", v -> v.sync() != null && v.sync().syncStandbys().isEmpty());
        assertFalse(a.writeSync(new SyncState("node1", Set.of("node3"), 0, 0), read.version()), "stale version");

        a.deleteSync();
        seenBy(b, "no sync key", v -> v.sync() == null);
        a.deleteSync();
        assertTrue(a.writeSync(new SyncState("node2", Set.of("node1"), 0, 0), -1), "-1 overwrites");
        seenBy(b, "node2's sync key", v -> v.sync() != null && "node2".equals(v.sync().leader()));
    }

    @Test
    void statusAndHistoryRoundTrip() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");
        ClusterStatus status = new ClusterStatus(151090208L, Map.of("node1", 151090208L, "node2", 151080096L,
                "node3", 151000000L), List.of("node1", "node2", "node3", "node_4"));
        TimelineHistory history = new TimelineHistory(List.of(
                new TimelineHistory.Entry(1, 67309192, "no recovery target specified", null, null),
                new TimelineHistory.Entry(2, 67359592, "no recovery target specified",
                        "2026-11-21T13:21:48.636385+00:00", "node1")));

        a.writeStatus(status);
        a.writeHistory(history);

        ClusterView v = seenBy(b, "the status and history keys", w -> !w.history().entries().isEmpty());
        assertEquals(status, v.status());
        assertEquals(history, v.history());
        assertEquals(3, v.timeline());

        a.writeStatus(new ClusterStatus(151190208L, Map.of()));
        a.writeHistory(TimelineHistory.EMPTY);
        ClusterView after = seenBy(b, "the emptied history", w -> w.history().entries().isEmpty());
        assertEquals(new ClusterStatus(151190208L, Map.of()), after.status());
    }
}
