package dev.pgha;

import dev.pgha.dcs.DcsClient;
import java.time.Duration;
import java.time.Instant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This node's view of the leader lock: acquire, refresh and release through the DCS, and the
 * lease deadline that follows from them.
 *
 * <p>The deadline is counted from the moment a call was <em>sent</em>, so it is never later than
 * the store's own expiry. Every successful acquire or refresh re-arms the {@link LeaseGuard};
 * losing or releasing the lock disarms it. DCS exceptions propagate to the caller.
 */
final class LeaderLock {

    private static final Logger log = LoggerFactory.getLogger(LeaderLock.class);

    private final String member;
    private final DcsClient dcs;
    private final HaClock clock;
    private final LeaseGuard guard;
    private final Events events;
    private final Duration ttl;

    private boolean held;
    private long deadlineNanos;
    private Instant deadlineWall;
    /** While the guard cannot be activated: when (clock nanos) activation was last retried. */
    private Long guardRetriedNanos;
    /** What {@link #guardCapable()} answered last. */
    private boolean guardWasCapable = true;

    LeaderLock(String member, DcsClient dcs, HaClock clock, LeaseGuard guard, Events events, Duration ttl) {
        this.member = member;
        this.dcs = dcs;
        this.clock = clock;
        this.guard = guard;
        this.events = events;
        this.ttl = ttl;
    }

    /** Creates the leader key if nobody holds it. */
    boolean acquire() {
        long sentNanos = clock.nanoTime();
        Instant sentWall = clock.wallTime();
        boolean ok = call("acquireLeader", () -> dcs.acquireLeader(ttl));
        if (ok) {
            renewed(sentNanos, sentWall);
        } else {
            lost();
        }
        return ok;
    }

    /** Refreshes this node's leader key; false (and the lock counts as lost) if another holds it. */
    boolean update() {
        long sentNanos = clock.nanoTime();
        Instant sentWall = clock.wallTime();
        boolean ok = call("refreshLeader", () -> dcs.refreshLeader(ttl));
        if (ok) {
            renewed(sentNanos, sentWall);
        } else {
            lost();
        }
        return ok;
    }

    /**
     * Deletes the leader key if this node holds it; the lock counts as lost either way.
     *
     * @return whether the key was this node's and is now deleted
     */
    boolean release() {
        try {
            boolean released = dcs.releaseLeader();
            if (released) {
                log.info("{}: Leader key released", member);
            }
            return released;
        } finally {
            lost();
        }
    }

    /** Forgets the lock locally (the DCS says somebody else holds it, or it cannot be reached). */
    void lost() {
        guard.disarm();
        if (held) {
            held = false;
            deadlineWall = null;
            events.lockLost();
        }
    }

    /**
     * Stops counting the lock as held without disarming the guard: used when the DCS cannot be
     * reached or the lock was lost while PostgreSQL may still accept writes. The guard still
     * fences at the old deadline if the stop that follows does not finish.
     */
    void forgetKeepingGuard() {
        if (held) {
            held = false;
            deadlineWall = null;
            events.lockLost();
        }
    }

    /** Whether the lease guard can protect this node as primary (see {@link LeaseGuard#activate()}). */
    boolean guardActivated() {
        try {
            return guard.activate();
        } catch (RuntimeException e) {
            log.error("{}: the lease guard failed to activate", member, e);
            return false;
        }
    }

    /**
     * Whether the lease guard could protect this node as primary ({@link LeaseGuard#canActivate()}),
     * asked once per cycle. While it cannot, and this node does not hold the lock, activation is
     * retried at most once per {@code ttl}; the retry's outcome shows in the next cycle's answer.
     */
    boolean guardCapable() {
        boolean capable;
        try {
            capable = guard.canActivate();
        } catch (RuntimeException e) {
            log.error("{}: the lease guard failed to tell whether it can be activated", member, e);
            capable = false;
        }
        if (capable != guardWasCapable) {
            if (capable) {
                log.info("{}: the lease guard can be activated again: taking part in leader races", member);
            } else {
                log.warn("{}: the lease guard is required but cannot be activated: not taking part in leader races"
                        + " and publishing watchdog_failed", member);
            }
            guardWasCapable = capable;
        }
        if (capable) {
            guardRetriedNanos = null;
        } else if (!held) {
            long now = clock.nanoTime();
            if (guardRetriedNanos == null || now - guardRetriedNanos >= ttl.toNanos()) {
                guardRetriedNanos = now;
                guardActivated();
            }
        }
        return capable;
    }

    /** Whether this node holds the lock and its lease has not run out. */
    boolean isHeld() {
        return held && clock.nanoTime() - deadlineNanos < 0;
    }

    /** The lease deadline while held, else null. */
    Instant deadline() {
        return isHeld() ? deadlineWall : null;
    }

    /** When the lease of the last acquire or refresh runs out, on the clock's {@code nanoTime()}. */
    long deadlineNanos() {
        return deadlineNanos;
    }

    /**
     * Runs a lock call. DCS exceptions propagate; anything else is a bug in the adapter and counts
     * as "not obtained", as in Patroni, so that a primary demotes instead of cycling on.
     */
    private boolean call(String what, java.util.function.BooleanSupplier call) {
        try {
            return call.getAsBoolean();
        } catch (dev.pgha.dcs.DcsException e) {
            throw e;
        } catch (RuntimeException e) {
            log.error("{}: unexpected exception from {}, please report it as a BUG; treating it as failed",
                    member, what, e);
            return false;
        }
    }

    private void renewed(long sentNanos, Instant sentWall) {
        boolean was = held;
        held = true;
        deadlineNanos = sentNanos + ttl.toNanos();
        deadlineWall = sentWall.plus(ttl);
        guard.arm(deadlineWall);
        if (!was) {
            events.lockAcquired();
        }
    }
}
