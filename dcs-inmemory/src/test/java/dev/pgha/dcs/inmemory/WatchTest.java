package dev.pgha.dcs.inmemory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.Failover;
import dev.pgha.dcs.DcsClient.Subscription;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class WatchTest {

    private static final Duration TTL = Duration.ofSeconds(30);

    private final TestClock clock = new TestClock();
    private final InMemoryDcs dcs = InMemoryDcs.create(clock);
    private final InMemoryDcsClient node1 = dcs.client("node1");
    private final InMemoryDcsClient node2 = dcs.client("node2");
    private final AtomicInteger calls = new AtomicInteger();
    private final ExecutorService executor = Executors.newSingleThreadExecutor();

    @AfterEach
    void stopExecutor() {
        executor.shutdownNow();
    }

    @Test
    void firesWhenTheLeaderKeyIsWrittenOrDeleted() {
        node2.watch(calls::incrementAndGet);

        node1.acquireLeader(TTL);
        assertThat(calls).hasValue(1);
        node1.releaseLeader();
        assertThat(calls).hasValue(2);
        dcs.putLeader("node3", TTL);
        assertThat(calls).hasValue(3);
        dcs.putLeader("node1", TTL);
        assertThat(calls).as("taken over").hasValue(4);
        dcs.deleteLeader();
        assertThat(calls).hasValue(5);
    }

    @Test
    void aRefreshOfTheSameHolderOrOtherKeysDoNotFire() {
        node1.acquireLeader(TTL);
        node1.watch(calls::incrementAndGet);

        node1.refreshLeader(TTL);
        node2.acquireLeader(TTL);
        node2.refreshLeader(TTL);
        node2.releaseLeader();
        node1.touchMember(KeysTest.member("node1", "running"), TTL);
        node1.setConfig(new ClusterConfig(Map.of("ttl", 30), 0), 0);
        node1.initialize("");
        node1.readCluster();

        assertThat(calls).hasValue(0);
    }

    @Test
    void firesWhenAnExpiredLeaderKeyIsNoticed() {
        node1.acquireLeader(TTL);
        node2.watch(calls::incrementAndGet);

        clock.advance(TTL);
        assertThat(calls).as("expiry is lazy").hasValue(0);
        assertThat(dcs.checkExpiry()).isEqualTo(1);
        assertThat(calls).hasValue(1);
        assertThat(dcs.checkExpiry()).isZero();
        assertThat(calls).hasValue(1);
    }

    @Test
    void anyStoreAccessNoticesTheExpiry() {
        node1.acquireLeader(TTL);
        node2.watch(calls::incrementAndGet);
        clock.advance(TTL.plusSeconds(1));

        node1.touchMember(KeysTest.member("node1", "running"), TTL);

        assertThat(calls).hasValue(1);
    }

    @Test
    void firesWhenTheFailoverKeyIsWrittenOrDeleted() {
        node2.watch(calls::incrementAndGet);

        node1.setFailover(new Failover("node1", "node2", null, 0), 0);
        assertThat(calls).hasValue(1);
        node1.setFailover(new Failover("node1", null, null, 0), 0);
        assertThat(calls).as("a lost compare writes nothing").hasValue(1);
        dcs.putFailover(new Failover(null, "node2", null, 0));
        assertThat(calls).hasValue(2);
        node1.deleteFailover(-1);
        assertThat(calls).hasValue(3);
        node1.deleteFailover(-1);
        assertThat(calls).as("nothing left to delete").hasValue(3);
    }

    @Test
    void closingTheSubscriptionOrTheClientStopsCallbacks() {
        Subscription subscription = node2.watch(calls::incrementAndGet);
        AtomicInteger other = new AtomicInteger();
        node1.watch(other::incrementAndGet);

        node1.acquireLeader(TTL);
        subscription.close();
        subscription.close();
        node1.releaseLeader();
        assertThat(calls).hasValue(1);
        assertThat(other).hasValue(2);

        node1.close();
        node2.acquireLeader(TTL);
        assertThat(other).hasValue(2);
    }

    @Test
    void aThrowingCallbackIsLoggedAndBreaksNothing() {
        node2.watch(() -> {
            throw new IllegalStateException("callback bug (expected by the test)");
        });
        node2.watch(calls::incrementAndGet);

        assertThat(node1.acquireLeader(TTL)).isTrue();

        assertThat(calls).hasValue(1);
        assertThat(node1.releaseLeader()).isTrue();
        assertThat(calls).hasValue(2);
    }

    @Test
    void callbacksRunAfterTheStoreLockIsReleased() {
        List<Optional<String>> seenByAnotherThread = new java.util.concurrent.CopyOnWriteArrayList<>();
        node2.watch(() -> {
            Future<Optional<String>> read = executor.submit(dcs::leaderName);
            try {
                seenByAnotherThread.add(read.get(10, TimeUnit.SECONDS));
            } catch (Exception e) {
                throw new AssertionError("the store was still locked during the callback", e);
            }
        });

        node1.acquireLeader(TTL);

        assertThat(seenByAnotherThread).containsExactly(Optional.of("node1"));
    }

    @Test
    void aFaultedMemberIsNotWoken() {
        node2.watch(calls::incrementAndGet);
        node2.fault(Fault.PARTITIONED);

        node1.acquireLeader(TTL);
        assertThat(calls).hasValue(0);

        node2.fault(Fault.NONE);
        node1.releaseLeader();
        assertThat(calls).hasValue(1);
    }
}
