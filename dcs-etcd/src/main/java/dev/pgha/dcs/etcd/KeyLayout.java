package dev.pgha.dcs.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.pgha.dcs.values.ClusterDecoder;
import dev.pgha.dcs.values.PatroniKeys;
import dev.pgha.dcs.values.StoredValue;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Patroni's key layout of one cluster: every key lives below {@code <namespace>/<scope>/}, where
 * the prefix is built as Patroni builds it (leading slash, repeated slashes collapsed), so that
 * {@code namespace = "service"}, {@code "/service"} and {@code "/service/"} all give
 * {@code /service/<scope>/}. The names below the prefix are {@link PatroniKeys}'.
 */
final class KeyLayout {

    static final String LEADER = PatroniKeys.LEADER;
    static final String CONFIG = PatroniKeys.CONFIG;
    static final String INITIALIZE = PatroniKeys.INITIALIZE;
    static final String FAILOVER = PatroniKeys.FAILOVER;
    static final String SYNC = PatroniKeys.SYNC;
    static final String HISTORY = PatroniKeys.HISTORY;
    static final String STATUS = PatroniKeys.STATUS;

    private final String prefix;

    KeyLayout(String namespace, String scope) {
        Objects.requireNonNull(namespace, "namespace");
        this.prefix = ("/" + namespace + "/" + requireScope(scope) + "/").replaceAll("/+", "/");
    }

    /** Validates a scope: not blank, no slash. */
    static String requireScope(String scope) {
        if (scope == null || scope.isBlank() || scope.contains("/")) {
            throw new IllegalArgumentException("scope must be a non-blank name without '/', was " + scope);
        }
        return scope;
    }

    /** {@code /<namespace>/<scope>/}: the prefix every key of the cluster starts with. */
    String prefix() {
        return prefix;
    }

    /** The absolute key for a name relative to the prefix ({@code "leader"}, {@code "members/n1"}). */
    ByteSequence key(String relative) {
        return bytes(prefix + relative);
    }

    /** The absolute key of a member. */
    ByteSequence member(String name) {
        return key(PatroniKeys.member(name));
    }

    /** The prefix as bytes, for a prefix read. */
    ByteSequence prefixBytes() {
        return bytes(prefix);
    }

    /**
     * The key relative to the prefix, or null when the key lies outside this cluster.
     */
    String relative(ByteSequence key) {
        String k = key.toString(UTF_8);
        return k.startsWith(prefix) ? k.substring(prefix.length()) : null;
    }

    /**
     * The key-values of one prefix read by their keys relative to the prefix (in the order read),
     * as {@link ClusterDecoder} takes them; the version is the key's mod revision. Keys outside the
     * prefix are left out.
     */
    Map<String, StoredValue> values(List<KeyValue> kvs) {
        Map<String, StoredValue> out = new LinkedHashMap<>();
        for (KeyValue kv : kvs) {
            String relative = relative(kv.getKey());
            if (relative != null) {
                out.put(relative, new StoredValue(kv.getValue().toString(UTF_8), kv.getModRevision()));
            }
        }
        return out;
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, UTF_8);
    }

    @Override
    public String toString() {
        return prefix;
    }
}
