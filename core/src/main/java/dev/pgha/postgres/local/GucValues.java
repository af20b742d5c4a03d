package dev.pgha.postgres.local;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Compares a parameter's value in force ({@code pg_settings.setting} in its {@code unit}) with a
 * value as written in a configuration file, the way PostgreSQL reads it (Patroni's
 * {@code compare_values}): booleans by meaning ({@code on} = {@code true} = {@code yes} ...),
 * enums ignoring case, numbers after converting units ({@code 128MB} = {@code 16384} of
 * {@code 8kB}), anything else as text.
 */
final class GucValues {

    private static final Pattern NUMBER = Pattern.compile("\\s*([-+]?\\d+(?:\\.\\d+)?(?:[eE][-+]?\\d+)?)\\s*([a-zA-Z]*)\\s*");
    private static final Pattern UNIT = Pattern.compile("(\\d*)\\s*([a-zA-Z]+)");
    private static final Map<String, Long> MEMORY = Map.of("B", 1L, "kB", 1024L, "MB", 1024L * 1024,
            "GB", 1024L * 1024 * 1024, "TB", 1024L * 1024 * 1024 * 1024);
    private static final Map<String, Double> TIME = Map.of("us", 0.001, "ms", 1.0, "s", 1000.0, "min", 60_000.0,
            "h", 3_600_000.0, "d", 86_400_000.0);

    private GucValues() {
    }

    /** Whether {@code wanted} means the value {@code s} is in force with. */
    static boolean same(Sql.Setting s, String wanted) {
        if (wanted == null || s.setting() == null) {
            return wanted == null && s.setting() == null;
        }
        String type = s.vartype() == null ? "" : s.vartype();
        return switch (type) {
            case "bool" -> {
                Boolean a = bool(s.setting());
                yield a != null && a.equals(bool(wanted));
            }
            case "enum" -> s.setting().strip().equalsIgnoreCase(unquote(wanted));
            case "integer", "real" -> {
                Double a = inBaseUnit(s.setting(), s.unit());
                Double b = inBaseUnit(unquote(wanted), s.unit());
                yield a != null && b != null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a));
            }
            default -> s.setting().equals(unquote(wanted));
        };
    }

    /** {@code value} (with or without a unit) in the base unit of {@code unit} ({@code 8kB}, {@code ms}, ...); null if unreadable. */
    static Double inBaseUnit(String value, String unit) {
        Matcher m = NUMBER.matcher(value);
        if (!m.matches()) {
            return null;
        }
        double n = new BigDecimal(m.group(1)).doubleValue();
        String given = m.group(2);
        if (given.isEmpty() || unit == null || unit.isEmpty()) {
            return given.isEmpty() ? n : null;
        }
        Matcher u = UNIT.matcher(unit);
        if (!u.matches()) {
            return null;
        }
        double multiple = u.group(1).isEmpty() ? 1 : Double.parseDouble(u.group(1));
        String base = u.group(2);
        if (MEMORY.containsKey(base) && MEMORY.containsKey(given)) {
            return n * MEMORY.get(given) / (multiple * MEMORY.get(base));
        }
        if (TIME.containsKey(base) && TIME.containsKey(given)) {
            return n * TIME.get(given) / (multiple * TIME.get(base));
        }
        return null;
    }

    private static Boolean bool(String v) {
        String s = unquote(v).toLowerCase(Locale.ROOT);
        return switch (s) {
            case "on", "true", "yes", "1", "t", "y" -> true;
            case "off", "false", "no", "0", "f", "n" -> false;
            default -> null;
        };
    }

    private static String unquote(String v) {
        String s = v.strip();
        return s.length() >= 2 && s.startsWith("'") && s.endsWith("'") ? s.substring(1, s.length() - 1) : s;
    }
}
