package dev.pgha;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads and writes the values of the {@code config} key for {@link ClusterSettings}: the JSON
 * types other tools write (numbers, text, booleans, lists, objects) to typed settings, with a
 * message naming the setting for anything else.
 */
final class ConfigValues {

    private static final Pattern DURATION = Pattern.compile("\\s*(-?\\d+(?:\\.\\d+)?)\\s*(ms|s|min|h|d)?\\s*");

    private ConfigValues() {
    }

    static ClusterSettings decode(Map<String, ?> data) {
        ClusterSettings.Builder b = ClusterSettings.DEFAULTS.toBuilder();
        ClusterSettings d = ClusterSettings.DEFAULTS;
        b.ttl(duration(data, "ttl", d.ttl()));
        b.loopWait(duration(data, "loop_wait", d.loopWait()));
        b.retryTimeout(duration(data, "retry_timeout", d.retryTimeout()));
        b.primaryStartTimeout(duration(data, "primary_start_timeout", d.primaryStartTimeout()));
        b.primaryStopTimeout(duration(data, "primary_stop_timeout", d.primaryStopTimeout()));
        b.memberSlotsTtl(duration(data, "member_slots_ttl", d.memberSlotsTtl()));
        b.maximumLagOnFailover(bytes(data, "maximum_lag_on_failover", d.maximumLagOnFailover()));
        b.checkTimeline(bool(data, "check_timeline", d.checkTimeline()));
        b.ignoreSlots(ignoreSlots(data.get("ignore_slots")));
        b.pause(bool(data, "pause", d.pause()));
        b.synchronousMode(synchronousMode(data.get("synchronous_mode")));
        b.synchronousModeStrict(bool(data, "synchronous_mode_strict", d.synchronousModeStrict()));
        long nodeCount = bytes(data, "synchronous_node_count", d.synchronousNodeCount(), "a whole number");
        b.synchronousNodeCount((int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, nodeCount)));
        b.maximumLagOnSyncnode(bytes(data, "maximum_lag_on_syncnode", d.maximumLagOnSyncnode()));
        Object pg = data.get("postgresql");
        if (pg != null) {
            Map<String, ?> section = object("postgresql", pg);
            b.usePgRewind(bool(section, "postgresql.use_pg_rewind", "use_pg_rewind", d.usePgRewind()));
            b.useSlots(bool(section, "postgresql.use_slots", "use_slots", d.useSlots()));
            b.postgresqlParameters(parameters(section.get("parameters")));
        }
        return b.build();
    }

    /** Whole seconds as Patroni writes them; a sub-second setting keeps its fraction. */
    static Number seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? (Number) d.toSeconds() : (Number) (d.toMillis() / 1000.0);
    }

    private static Duration duration(Map<String, ?> data, String key, Duration fallback) {
        Object v = data.get(key);
        if (v == null) {
            return fallback;
        }
        String text = v instanceof Number n ? new BigDecimal(n.toString()).toPlainString() : v instanceof String s ? s : null;
        Matcher m = text == null ? null : DURATION.matcher(text);
        if (m == null || !m.matches()) {
            throw new HaConfigException(key, "must be a number of seconds or a duration such as '30s' or '5min', was "
                    + describe(v));
        }
        BigDecimal amount = new BigDecimal(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        long millisPerUnit = switch (unit) {
            case "ms" -> 1;
            case "s" -> 1000;
            case "min" -> 60_000;
            case "h" -> 3_600_000;
            default -> 86_400_000;
        };
        return Duration.ofMillis(amount.multiply(BigDecimal.valueOf(millisPerUnit)).longValue());
    }

    /** Patroni's words for {@code synchronous_mode}: a boolean (or its words) or {@code quorum}. */
    private static ClusterSettings.SynchronousMode synchronousMode(Object v) {
        if (v == null) {
            return ClusterSettings.SynchronousMode.OFF;
        }
        if (v instanceof String s && s.strip().equalsIgnoreCase("quorum")) {
            return ClusterSettings.SynchronousMode.QUORUM;
        }
        try {
            return bool(Map.of("synchronous_mode", v), "synchronous_mode", false)
                    ? ClusterSettings.SynchronousMode.ON : ClusterSettings.SynchronousMode.OFF;
        } catch (HaConfigException e) {
            throw new HaConfigException("synchronous_mode", "must be on, off or quorum, was " + describe(v));
        }
    }

    private static long bytes(Map<String, ?> data, String key, long fallback) {
        return bytes(data, key, fallback, "a whole number of bytes");
    }

    private static long bytes(Map<String, ?> data, String key, long fallback, String what) {
        Object v = data.get(key);
        if (v == null) {
            return fallback;
        }
        try {
            BigDecimal n = new BigDecimal(v instanceof Number || v instanceof String ? v.toString().strip() : "x");
            return n.longValueExact();
        } catch (NumberFormatException | ArithmeticException e) {
            throw new HaConfigException(key, "must be " + what + ", was " + describe(v));
        }
    }

    private static boolean bool(Map<String, ?> data, String key, boolean fallback) {
        return bool(data, key, key, fallback);
    }

    private static boolean bool(Map<String, ?> data, String name, String key, boolean fallback) {
        Object v = data.get(key);
        if (v == null) {
            return fallback;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        String s = v.toString().strip().toLowerCase(Locale.ROOT);
        switch (s) {
            case "on", "true", "yes", "1":
                return true;
            case "off", "false", "no", "0":
                return false;
            default:
                throw new HaConfigException(name, "must be true or false, was " + describe(v));
        }
    }

    private static List<ClusterSettings.IgnoreSlot> ignoreSlots(Object v) {
        if (v == null) {
            return List.of();
        }
        if (!(v instanceof List<?> list)) {
            throw new HaConfigException("ignore_slots", "must be a list of slot descriptions, was " + describe(v));
        }
        List<ClusterSettings.IgnoreSlot> out = new ArrayList<>();
        for (Object entry : list) {
            Map<String, ?> m = object("ignore_slots", entry);
            for (Map.Entry<String, ?> e : m.entrySet()) {
                if (!List.of("name", "type", "database", "plugin").contains(e.getKey())
                        || !(e.getValue() instanceof String)) {
                    throw new HaConfigException("ignore_slots", "entries take text values for name, type, database"
                            + " and plugin only, was " + describe(entry));
                }
            }
            out.add(new ClusterSettings.IgnoreSlot((String) m.get("name"), (String) m.get("type"),
                    (String) m.get("database"), (String) m.get("plugin")));
        }
        return out;
    }

    private static Map<String, String> parameters(Object v) {
        if (v == null) {
            return Map.of();
        }
        Map<String, ?> m = object("postgresql.parameters", v);
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, ?> e : m.entrySet()) {
            Object value = e.getValue();
            String text;
            if (value instanceof Boolean b) {
                text = b ? "on" : "off";
            } else if (value instanceof Number n) {
                text = new BigDecimal(n.toString()).toPlainString();
            } else if (value instanceof String s) {
                text = s;
            } else {
                throw new HaConfigException("postgresql.parameters." + e.getKey(),
                        "must be a number, text or a boolean, was " + describe(value));
            }
            out.put(e.getKey(), text);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, ?> object(String key, Object v) {
        if (!(v instanceof Map<?, ?> m) || m.keySet().stream().anyMatch(k -> !(k instanceof String))) {
            throw new HaConfigException(key, "must be an object, was " + describe(v));
        }
        return (Map<String, ?>) m;
    }

    private static String describe(Object v) {
        if (v instanceof String s) {
            return "'" + s + "'";
        }
        if (v instanceof Map<?, ?>) {
            return "an object";
        }
        if (v instanceof List<?>) {
            return "a list";
        }
        return String.valueOf(v);
    }
}
