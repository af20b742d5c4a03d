package dev.pgha.postgres;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Patroni 3's rules for the PostgreSQL parameters in force on a member: the cluster-wide
 * {@code postgresql.parameters} of the DCS {@code config} key merged with the member's own
 * {@code postgresql.parameters} ({@code _build_effective_configuration} and
 * {@code _process_postgresql_parameters} in Patroni's {@code config.py}, {@code CMDLINE_OPTIONS}
 * in {@code postgresql/config.py}).
 *
 * <ul>
 *   <li>The parameters replication depends on ({@link #CLUSTER_WIDE}: {@code wal_level},
 *       {@code max_connections}, {@code max_wal_senders}, {@code wal_keep_size}, ...) are taken
 *       from the DCS only, because a standby needs values at least as high as its primary's.
 *       They always have a value (Patroni's defaults). A DCS value that fails Patroni's check
 *       ({@code max_connections} of at least 25, {@code wal_level} {@code replica} or
 *       {@code logical}, ...) is ignored and the default stays; {@code hot_standby} and
 *       {@code wal_log_hints} are always on. A member's own value for any of them is ignored.</li>
 *   <li>Any other parameter may come from either; the member's own value wins.</li>
 *   <li>What each member sets from its own settings ({@code listen_addresses}, {@code port},
 *       {@code cluster_name}, the socket directory and file locations) and the recovery settings
 *       (written when a member follows another) are never taken from the DCS.</li>
 * </ul>
 *
 * Names are case-insensitive, as in PostgreSQL, and come out in lower case. The values are
 * PostgreSQL's text; whether PostgreSQL accepts them is for the implementation to check.
 */
public final class PostgresParameters {

    /** The parameters only the DCS sets, with Patroni's defaults (in force when the DCS leaves them out). */
    public static final Map<String, String> CLUSTER_WIDE = ordered("wal_level", "replica", "hot_standby", "on",
            "max_connections", "100", "max_wal_senders", "10", "max_prepared_transactions", "0",
            "max_locks_per_transaction", "64", "track_commit_timestamp", "off", "max_replication_slots", "10",
            "max_worker_processes", "8", "wal_log_hints", "on", "wal_keep_size", "128MB");

    /** Set by each member from its own settings; never from {@code postgresql.parameters} of the DCS. */
    public static final Set<String> MEMBER_ONLY = Set.of("listen_addresses", "port", "cluster_name",
            "unix_socket_directories", "data_directory", "config_file", "hba_file", "ident_file");

    /** Patroni's recovery settings: written when a member follows another, never taken from the DCS. */
    public static final Set<String> RECOVERY = Set.of("archive_cleanup_command", "pause_at_recovery_target",
            "primary_conninfo", "primary_slot_name", "promote_trigger_file", "recovery_end_command",
            "recovery_min_apply_delay", "recovery_target", "recovery_target_action", "recovery_target_inclusive",
            "recovery_target_lsn", "recovery_target_name", "recovery_target_time", "recovery_target_timeline",
            "recovery_target_xid", "restore_command", "standby_mode", "trigger_file");

    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_$]*(\\.[a-z_][a-z0-9_$]*)*");
    private static final Pattern SIZE_MB = Pattern.compile("\\s*(\\d+)\\s*(kB|MB|GB|TB)?\\s*");

    /** Patroni's checks of a DCS value for the cluster-wide parameters (absent: never from the DCS). */
    private static final Map<String, Predicate<String>> CHECKS = Map.of(
            "wal_level", v -> Set.of("hot_standby", "replica", "logical").contains(v.strip().toLowerCase(Locale.ROOT)),
            "max_connections", atLeast(25), "max_wal_senders", atLeast(3), "max_prepared_transactions", atLeast(0),
            "max_locks_per_transaction", atLeast(32), "max_replication_slots", atLeast(4),
            "max_worker_processes", atLeast(2), "track_commit_timestamp", v -> bool(v) != null,
            "wal_keep_size", v -> megabytes(v) >= 16);

    private PostgresParameters() {
    }

    /**
     * The merge's outcome.
     *
     * @param parameters the parameters in force, lower-case names, cluster-wide ones first
     * @param ignored    what was left out of the inputs and why, by {@code dcs.<name>} or
     *                   {@code local.<name>}; empty when everything was taken
     */
    public record Effective(Map<String, String> parameters, Map<String, String> ignored) {

        /** Copies both maps. */
        public Effective {
            parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
            ignored = Collections.unmodifiableMap(new TreeMap<>(ignored));
        }
    }

    /**
     * The parameters in force on a member.
     *
     * @param dcs   {@code postgresql.parameters} of the DCS {@code config} key (or of {@code bootstrap.dcs})
     * @param local the member's own {@code postgresql.parameters}
     */
    public static Effective merge(Map<String, String> dcs, Map<String, String> local) {
        Map<String, String> out = new LinkedHashMap<>(CLUSTER_WIDE);
        Map<String, String> ignored = new TreeMap<>();
        Map<String, String> fromDcs = lowerCase(dcs, "dcs.", ignored);
        String segments = fromDcs.remove("wal_keep_segments");
        if (segments != null && !fromDcs.containsKey("wal_keep_size")) {
            // PostgreSQL 13 replaced wal_keep_segments by wal_keep_size; Patroni converts at 16 MB a segment.
            if (integer(segments) != null && integer(segments) >= 1) {
                fromDcs.put("wal_keep_size", integer(segments) * 16 + "MB");
            } else {
                ignored.put("dcs.wal_keep_segments", "'" + segments + "' is not a whole number of at least 1");
            }
        }
        fromDcs.forEach((name, value) -> {
            if (MEMBER_ONLY.contains(name)) {
                ignored.put("dcs." + name, "set by each member from its own settings");
            } else if (RECOVERY.contains(name)) {
                ignored.put("dcs." + name, "a recovery setting, written when a member follows another");
            } else if (!CLUSTER_WIDE.containsKey(name)) {
                out.put(name, value);
            } else if (!CHECKS.containsKey(name)) {
                ignored.put("dcs." + name, "always " + CLUSTER_WIDE.get(name));
            } else if (CHECKS.get(name).test(value)) {
                out.put(name, name.equals("wal_level") && value.strip().equalsIgnoreCase("hot_standby") ? "replica"
                        : value.strip());
            } else {
                ignored.put("dcs." + name, "'" + value + "' is not accepted (" + rule(name) + "); the default "
                        + CLUSTER_WIDE.get(name) + " stays");
            }
        });
        lowerCase(local, "local.", ignored).forEach((name, value) -> {
            if (CLUSTER_WIDE.containsKey(name) || name.equals("wal_keep_segments")) {
                ignored.put("local." + name, "a cluster-wide setting: only the DCS sets it"
                        + " (bootstrap.dcs.postgresql.parameters, or the config key)");
            } else {
                out.put(name, value);
            }
        });
        return new Effective(out, ignored);
    }

    /** Whether {@code name} (any case) is one of {@link #CLUSTER_WIDE}. */
    public static boolean isClusterWide(String name) {
        return CLUSTER_WIDE.containsKey(name.toLowerCase(Locale.ROOT));
    }

    private static Map<String, String> lowerCase(Map<String, String> in, String origin, Map<String, String> ignored) {
        Map<String, String> out = new TreeMap<>();
        Objects.requireNonNullElse(in, Map.<String, String>of()).forEach((k, v) -> {
            String name = k == null ? "" : k.strip().toLowerCase(Locale.ROOT);
            if (!NAME.matcher(name).matches()) {
                ignored.put(origin + name, "not a parameter name");
            } else if (v == null || v.indexOf('\n') >= 0 || v.indexOf('\r') >= 0 || v.indexOf('\0') >= 0) {
                ignored.put(origin + name, "no value on one line");
            } else {
                out.put(name, v);
            }
        });
        return out;
    }

    private static String rule(String name) {
        return switch (name) {
            case "wal_level" -> "replica or logical";
            case "track_commit_timestamp" -> "on or off";
            case "wal_keep_size" -> "at least 16MB";
            case "max_connections" -> "a whole number of at least 25";
            case "max_wal_senders" -> "a whole number of at least 3";
            case "max_locks_per_transaction" -> "a whole number of at least 32";
            case "max_replication_slots" -> "a whole number of at least 4";
            case "max_worker_processes" -> "a whole number of at least 2";
            default -> "a whole number of at least 0";
        };
    }

    private static Predicate<String> atLeast(long min) {
        return v -> integer(v) != null && integer(v) >= min;
    }

    private static Long integer(String v) {
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static long megabytes(String v) {
        Matcher m = SIZE_MB.matcher(v);
        if (!m.matches()) {
            return -1;
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            return -1;
        }
        String unit = m.group(2) == null ? "MB" : m.group(2);
        return switch (unit) {
            case "kB" -> n / 1024;
            case "GB" -> n * 1024;
            case "TB" -> n * 1024 * 1024;
            default -> n;
        };
    }

    /** PostgreSQL's boolean words (and unique prefixes of them, as PostgreSQL accepts), or null. */
    static Boolean bool(String v) {
        String s = v.strip().toLowerCase(Locale.ROOT);
        if (s.isEmpty()) {
            return null;
        }
        if ("true".startsWith(s) || "yes".startsWith(s) || s.equals("on") || s.equals("1")) {
            return true;
        }
        if ("false".startsWith(s) || "no".startsWith(s) || (s.length() >= 2 && "off".startsWith(s)) || s.equals("0")) {
            return false;
        }
        return null;
    }

    private static Map<String, String> ordered(String... kv) {
        Map<String, String> out = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            out.put(kv[i], kv[i + 1]);
        }
        return Collections.unmodifiableMap(out);
    }
}
