package dev.pgha.postgres.local;

import dev.pgha.postgres.SyncStandbyNames;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts changed parameters in force on a running server (Patroni's {@code reload_config}):
 * rewrites {@code postgresql.conf}, logs each parameter whose value in force differs from the new
 * one ("Changed work_mem from 4096kB to 8MB", with "(restart might be required)" for context
 * {@code postmaster}), and reloads. What a reload cannot change waits for a restart; until the
 * session has seen the reload, the pending restart is predicted from those contexts, then
 * {@code pg_settings.pending_restart} tells. Also the leader's {@code synchronous_standby_names}
 * (Patroni's {@code set_synchronous_standby_names}).
 */
final class ParameterSync {

    private static final Logger log = LoggerFactory.getLogger(ParameterSync.class);

    private final Server s;
    private final Runnable onReload;

    ParameterSync(Server s, Runnable onReload) {
        this.s = s;
        this.onReload = onReload;
    }

    /**
     * Reloads a running server: {@code pg_reload_conf()} when it accepts connections, else
     * {@code pg_ctl reload}; then {@code on_reload}. False when there is no postmaster or it failed.
     */
    boolean reload() {
        if (!s.running()) {
            return false;
        }
        boolean ok = s.sql.observe() != null ? s.sql.reloadConf()
                : s.quick("pg_ctl-reload", List.of(s.bin.path("pg_ctl"), "reload", "-D", s.config.dataDir().toString()))
                        .ok();
        if (ok) {
            onReload.run();
        }
        return ok;
    }

    /**
     * If the server accepts connections and its file does not hold the current parameters: rewrite,
     * reload. Nothing while an action runs ({@code idle} false): the next sync after it does it.
     */
    void syncIfNeeded(boolean idle) {
        if (!idle || !s.params.unwritten() || !s.running()) {
            return;
        }
        Sql.Observation o = s.sql.observe();
        if (o != null) { // not accepting connections: the next start writes them
            rewriteAndReload(o, Set.of());
        }
    }

    /**
     * Patroni's {@code set_synchronous_standby_names}: puts the leader's
     * {@code synchronous_standby_names} (null: the configured one again) in force. When the value
     * the file gets changes, a running server's file is rewritten and reloaded at once, and this
     * waits until pgha's session sees the reload (so the next replication state shows the value);
     * a stopped one gets it at its next start, and one busy with an action (with {@code now} false)
     * at the next sync after it. A value that cannot be parsed is refused (PostgreSQL would refuse
     * to start with it).
     */
    void synchronousStandbyNames(String value, ReplicationQuery query, boolean now) {
        if (value != null) {
            try {
                SyncStandbyNames.parse(value);
            } catch (IllegalArgumentException e) {
                log.error("{}: not assigning synchronous_standby_names: {}", s.name, e.getMessage());
                return;
            }
        }
        if (!s.params.synchronousStandbyNames(value)) {
            return;
        }
        String inForce = s.params.synchronousStandbyNames();
        if (inForce.isEmpty()) {
            log.info("{}: Clearing synchronous_standby_names{}", s.name, value == null ? " (the configured value: none)"
                    : "");
        } else {
            log.info("{}: Assigning synchronous_standby_names to {}{}", s.name, inForce,
                    value == null ? " (the configured value)" : "");
        }
        Sql.Observation o = now && s.running() ? s.sql.observe() : null;
        if (o != null && rewriteAndReload(o, Set.of(Parameters.SYNCHRONOUS_STANDBY_NAMES))) {
            query.awaitReload(o.confLoadTime());
        } // else not accepting connections (or busy): the next start, or the next sync, writes it
    }

    /**
     * Rewrites the file of a server that accepts connections, logs the parameters whose value in
     * force changes (but those {@code announced} already), and reloads; true when it reloaded.
     */
    private boolean rewriteAndReload(Sql.Observation o, Set<String> announced) {
        Map<String, String> before = s.params.written();
        try {
            s.files.writePostgresqlConf(s.config.dataDir(), s.files.readRecovery(s.config.dataDir()));
        } catch (IOException e) {
            log.error("{}: could not write postgresql.conf with the new parameters: {}", s.name, e.toString());
            return false;
        }
        Map<String, String> after = s.params.written();
        Set<String> changed = new TreeSet<>(before.keySet());
        changed.addAll(after.keySet());
        changed.removeIf(n -> Objects.equals(before.get(n), after.get(n)));
        if (changed.isEmpty()) {
            return false;
        }
        Map<String, Sql.Setting> inForce = s.sql.settings(changed);
        // The server loaded the file as it was before (unless this instance never wrote it: then it
        // reloads only for a value in force that differs, so adopting a server reloads nothing).
        boolean differs = !before.isEmpty();
        boolean restart = false;
        for (String name : changed) {
            Sql.Setting now = inForce.get(name);
            String next = after.get(name);
            boolean quiet = announced.contains(name);
            if (now == null) {
                differs = true; // a custom parameter: PostgreSQL keeps no typed value to compare with
                if (!quiet) {
                    log.info("{}: Changed {} from {} to {}", s.name, name, before.get(name), next);
                }
            } else if (next == null || !GucValues.same(now, next)) {
                differs = true;
                boolean postmaster = "postmaster".equals(now.context());
                restart |= postmaster;
                if (!quiet) {
                    log.info("{}: Changed {} from {} to {}{}", s.name, name, shown(now),
                            next == null ? "its default" : next, postmaster ? " (restart might be required)" : "");
                }
            }
        }
        if (!differs) {
            return false;
        }
        log.info("{}: Reloading PostgreSQL configuration.", s.name);
        if (!s.sql.reloadConf()) {
            return false;
        }
        s.params.reloadRequested(o.confLoadTime(), restart);
        onReload.run();
        return true;
    }

    private static String shown(Sql.Setting v) {
        if (v.unit() == null || v.unit().isEmpty()) {
            return v.setting();
        }
        return Character.isDigit(v.unit().charAt(0)) ? v.setting() + " x " + v.unit() : v.setting() + v.unit();
    }
}
