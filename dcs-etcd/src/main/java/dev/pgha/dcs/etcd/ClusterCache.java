package dev.pgha.dcs.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.pgha.cluster.ClusterView;
import dev.pgha.dcs.values.ClusterDecoder;
import dev.pgha.dcs.values.StoredValue;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.watch.WatchEvent;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The keys of one cluster prefix as etcd held them at one revision, {@link #revision()}: a full
 * read installs a snapshot ({@link #install}), and the events of a watch that started right after
 * such a snapshot are applied in revision order ({@link #apply}), each revision at most once, so
 * the content is always the state at {@code revision()}. Whether that state is also current is
 * not this class's business ({@link PrefixWatch} decides). Thread-safe.
 */
final class ClusterCache {

    /** One key: its value, mod revision (the SPI's version) and lease (0: none). */
    record Entry(ByteSequence value, long modRevision, long lease, StoredValue stored) {
        Entry(KeyValue kv) {
            this(kv.getValue(), kv.getModRevision(), kv.getLease(),
                    new StoredValue(kv.getValue().toString(UTF_8), kv.getModRevision()));
        }

    }

    private final KeyLayout keys;
    private final Map<String, Entry> entries = new TreeMap<>();
    private long revision;
    private ClusterView decoded;   // the content decoded, null once it changed

    ClusterCache(KeyLayout keys) {
        this.keys = keys;
    }

    /**
     * Replaces the content with a full read at {@code atRevision}, unless the cache already holds
     * a later state (events after that revision were applied): then the cache is the newer one.
     *
     * @return whether the snapshot was installed
     */
    synchronized boolean install(List<KeyValue> kvs, long atRevision) {
        if (atRevision < revision) {
            return false;
        }
        entries.clear();
        for (KeyValue kv : kvs) {
            String relative = keys.relative(kv.getKey());
            if (relative != null) {
                entries.put(relative, new Entry(kv));
            }
        }
        revision = atRevision;
        decoded = null;
        notifyAll();
        return true;
    }

    /**
     * Applies the events of one watch response (one or more whole revisions, in order): those of
     * revisions the cache already holds are skipped.
     */
    synchronized void apply(List<WatchEvent> events) {
        long base = revision;
        long last = revision;
        for (WatchEvent event : events) {
            KeyValue kv = event.getKeyValue();
            if (kv.getModRevision() <= base) {
                continue;
            }
            String relative = keys.relative(kv.getKey());
            if (relative != null) {
                if (event.getEventType() == WatchEvent.EventType.DELETE) {
                    entries.remove(relative);
                } else if (event.getEventType() == WatchEvent.EventType.PUT) {
                    entries.put(relative, new Entry(kv));
                }
            }
            last = Math.max(last, kv.getModRevision());
        }
        if (last > revision) {
            revision = last;
            decoded = null;
            notifyAll();
        }
    }

    /** The revision the content is the state of; 0 before the first snapshot. */
    synchronized long revision() {
        return revision;
    }

    /**
     * Waits until the cache holds at least {@code atLeast}, at most {@code nanos}.
     *
     * @return whether it does
     */
    synchronized boolean awaitRevision(long atLeast, long nanos) throws InterruptedException {
        long end = System.nanoTime() + nanos;
        while (revision < atLeast) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000), 0);
        }
        return true;
    }

    /** One key, or null when absent. */
    synchronized Entry get(String relative) {
        return entries.get(relative);
    }

    /**
     * The content decoded by {@code decoder}, decoded again only after the content changed: a quiet
     * cluster's cycles share one {@link ClusterView} (a value).
     */
    synchronized ClusterView view(ClusterDecoder decoder) {
        if (decoded == null) {
            decoded = decoder.decode(values());
        }
        return decoded;
    }

    /** The content as {@code ClusterDecoder} takes it: relative key to value and mod revision. */
    synchronized Map<String, StoredValue> values() {
        Map<String, StoredValue> out = new LinkedHashMap<>();
        entries.forEach((k, e) -> out.put(k, e.stored()));
        return out;
    }
}
