package dev.pgha.rest;

import dev.pgha.HaStatus;
import dev.pgha.postgres.PostgresStatus;

import java.util.Map;

/**
 * {@code GET /metrics}: Patroni's metrics in Prometheus' text format, each with HELP and TYPE lines
 * and the {@code scope} label. The LSN and timeline metrics Patroni types as counters are typed
 * gauges here (they can go back after a failover or a reinitialize, and Prometheus requires a
 * counter's name to end in {@code _total}); names and values are Patroni's.
 */
final class Metrics {

    private Metrics() {
    }

    static String render(HaStatus s, String scope, Map<String, Object> report) {
        StringBuilder out = new StringBuilder(4096);
        String label = "{scope=\"" + scope.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"}";
        PostgresStatus pg = s.postgres();
        Object role = report.get("role");
        boolean primary = "master".equals(role) || "primary".equals(role);
        Map<?, ?> xlog = report.get("xlog") instanceof Map<?, ?> m ? m : Map.of();

        gauge(out, label, "patroni_version", "Patroni semver without periods.", paddedVersion(StatusReport.VERSION));
        gauge(out, label, "patroni_postgres_running", "Value is 1 if Postgres is running, 0 otherwise.",
                bit("running".equals(report.get("state"))));
        gauge(out, label, "patroni_postmaster_start_time", "Epoch seconds since Postgres started.",
                StatusReport.epochSeconds(report.containsKey("postmaster_start_time") && pg != null
                        ? pg.postmasterStartTime() : null));
        gauge(out, label, "patroni_master", "Value is 1 if this node is the leader, 0 otherwise.", bit(primary));
        gauge(out, label, "patroni_primary", "Value is 1 if this node is the leader, 0 otherwise.", bit(primary));
        gauge(out, label, "patroni_xlog_location",
                "Current location of the Postgres transaction log, 0 if this node is not the leader.",
                number(xlog.get("location")));
        gauge(out, label, "patroni_standby_leader", "Value is 1 if this node is the standby_leader, 0 otherwise.",
                bit("standby_leader".equals(role)));
        gauge(out, label, "patroni_replica", "Value is 1 if this node is a replica, 0 otherwise.",
                bit("replica".equals(role)));
        gauge(out, label, "patroni_sync_standby", "Value is 1 if this node is a sync standby replica, 0 otherwise.",
                bit(Boolean.TRUE.equals(report.get("sync_standby"))));
        gauge(out, label, "patroni_quorum_standby", "Value is 1 if this node is a quorum standby replica, 0 otherwise.",
                bit(Boolean.TRUE.equals(report.get("quorum_standby"))));
        gauge(out, label, "patroni_xlog_received_location",
                "Current location of the received Postgres transaction log, 0 if this node is not a replica.",
                number(xlog.get("received_location")));
        gauge(out, label, "patroni_xlog_replayed_location",
                "Current location of the replayed Postgres transaction log, 0 if this node is not a replica.",
                number(xlog.get("replayed_location")));
        gauge(out, label, "patroni_xlog_replayed_timestamp",
                "Current timestamp of the replayed Postgres transaction log, 0 if null.", "0");
        gauge(out, label, "patroni_xlog_paused", "Value is 1 if the Postgres xlog is paused, 0 otherwise.",
                bit(Boolean.TRUE.equals(xlog.get("paused"))));
        gauge(out, label, "patroni_postgres_server_version", "Version of Postgres (if running), 0 otherwise.",
                number(report.get("server_version")));
        gauge(out, label, "patroni_cluster_unlocked", "Value is 1 if the cluster is unlocked, 0 if locked.",
                bit(Boolean.TRUE.equals(report.get("cluster_unlocked"))));
        gauge(out, label, "patroni_failsafe_mode_is_active", "Value is 1 if the cluster is unlocked, 0 if locked.",
                "0");
        gauge(out, label, "patroni_postgres_timeline", "Postgres timeline of this node (if running), 0 otherwise.",
                number(report.get("timeline")));
        gauge(out, label, "patroni_dcs_last_seen",
                "Epoch timestamp when DCS was last contacted successfully by Patroni.",
                number(report.get("dcs_last_seen")));
        gauge(out, label, "patroni_pending_restart", "Value is 1 if the node needs a restart, 0 otherwise.",
                bit(pg != null && pg.pendingRestart()));
        gauge(out, label, "patroni_is_paused", "Value is 1 if auto failover is disabled, 0 otherwise.",
                bit(s.paused()));
        return out.toString();
    }

    private static void gauge(StringBuilder out, String label, String name, String help, String value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        out.append(name).append(label).append(' ').append(value).append('\n');
    }

    private static String bit(boolean b) {
        return b ? "1" : "0";
    }

    private static String number(Object v) {
        return v instanceof Number n ? Long.toString(n.longValue()) : "0";
    }

    /** "2.0.2" is 020002, as Patroni pads each part to two digits. */
    static String paddedVersion(String version) {
        StringBuilder sb = new StringBuilder();
        for (String part : version.split("\\.")) {
            sb.append(part.length() < 2 ? "0" + part : part);
        }
        return sb.toString();
    }
}
