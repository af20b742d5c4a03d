package dev.pgha.postgres.local;

import dev.pgha.postgres.PostgresParameters;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL parameters of one server: the DCS's {@code postgresql.parameters} merged with
 * the member's own ({@link PostgresParameters#merge}), checked by PostgreSQL itself before they
 * are written (a value it would refuse is left out, with a log line naming it), and what is known
 * about a restart being pending; and the leader's override of {@code synchronous_standby_names},
 * which wins over the configured value. Plain bookkeeping: {@link ConfigFiles} writes what
 * {@link #forFile()} gives, {@link ParameterSync} reloads a running server.
 */
final class Parameters {

    private static final Logger log = LoggerFactory.getLogger(Parameters.class);
    /** The parameter the leader manages in synchronous mode, overriding the configured value. */
    static final String SYNCHRONOUS_STANDBY_NAMES = "synchronous_standby_names";
    private static final Pattern NAMED = Pattern.compile("parameter \"([^\"]+)\"");
    /** The cluster-wide parameters a standby's pg_control may require higher (Patroni's effective_configuration). */
    private static final Map<String, String> CONTROL_DATA = Map.of("max_connections", "max_connections setting",
            "max_prepared_transactions", "max_prepared_xacts setting",
            "max_locks_per_transaction", "max_locks_per_xact setting",
            "max_worker_processes", "max_worker_processes setting", "max_wal_senders", "max_wal_senders setting");

    /** Asks PostgreSQL whether it accepts a set of parameters: null when it does, else its message. */
    interface Check {
        /** No check: everything is accepted. */
        Check NONE = p -> null;

        String refusal(Map<String, String> parameters);
    }

    private final String member;
    private final Map<String, String> local;
    private Map<String, String> dcs = Map.of();
    private boolean dcsGiven;
    private Map<String, String> merged;
    /** {@link #merged} as PostgreSQL accepts it; null until checked. */
    private Map<String, String> checked;
    /** Values raised at the last start of a standby (from pg_control), until the next start. */
    private Map<String, String> raised = Map.of();
    private int version;
    private int writtenVersion = -1;
    private Map<String, String> written = Map.of();
    /** {@code pg_conf_load_time()} of pgha's session when it asked for a reload; null: none outstanding. */
    private String reloadSince;
    private boolean predicted;
    /** The leader's {@code synchronous_standby_names}, winning over {@link #merged}; null: none. */
    private String syncOverride;
    private boolean syncGiven;

    Parameters(String member, Map<String, String> local) {
        this.member = member;
        this.local = Map.copyOf(local);
        this.merged = merge(true);
    }

    /** Takes the DCS's parameters; true when the merged parameters changed. */
    boolean dcs(Map<String, String> value) {
        dcsGiven = true;
        Map<String, String> given = Objects.requireNonNullElse(value, Map.of());
        if (given.equals(dcs)) {
            return false; // the engine hands the parameters in force over on every cycle
        }
        dcs = Map.copyOf(given);
        Map<String, String> m = merge(false);
        if (m.equals(merged)) {
            return false;
        }
        merged = m;
        checked = null;
        version++;
        return true;
    }

    /**
     * Whether a running server's file should be rewritten: the DCS's parameters are known (a new
     * instance adopting a running server leaves its file alone until then) and the file does not
     * hold the current parameters.
     */
    boolean unwritten() {
        return (dcsGiven || syncGiven) && writtenVersion != version;
    }

    /**
     * Overrides {@code synchronous_standby_names} with {@code value}, or with null hands it back
     * to the configured parameters; true when the value the file gets changed (an empty value and
     * none are the same: no standby is synchronous).
     */
    boolean synchronousStandbyNames(String value) {
        syncGiven = true;
        String before = synchronousStandbyNames();
        syncOverride = value;
        if (before.equals(synchronousStandbyNames())) {
            return false;
        }
        version++;
        return true;
    }

    /** The {@code synchronous_standby_names} the file gets: the override, else the configured one ("" for none). */
    String synchronousStandbyNames() {
        String value = syncOverride != null ? syncOverride : current(null).get(SYNCHRONOUS_STANDBY_NAMES);
        return Objects.requireNonNullElse(value, "");
    }

    /**
     * The parameters to write now, checked with {@code check} if not checked yet ({@code check}
     * null: leave them unchecked for now, e.g. before initdb); marks them written.
     */
    Map<String, String> forFile(Check check) {
        Map<String, String> out = new LinkedHashMap<>(current(check));
        out.putAll(raised);
        if (syncOverride != null) {
            out.put(SYNCHRONOUS_STANDBY_NAMES, syncOverride);
        }
        writtenVersion = version;
        written = Map.copyOf(out);
        return out;
    }

    /** The parameters in force from the next start on (checked when {@code check} is given). */
    Map<String, String> current(Check check) {
        if (checked != null) {
            return checked;
        }
        if (check == null) {
            return merged;
        }
        checked = checkWith(check);
        return checked;
    }

    /** What the file holds (after {@link #forFile}). */
    Map<String, String> written() {
        return written;
    }

    /** What the next start runs with: what the file holds, or (before it was written) the current parameters. */
    Map<String, String> forStart() {
        return written.isEmpty() ? current(null) : written;
    }

    /**
     * A start begins: no reload is outstanding any more, and for a standby the parameters
     * pg_control records higher than wanted (its primary's) are raised to those, with a restart
     * pending (PostgreSQL would not run a hot standby with less).
     *
     * @param controlData pg_control's lines for a standby, null for a primary
     */
    void starting(Map<String, String> controlData) {
        reloadSince = null;
        predicted = false;
        Map<String, String> up = new LinkedHashMap<>();
        if (controlData != null) {
            Map<String, String> wanted = current(null);
            CONTROL_DATA.forEach((name, label) -> {
                Long have = number(wanted.get(name));
                Long need = number(controlData.get(label));
                if (have != null && need != null && need > have) {
                    log.warn("{}: starting with {} = {} (pg_control's value from the primary) instead of {}; a restart"
                            + " is pending", member, name, need, have);
                    up.put(name, Long.toString(need));
                }
            });
        }
        raised = Map.copyOf(up);
    }

    /** A reload was asked for in a session whose {@code pg_conf_load_time()} was {@code since}. */
    void reloadRequested(String since, boolean restartPredicted) {
        reloadSince = since;
        predicted = restartPredicted;
    }

    /**
     * Whether a restart is pending, from one observation: what {@code pg_settings} says once the
     * session processed the reload asked for (its {@code confLoadTime} moved on), the prediction
     * made when asking until then; and always after a standby started with raised values.
     */
    boolean pendingRestart(String confLoadTime, boolean pgSettingsSays) {
        if (reloadSince != null) {
            if (reloadSince.equals(confLoadTime)) {
                return predicted || !raised.isEmpty();
            }
            reloadSince = null;
        }
        return pgSettingsSays || !raised.isEmpty();
    }

    /** The merge; what it ignores is logged (the member's own parameters only once, with {@code logLocal}). */
    private Map<String, String> merge(boolean logLocal) {
        PostgresParameters.Effective e = PostgresParameters.merge(dcs, local);
        e.ignored().forEach((k, why) -> {
            boolean fromDcs = k.startsWith("dcs.");
            if (fromDcs || logLocal) {
                log.warn("{}: postgresql.parameters.{} ({}) is not used: {}", member, k.substring(k.indexOf('.') + 1),
                        fromDcs ? "from the DCS" : "this member's", why);
            }
        });
        return Map.copyOf(e.parameters());
    }

    /** Leaves out, one by one, what PostgreSQL names in its refusal (a cluster-wide one goes back to its default). */
    private Map<String, String> checkWith(Check check) {
        Map<String, String> out = new LinkedHashMap<>(merged);
        for (int attempt = 0; attempt <= merged.size(); attempt++) {
            String refusal = check.refusal(out);
            if (refusal == null) {
                return Map.copyOf(out);
            }
            Matcher m = NAMED.matcher(refusal);
            String name = m.find() ? m.group(1).toLowerCase(Locale.ROOT) : null;
            String fallback = name == null ? null : PostgresParameters.CLUSTER_WIDE.get(name);
            if (name == null || !out.containsKey(name) || Objects.equals(out.get(name), fallback)) {
                log.warn("{}: could not check the PostgreSQL parameters, using them as they are: {}", member, refusal);
                return Map.copyOf(out);
            }
            log.error("{}: postgresql.parameters.{} = '{}' is not used: PostgreSQL refuses it: {}{}", member, name,
                    out.get(name), refusal, fallback == null ? "" : "; " + name + " stays " + fallback);
            if (fallback == null) {
                out.remove(name);
            } else {
                out.put(name, fallback);
            }
        }
        return Map.copyOf(out);
    }

    /** The {@code -c name=value} arguments for a set of parameters. */
    static List<String> asOptions(Map<String, String> parameters) {
        return parameters.entrySet().stream().flatMap(e -> List.of("-c", e.getKey() + "=" + e.getValue()).stream())
                .toList();
    }

    private static Long number(String v) {
        try {
            return v == null ? null : Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
