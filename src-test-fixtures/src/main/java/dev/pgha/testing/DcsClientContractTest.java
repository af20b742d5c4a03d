package dev.pgha.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Member;
import dev.pgha.dcs.DcsClient;
import dev.pgha.dcs.DcsException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The {@link DcsClient} contract, stated once for every adapter. Extend it, implement the hooks of
 * {@link DcsContractSupport} (an empty store per test, clients, the clock and how time passes), and
 * the adapter is tested against what the engine relies on:
 * <ul>
 *   <li>the member: a client is bound to the member it was built for ({@code member()}), acts for
 *       it in the lock calls and writes no other member's key;</li>
 *   <li>the leader lock: one acquirer wins; refresh keeps it and fails once another holds it;
 *       a key that expired or was released and that nobody took is created again by a refresh;
 *       only the holder releases it; it expires {@code ttl} after the last acquire or refresh;</li>
 *   <li>member keys: every field survives the round trip; they expire {@code ttl} after the last
 *       touch;</li>
 *   <li>the initialize race and the version-checked keys ({@link DcsKeysContract});</li>
 *   <li>the watch: live once {@code watch()} has returned; fires when the leader key is created,
 *       released, taken over or expires and when the failover key is written or deleted; not on a
 *       refresh by the same holder nor for other keys; not after close;</li>
 *   <li>an unreachable store: every call fails with {@link DcsException} within the retry
 *       timeout, and {@code watch()} returns within it.</li>
 * </ul>
 */
public abstract class DcsClientContractTest extends DcsKeysContract {

    /** For subclasses. */
    protected DcsClientContractTest() {
    }

    // ------------------------------------------------------------------ the member

    @Test
    void aClientIsBoundToTheMemberItWasBuiltFor() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");

        assertEquals("node1", a.member());
        assertEquals("node2", b.member());
        assertTrue(b.acquireLeader(ttl()));
        seenBy(a, "node2 holds the leader key", v -> v.isLeader("node2"));
        assertFalse(a.releaseLeader(), "node1's client cannot release node2's key");
        assertTrue(b.releaseLeader());
        seenBy(a, "the leader key is gone", ClusterView::isUnlocked);
    }

    @Test
    void aClientWritesNoOtherMembersKey() {
        DcsClient a = client("node1");

        assertThrows(IllegalArgumentException.class, () -> a.touchMember(fullMember("node2", "replica"), ttl()));

        assertNoMember(a, "node2");
    }

    // ------------------------------------------------------------------ the lock

    @Test
    void exactlyOneOfManyAcquirersWins() throws Exception {
        List<DcsClient> racers = IntStream.rangeClosed(1, 5).mapToObj(i -> client("node" + i)).toList();

        List<Boolean> won = race(IntStream.range(0, racers.size()).<Callable<Boolean>>mapToObj(
                i -> () -> racers.get(i).acquireLeader(ttl())).toList());

        assertEquals(1, won.stream().filter(b -> b).count(), "winners: " + won);
        assertLeader(racers.get(0), "node" + (won.indexOf(true) + 1));
    }

    @Test
    void acquireIsCreateIfAbsentEvenForTheHolder() {
        DcsClient a = client("node1");
        assertTrue(a.acquireLeader(ttl()));

        assertFalse(a.acquireLeader(ttl()));
        assertFalse(client("node2").acquireLeader(ttl()));
        assertLeader(a, "node1");
    }

    @Test
    void refreshKeepsTheLockBeyondTheTtl() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");
        assertTrue(a.acquireLeader(ttl()));

        long start = clock().nanoTime();
        while (clock().nanoTime() - start - ttl().multipliedBy(2).toNanos() < 0) {
            assertTrue(a.refreshLeader(ttl()), "refresh by the holder");
            assertLeader(b, "node1");
            assertFalse(b.acquireLeader(ttl()));
            passTime(ttl().dividedBy(4));
        }
    }

    @Test
    void theLeaderKeyExpiresTtlAfterTheLastAcquire() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");
        assertTrue(a.acquireLeader(ttl()));

        holds("leader key before its ttl", ttl().minus(timingMargin()), () -> leaderSeenBy(b).isPresent());
        await("leader key expiry", timingMargin().plus(expiryGrace()), () -> leaderSeenBy(b).isEmpty());
        assertTrue(b.acquireLeader(ttl()), "an expired key can be acquired");
    }

    @Test
    void refreshFailsOnceAnotherHoldsTheLock() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");
        assertTrue(a.acquireLeader(ttl()));
        await("leader key expiry", ttl().plus(expiryGrace()), () -> leaderSeenBy(b).isEmpty());
        assertTrue(b.acquireLeader(ttl()));

        assertFalse(a.refreshLeader(ttl()), "refresh must fail: node2 holds the lock");
        assertLeader(a, "node2");
        assertFalse(a.releaseLeader());
        assertLeader(b, "node2");
    }

    @Test
    void refreshCreatesAnExpiredKeyNobodyTookAgain() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");
        assertTrue(a.acquireLeader(ttl()));
        await("leader key expiry", ttl().plus(expiryGrace()), () -> leaderSeenBy(b).isEmpty());

        assertTrue(a.refreshLeader(ttl()));
        assertLeader(b, "node1");
        assertFalse(b.acquireLeader(ttl()));
        // nothing keeps it alive in the background: without refreshes it expires again
        await("leader key expiry", ttl().plus(expiryGrace()), () -> leaderSeenBy(b).isEmpty());
    }

    @Test
    void refreshCreatesAReleasedKeyAgain() {
        DcsClient a = client("node1");
        assertTrue(a.acquireLeader(ttl()));
        assertTrue(a.releaseLeader());

        assertTrue(a.refreshLeader(ttl()));
        assertLeader(client("node2"), "node1");
    }

    @Test
    void onlyTheHolderReleasesTheLock() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");
        assertFalse(a.releaseLeader(), "nothing to release");
        assertTrue(a.acquireLeader(ttl()));

        assertFalse(b.releaseLeader());
        seenBy(b, "node1 still holds the leader key", v -> v.isLeader("node1"));
        assertTrue(a.releaseLeader());
        seenBy(b, "the leader key is gone", ClusterView::isUnlocked);
        assertFalse(a.releaseLeader(), "already released");
        assertTrue(b.acquireLeader(ttl()));
    }

    // --------------------------------------------------------------- members

    @Test
    void memberKeysRoundTripEveryField() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");
        Member primary = fullMember("node1", "primary");
        Member replica = fullMember("node2", "replica");
        Member bare = Member.named("node3");

        a.touchMember(primary, ttl());
        b.touchMember(replica, ttl());
        client("node3").touchMember(bare, ttl());

        assertEquals(Optional.of(primary), seenBy(b, "node1's key", v -> v.member("node1").isPresent()).member("node1"));
        ClusterView v = seenBy(a, "every member key", w -> w.members().size() == 3);
        assertEquals(Optional.of(replica), v.member("node2"));
        assertEquals(Optional.of(bare), v.member("node3"));
        assertTrue(v.member("node1").orElseThrow().isPrimaryRole());
    }

    @Test
    void memberKeysExpireTtlAfterTheLastTouch() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");
        a.touchMember(fullMember("node1", "replica"), ttl());
        seenBy(b, "node1's key", v -> v.member("node1").isPresent());
        passTime(ttl().dividedBy(2));
        assertTrue(b.readCluster().member("node1").isPresent());

        a.touchMember(fullMember("node1", "replica"), ttl());
        Duration renewedFor = ttl().minus(timingMargin());
        holds("member key renewed by the second touch", renewedFor, () -> b.readCluster().member("node1").isPresent());
        await("member key expiry", timingMargin().plus(expiryGrace()), () -> b.readCluster().members().isEmpty());
    }

    @Test
    void deleteMemberRemovesOnlyThatMember() {
        DcsClient a = client("node1");
        a.touchMember(fullMember("node1", "primary"), ttl());
        client("node2").touchMember(fullMember("node2", "replica"), ttl());

        a.deleteMember("node2");
        a.deleteMember("node4");

        assertNoMember(a, "node2");
        assertTrue(a.readCluster().member("node1").isPresent());
    }

    // ----------------------------------------------------------------- watch

    @Test
    void aWatchSeesTheFirstChangeAfterWatchReturned() {
        DcsClient a = client("node1");
        AtomicInteger changes = new AtomicInteger();
        client("node2").watch(changes::incrementAndGet);

        // no pause: the watch must be live as soon as watch() has returned
        assertTrue(a.setFailover(new Failover("node1", "node2", null, 0), 0));

        await("a wake-up for the first change after watch()", quietPeriod().plus(expiryGrace()),
                () -> changes.get() > 0);
    }

    @Test
    void theWatchFiresWhenTheLeaderKeyChangesHandsButNotOnARefresh() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");
        AtomicInteger changes = new AtomicInteger();
        b.watch(changes::incrementAndGet);

        expectChange("the leader key was created", changes, () -> assertTrue(a.acquireLeader(ttl())));
        int seen = changes.get();
        for (int i = 0; i < 3; i++) {
            assertTrue(a.refreshLeader(ttl()));
            pass(pollStep());
        }
        a.touchMember(fullMember("node1", "primary"), ttl());
        holds("no wake-up for refreshes by the same holder", quietPeriod(), () -> changes.get() == seen);

        expectChange("the leader key was released", changes, () -> assertTrue(a.releaseLeader()));
        expectChange("the leader key was taken by another member", changes,
                () -> assertTrue(b.acquireLeader(ttl())));
    }

    @Test
    void theWatchFiresWhenTheLeaderKeyExpires() {
        DcsClient a = client("node1");
        DcsClient b = client("node2");
        AtomicInteger changes = new AtomicInteger();
        b.watch(changes::incrementAndGet);
        expectChange("the leader key was created", changes, () -> assertTrue(a.acquireLeader(ttl())));

        int seen = changes.get();
        await("a wake-up for the expired leader key", ttl().plus(expiryGrace()).plus(pollStep()),
                () -> changes.get() > seen);
        assertUnlocked(b);
    }

    @Test
    void theWatchFiresWhenTheFailoverKeyIsWrittenOrDeleted() {
        DcsClient a = client("node1");
        AtomicInteger changes = new AtomicInteger();
        client("node2").watch(changes::incrementAndGet);

        expectChange("the failover key was written", changes,
                () -> assertTrue(a.setFailover(new Failover("node1", "node2", null, 0), 0)));
        expectChange("the failover key was deleted", changes, () -> assertTrue(a.deleteFailover(-1)));

        int seen = changes.get();
        a.setConfig(new ClusterConfig(Map.of("ttl", 30L), 0), -1);
        a.initialize("");
        a.touchMember(fullMember("node1", "replica"), ttl());
        holds("no wake-up for other keys", quietPeriod(), () -> changes.get() == seen);
    }

    @Test
    void aClosedSubscriptionStopsTheCallbacks() {
        DcsClient a = client("node1");
        AtomicInteger changes = new AtomicInteger();
        DcsClient.Subscription subscription = client("node2").watch(changes::incrementAndGet);

        subscription.close();
        subscription.close();
        assertTrue(a.acquireLeader(ttl()));
        assertTrue(a.releaseLeader());

        holds("no wake-up after close", quietPeriod(), () -> changes.get() == 0);
    }

    // ---------------------------------------------------------- unreachable

    @Test
    void everyCallFailsWithinTheRetryTimeoutWhenTheStoreIsUnreachable() {
        DcsClient c = newUnreachableClient("node1");
        try {
            c.setRetryTimeout(unreachableRetryTimeout());
            assertFailsInTime("readCluster", c, DcsClient::readCluster);
            assertFailsInTime("acquireLeader", c, x -> x.acquireLeader(ttl()));
            assertFailsInTime("refreshLeader", c, x -> x.refreshLeader(ttl()));
            assertFailsInTime("touchMember", c, x -> x.touchMember(fullMember("node1", "replica"), ttl()));
            assertFailsInTime("setFailover", c, x -> x.setFailover(new Failover(null, "node2", null, 0), 0));
            long start = clock().nanoTime();
            c.watch(() -> { }).close();
            Duration took = Duration.ofNanos(clock().nanoTime() - start);
            Duration limit = unreachableRetryTimeout().plus(timeoutGrace());
            assertTrue(took.compareTo(limit) <= 0, "watch took " + took + ", more than " + limit);
        } finally {
            c.close();
        }
    }

    private void assertFailsInTime(String op, DcsClient c, Consumer<DcsClient> call) {
        long start = clock().nanoTime();
        DcsException e = assertThrows(DcsException.class, () -> call.accept(c), op + " must throw");
        Duration took = Duration.ofNanos(clock().nanoTime() - start);
        Duration limit = unreachableRetryTimeout().plus(timeoutGrace());
        assertTrue(took.compareTo(limit) <= 0, op + " took " + took + ", more than " + limit + " (" + e + ")");
    }

    // --------------------------------------------------------------- helpers

    /** How long the tests watch for a callback that must not come. */
    protected Duration quietPeriod() {
        return pollStep().multipliedBy(8);
    }

    /** Runs {@code action} and waits for the watch to count a change. */
    private void expectChange(String what, AtomicInteger changes, Runnable action) {
        int before = changes.get();
        action.run();
        await("a wake-up because " + what, quietPeriod().plus(expiryGrace()), () -> changes.get() > before);
    }
}
