package dev.pgha.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.pgha.HaClock;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import dev.pgha.dcs.DcsClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * The hooks and helpers of the {@link DcsClient} contract tests. Adapter authors extend
 * {@link DcsClientContractTest}, which inherits from this class through {@link DcsKeysContract};
 * they implement the hooks here.
 *
 * <h2>Time</h2>
 * The tests never sleep for synchronisation; they poll with deadlines on the store's
 * {@link #clock()}, calling {@link #pass(Duration)} between polls. A store on a manual clock
 * advances it there (and lets the store notice expiries); a store on real time waits that long.
 * TTLs, the slack a real store needs to notice an expiry ({@link #expiryGrace()}) and the retry
 * timeout used for unreachable stores are the subclass's choice, so real stores can keep them
 * short.
 *
 * <h2>Isolation</h2>
 * {@link #openStore()} runs before each test and must give an empty store (a new in-memory store,
 * a new scope on a shared etcd); every client made by {@link #client(String)} is closed after the
 * test, then {@link #closeStore()} runs.
 */
public abstract class DcsContractSupport {

    private final List<DcsClient> clients = new ArrayList<>();

    // ------------------------------------------------------------ the subclass's hooks

    /** Prepares an empty store for the next test. */
    protected abstract void openStore();

    /**
     * A new client of the current store, bound to {@code member}: its {@link DcsClient#member()}
     * returns it, and its lock calls act for it.
     */
    protected abstract DcsClient newClient(String member);

    /**
     * A client for {@code member} whose store cannot be reached (down, partitioned or hung), so
     * that every call must fail within the client's retry timeout.
     */
    protected abstract DcsClient newUnreachableClient(String member);

    /** The clock the store measures TTLs on. */
    protected abstract HaClock clock();

    /** Lets {@code step} of time pass on {@link #clock()} (advance a manual clock, or wait). */
    protected abstract void pass(Duration step);

    /** The ttl the tests use for leader and member keys. */
    protected abstract Duration ttl();

    /** Releases what {@link #openStore()} set up (default: nothing). */
    protected void closeStore() {
    }

    /** How much later than its ttl the store may notice that a key expired (default: not at all). */
    protected Duration expiryGrace() {
        return Duration.ZERO;
    }

    /** The retry timeout given to unreachable clients (default 1 s). */
    protected Duration unreachableRetryTimeout() {
        return Duration.ofSeconds(1);
    }

    /** How much a call on an unreachable store may overrun its retry timeout (default: not at all). */
    protected Duration timeoutGrace() {
        return Duration.ZERO;
    }

    /**
     * How long before a key's ttl runs out the tests stop expecting it to be there, to absorb
     * scheduling delays of a real store (default two poll steps).
     */
    protected Duration timingMargin() {
        return pollStep().multipliedBy(2);
    }

    /** How much time passes between two polls (default 50 ms). */
    protected Duration pollStep() {
        return Duration.ofMillis(50);
    }

    // ------------------------------------------------------------ lifecycle and helpers

    DcsContractSupport() {
    }

    @BeforeEach
    final void openStoreForTest() {
        openStore();
    }

    @AfterEach
    final void closeClientsAndStore() {
        try {
            for (DcsClient c : clients) {
                c.close();
            }
        } finally {
            clients.clear();
            closeStore();
        }
    }

    /** A client of the current store bound to {@code member}, closed after the test. */
    protected final DcsClient client(String member) {
        DcsClient c = newClient(member);
        clients.add(c);
        return c;
    }

    /** Polls until {@code condition} holds; fails when {@code within} passes first. */
    protected final void await(String what, Duration within, BooleanSupplier condition) {
        long start = clock().nanoTime();
        while (!condition.getAsBoolean()) {
            long waited = clock().nanoTime() - start;
            if (waited - within.toNanos() >= 0) {
                fail(what + ": did not happen within " + within);
            }
            pass(pollStep());
        }
    }

    /** Polls {@code condition} for {@code during} and fails as soon as it does not hold. */
    protected final void holds(String what, Duration during, BooleanSupplier condition) {
        long start = clock().nanoTime();
        while (true) {
            long elapsed = clock().nanoTime() - start;
            assertTrue(condition.getAsBoolean(), what + ": stopped holding after " + Duration.ofNanos(elapsed));
            if (elapsed - during.toNanos() >= 0) {
                return;
            }
            pass(pollStep());
        }
    }

    /** Lets {@code duration} pass in poll steps. */
    protected final void passTime(Duration duration) {
        long start = clock().nanoTime();
        while (clock().nanoTime() - start - duration.toNanos() < 0) {
            pass(pollStep());
        }
    }

    /** Runs the tasks at the same moment on separate threads and returns their results in order. */
    protected final <T> List<T> race(List<Callable<T>> tasks) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(tasks.size());
        try {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<T>> futures = new ArrayList<>();
            for (Callable<T> task : tasks) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return task.call();
                }));
            }
            go.countDown();
            List<T> results = new ArrayList<>();
            for (Future<T> f : futures) {
                results.add(f.get(60, TimeUnit.SECONDS));
            }
            return results;
        } finally {
            pool.shutdownNow();
        }
    }

    /** The holder of the leader key as {@code reader} sees it now. */
    protected static Optional<String> leaderSeenBy(DcsClient reader) {
        return reader.readCluster().leaderName();
    }

    /**
     * A member with every field of the member key set: a primary with its checkpoint pending, a
     * replica whose fencing guard cannot be activated ({@code watchdog_failed}).
     */
    protected static Member fullMember(String name, String role) {
        MemberTags tags = MemberTags.DEFAULT.withCloneFrom(true).withFailoverPriority(2).withSyncPriority(3)
                .withReplicateFrom("node9").withCustom(Map.of("zone", "eu-1"));
        boolean primary = "primary".equals(role);
        return new Member(name, "postgres://127.0.0.1:5432/postgres", "http://127.0.0.1:8008/patroni", "running",
                role, "pgha-test", 151090208L, primary ? null : 151080000L, primary ? null : 151070000L,
                primary ? null : "streaming", 13L, tags, primary, !primary);
    }

    /** A read of the cluster that maps it first (for short assertions). */
    protected static <T> T read(DcsClient reader, Function<ClusterView, T> f) {
        return f.apply(reader.readCluster());
    }

    /** Asserts that the member is absent as {@code reader} sees it (within {@link #propagation()}). */
    protected final void assertNoMember(DcsClient reader, String name) {
        seenBy(reader, name + " absent", v -> v.member(name).isEmpty());
    }

    /**
     * How long another client's write may take to show in a reader's {@code readCluster()}: zero
     * (at once) unless the adapter reads from a watch-fed cache, which lags by the watch's delay.
     */
    protected Duration propagation() {
        return Duration.ZERO;
    }

    /**
     * Reads with {@code reader} until {@code condition} holds (at most {@link #propagation()}, for
     * a write by another client) and returns the view that satisfied it.
     */
    protected final ClusterView seenBy(DcsClient reader, String what, Predicate<ClusterView> condition) {
        ClusterView[] seen = new ClusterView[1];
        await(what + " seen by " + reader.member(), propagation(), () -> condition.test(seen[0] = reader.readCluster()));
        return seen[0];
    }

    /** Asserts that nobody holds the leader key (as {@code reader} sees it within {@link #propagation()}). */
    protected final void assertUnlocked(DcsClient reader) {
        ClusterView v = seenBy(reader, "no leader key", ClusterView::isUnlocked);
        assertNull(v.leader(), "leader key should be absent");
    }

    /** Asserts who holds the leader key (as {@code reader} sees it within {@link #propagation()}). */
    protected final void assertLeader(DcsClient reader, String name) {
        seenBy(reader, name + " holding the leader key", v -> v.leaderName().equals(Optional.of(name)));
    }
}
