package dev.pgha.dcs.values;

import java.util.Objects;

/**
 * One key's content as an adapter read it from its store: the value as text and the store's
 * version of the key, the number compare-and-set compares with (etcd's {@code mod_revision},
 * ZooKeeper's {@code Stat.version}, Consul's {@code ModifyIndex}, ...). The version also tells
 * {@link ClusterDecoder} whether an unusable value is one it already reported.
 *
 * @param value   the stored value decoded as UTF-8 text (malformed bytes as U+FFFD), never null
 * @param version the key's version in the store; positive for a stored key
 */
public record StoredValue(String value, long version) {

    /** Requires the value. */
    public StoredValue {
        Objects.requireNonNull(value, "value");
    }
}
