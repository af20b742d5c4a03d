package dev.pgha.dcs.inmemory;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Leader;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.dcs.DcsClient;
import dev.pgha.dcs.DcsException;
import dev.pgha.dcs.DcsException.Reason;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;

/**
 * One member's {@link DcsClient} to an {@link InMemoryDcs}; obtain it with
 * {@link InMemoryDcs#client(String)}. Every call is atomic against the shared store.
 *
 * <p>Compare-and-set methods take {@code expectedVersion}: {@code -1} writes (or deletes)
 * unconditionally, {@code 0} succeeds only when the key is absent, any other value only when it is
 * the key's current version. {@code -1} is accepted by {@link #setConfig} too. Versions are the
 * store's global revision at the key's last write, so they are positive and change with every
 * write. An emptied failover key (neither leader nor candidate) reads as absent, so {@code 0}
 * creates over it. Versions below {@code -1} throw {@link IllegalArgumentException}.
 *
 * <p>Before touching the store, every call checks, in this order, the member's {@link Fault} and
 * the store's availability, and throws {@link DcsException} as described there; the message names
 * the member and the operation. {@link #watch}, {@link #setRetryTimeout} and {@link #close} never
 * fail that way. Calls on a closed client throw {@link IllegalStateException}.
 */
public final class InMemoryDcsClient implements DcsClient {

    /** The retry timeout until {@link #setRetryTimeout} is called: Patroni's default of 10 s. */
    public static final Duration DEFAULT_RETRY_TIMEOUT = Duration.ofSeconds(10);

    private final InMemoryDcs dcs;
    private final String member;
    private final List<Subscription> subscriptions = new CopyOnWriteArrayList<>();
    private volatile Duration retryTimeout = DEFAULT_RETRY_TIMEOUT;
    private volatile boolean closed;

    InMemoryDcsClient(InMemoryDcs dcs, String member) {
        this.dcs = dcs;
        this.member = member;
    }

    /** The member this client serves, as given to {@link InMemoryDcs#client(String)}. */
    @Override
    public String member() {
        return member;
    }

    /** How long a call lets pass under {@link Fault#SLOW} before it times out. */
    public Duration retryTimeout() {
        return retryTimeout;
    }

    /** Injects a fault into this member's connection (shorthand for {@link InMemoryDcs#fault}). */
    public void fault(Fault fault) {
        dcs.fault(member, fault);
    }

    /** This member's current fault. */
    public Fault fault() {
        return dcs.faultOf(member);
    }

    @Override
    public ClusterView readCluster() {
        return call("readCluster", KeyStore::view);
    }

    @Override
    public boolean acquireLeader(Duration ttl) {
        Leader leader = new Leader(member);
        InMemoryDcs.requireTtl(ttl);
        return call("acquireLeader", s -> {
            if (s.get(KeyStore.LEADER) != null) {
                return false;
            }
            s.put(KeyStore.LEADER, leader, ttl);
            return true;
        });
    }

    @Override
    public boolean refreshLeader(Duration ttl) {
        Leader leader = new Leader(member);
        InMemoryDcs.requireTtl(ttl);
        return call("refreshLeader", s -> {
            Leader current = s.value(KeyStore.LEADER, Leader.class);
            if (current != null && !current.equals(leader)) {
                return false;
            }
            s.put(KeyStore.LEADER, leader, ttl);
            return true;
        });
    }

    @Override
    public boolean releaseLeader() {
        Leader leader = new Leader(member);
        return call("releaseLeader", s -> leader.equals(s.value(KeyStore.LEADER, Leader.class))
                && s.remove(KeyStore.LEADER));
    }

    /**
     * Writes this member's key with a TTL from now.
     *
     * @throws IllegalArgumentException when {@code value} names another member
     */
    @Override
    public void touchMember(Member value, Duration ttl) {
        Objects.requireNonNull(value, "member");
        if (!value.name().equals(member)) {
            throw new IllegalArgumentException(member + ": touchMember: this client writes only the key of "
                    + member + ", not of " + value.name());
        }
        InMemoryDcs.requireTtl(ttl);
        call("touchMember", s -> s.put(KeyStore.memberKey(value.name()), value, ttl));
    }

    @Override
    public void deleteMember(String name) {
        Objects.requireNonNull(name, "member");
        call("deleteMember", s -> s.remove(KeyStore.memberKey(name)));
    }

    @Override
    public boolean initialize(String value) {
        Objects.requireNonNull(value, "value");
        return call("initialize", s -> {
            if (s.get(KeyStore.INITIALIZE) != null) {
                return false;
            }
            s.put(KeyStore.INITIALIZE, value, null);
            return true;
        });
    }

    @Override
    public void setInitialize(String systemIdentifier) {
        Objects.requireNonNull(systemIdentifier, "systemIdentifier");
        call("setInitialize", s -> s.put(KeyStore.INITIALIZE, systemIdentifier, null));
    }

    @Override
    public void cancelInitialization() {
        call("cancelInitialization", s -> s.remove(KeyStore.INITIALIZE));
    }

    @Override
    public boolean setConfig(ClusterConfig config, long expectedVersion) {
        Objects.requireNonNull(config, "config");
        return compareAndPut("setConfig", KeyStore.CONFIG, config, expectedVersion);
    }

    @Override
    public boolean setFailover(Failover failover, long expectedVersion) {
        Objects.requireNonNull(failover, "failover");
        return compareAndPut("setFailover", KeyStore.FAILOVER, failover, expectedVersion);
    }

    @Override
    public boolean deleteFailover(long expectedVersion) {
        return compareAndDelete("deleteFailover", KeyStore.FAILOVER, expectedVersion);
    }

    @Override
    public void writeStatus(ClusterStatus status) {
        Objects.requireNonNull(status, "status");
        call("writeStatus", s -> s.put(KeyStore.STATUS, status, null));
    }

    @Override
    public void writeHistory(TimelineHistory history) {
        Objects.requireNonNull(history, "history");
        call("writeHistory", s -> s.put(KeyStore.HISTORY, history, null));
    }

    @Override
    public boolean writeSync(SyncState sync, long expectedVersion) {
        Objects.requireNonNull(sync, "sync");
        return compareAndPut("writeSync", KeyStore.SYNC, sync, expectedVersion);
    }

    @Override
    public void deleteSync() {
        call("deleteSync", s -> s.remove(KeyStore.SYNC));
    }

    /**
     * Registers a callback run when the leader key is created, taken over, deleted or found expired,
     * or the failover key is written or deleted. A refresh that only extends the current holder's
     * TTL does not count. The callback runs synchronously on the thread whose store access noticed
     * the change, after the store lock is released; a callback that throws is logged and ignored.
     * While this member is faulted or the store is down, the callback is not run. Expiry is lazy:
     * see {@link InMemoryDcs#checkExpiry()}.
     *
     * @throws IllegalStateException when this client is closed
     */
    @Override
    public Subscription watch(Runnable onChange) {
        ensureOpen("watch");
        Watchers.Watch watch = dcs.watchers().add(member, onChange);
        Subscription subscription = new Subscription() {
            @Override
            public void close() {
                watch.close();
                subscriptions.remove(this);
            }
        };
        subscriptions.add(subscription);
        return subscription;
    }

    /**
     * Sets how long a call waits under {@link Fault#SLOW} before it throws TIMEOUT.
     *
     * @throws IllegalArgumentException when negative
     */
    @Override
    public void setRetryTimeout(Duration retryTimeout) {
        Objects.requireNonNull(retryTimeout, "retryTimeout");
        if (retryTimeout.isNegative()) {
            throw new IllegalArgumentException("retryTimeout must not be negative, was " + retryTimeout);
        }
        this.retryTimeout = retryTimeout;
    }

    /** Closes this client's watch subscriptions; its keys stay and expire with their TTLs. Idempotent. */
    @Override
    public void close() {
        closed = true;
        for (Subscription subscription : subscriptions) {
            subscription.close();
        }
    }

    @Override
    public String toString() {
        return "InMemoryDcsClient[" + member + "]";
    }

    private boolean compareAndPut(String op, String key, Object value, long expectedVersion) {
        return call(op, s -> {
            if (!s.versionMatches(key, expectedVersion)) {
                return false;
            }
            s.put(key, value, null);
            return true;
        });
    }

    private boolean compareAndDelete(String op, String key, long expectedVersion) {
        return call(op, s -> {
            if (!s.versionMatches(key, expectedVersion)) {
                return false;
            }
            s.remove(key);
            return true;
        });
    }

    private <T> T call(String op, Function<KeyStore, T> body) {
        ensureOpen(op);
        switch (dcs.faultOf(member)) {
            case UNAVAILABLE -> throw failure(Reason.UNAVAILABLE, op, "in-memory DCS unavailable (fault injected)");
            case PARTITIONED -> throw failure(Reason.UNAVAILABLE, op,
                    "in-memory DCS unreachable: member partitioned from the store (fault injected)");
            case SLOW -> {
                Duration timeout = retryTimeout;
                dcs.waiter().accept(timeout);
                if (Thread.currentThread().isInterrupted()) {
                    throw failure(Reason.INTERRUPTED, op, "interrupted while waiting for a slow in-memory DCS");
                }
                throw failure(Reason.TIMEOUT, op, "in-memory DCS did not answer within " + timeout
                        + " (slow DCS, fault injected)");
            }
            case NONE -> { }
        }
        if (!dcs.isAvailable()) {
            throw failure(Reason.UNAVAILABLE, op, "in-memory DCS unavailable (store down, outage injected)");
        }
        return dcs.store().atomically(body);
    }

    private DcsException failure(Reason reason, String op, String what) {
        return new DcsException(reason, member + ": " + op + ": " + what);
    }

    private void ensureOpen(String op) {
        if (closed) {
            throw new IllegalStateException(member + ": " + op + ": the in-memory DCS client is closed");
        }
    }
}
