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
 * the store's own expiry. Every successful acquire or refresh re-arms the {@link LeaseGuard}
 * (also in maintenance mode, {@code pause}: see {@link Shutdown}); losing or releasing the lock
 * disarms it. DCS exceptions propagate to the caller.
 */
final class LeaderLock {

    private static final Logger log = LoggerFactory.getLogger(LeaderLock.class);

    private final String member;
    private final DcsClient dcs;
    private final HaClock clock;
    private final LeaseGuard guard;
    private final Events events;

    /**
     * What the node knows of its lock, carried in its {@link NodeState}.
     *
     * @param held              whether this node acquired or refreshed the key and has not lost it since
     * @param deadlineNanos     when the lease runs out unless renewed (clock nanos; meaningful while held)
     * @param deadlineWall      the same on the wall clock (null when not held)
     * @param guardRetriedNanos while the guard cannot be activated: when (clock nanos) activation was last
     *                          retried, else null
     * @param guardWasCapable   what {@link #guardCapable} answered last
     */
    record State(boolean held, long deadlineNanos, Instant deadlineWall, Long guardRetriedNanos,
                 boolean guardWasCapable) {

        static final State INITIAL = new State(false, 0, null, null, true);

        State notHeld() {
            return new State(false, deadlineNanos, null, guardRetriedNanos, guardWasCapable);
        }
    }

    LeaderLock(String member, DcsClient dcs, HaClock clock, LeaseGuard guard, Events events) {
        this.member = member;
        this.dcs = dcs;
        this.clock = clock;
        this.guard = guard;
        this.events = events;
    }

    /** Creates the leader key if nobody holds it, for the {@code ttl} in force. */
    boolean acquire(Cycle c) {
        Duration ttl = c.state.settings().ttl();
        long sentNanos = clock.nanoTime();
        Instant sentWall = clock.wallTime();
        boolean ok = call("acquireLeader", () -> dcs.acquireLeader(ttl));
        if (ok) {
            renewed(c, ttl, sentNanos, sentWall);
        } else {
            lost(c);
        }
        return ok;
    }

    /** Refreshes this node's leader key; false (and the lock counts as lost) if another holds it. */
    boolean update(Cycle c) {
        Duration ttl = c.state.settings().ttl();
        long sentNanos = clock.nanoTime();
        Instant sentWall = clock.wallTime();
        boolean ok = call("refreshLeader", () -> dcs.refreshLeader(ttl));
        if (ok) {
            renewed(c, ttl, sentNanos, sentWall);
        } else {
            lost(c);
        }
        return ok;
    }

    /**
     * Deletes the leader key if this node holds it; the lock counts as lost either way.
     *
     * @return whether the key was this node's and is now deleted
     */
    boolean release(Cycle c) {
        try {
            boolean released = dcs.releaseLeader();
            if (released) {
                log.info("{}: Leader key released", member);
            }
            return released;
        } finally {
            lost(c);
        }
    }

    /** Forgets the lock locally (the DCS says somebody else holds it, or it cannot be reached). */
    void lost(Cycle c) {
        guard.disarm();
        forgetKeepingGuard(c);
    }

    /**
     * Stops counting the lock as held without disarming the guard: used when the DCS cannot be
     * reached or the lock was lost while PostgreSQL may still accept writes. The guard still
     * fences at the old deadline if the stop that follows does not finish.
     */
    void forgetKeepingGuard(Cycle c) {
        State s = c.state.lock();
        if (s.held()) {
            c.state = c.state.withLock(s.notHeld());
            events.lockLost();
        }
    }

    /** Disarms the lease guard and keeps the lock as it is (a shutdown in maintenance mode). */
    void disarmGuard() {
        guard.disarm();
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
    boolean guardCapable(Cycle c) {
        boolean capable;
        try {
            capable = guard.canActivate();
        } catch (RuntimeException e) {
            log.error("{}: the lease guard failed to tell whether it can be activated", member, e);
            capable = false;
        }
        State s = c.state.lock();
        if (capable != s.guardWasCapable()) {
            if (capable) {
                log.info("{}: the lease guard can be activated again: taking part in leader races", member);
            } else {
                log.warn("{}: the lease guard is required but cannot be activated: not taking part in leader races"
                        + " and publishing watchdog_failed", member);
            }
        }
        Long retried = s.guardRetriedNanos();
        boolean retry = false;
        if (capable) {
            retried = null;
        } else if (!s.held()) {
            long now = clock.nanoTime();
            if (retried == null || now - retried >= c.state.settings().ttl().toNanos()) {
                retried = now;
                retry = true;
            }
        }
        c.state = c.state.withLock(new State(s.held(), s.deadlineNanos(), s.deadlineWall(), retried, capable));
        if (retry) {
            guardActivated();
        }
        return capable;
    }

    /** Whether this node holds the lock and its lease has not run out. */
    boolean isHeld(NodeState s) {
        return s.lock().held() && clock.nanoTime() - s.lock().deadlineNanos() < 0;
    }

    /** The lease deadline while held, else null. */
    Instant deadline(NodeState s) {
        return isHeld(s) ? s.lock().deadlineWall() : null;
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

    private void renewed(Cycle c, Duration ttl, long sentNanos, Instant sentWall) {
        State s = c.state.lock();
        Instant deadline = sentWall.plus(ttl);
        c.state = c.state.withLock(new State(true, sentNanos + ttl.toNanos(), deadline, s.guardRetriedNanos(),
                s.guardWasCapable()));
        guard.arm(deadline);
        if (!s.held()) {
            events.lockAcquired();
        }
    }
}
