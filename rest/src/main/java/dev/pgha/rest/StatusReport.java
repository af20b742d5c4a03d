package dev.pgha.rest;

import dev.pgha.ClusterSettings;
import dev.pgha.HaConfig;
import dev.pgha.HaStatus;
import dev.pgha.RestartRequest;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;

import java.net.URI;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JSON documents of the status endpoints, from the controller's snapshot: {@code GET /patroni}
 * (which the health endpoints answer with too; Patroni's {@code get_postgresql_status} and
 * {@code _write_status_response}), {@code GET /cluster} ({@code cluster_as_json}) and
 * {@code GET /history}.
 */
final class StatusReport {

    /** The agent version reported as {@code patroni.version}: pgha's own, not Patroni's. */
    static final String VERSION = "0.1.0";

    private static final DateTimeFormatter START_TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSSSSxxx").withZone(ZoneOffset.UTC);

    private StatusReport() {
    }

    /** {@code GET /patroni}: this member's PostgreSQL and HA state. */
    static Map<String, Object> member(HaStatus s, HaConfig config) {
        Map<String, Object> r = new LinkedHashMap<>();
        PostgresStatus pg = s.postgres();
        PostgresState state = s.postgresState();
        boolean queried = pg != null && state != null && pg.acceptingConnections()
                && (state == PostgresState.RUNNING || state == PostgresState.RESTARTING || state == PostgresState.STARTING);
        if (queried) {
            r.put("state", state.patroniName());
            r.put("postmaster_start_time", pg.postmasterStartTime() == null ? null
                    : START_TIME.format(pg.postmasterStartTime()));
            r.put("role", queriedRole(s, pg));
            r.put("server_version", pg.serverVersion());
            Map<String, Object> xlog = new LinkedHashMap<>();
            if (pg.inRecovery()) {
                long replayed = pg.replayLsn() == null ? 0 : pg.replayLsn().value();
                xlog.put("received_location", pg.receiveLsn() == null ? replayed : pg.receiveLsn().value());
                xlog.put("replayed_location", replayed);
                xlog.put("replayed_timestamp", null);
                xlog.put("paused", false);
            } else {
                xlog.put("location", pg.walPosition().value());
            }
            r.put("xlog", xlog);
            r.put("timeline", pg.timeline());
        } else {
            r.put("state", state == null ? "unknown" : state == PostgresState.RUNNING ? "unknown" : state.patroniName());
            r.put("role", roleName(s.role()));
        }
        if (s.dcsLastSeen() == null || s.cluster().isUnlocked()) {
            r.put("cluster_unlocked", true);
        }
        r.put("dcs_last_seen", s.dcsLastSeen() == null ? 0 : s.dcsLastSeen().getEpochSecond());
        Map<String, Object> tags = config.tags().asPatroniMap();
        if (!tags.isEmpty()) {
            r.put("tags", tags);
        }
        if (pg != null && pg.systemIdentifier() != null) {
            r.put("database_system_identifier", pg.systemIdentifier());
        }
        if (pg != null && pg.pendingRestart()) {
            r.put("pending_restart", true);
        }
        if (s.synchronousStandby()) {
            r.put(s.settings().synchronousMode() == ClusterSettings.SynchronousMode.QUORUM ? "quorum_standby"
                    : "sync_standby", true);
        }
        Map<String, Object> patroni = new LinkedHashMap<>();
        patroni.put("version", VERSION);
        patroni.put("scope", config.scope());
        patroni.put("name", config.name());
        r.put("patroni", patroni);
        if (s.scheduledRestart() != null) {
            r.put("scheduled_restart", scheduledRestart(s.scheduledRestart()));
        }
        if (s.paused()) {
            r.put("pause", true);
        }
        return r;
    }

    /** Patroni 3.0's role of a server that answered: "master" or "replica", "standby_leader" in a standby cluster. */
    private static String queriedRole(HaStatus s, PostgresStatus pg) {
        if (!pg.inRecovery()) {
            return "master";
        }
        return s.role() == PostgresRole.STANDBY_LEADER ? "standby_leader" : "replica";
    }

    /** The role of {@code postgresql.role} as Patroni 3.0 names it ("master" for the primary). */
    static String roleName(PostgresRole role) {
        return role == PostgresRole.PRIMARY || role == PostgresRole.PROMOTED ? "master" : role.patroniName();
    }

    private static Map<String, Object> scheduledRestart(RestartRequest q) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("schedule", q.scheduledAt() == null ? null : TimelineHistory.formatTimestamp(q.scheduledAt()));
        if (q.role() != null) {
            r.put("role", roleName(q.role()));
        }
        if (q.belowVersion() > 0) {
            r.put("postgres_version", versionText(q.belowVersion()));
        }
        if (q.pendingOnly()) {
            r.put("restart_pending", true);
        }
        if (q.timeout() != null) {
            r.put("timeout", q.timeout().toSeconds());
        }
        return r;
    }

    /** {@code server_version_num} as Patroni's {@code postgres_version}: 150004 is "15.4", 90601 "9.6.1". */
    static String versionText(int n) {
        return n >= 100_000 ? n / 10_000 + "." + n % 10_000
                : n / 10_000 + "." + n / 100 % 100 + "." + n % 100;
    }

    /** {@code GET /cluster}: every member as {@code patronictl list -f json} reads them, with pause and the scheduled switchover. */
    static Map<String, Object> cluster(ClusterView c) {
        String leader = c.leaderName().orElse(null);
        long clusterLsn = c.status().optime();
        List<Map<String, Object>> members = new ArrayList<>();
        for (Member m : c.members().stream().sorted(Comparator.comparing(Member::name)).toList()) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("name", m.name());
            r.put("role", m.name().equals(leader) ? ("standby_leader".equals(m.role()) ? "standby_leader" : "leader")
                    : "replica");
            r.put("state", m.state() == null ? "" : m.state());
            r.put("api_url", m.apiUrl());
            putHostPort(r, m.connUrl());
            if (m.timeline() != null) {
                r.put("timeline", m.timeline());
            }
            if (m.pendingRestart()) {
                r.put("pending_restart", true);
            }
            Map<String, Object> tags = m.tags().asPatroniMap();
            if (!tags.isEmpty()) {
                r.put("tags", tags);
            }
            if (!m.name().equals(leader)) {
                Long lsn = m.xlogLocation();
                r.put("lag", lsn == null ? "unknown" : Math.max(0, clusterLsn - lsn));
            }
            members.add(r);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("members", members);
        if (c.isPaused()) {
            r.put("pause", true);
        }
        Failover f = c.failover();
        if (f != null && f.scheduledAt() != null) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("at", f.scheduledAt());
            if (f.leader() != null) {
                s.put("from", f.leader());
            }
            if (f.candidate() != null) {
                s.put("to", f.candidate());
            }
            r.put("scheduled_switchover", s);
        }
        return r;
    }

    private static void putHostPort(Map<String, Object> r, String connUrl) {
        if (connUrl == null) {
            return;
        }
        try {
            URI u = URI.create(connUrl);
            if (u.getHost() != null) {
                r.put("host", u.getHost());
                if (u.getPort() > 0) {
                    r.put("port", u.getPort());
                }
            }
        } catch (IllegalArgumentException e) {
            // not a URL: Patroni shows no host either
        }
    }

    /** {@code GET /history}: one line per timeline switch, [timeline, lsn, reason, timestamp(, new_leader)]. */
    static List<List<Object>> history(TimelineHistory h) {
        List<List<Object>> lines = new ArrayList<>();
        for (TimelineHistory.Entry e : h.entries()) {
            List<Object> line = new ArrayList<>(List.of(e.timeline(), e.switchLsn(), e.reason() == null ? "" : e.reason()));
            line.add(e.timestamp());
            if (e.newLeader() != null) {
                line.add(e.newLeader());
            }
            lines.add(line);
        }
        return lines;
    }

    /** Seconds since the epoch with a fraction, as Patroni's metrics print times; 0 for none. */
    static String epochSeconds(Instant t) {
        if (t == null) {
            return "0";
        }
        return java.math.BigDecimal.valueOf(t.getEpochSecond()).add(java.math.BigDecimal.valueOf(t.getNano(), 9))
                .stripTrailingZeros().toPlainString();
    }
}
