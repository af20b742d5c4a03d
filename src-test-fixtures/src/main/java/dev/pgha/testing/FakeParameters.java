package dev.pgha.testing;

import dev.pgha.postgres.PostgresParameters;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL parameters of one {@link FakePostgres}, as a real server has them: the ones
 * wanted (the DCS's merged with the member's own, Patroni's way), the ones in its configuration
 * file, and the ones in force in the running postmaster. A reload puts the file's values in force
 * except for parameters of context {@code postmaster}, which wait for the next start; until then
 * a restart is pending. A value the test marked as refused is left out, as a real server's
 * {@code LocalPostgres} leaves out a value PostgreSQL would refuse.
 */
final class FakeParameters {

    private static final Logger log = LoggerFactory.getLogger(FakeParameters.class);

    /** Parameters of context {@code postmaster}: changed only by a restart. */
    static final Set<String> POSTMASTER = Set.of("wal_level", "hot_standby", "max_connections", "max_wal_senders",
            "max_prepared_transactions", "max_locks_per_transaction", "track_commit_timestamp",
            "max_replication_slots", "max_worker_processes", "wal_log_hints", "shared_buffers",
            "shared_preload_libraries", "archive_mode", "huge_pages", "max_files_per_process", "wal_buffers");

    private final String member;
    private Map<String, String> local = Map.of();
    private Map<String, String> dcs = Map.of();
    private final Set<String> refused = new HashSet<>();
    private Map<String, String> wanted;
    private Map<String, String> inFile;
    private final Map<String, String> inForce = new LinkedHashMap<>();
    private int reloads;

    FakeParameters(String member) {
        this.member = member;
        this.wanted = merge();
        this.inFile = wanted;
    }

    /** The DCS's parameters: the wanted ones are merged again. */
    void dcs(Map<String, String> value) {
        if (!value.equals(dcs)) { // the engine hands the parameters in force over on every cycle
            dcs = Map.copyOf(value);
            wanted = merge();
        }
    }

    void local(Map<String, String> value) {
        local = Map.copyOf(value);
        wanted = merge();
    }

    void refuse(String name) {
        refused.add(name.toLowerCase(Locale.ROOT));
        wanted = merge();
    }

    /** While the server accepts connections: a file that differs from the wanted one is rewritten and reloaded. */
    boolean sync(boolean accepting) {
        if (!accepting || wanted.equals(inFile)) {
            return false;
        }
        inFile = wanted;
        Set<String> names = new HashSet<>(inForce.keySet());
        names.addAll(inFile.keySet());
        for (String name : names) {
            if (!POSTMASTER.contains(name)) {
                String v = inFile.get(name);
                if (v == null) {
                    inForce.remove(name);
                } else {
                    inForce.put(name, v);
                }
            }
        }
        reloads++;
        return true;
    }

    /** A new postmaster: it runs with the wanted values. */
    void started() {
        inFile = wanted;
        inForce.clear();
        inForce.putAll(wanted);
    }

    /** Whether a parameter of context {@code postmaster} in the file differs from the value in force. */
    boolean pendingRestart() {
        for (String p : POSTMASTER) {
            if (!Objects.equals(inFile.get(p), inForce.get(p))) {
                return true;
            }
        }
        return false;
    }

    /** The value in force ({@code SHOW name}), or null. */
    String inForce(String name) {
        return inForce.get(name.toLowerCase(Locale.ROOT));
    }

    Map<String, String> wanted() {
        return wanted;
    }

    int reloads() {
        return reloads;
    }

    private Map<String, String> merge() {
        PostgresParameters.Effective e = PostgresParameters.merge(dcs, local);
        e.ignored().forEach((k, why) -> log.warn("{}: postgresql.parameters ({}) is not used: {}", member, k, why));
        Map<String, String> out = new LinkedHashMap<>(e.parameters());
        for (String name : refused) {
            if (out.remove(name) != null) {
                log.error("{}: postgresql.parameters.{}: invalid value for parameter \"{}\": left out", member, name,
                        name);
            }
        }
        return Map.copyOf(out);
    }
}
