package dev.pgha.dcs.inmemory;

import dev.pgha.HaClock;
import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Leader;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded DCS: the shared store of one cluster (one scope) inside one JVM. Every member gets
 * its own {@link InMemoryDcsClient} from {@link #client(String)}; all of them see the same keys.
 *
 * <h2>Time</h2>
 * All TTLs are measured with {@link HaClock#nanoTime()} of the clock given at construction; no
 * other time source is read. The store creates no threads: expiry is evaluated lazily, at the start
 * of every access (any client call, and every method of this class that reads or writes keys). A
 * leader key whose TTL has run out is therefore noticed, and watchers are told, when anybody next
 * touches the store. A simulation that advances its clock and wants the notification at once calls
 * {@link #checkExpiry()}.
 *
 * <h2>Faults</h2>
 * {@link #setAvailable(boolean) setAvailable(false)} takes the store down for every member;
 * {@link #fault(String, Fault)} degrades one member's connection (see {@link Fault}). Neither
 * affects the test helpers of this class, which act as an outside observer or another tool.
 *
 * <h2>Test helpers</h2>
 * {@link #snapshot()} and {@link #leaderName()} inspect the store; the {@code put...} and
 * {@code delete...} methods write keys directly, like another tool (patronictl, an operator)
 * would, bypassing faults and compare-and-set. They bump versions and wake watchers like any write.
 *
 * <p>Thread-safe: the keys are guarded by one lock.
 */
public final class InMemoryDcs {

    private static final Logger LOG = LoggerFactory.getLogger(InMemoryDcs.class);

    private final HaClock clock;
    private final Consumer<Duration> waiter;
    private final Watchers watchers = new Watchers();
    private final KeyStore store;
    private final Map<String, Fault> faults = new ConcurrentHashMap<>();
    private volatile boolean available = true;

    private InMemoryDcs(HaClock clock, Consumer<Duration> waiter) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.waiter = Objects.requireNonNull(waiter, "waiter");
        this.store = new KeyStore(clock, () -> watchers.fire(this::reachable));
    }

    /** A store on the given clock that lets time pass for {@link Fault#SLOW} by sleeping. */
    public static InMemoryDcs create(HaClock clock) {
        return builder().clock(clock).build();
    }

    /** A builder; the clock is required. */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * A new client bound to the given member: its lock calls act for that member and it writes
     * only that member's key ({@link InMemoryDcsClient#member()}). Clients of the same member share
     * its {@link Fault} but each has its own retry timeout and watch registrations.
     *
     * @throws IllegalArgumentException when the name is blank
     */
    public InMemoryDcsClient client(String member) {
        return new InMemoryDcsClient(this, requireName(member));
    }

    /** The clock every TTL is measured on. */
    public HaClock clock() {
        return clock;
    }

    /** Takes the whole store down ({@code false}: every client call throws UNAVAILABLE) or back up. */
    public void setAvailable(boolean available) {
        if (this.available != available) {
            LOG.debug("in-memory DCS {}", available ? "available again" : "down for every member (outage injected)");
        }
        this.available = available;
    }

    /** Whether the store is up (see {@link #setAvailable(boolean)}). */
    public boolean isAvailable() {
        return available;
    }

    /** Injects a fault into the member's connection; {@link Fault#NONE} heals it. */
    public void fault(String member, Fault fault) {
        requireName(member);
        Objects.requireNonNull(fault, "fault");
        Fault previous = fault == Fault.NONE ? faults.remove(member) : faults.put(member, fault);
        if (Objects.requireNonNullElse(previous, Fault.NONE) != fault) {
            LOG.debug("{}: in-memory DCS fault {}", member, fault);
        }
    }

    /** The member's current fault ({@link Fault#NONE} when healthy). */
    public Fault faultOf(String member) {
        return faults.getOrDefault(member, Fault.NONE);
    }

    /** Heals every member's fault (the store-wide availability is left as it is). */
    public void clearFaults() {
        faults.clear();
    }

    /**
     * Removes the keys whose TTL has run out and, if the leader key was among them, runs the watch
     * callbacks now.
     *
     * @return how many keys expired
     */
    public int checkExpiry() {
        return store.atomically(KeyStore::lastExpired);
    }

    /** The cluster as an outside observer sees it now (ignores faults and outages). */
    public ClusterView snapshot() {
        return store.atomically(KeyStore::view);
    }

    /** The holder of the leader key now, if any. */
    public Optional<String> leaderName() {
        return Optional.ofNullable(store.atomically(s -> s.value(KeyStore.LEADER, Leader.class))).map(Leader::name);
    }

    /** Writes the leader key unconditionally (taking it over if held) with a TTL from now. */
    public void putLeader(String name, Duration ttl) {
        Leader leader = new Leader(name);
        requireTtl(ttl);
        store.atomically(s -> s.put(KeyStore.LEADER, leader, ttl));
    }

    /** Deletes the leader key whoever holds it; returns whether there was one. */
    public boolean deleteLeader() {
        return store.atomically(s -> s.remove(KeyStore.LEADER));
    }

    /** Writes a member key with a TTL from now. */
    public void putMember(Member member, Duration ttl) {
        Objects.requireNonNull(member, "member");
        requireTtl(ttl);
        store.atomically(s -> s.put(KeyStore.memberKey(member.name()), member, ttl));
    }

    /** Deletes a member key; returns whether it was there. */
    public boolean deleteMember(String name) {
        return store.atomically(s -> s.remove(KeyStore.memberKey(name)));
    }

    /** Writes the initialize key unconditionally. */
    public void putInitialize(String value) {
        Objects.requireNonNull(value, "value");
        store.atomically(s -> s.put(KeyStore.INITIALIZE, value, null));
    }

    /** Deletes the initialize key; returns whether it was there. */
    public boolean deleteInitialize() {
        return store.atomically(s -> s.remove(KeyStore.INITIALIZE));
    }

    /** Writes the config key unconditionally (its {@code version} is ignored); returns the new version. */
    public long putConfig(ClusterConfig config) {
        Objects.requireNonNull(config, "config");
        return store.atomically(s -> s.put(KeyStore.CONFIG, config, null));
    }

    /**
     * Writes the failover key unconditionally (its {@code version} is ignored); returns the new
     * version. An empty request is stored and reads as no request.
     */
    public long putFailover(Failover failover) {
        Objects.requireNonNull(failover, "failover");
        return store.atomically(s -> s.put(KeyStore.FAILOVER, failover, null));
    }

    /** Deletes the failover key; returns whether it was there. */
    public boolean deleteFailover() {
        return store.atomically(s -> s.remove(KeyStore.FAILOVER));
    }

    /** Writes the sync key unconditionally (its {@code version} is ignored); returns the new version. */
    public long putSync(SyncState sync) {
        Objects.requireNonNull(sync, "sync");
        return store.atomically(s -> s.put(KeyStore.SYNC, sync, null));
    }

    /** Writes the status key. */
    public void putStatus(ClusterStatus status) {
        Objects.requireNonNull(status, "status");
        store.atomically(s -> s.put(KeyStore.STATUS, status, null));
    }

    /** Writes the history key. */
    public void putHistory(TimelineHistory history) {
        Objects.requireNonNull(history, "history");
        store.atomically(s -> s.put(KeyStore.HISTORY, history, null));
    }

    /**
     * Writes the failsafe key (member name to api_url); an empty map deletes it. The
     * {@link dev.pgha.dcs.DcsClient} SPI has no writer for this key yet.
     */
    public void putFailsafe(Map<String, String> failsafe) {
        Map<String, String> copy = Map.copyOf(failsafe);
        store.atomically(s -> copy.isEmpty() ? s.remove(KeyStore.FAILSAFE) : s.put(KeyStore.FAILSAFE, copy, null));
    }

    KeyStore store() {
        return store;
    }

    Consumer<Duration> waiter() {
        return waiter;
    }

    Watchers watchers() {
        return watchers;
    }

    private boolean reachable(String member) {
        return available && faultOf(member) == Fault.NONE;
    }

    static String requireName(String member) {
        if (member == null || member.isBlank()) {
            throw new IllegalArgumentException("member name must not be blank, was " + member);
        }
        return member;
    }

    static void requireTtl(Duration ttl) {
        KeyStore.ttlNanos(Objects.requireNonNull(ttl, "ttl"));
    }

    private static void sleep(Duration duration) {
        try {
            TimeUnit.MILLISECONDS.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Builds an {@link InMemoryDcs}. */
    public static final class Builder {

        private HaClock clock;
        private Consumer<Duration> waiter = InMemoryDcs::sleep;

        private Builder() {
        }

        /** The clock for every TTL (required). */
        public Builder clock(HaClock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * How time passes when {@link Fault#SLOW} makes a call wait for its retry timeout; the
         * default sleeps the calling thread. A simulation passes its manual clock's advance method.
         * A waiter that returns early because the thread was interrupted leaves the interrupt flag
         * set; the call then fails with reason INTERRUPTED.
         */
        public Builder waiter(Consumer<Duration> waiter) {
            this.waiter = Objects.requireNonNull(waiter, "waiter");
            return this;
        }

        /**
         * The store.
         *
         * @throws IllegalStateException when no clock was set
         */
        public InMemoryDcs build() {
            if (clock == null) {
                throw new IllegalStateException("InMemoryDcs needs a clock: builder().clock(HaClock.system()) or a manual clock");
            }
            return new InMemoryDcs(clock, waiter);
        }
    }
}
