package dev.pgha;

import java.util.Map;
import java.util.Objects;

/**
 * The outcome of a change to the {@code config} key through {@link ClusterAdmin} (Patroni's
 * {@code PATCH /config} and {@code PUT /config}).
 *
 * @param outcome what happened
 * @param config  the key's value after the change (when {@link Outcome#APPLIED} or
 *                {@link Outcome#UNCHANGED}), else the value as read
 * @param message why it was refused, naming the setting; empty when applied
 */
public record ConfigUpdate(Outcome outcome, Map<String, Object> config, String message) {

    /** What happened to the change. */
    public enum Outcome {
        /** The key was written. */
        APPLIED,
        /** The change left the value as it was; nothing was written. */
        UNCHANGED,
        /** The result would not be valid settings; nothing was written ({@link #message()} says why). */
        INVALID,
        /** The key changed since it was read; nothing was written. */
        CONFLICT,
        /** The key does not exist yet (no member has written it); nothing was written. */
        ABSENT
    }

    /** Copies the value. */
    public ConfigUpdate {
        Objects.requireNonNull(outcome, "outcome");
        config = config == null ? Map.of() : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(config));
        message = Objects.requireNonNullElse(message, "");
    }

    /** Whether the key now holds the requested value. */
    public boolean ok() {
        return outcome == Outcome.APPLIED || outcome == Outcome.UNCHANGED;
    }
}
