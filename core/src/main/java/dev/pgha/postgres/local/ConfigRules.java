package dev.pgha.postgres.local;

import dev.pgha.HaConfigException;
import dev.pgha.HaListener;
import java.time.Duration;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/** The validation rules of {@link LocalPostgresConfig}; every failure names the field. */
final class ConfigRules {

    static final Pattern PARAMETER_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_.]*");
    static final Pattern SEGMENT = Pattern.compile("[^/\\s]+");
    /** The longest Unix socket path (sun_path minus the terminating NUL). */
    static final int MAX_SOCKET_PATH = 107;

    private ConfigRules() {
    }

    static Map<String, String> validParameters(Map<String, String> given) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : Objects.requireNonNullElse(given, Map.<String, String>of()).entrySet()) {
            String key = e.getKey() == null ? "" : e.getKey().strip();
            if (!PARAMETER_NAME.matcher(key).matches()) {
                throw new HaConfigException("postgresql.parameters", "has an invalid name '" + key + "'");
            }
            String lower = key.toLowerCase(Locale.ROOT);
            if (LocalPostgresConfig.ADDRESS_PARAMETERS.contains(lower)) {
                throw new HaConfigException("postgresql.parameters." + lower,
                        "is set by pgha from this configuration's own fields; remove it from parameters");
            }
            if (LocalPostgresConfig.RECOVERY_PARAMETERS.contains(lower)) {
                throw new HaConfigException("postgresql.parameters." + lower,
                        "is written by pgha when the node follows a member; remove it from parameters");
            }
            if (e.getValue() == null) {
                throw new HaConfigException("postgresql.parameters." + lower, "has no value");
            }
            requireSingleLine("postgresql.parameters." + lower, e.getValue());
            out.put(lower, e.getValue());
        }
        return Collections.unmodifiableMap(out);
    }

    static Map<HaListener.Callback, String> validCallbacks(Map<HaListener.Callback, String> given) {
        Map<HaListener.Callback, String> out = new EnumMap<>(HaListener.Callback.class);
        for (Map.Entry<HaListener.Callback, String> e
                : Objects.requireNonNullElse(given, Map.<HaListener.Callback, String>of()).entrySet()) {
            String field = "postgresql.callbacks." + (e.getKey() == null ? "null" : e.getKey().patroniName());
            if (e.getKey() == null || e.getValue() == null || e.getValue().isBlank()) {
                throw new HaConfigException(field, "must name a command");
            }
            requireSingleLine(field, e.getValue());
            out.put(e.getKey(), e.getValue().strip());
        }
        return Collections.unmodifiableMap(out);
    }

    static void requireText(String field, String value) {
        if (value == null || value.isBlank()) {
            throw new HaConfigException(field, "must be set");
        }
        requireSingleLine(field, value);
    }

    static void requireSegment(String field, String value) {
        if (value == null || !SEGMENT.matcher(value).matches()) {
            throw new HaConfigException(field, "must be a non-blank word without '/' or spaces, was '" + value + "'");
        }
    }

    static void requireSingleLine(String field, String value) {
        if (value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0 || value.indexOf('\0') >= 0) {
            throw new HaConfigException(field, "must not contain line breaks or NUL characters");
        }
    }

    static void requireCredentials(String field, Credentials c) {
        requireSegment(field + ".username", c.username());
        if (c.password() != null) {
            requireSingleLine(field + ".password", c.password());
        }
    }

    static Duration positive(String field, Duration value, Duration otherwise) {
        if (value == null) {
            return otherwise;
        }
        if (value.isNegative() || value.isZero()) {
            throw new HaConfigException(field, "must be positive, was " + value);
        }
        return value;
    }

}
