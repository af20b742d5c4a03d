package dev.pgha.dcs.values;

import java.util.List;
import java.util.Objects;

/**
 * A stored value {@link ClusterDecoder} could not use, or used only in part, as it reports it to
 * its listener (besides logging it).
 *
 * @param key      the key relative to the cluster's prefix ({@code "config"}, {@code "members/node2"})
 * @param version  the key's version in the store
 * @param problems what was ignored
 * @param outcome  how the key was read instead, e.g. {@code "read as an empty configuration"}
 * @param value    the stored text, cut to 200 characters with control characters shown as {@code ?}
 */
public record UnusableValue(String key, long version, List<String> problems, String outcome, String value) {

    /** Copies the problems. */
    public UnusableValue {
        Objects.requireNonNull(key, "key");
        problems = List.copyOf(problems);
    }
}
