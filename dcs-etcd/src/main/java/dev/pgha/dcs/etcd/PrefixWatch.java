package dev.pgha.dcs.etcd;

import dev.pgha.dcs.DcsClient;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.common.exception.CompactedException;
import io.etcd.jetcd.options.WatchOption;
import io.etcd.jetcd.watch.WatchEvent;
import io.etcd.jetcd.watch.WatchResponse;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A watch on the leader and failover keys that runs a callback when the leader key is created,
 * changes holder, is deleted or expires, or the failover key is written or deleted. A refresh that
 * rewrites the same holder (a new revision, the same value) is not a change.
 *
 * <p>One etcd watch covers the key range from {@code failover} to {@code leader} (the keys in
 * between, {@code failsafe}, {@code history} and {@code initialize}, change rarely and are
 * filtered out), with the previous value of each event and {@code require leader}, so a member
 * cut off from the etcd quorum does not keep a silent watch.
 *
 * <p>{@link #start(Duration)} returns once etcd has confirmed the watch (its created
 * notification), so every change after it returned is reported. If the confirmation does not come
 * in time (etcd unreachable), it returns anyway and the callback runs once when the watch is
 * finally created, since a change may have been missed meanwhile.
 *
 * <p>jetcd resumes a watch by itself after UNAVAILABLE and INTERNAL errors; after any other error
 * (no leader, a halted stream, compaction) it gives up and completes the listener. Then this class
 * subscribes again, after a growing pause (0.5 s up to 5 s), from the revision after the last one
 * it saw, so no change is missed. If those revisions were compacted away it subscribes from now
 * and runs the callback once, since a change may have been missed.
 */
final class ChangeWatch implements DcsClient.Subscription {

    private static final Logger LOG = LoggerFactory.getLogger(ChangeWatch.class);
    private static final long MIN_PAUSE_MILLIS = 500;
    private static final long MAX_PAUSE_MILLIS = 5000;

    private final Watch watches;
    private final KeyLayout keys;
    private final String member;
    private final Runnable onChange;
    private final ScheduledExecutorService scheduler;
    private final Object lock = new Object();
    private final CountDownLatch created = new CountDownLatch(1);
    private Watch.Watcher watcher;
    /** {@link #start} returned before etcd confirmed the watch. */
    private boolean confirmationOverdue;
    private long lastRevision;
    private long pauseMillis = MIN_PAUSE_MILLIS;
    private boolean compacted;
    private int restarts;
    private volatile boolean closed;

    ChangeWatch(Watch watches, KeyLayout keys, String member, Runnable onChange, ScheduledExecutorService scheduler) {
        this.watches = watches;
        this.keys = keys;
        this.member = member;
        this.onChange = onChange;
        this.scheduler = scheduler;
    }

    /**
     * Opens the etcd watch and waits, at most {@code bound}, until etcd has created it: from then
     * on every change is reported.
     */
    void start(Duration bound) {
        subscribe();
        boolean confirmed;
        try {
            confirmed = created.await(bound.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            confirmed = false;
        }
        if (!confirmed) {
            synchronized (lock) {
                confirmed = created.getCount() == 0;
                confirmationOverdue = !confirmed;
            }
        }
        if (!confirmed) {
            LOG.warn("{}: etcd did not confirm the watch on {} within {}; it wakes the host once it does", member,
                    keys.prefix(), bound);
        }
    }

    private void subscribe() {
        synchronized (lock) {
            if (closed) {
                return;
            }
            WatchOption.Builder option = WatchOption.builder()
                    .withRange(KeyLayout.bytes(keys.prefix() + KeyLayout.LEADER + "\0"))
                    .withPrevKV(true)
                    .withRequireLeader(true)
                    .withCreateNotify(true);
            if (lastRevision > 0 && !compacted) {
                option.withRevision(lastRevision + 1);
            }
            try {
                watcher = watches.watch(keys.key(KeyLayout.FAILOVER), option.build(),
                        Watch.listener(this::onNext, this::onError, this::onCompleted));
            } catch (RuntimeException e) {
                LOG.warn("{}: could not open the etcd watch on {}: {}", member, keys.prefix(), e.toString());
                scheduleResubscribe();
            }
        }
    }

    private void onNext(WatchResponse response) {
        boolean fire = false;
        boolean wasCompacted;
        boolean lateConfirmation = false;
        synchronized (lock) {
            lastRevision = Math.max(lastRevision, response.getHeader().getRevision());
            pauseMillis = MIN_PAUSE_MILLIS;
            wasCompacted = compacted;
            compacted = false;
            if (response.isCreatedNotify() && created.getCount() > 0) {
                lateConfirmation = confirmationOverdue;
                confirmationOverdue = false;
                created.countDown();
            }
        }
        for (WatchEvent event : response.getEvents()) {
            KeyValue kv = event.getKeyValue();
            synchronized (lock) {
                lastRevision = Math.max(lastRevision, kv.getModRevision());
            }
            fire |= isChange(keys.relative(kv.getKey()), event);
        }
        if (lateConfirmation) {
            LOG.info("{}: etcd watch on {} created late; changes before may have been missed", member, keys.prefix());
            fire = true;
        }
        if (wasCompacted) {
            LOG.info("{}: etcd watch on {} resumed after a compaction; some changes may have been missed", member,
                    keys.prefix());
            fire = true;
        }
        if (fire && !closed) {
            try {
                onChange.run();
            } catch (RuntimeException e) {
                LOG.warn("{}: etcd watch callback failed; the watch goes on", member, e);
            }
        }
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

    private void onError(Throwable t) {
        if (closed) {
            return;
        }
        if (t instanceof CompactedException) {
            synchronized (lock) {
                compacted = true;
            }
        }
        LOG.debug("{}: etcd watch on {} reported: {}", member, keys.prefix(), t.toString());
    }

    private void onCompleted() {
        if (closed) {
            return;
        }
        LOG.info("{}: etcd watch on {} ended (jetcd does not resume it); subscribing again", member, keys.prefix());
        scheduleResubscribe();
    }

    private void scheduleResubscribe() {
        long pause;
        synchronized (lock) {
            if (closed) {
                return;
            }
            pause = pauseMillis;
            pauseMillis = Math.min(MAX_PAUSE_MILLIS, pauseMillis * 2);
            restarts++;
        }
        try {
            scheduler.schedule(this::subscribe, pause, TimeUnit.MILLISECONDS);
        } catch (RuntimeException rejected) {
            LOG.debug("{}: etcd watch not resumed: the client is closing", member);
        }
    }

    /** How often this class had to subscribe again because jetcd gave the watch up. */
    int restarts() {
        synchronized (lock) {
            return restarts;
        }
    }

    @Override
    public void close() {
        Watch.Watcher w;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            w = watcher;
            watcher = null;
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
