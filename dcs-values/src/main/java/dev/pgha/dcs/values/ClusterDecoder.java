package dev.pgha.dcs.values;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Leader;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the {@link ClusterView} of one cluster read from the keys' stored values, for an adapter's
 * {@code DcsClient.readCluster()}: the adapter reads every key below the cluster's prefix in one
 * consistent snapshot, names each by its key relative to the prefix ({@link PatroniKeys}) and hands
 * them over as {@link StoredValue}s.
 *
 * <p>It never throws for what it finds in the store. A value it cannot use is read as absent or
 * invalid, as {@link PatroniValues} decodes it (a member with undecodable data as a member known
 * only by name, an unusable {@code config} as empty data that keeps its version, {@code history}
 * as unknown, {@code failover} as no request), and reported: logged as a warning once per key and
 * version, then at debug level, so a bad key does not flood the log every cycle, and passed to the
 * listener, if any, every time. Keys it does not know, member keys with an empty name and deeper
 * paths below {@code members/} are ignored.
 *
 * <p>A key whose version and value are those of the previous call is not decoded again.
 *
 * <p>Thread-safe; one decoder per client, since it remembers what it reported and decoded.
 */
public final class ClusterDecoder {

    private static final Logger LOG = LoggerFactory.getLogger(ClusterDecoder.class);
    private static final int MAX_REMEMBERED = 256;

    private final String member;
    private final String keyPrefix;
    private final Consumer<UnusableValue> listener;
    private final Set<String> reported = Collections.newSetFromMap(new ConcurrentHashMap<>());
    private final Map<String, Memo> memos = new ConcurrentHashMap<>();

    /**
     * A decoder that logs what it cannot use.
     *
     * @param member    the member the reading client serves, named in every log message
     * @param keyPrefix the cluster's prefix in the store (e.g. {@code /service/demo/}), for log messages
     */
    public ClusterDecoder(String member, String keyPrefix) {
        this(member, keyPrefix, unusable -> { });
    }

    /**
     * A decoder that logs what it cannot use and also tells {@code listener} (on the reading
     * thread; its exceptions are not caught), e.g. for a metric.
     */
    public ClusterDecoder(String member, String keyPrefix, Consumer<UnusableValue> listener) {
        this.member = Objects.requireNonNull(member, "member");
        this.keyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    /**
     * The cluster as the stored values say.
     *
     * @param byRelativeKey every key of the cluster by its name relative to the prefix
     *                      ({@code "leader"}, {@code "members/node1"}, ...); absent keys are simply missing
     */
    public ClusterView decode(Map<String, StoredValue> byRelativeKey) {
        List<Member> members = new ArrayList<>();
        for (Map.Entry<String, StoredValue> e : byRelativeKey.entrySet()) {
            String name = PatroniKeys.memberName(e.getKey());
            if (name != null) {
                Decoded<Member> m = memo(e.getKey(), e.getValue(), v -> PatroniValues.decodeMember(name, v.value()));
                members.add(m.value());
                report(e.getKey(), e.getValue(), m, "read with what could be used");
            }
        }
        StoredValue initialize = byRelativeKey.get(PatroniKeys.INITIALIZE);
        return new ClusterView(initialize == null ? null : initialize.value(), config(byRelativeKey),
                leader(byRelativeKey), status(byRelativeKey), members, failover(byRelativeKey), sync(byRelativeKey),
                history(byRelativeKey), failsafe(byRelativeKey));
    }

    private Leader leader(Map<String, StoredValue> byKey) {
        StoredValue v = byKey.get(PatroniKeys.LEADER);
        if (v == null) {
            return null;
        }
        return read(PatroniKeys.LEADER, v, memo(PatroniKeys.LEADER, v, x -> PatroniValues.decodeLeader(x.value())),
                "read as unlocked; the key blocks acquisition until it expires or is deleted");
    }

    private ClusterConfig config(Map<String, StoredValue> byKey) {
        StoredValue v = byKey.get(PatroniKeys.CONFIG);
        return v == null ? null : read(PatroniKeys.CONFIG, v,
                memo(PatroniKeys.CONFIG, v, x -> PatroniValues.decodeConfig(x.value(), x.version())),
                "read as an empty configuration");
    }

    private ClusterStatus status(Map<String, StoredValue> byKey) {
        StoredValue v = byKey.get(PatroniKeys.STATUS);
        if (v != null) {
            return read(PatroniKeys.STATUS, v, memo(PatroniKeys.STATUS, v, x -> PatroniValues.decodeStatus(x.value())),
                    "read with what could be used");
        }
        v = byKey.get(PatroniKeys.LEGACY_OPTIME);
        return v == null ? null : read(PatroniKeys.LEGACY_OPTIME, v, PatroniValues.decodeLegacyOptime(v.value()),
                "ignored");
    }

    private Failover failover(Map<String, StoredValue> byKey) {
        StoredValue v = byKey.get(PatroniKeys.FAILOVER);
        return v == null ? null : read(PatroniKeys.FAILOVER, v,
                memo(PatroniKeys.FAILOVER, v, x -> PatroniValues.decodeFailover(x.value(), x.version())), "read as no request");
    }

    private SyncState sync(Map<String, StoredValue> byKey) {
        StoredValue v = byKey.get(PatroniKeys.SYNC);
        if (v == null) {
            return null;
        }
        Decoded<SyncState> s = memo(PatroniKeys.SYNC, v, x -> PatroniValues.decodeSync(x.value(), x.version()));
        return read(PatroniKeys.SYNC, v, s, s.value().leader() == null ? "read as naming no leader"
                : "read with what could be used");
    }

    private TimelineHistory history(Map<String, StoredValue> byKey) {
        StoredValue v = byKey.get(PatroniKeys.HISTORY);
        return v == null ? null : read(PatroniKeys.HISTORY, v, memo(PatroniKeys.HISTORY, v, x -> PatroniValues.decodeHistory(x.value())),
                "read as absent (timeline unknown)");
    }

    private Map<String, String> failsafe(Map<String, StoredValue> byKey) {
        StoredValue v = byKey.get(PatroniKeys.FAILSAFE);
        return v == null ? null : read(PatroniKeys.FAILSAFE, v, memo(PatroniKeys.FAILSAFE, v, x -> PatroniValues.decodeFailsafe(x.value())),
                "read with what could be used");
    }

    /**
     * {@code decode} of {@code stored}, or the result of the last call for the same key if its
     * version and value are the same: a key that did not change is not decoded again (the
     * decoded values are immutable).
     */
    @SuppressWarnings("unchecked")
    private <T> Decoded<T> memo(String key, StoredValue stored, Function<StoredValue, Decoded<T>> decode) {
        Memo m = memos.get(key);
        if (m != null && m.stored().equals(stored)) {
            return (Decoded<T>) m.decoded();
        }
        Decoded<T> d = decode.apply(stored);
        if (memos.size() > MAX_REMEMBERED) {
            memos.clear();
        }
        memos.put(key, new Memo(stored, d));
        return d;
    }

    /** A key's last decoded value. */
    private record Memo(StoredValue stored, Decoded<?> decoded) {
    }

    private <T> T read(String key, StoredValue stored, Decoded<T> decoded, String outcome) {
        report(key, stored, decoded, outcome);
        return decoded.value();
    }

    private void report(String key, StoredValue stored, Decoded<?> decoded, String outcome) {
        if (decoded.isClean()) {
            return;
        }
        String problems = String.join("; ", decoded.problems());
        String value = abbreviate(stored.value());
        String id = key + "@" + stored.version();
        if (reported.size() > MAX_REMEMBERED) {
            reported.clear();
        }
        if (reported.add(id)) {
            LOG.warn("{}: unusable value in {}{} (version {}): {}; {}: {}", member, keyPrefix, key, stored.version(),
                    problems, outcome, value);
        } else {
            LOG.debug("{}: unusable value in {}{} (version {}): {}; {}", member, keyPrefix, key, stored.version(),
                    problems, outcome);
        }
        listener.accept(new UnusableValue(key, stored.version(), decoded.problems(), outcome, value));
    }

    /** At most 200 characters, control characters and U+FFFD shown as '?', for a log line. */
    private static String abbreviate(String s) {
        String cut = s.length() <= 200 ? s : s.substring(0, 200) + "...";
        return cut.codePoints().map(c -> Character.isISOControl(c) || c == 0xFFFD ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }
}
