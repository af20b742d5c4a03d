package dev.pgha.dcs.etcd;

import dev.pgha.dcs.DcsException;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.common.exception.EtcdException;
import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one lease of a member, as Patroni's etcd3 backend keeps it: the member key and, while the
 * member leads, the leader key are attached to it, so they expire together {@code ttl} after the
 * last keep-alive.
 *
 * <p>There is <b>no background keep-alive stream</b>. The lease is extended only by
 * {@link #refresh}, which the client calls from its own SPI calls with a single keep-alive request
 * ({@link Lease#keepAliveOnce}, one message on the wire for a client the adapter built); a member
 * whose host stops calling loses its keys {@code ttl} after its last call.
 *
 * <p>The leader-key calls force a keep-alive every time (the leader's lease is its last refresh
 * plus {@code ttl}). A member-key touch sends one only when, by the next touch (expected one
 * interval between touches later), less than half of the ttl would be left since the last
 * keep-alive was sent ({@link #needsKeepAlive}). So a replica refreshes somewhat more often than
 * every {@code ttl/2}, a cycle arriving up to {@code ttl/2} late still finds its key, and its keys
 * expire at most {@code ttl} (and at least {@code ttl/2}) after its last call.
 * When etcd no longer knows the lease (it expired or was revoked), a new one is granted; so is one
 * when the ttl changes (the old lease is left to expire: revoking it would delete the leader key
 * before the new lease holds it).
 *
 * <p>Etcd counts lease TTLs in whole seconds: a ttl is rounded up, so keys never expire before
 * the ttl the caller asked for. Thread-safe.
 */
final class MemberLease {

    private static final Logger LOG = LoggerFactory.getLogger(MemberLease.class);

    private final Lease leases;
    private final String member;
    private long id;
    private long ttlSeconds;
    private long refreshedNanos;
    private long lastTouchNanos;
    private long keepAlivesSent;

    MemberLease(Lease leases, String member) {
        this.leases = leases;
        this.member = member;
    }

    /** Etcd's TTL for a ttl: whole seconds, rounded up, at least 1. */
    static long seconds(Duration ttl) {
        if (ttl == null || ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl must be positive, was " + ttl);
        }
        long s = ttl.getSeconds() + (ttl.getNano() > 0 ? 1 : 0);
        return Math.max(1, s);
    }

    /**
     * Makes sure the lease exists with this ttl and was extended by this call or, unless
     * {@code force}, needs no keep-alive yet ({@link #needsKeepAlive}).
     *
     * @return the lease id to attach keys to
     * @throws DcsException when etcd cannot be reached within the call's budget
     */
    synchronized long refresh(Duration ttl, boolean force, Calls call) {
        long seconds = seconds(ttl);
        if (id != 0 && seconds != ttlSeconds) {
            LOG.info("{}: ttl changed from {}s to {}s: granting a new lease (the old one {} expires on its own)",
                    member, ttlSeconds, seconds, hex(id));
            id = 0;
        }
        long now = System.nanoTime();
        long interval = force || lastTouchNanos == 0 ? 0 : now - lastTouchNanos;
        if (!force) {
            lastTouchNanos = now;
        }
        if (id != 0 && (force || needsKeepAlive(now - refreshedNanos, interval, seconds))) {
            long sent = System.nanoTime();
            if (keepAlive(call)) {
                refreshedNanos = sent;
            } else {
                LOG.warn("{}: lease {} is gone (expired: no keep-alive for {}s); granting a new one", member, hex(id),
                        ttlSeconds);
                id = 0;
            }
        }
        if (id == 0) {
            long sent = System.nanoTime();
            id = call.await(leases.grant(seconds), "lease grant").getID();
            ttlSeconds = seconds;
            refreshedNanos = sent;
            LOG.debug("{}: granted lease {} with ttl {}s", member, hex(id), seconds);
        }
        return id;
    }

    /**
     * The rule for calls that do not force a keep-alive: one is due once {@code sinceLastNanos}
     * (since the last keep-alive or grant was sent) plus {@code intervalNanos} (since the previous
     * touch: when the next one is expected) reaches half the ttl, i.e. by the next touch less than
     * half of the lease would certainly be left.
     */
    static boolean needsKeepAlive(long sinceLastNanos, long intervalNanos, long ttlSeconds) {
        long ttl = TimeUnit.SECONDS.toNanos(ttlSeconds);
        return sinceLastNanos + Math.min(Math.max(0, intervalNanos), ttl) >= ttl / 2;
    }

    /** Forgets the lease (etcd said it does not know it); the next {@link #refresh} grants one. */
    synchronized void invalidate(long leaseId) {
        if (id == leaseId && id != 0) {
            LOG.warn("{}: etcd no longer knows lease {}", member, hex(id));
            id = 0;
        }
    }

    /** The ttl of the current lease in seconds, 0 when none. */
    synchronized long ttlSeconds() {
        return id == 0 ? 0 : ttlSeconds;
    }

    /** The current lease id, 0 when none. */
    synchronized long id() {
        return id;
    }

    /** How many keep-alive requests this lease sent (for tests). */
    synchronized long keepAlivesSent() {
        return keepAlivesSent;
    }

    private boolean keepAlive(Calls call) {
        keepAlivesSent++;
        CompletableFuture<LeaseKeepAliveResponse> f = leases.keepAliveOnce(id);
        try {
            call.await(f, "lease keep-alive");
            return true;
        } catch (DcsException e) {
            if (Calls.isLeaseNotFound(e.getCause())
                    || e.getCause() instanceof EtcdException ee && ee.getErrorCode() == ErrorCode.NOT_FOUND) {
                return false;
            }
            throw e;
        }
    }

    static String hex(long leaseId) {
        return Long.toHexString(leaseId);
    }
}
