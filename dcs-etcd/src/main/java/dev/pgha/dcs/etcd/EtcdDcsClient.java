package dev.pgha.dcs.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.dcs.DcsClient;
import dev.pgha.dcs.DcsException;
import dev.pgha.dcs.values.ClusterDecoder;
import dev.pgha.dcs.values.PatroniKeys;
import dev.pgha.dcs.values.PatroniValues;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link DcsClient} on etcd v3 (through jetcd) with Patroni's key layout and values, so Patroni's
 * own tools ({@code patronictl list}, ...) read a pgha cluster. Build it with {@link #builder()};
 * the README's configuration table lists the settings.
 *
 * <h2>Keys</h2>
 * Below {@code <namespace>/<scope>/}: {@code leader} (the holder's name), {@code members/<name>}
 * (member JSON), {@code config}, {@code initialize}, {@code failover}, {@code sync},
 * {@code history}, {@code status} and {@code failsafe}, with the values Patroni 3.x writes. Compare
 * and set uses the key's etcd {@code mod_revision} as its version.
 *
 * <h2>The lock</h2>
 * The member key and the leader key are attached to the member's one lease of {@code ttl}
 * seconds, as with Patroni, so they expire together; refreshing the member key therefore extends
 * a held leader key as well. Acquire is a transaction on {@code create_revision == 0}; refresh is
 * one lease keep-alive plus a transaction comparing the value with the member's name, which
 * creates the key again if it expired and nobody took it; release is a compare-and-delete. There
 * is no background keep-alive: a stalled host loses the lock {@code ttl} after its last call.
 * A member-key touch sends a keep-alive only when, by its next touch, less than half the ttl
 * would be left (so a replica refreshes a little more often than every {@code ttl/2}), and writes the key only when its value differs from what
 * the watch-fed cache holds under this member's current lease.
 *
 * <h2>Time</h2>
 * No call outlives the retry timeout ({@link #setRetryTimeout}): every request is bounded by
 * what is left of it, and then fails with {@link DcsException.Reason#TIMEOUT}.
 *
 * <h2>Reading</h2>
 * One etcd watch on the cluster prefix ({@link PrefixWatch}) feeds a cache ({@link ClusterCache})
 * that is always the state at one revision. {@link #readCluster()} serves it while the watch is
 * known current (confirmed by etcd, no error since, heard from less than half a ttl ago) and holds
 * this client's own last write; otherwise it does one linearizable prefix read, which also
 * re-establishes the cache. The lock never depends on it: acquire and refresh compare in etcd. A
 * value it cannot use is logged and read as absent or invalid; it never throws for the store's
 * content.
 *
 * <p>Thread-safe. {@link #close()} leaves the keys to expire, and closes the jetcd client only if
 * this adapter built it.
 */
public final class EtcdDcsClient implements DcsClient {

    /** Patroni's default retry timeout: 10 s. */
    public static final Duration DEFAULT_RETRY_TIMEOUT = Duration.ofSeconds(10);
    /** How long a read waits for the watch to deliver this client's own last write before it reads etcd. */
    static final Duration OWN_WRITE_WAIT = Duration.ofMillis(250);
    /** Patroni's default namespace. */
    public static final String DEFAULT_NAMESPACE = "/service";

    private static final Logger LOG = LoggerFactory.getLogger(EtcdDcsClient.class);

    private final Client client;
    private final boolean ownsClient;
    private final KV kv;
    private final KeyLayout keys;
    private final String member;
    private final MemberLease lease;
    private final ClusterDecoder decoder;
    private volatile EncodedMember lastEncoded;
    private final ClusterCache cache;
    private final PrefixWatch prefixWatch;
    /** The latest header revision of this client's own writes: reads must show at least that. */
    private final AtomicLong ownRevision = new AtomicLong();
    private final RetryTimeoutHolder retryTimeout;
    private final boolean watchCache;
    private volatile boolean closed;
    private ScheduledExecutorService scheduler;

    EtcdDcsClient(Client client, boolean ownsClient, KeyLayout keys, String member, RetryTimeoutHolder retryTimeout,
                  boolean watchCache) {
        this.watchCache = watchCache;
        this.client = client;
        this.ownsClient = ownsClient;
        this.kv = client.getKVClient();
        this.keys = keys;
        this.member = member;
        this.lease = new MemberLease(client.getLeaseClient(), member);
        this.decoder = new ClusterDecoder(member, keys.prefix());
        this.retryTimeout = retryTimeout;
        this.cache = new ClusterCache(keys);
        this.prefixWatch = new PrefixWatch(client.getWatchClient(), keys, member, cache, this::scheduler);
    }

    /** A builder: endpoints (or a jetcd client), scope and member name are required. */
    public static EtcdDcsClientBuilder builder() {
        return new EtcdDcsClientBuilder();
    }

    /** The member this client serves, as given to {@link EtcdDcsClientBuilder#member(String)}. */
    @Override
    public String member() {
        return member;
    }

    /** {@code /<namespace>/<scope>/}, the prefix of every key of the cluster. */
    public String keyPrefix() {
        return keys.prefix();
    }

    /** The retry timeout in force. */
    public Duration retryTimeout() {
        return retryTimeout.get();
    }

    /** The jetcd client underneath (owned by this adapter unless it was given by the host). */
    public Client jetcd() {
        return client;
    }

    @Override
    public ClusterView readCluster() {
        Calls call = begin("readCluster");
        if (cacheServes(call)) {
            return cache.view(decoder);
        }
        var response = call.await(kv.get(keys.prefixBytes(), GetOption.builder().isPrefix(true).build()), "");
        if (watchCache) {
            cache.install(response.getKvs(), response.getHeader().getRevision());
            prefixWatch.afterFullRead();
        }
        return decoder.decode(keys.values(response.getKvs()));
    }

    /**
     * Whether the cache may answer a read: the watch is current and the cache holds this client's
     * last write (waiting for the watch to deliver it for at most {@link #OWN_WRITE_WAIT}).
     */
    private boolean cacheServes(Calls call) {
        if (!watchCache || !prefixWatch.isCurrent(quietNanos())) {
            return false;
        }
        long want = ownRevision.get();
        if (cache.revision() < want) {
            try {
                if (!cache.awaitRevision(want, Math.min(call.leftNanos(), OWN_WRITE_WAIT.toNanos()))) {
                    LOG.debug("{}: readCluster: the watch has not delivered revision {} yet: reading etcd", member,
                            want);
                    return false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DcsException(DcsException.Reason.INTERRUPTED,
                        member + ": readCluster: interrupted while waiting for the watch");
            }
        }
        return prefixWatch.isCurrent(quietNanos());
    }

    /** A watch silent for longer than this does not count as current: half the lease, or the retry timeout. */
    private long quietNanos() {
        long ttl = lease.ttlSeconds();
        return ttl > 0 ? TimeUnit.SECONDS.toNanos(ttl) / 2 : retryTimeout.get().toNanos();
    }

    @Override
    public boolean acquireLeader(Duration ttl) {
        ByteSequence name = KeyLayout.bytes(member);
        MemberLease.seconds(ttl);
        Calls call = begin("acquireLeader");
        ByteSequence key = keys.key(KeyLayout.LEADER);
        TxnResponse r = withLease(call, ttl, true, "txn", id -> kv.txn()
                .If(absent(key))
                .Then(Op.put(key, name, leased(id)))
                .commit());
        LOG.debug("{}: acquireLeader: {}", member, r.isSucceeded() ? "won" : "somebody holds the leader key");
        return r.isSucceeded();
    }

    @Override
    public boolean refreshLeader(Duration ttl) {
        ByteSequence name = KeyLayout.bytes(member);
        MemberLease.seconds(ttl);
        Calls call = begin("refreshLeader");
        ByteSequence key = keys.key(KeyLayout.LEADER);
        TxnResponse r = withLease(call, ttl, true, "txn", id -> kv.txn()
                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.value(name)))
                .Then(Op.put(key, name, leased(id)))
                .Else(Op.txn(new Cmp[] {absent(key)}, new Op[] {Op.put(key, name, leased(id))},
                        new Op[] {Op.get(key, GetOption.DEFAULT)}))
                .commit());
        if (r.isSucceeded()) {
            return true;
        }
        if (r.getTxnResponses().isEmpty()) {
            throw new DcsException(DcsException.Reason.PROTOCOL,
                    member + ": refreshLeader: etcd answered the transaction without its nested result");
        }
        TxnResponse inner = r.getTxnResponses().get(0);
        if (inner.isSucceeded()) {
            LOG.info("{}: the leader key had expired and nobody took it: created it again", member);
            return true;
        }
        String holder = inner.getGetResponses().isEmpty() || inner.getGetResponses().get(0).getKvs().isEmpty()
                ? "?" : inner.getGetResponses().get(0).getKvs().get(0).getValue().toString(UTF_8);
        LOG.info("{}: refreshLeader: the leader key is held by {}", member, holder);
        return false;
    }

    @Override
    public boolean releaseLeader() {
        ByteSequence name = KeyLayout.bytes(member);
        Calls call = begin("releaseLeader");
        ByteSequence key = keys.key(KeyLayout.LEADER);
        TxnResponse r = call.await(kv.txn()
                .If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.value(name)))
                .Then(Op.delete(key, DeleteOption.DEFAULT))
                .commit(), "txn");
        return r.isSucceeded() && !r.getDeleteResponses().isEmpty() && r.getDeleteResponses().get(0).getDeleted() > 0;
    }

    /**
     * Writes this member's key, attached to the member's lease.
     *
     * @throws IllegalArgumentException when {@code value} names another member (its key would be
     *                                  bound to this member's lease)
     */
    @Override
    public void touchMember(Member value, Duration ttl) {
        Objects.requireNonNull(value, "member");
        if (!value.name().equals(member)) {
            throw new IllegalArgumentException(member + ": touchMember: this client writes only the key of "
                    + member + ", not of " + value.name());
        }
        MemberLease.seconds(ttl);
        EncodedMember last = lastEncoded;
        ByteSequence bytes;
        if (last != null && last.member().equals(value)) {
            bytes = last.bytes();   // the same member as last time: not encoded again
        } else {
            bytes = KeyLayout.bytes(PatroniValues.encodeMember(value));
            lastEncoded = new EncodedMember(value, bytes);
        }
        Calls call = begin("touchMember");
        long leaseId = lease.refresh(ttl, false, call);
        if (watchCache && prefixWatch.isCurrent(quietNanos())) {
            ClusterCache.Entry stored = cache.get(PatroniKeys.member(member));
            if (stored != null && stored.lease() == leaseId && stored.value().equals(bytes)) {
                LOG.trace("{}: touchMember: the member key holds this value under lease {}: not written", member,
                        MemberLease.hex(leaseId));
                return;
            }
        }
        withLease(call, ttl, false, "put", id -> kv.put(keys.member(member), bytes, leased(id)));
    }

    /** A member key's value as last encoded. */
    private record EncodedMember(Member member, ByteSequence bytes) {
    }

    @Override
    public void deleteMember(String name) {
        Objects.requireNonNull(name, "member");
        Calls call = begin("deleteMember");
        call.await(kv.delete(keys.member(name)), "");
    }

    @Override
    public boolean initialize(String value) {
        ByteSequence v = KeyLayout.bytes(Objects.requireNonNull(value, "value"));
        Calls call = begin("initialize");
        ByteSequence key = keys.key(KeyLayout.INITIALIZE);
        return call.await(kv.txn().If(absent(key)).Then(Op.put(key, v, PutOption.DEFAULT)).commit(), "txn")
                .isSucceeded();
    }

    @Override
    public void setInitialize(String systemIdentifier) {
        put("setInitialize", KeyLayout.INITIALIZE, Objects.requireNonNull(systemIdentifier, "systemIdentifier"));
    }

    @Override
    public void cancelInitialization() {
        Calls call = begin("cancelInitialization");
        call.await(kv.delete(keys.key(KeyLayout.INITIALIZE)), "");
    }

    /**
     * Writes the config key if its version (etcd mod revision) matches: {@code -1} overwrites,
     * {@code 0} creates only if absent.
     */
    @Override
    public boolean setConfig(ClusterConfig config, long expectedVersion) {
        String value = PatroniValues.encodeConfig(Objects.requireNonNull(config, "config"));
        return cas().put("setConfig", KeyLayout.CONFIG, value, expectedVersion, false);
    }

    /** Writes the failover key if its version matches; an emptied key ({@code {}}) counts as absent. */
    @Override
    public boolean setFailover(Failover failover, long expectedVersion) {
        String value = PatroniValues.encodeFailover(Objects.requireNonNull(failover, "failover"));
        return cas().put("setFailover", KeyLayout.FAILOVER, value, expectedVersion, true);
    }

    @Override
    public boolean deleteFailover(long expectedVersion) {
        return cas().delete("deleteFailover", KeyLayout.FAILOVER, expectedVersion, true);
    }

    @Override
    public void writeStatus(ClusterStatus status) {
        put("writeStatus", KeyLayout.STATUS, PatroniValues.encodeStatus(Objects.requireNonNull(status, "status")));
    }

    @Override
    public void writeHistory(TimelineHistory history) {
        put("writeHistory", KeyLayout.HISTORY, PatroniValues.encodeHistory(Objects.requireNonNull(history, "history")));
    }

    @Override
    public boolean writeSync(SyncState sync, long expectedVersion) {
        String value = PatroniValues.encodeSync(Objects.requireNonNull(sync, "sync"));
        return cas().put("writeSync", KeyLayout.SYNC, value, expectedVersion, false);
    }

    @Override
    public void deleteSync() {
        Calls call = begin("deleteSync");
        call.await(kv.delete(keys.key(KeyLayout.SYNC)), "");
    }

    /**
     * Wakes {@code onChange} on changes of the leader and failover keys (see
     * {@link DcsClient#watch}), from the client's one etcd watch on the cluster prefix, which also
     * feeds the read cache. Returns once etcd has created that watch, at most the retry timeout
     * later; if etcd did not confirm it by then, the callback runs once when it does. The callback
     * runs on a jetcd thread. The watch subscribes again by itself after any error.
     *
     * @throws IllegalStateException when this client is closed
     */
    @Override
    public Subscription watch(Runnable onChange) {
        Objects.requireNonNull(onChange, "onChange");
        ensureOpen("watch");
        return prefixWatch.watch(onChange, retryTimeout.get());
    }

    /** How often this client's watch subscribed again after it ended or failed (for tests and metrics). */
    int watchRestarts() {
        return prefixWatch.restarts();
    }

    /** Whether a read now would be served from the watch-fed cache (for tests). */
    boolean readsFromCache() {
        return watchCache && prefixWatch.isCurrent(quietNanos());
    }

    /** The member lease's id, 0 when none (for tests). */
    long leaseId() {
        return lease.id();
    }

    /** How many lease keep-alive requests this client sent (for tests). */
    long leaseKeepAlives() {
        return lease.keepAlivesSent();
    }

    /**
     * Test seam: while {@code hold} is true the watch's events are kept back, so the cache (still
     * counted as current) goes stale; false applies them in order.
     */
    void holdBackWatchEvents(boolean hold) {
        prefixWatch.holdBack(hold);
    }

    private synchronized ScheduledExecutorService scheduler() {
        if (scheduler == null) {
            scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "pgha-etcd-watch-" + member);
                t.setDaemon(true);
                return t;
            });
        }
        return scheduler;
    }

    /**
     * Sets how long any call may take, retries included.
     *
     * @throws IllegalArgumentException when not positive
     */
    @Override
    public void setRetryTimeout(Duration retryTimeout) {
        this.retryTimeout.set(EtcdDcsClientBuilder.requirePositive(retryTimeout, "retryTimeout"));
    }

    /**
     * Closes the watches and, if this adapter built the jetcd client, the client. Keys stay and
     * expire with the lease. Idempotent.
     */
    @Override
    public void close() {
        ScheduledExecutorService s;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            s = scheduler;
        }
        prefixWatch.close();
        if (s != null) {
            s.shutdownNow();
        }
        if (ownsClient) {
            client.close();
        }
        LOG.debug("{}: etcd client for {} closed", member, keys.prefix());
    }

    @Override
    public String toString() {
        return "EtcdDcsClient[" + member + " " + keys.prefix() + "]";
    }

    // ----------------------------------------------------------------- helpers

    private void put(String op, String relative, String value) {
        Calls call = begin(op);
        call.await(kv.put(keys.key(relative), KeyLayout.bytes(value)), "");
    }

    private CompareAndSet cas() {
        return new CompareAndSet(kv, keys, this::begin);
    }

    /** Runs a request that attaches keys to the lease; once more with a new lease if etcd lost it. */
    private <T> T withLease(Calls call, Duration ttl, boolean force, String step,
                            LongFunction<CompletableFuture<T>> request) {
        for (int attempt = 0; ; attempt++) {
            long id = lease.refresh(ttl, force, call);
            try {
                return call.await(request.apply(id), step);
            } catch (DcsException e) {
                if (attempt > 0 || !Calls.isLeaseNotFound(e.getCause())) {
                    throw e;
                }
                lease.invalidate(id);
            }
        }
    }

    private Calls begin(String op) {
        ensureOpen(op);
        return Calls.start(member, op, retryTimeout.get(), r -> ownRevision.accumulateAndGet(r, Math::max));
    }

    private void ensureOpen(String op) {
        if (closed) {
            throw new IllegalStateException(member + ": " + op + ": the etcd DCS client is closed");
        }
    }

    static Cmp absent(ByteSequence key) {
        return new Cmp(key, Cmp.Op.EQUAL, CmpTarget.createRevision(0));
    }

    private static PutOption leased(long leaseId) {
        return PutOption.builder().withLeaseId(leaseId).build();
    }
}
