package dev.pgha.dcs.etcd;

import dev.pgha.dcs.DcsClient;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one etcd watch of a client, on the whole cluster prefix: it feeds the {@link ClusterCache}
 * and wakes the {@link DcsClient#watch} callbacks when the leader key is created, changes holder,
 * is deleted or expires, or the failover key is written or deleted (a refresh that rewrites the
 * same holder is not a change).
 *
 * <h2>Feeding the cache</h2>
 * A subscription starts at the revision after the cache's snapshot ({@code cache.revision() + 1}),
 * so the snapshot plus the subscription's events, applied in order, are the state at the latest
 * event: no revision is missed or applied twice. {@link #isCurrent} says whether reads may be
 * served from the cache: only while the subscription feeds it (it started after a snapshot), etcd
 * has confirmed it (its created notification), no error, cancel or end came since, and it
 * delivered something less than the given quiet time ago. Otherwise the client reads in full and
 * {@link #afterFullRead} (re)starts the subscription from that snapshot.
 *
 * <p>Before the first snapshot (a {@link DcsClient#watch} before any read), and after any failure
 * of a subscription, a subscription starts "from now": it only wakes the callbacks; the next full
 * read replaces it with one that feeds the cache, from that snapshot's revision.
 *
 * <h2>Errors</h2>
 * Any error or end of a subscription (no raft leader, a halted stream, compaction, a connection
 * jetcd would resume on its own) ends it here: the cache stops being current at once, and a new
 * subscription starts after a growing pause (0.5 s up to 5 s) from now, when the callbacks run
 * once since a change may have been missed. It does not resume from the cache's revision: those
 * revisions may be compacted, and etcd confirms such a watch before it cancels it, so the cache
 * would count as current for a moment. The next read is a full read that re-bases the cache.
 * Thread-safe; jetcd is never called while this class's lock is held (jetcd calls back into it
 * holding its own).
 */
final class PrefixWatch {

    private static final Logger LOG = LoggerFactory.getLogger(PrefixWatch.class);
    private static final long MIN_PAUSE_MILLIS = 500;
    private static final long MAX_PAUSE_MILLIS = 5000;

    private final Watch watches;
    private final KeyLayout keys;
    private final String member;
    private final ClusterCache cache;
    private final Supplier<ScheduledExecutorService> scheduler;
    private final List<Runnable> callbacks = new CopyOnWriteArrayList<>();
    private final Object lock = new Object();
    private Sub current;
    private boolean resubscribePending;
    /** The cache's revision may not be a safe start (after any failure): the next watch starts from now. */
    private boolean needsFullRead;
    private boolean fireOnCreate;
    private boolean hadSubscription;
    private long pauseMillis = MIN_PAUSE_MILLIS;
    private int restarts;
    private boolean holdBack;
    private final List<WatchResponse> heldBack = new ArrayList<>();
    private boolean closed;

    /** One etcd watch; {@code startRevision} 0 means "from now" (it does not feed the cache). */
    private static final class Sub {
        final long startRevision;
        Watch.Watcher watcher;
        boolean created;
        boolean dead;
        long lastHeardNanos;

        Sub(long startRevision) {
            this.startRevision = startRevision;
        }
    }

    PrefixWatch(Watch watches, KeyLayout keys, String member, ClusterCache cache,
                Supplier<ScheduledExecutorService> scheduler) {
        this.watches = watches;
        this.keys = keys;
        this.member = member;
        this.cache = cache;
        this.scheduler = scheduler;
    }

    /**
     * Whether the cache is the current state: fed by a confirmed subscription that has not failed
     * and that delivered something (its creation or events) less than {@code quietNanos} ago.
     */
    boolean isCurrent(long quietNanos) {
        synchronized (lock) {
            Sub s = current;
            return !closed && s != null && !s.dead && s.created && s.startRevision > 0
                    && (holdBack || System.nanoTime() - s.lastHeardNanos < quietNanos);
        }
    }

    /** After a full read was installed: start a subscription that feeds the cache, if none does. */
    void afterFullRead() {
        Sub old = null;
        synchronized (lock) {
            needsFullRead = false;
            if (closed || resubscribePending) {
                return;
            }
            if (current != null && current.startRevision == 0) {
                old = current;
                old.dead = true;
                current = null;
                heldBack.clear();
            }
        }
        if (old != null) {
            closeQuietly(old);
        }
        ensureSubscribed();
    }

    /** Starts a subscription unless one is running or due. */
    void ensureSubscribed() {
        Sub s;
        synchronized (lock) {
            if (closed || current != null || resubscribePending) {
                return;
            }
            long rev = cache.revision() > 0 && !needsFullRead ? cache.revision() + 1 : 0;
            s = new Sub(rev);
            if (rev == 0 && hadSubscription) {
                fireOnCreate = true;
            }
            hadSubscription = true;
            current = s;
        }
        WatchOption.Builder option = WatchOption.builder()
                .isPrefix(true)
                .withPrevKV(true)
                .withRequireLeader(true)
                .withCreateNotify(true);
        if (s.startRevision > 0) {
            option.withRevision(s.startRevision);
        }
        Watch.Watcher w;
        try {
            w = watches.watch(keys.prefixBytes(), option.build(),
                    Watch.listener(r -> onNext(s, r), t -> onError(s, t), () -> onEnd(s, null)));
        } catch (RuntimeException e) {
            LOG.warn("{}: could not open the etcd watch on {}: {}", member, keys.prefix(), e.toString());
            onEnd(s, e);
            return;
        }
        boolean dead;
        synchronized (lock) {
            s.watcher = w;
            dead = s.dead;
        }
        if (dead) {
            closeQuietly(s);
        }
    }

    /**
     * Adds a wake-up callback and waits, at most {@code bound}, until etcd has confirmed the
     * subscription; if it does not in time, the callbacks run once when it does.
     */
    DcsClient.Subscription watch(Runnable onChange, Duration bound) {
        // Closed means closed: a wake-up already being dispatched (from a snapshot of the callbacks)
        // when the subscription closes does not reach the callback either.
        java.util.concurrent.atomic.AtomicBoolean open = new java.util.concurrent.atomic.AtomicBoolean(true);
        Runnable registration = () -> {
            if (open.get()) {
                onChange.run();
            }
        };
        callbacks.add(registration);
        ensureSubscribed();
        long end = System.nanoTime() + bound.toNanos();
        boolean confirmed;
        synchronized (lock) {
            while (!(confirmed = current != null && current.created) && !closed) {
                long left = end - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                try {
                    lock.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            if (!confirmed) {
                fireOnCreate = true;
            }
        }
        if (!confirmed) {
            LOG.warn("{}: etcd did not confirm the watch on {} within {}; it wakes the host once it does", member,
                    keys.prefix(), bound);
        }
        return () -> {
            open.set(false);
            callbacks.remove(registration);
        };
    }

    private void onNext(Sub s, WatchResponse response) {
        boolean fire = false;
        synchronized (lock) {
            if (s != current || s.dead || closed) {
                return;
            }
            s.lastHeardNanos = System.nanoTime();
            if (response.isCreatedNotify() && !s.created) {
                s.created = true;
                pauseMillis = MIN_PAUSE_MILLIS;
                if (fireOnCreate) {
                    fireOnCreate = false;
                    fire = true;
                    LOG.info("{}: etcd watch on {} created; changes before may have been missed", member,
                            keys.prefix());
                }
                lock.notifyAll();
            }
            if (holdBack) {
                heldBack.add(response);
            } else {
                fire |= take(s, response);
            }
        }
        if (fire) {
            runCallbacks();
        }
    }

    /** Applies one response to the cache (if the subscription feeds it); whether it is a change. */
    private boolean take(Sub s, WatchResponse response) {
        if (response.getEvents().isEmpty()) {
            return false;
        }
        if (s.startRevision > 0) {
            cache.apply(response.getEvents());
        }
        boolean change = false;
        for (WatchEvent event : response.getEvents()) {
            change |= isChange(keys.relative(event.getKeyValue().getKey()), event);
        }
        return change;
    }

    /** Whether the event changes the leader key's holder or touches the failover key. */
    static boolean isChange(String relative, WatchEvent event) {
        if (KeyLayout.FAILOVER.equals(relative)) {
            return event.getEventType() != WatchEvent.EventType.UNRECOGNIZED;
        }
        if (!KeyLayout.LEADER.equals(relative)) {
            return false;
        }
        return switch (event.getEventType()) {
            case DELETE -> true;
            case PUT -> {
                KeyValue prev = event.getPrevKV();
                yield prev == null || prev.getKey().isEmpty() || event.getKeyValue().getVersion() == 1
                        || !prev.getValue().equals(event.getKeyValue().getValue());
            }
            default -> false;
        };
    }

    private void onError(Sub s, Throwable t) {
        onEnd(s, t);
    }

    /** The subscription failed or ended: it is done; the cache is not current until a new one is. */
    private void onEnd(Sub s, Throwable t) {
        synchronized (lock) {
            if (s != current || closed) {
                return;
            }
            s.dead = true;
            current = null;
            needsFullRead = true;
            heldBack.clear();
            resubscribePending = true;
            restarts++;
        }
        LOG.info("{}: etcd watch on {} ended ({}); reads go to etcd until a new one is confirmed", member,
                keys.prefix(), t == null ? "jetcd gave it up" : t.toString());
        closeQuietly(s);
        long pause;
        synchronized (lock) {
            pause = pauseMillis;
            pauseMillis = Math.min(MAX_PAUSE_MILLIS, pauseMillis * 2);
        }
        try {
            scheduler.get().schedule(() -> {
                synchronized (lock) {
                    resubscribePending = false;
                }
                ensureSubscribed();
            }, pause, TimeUnit.MILLISECONDS);
        } catch (RuntimeException rejected) {
            LOG.debug("{}: etcd watch not resumed: the client is closing", member);
        }
    }

    private void runCallbacks() {
        if (closed) {
            return;
        }
        for (Runnable callback : callbacks) {
            try {
                callback.run();
            } catch (RuntimeException e) {
                LOG.warn("{}: etcd watch callback failed; the watch goes on", member, e);
            }
        }
    }

    /**
     * Test seam: while held, the subscription's responses are kept back (the cache and the
     * callbacks see nothing new, yet the cache counts as current); released, they are applied in
     * order.
     */
    void holdBack(boolean hold) {
        boolean fire = false;
        synchronized (lock) {
            holdBack = hold;
            if (!hold) {
                for (WatchResponse r : heldBack) {
                    if (current != null) {
                        fire |= take(current, r);
                    }
                }
                heldBack.clear();
            }
        }
        if (fire) {
            runCallbacks();
        }
    }

    /** How often a subscription ended and a new one was scheduled. */
    int restarts() {
        synchronized (lock) {
            return restarts;
        }
    }

    void close() {
        Sub s;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            s = current;
            current = null;
            lock.notifyAll();
        }
        callbacks.clear();
        if (s != null) {
            closeQuietly(s);
        }
    }

    private void closeQuietly(Sub s) {
        Watch.Watcher w;
        synchronized (lock) {
            w = s.watcher;
            s.watcher = null;
        }
        if (w != null) {
            try {
                w.close();
            } catch (RuntimeException e) {
                LOG.debug("{}: closing the etcd watch failed: {}", member, e.toString());
            }
        }
    }
}
