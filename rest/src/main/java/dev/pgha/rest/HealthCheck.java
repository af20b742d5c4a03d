package dev.pgha.rest;

import dev.pgha.ClusterSettings;
import dev.pgha.HaStatus;
import dev.pgha.cluster.MemberTags;
import dev.pgha.postgres.PostgresRole;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The status code of a health endpoint, decided as Patroni's {@code do_GET} does: from the path
 * (by the same substring tests, so {@code /replica?lag=1MB}, {@code /read-only} and friends behave
 * alike), the {@code lag} and {@code tag_*} query parameters, and the {@code /patroni} document of
 * the same snapshot. A member is synchronous when the {@code sync} key of the current leader names
 * it ({@link HaStatus#synchronousStandby()}): {@code /sync} in {@code synchronous_mode: on},
 * {@code /quorum} in quorum mode.
 */
final class HealthCheck {

    private static final Pattern SIZE = Pattern.compile("\\s*(-?\\d+(?:\\.\\d+)?)\\s*([a-zA-Z]*)\\s*");

    private HealthCheck() {
    }

    /**
     * @param path   the request path
     * @param query  the parsed query (name to values)
     * @param s      the snapshot
     * @param tags   this member's tags
     * @param report the {@code /patroni} document of {@code s}
     */
    static int status(String path, Map<String, List<String>> query, HaStatus s, MemberTags tags,
                      Map<String, Object> report) {
        String p = path.equals("/") ? "/primary" : path;
        Object role = report.get("role");
        boolean running = "running".equals(report.get("state"));
        boolean clusterKnown = s.dcsLastSeen() != null;

        long leaderOptime = s.cluster().status().optime();
        long replayed = replayedLocation(report);
        Long maxLag = query.containsKey("lag") ? bytes(query.get("lag").get(0)) : null;
        boolean lagging = leaderOptime > 0 && maxLag != null && leaderOptime > replayed + maxLag;

        int replica = !tags.noLoadBalance() && !lagging && "replica".equals(role) && running ? 200 : 503;
        int leader;
        int primary;
        int standbyLeader;
        if (!clusterKnown && s.paused()) {
            leader = "master".equals(role) || "primary".equals(role) || "standby_leader".equals(role) ? 200 : 503;
            primary = "master".equals(role) || "primary".equals(role) ? 200 : 503;
            standbyLeader = "standby_leader".equals(role) ? 200 : 503;
        } else if (s.lockHeld()) {
            leader = 200;
            if (s.role() == PostgresRole.STANDBY_LEADER) {
                primary = 503;
                replica = 503;
                standbyLeader = "replica".equals(role) || "standby_leader".equals(role) ? 200 : 503;
            } else {
                primary = 200;
                standbyLeader = 503;
            }
        } else {
            leader = 503;
            primary = 503;
            standbyLeader = 503;
        }

        int code = 503;
        boolean ignoreTags = false;
        if (p.contains("standby_leader") || p.contains("standby-leader")) {
            code = standbyLeader;
            ignoreTags = true;
        } else if (p.contains("leader")) {
            code = leader;
            ignoreTags = true;
        } else if (p.contains("master") || p.contains("primary") || p.contains("read-write")) {
            code = primary;
            ignoreTags = true;
        } else if (p.contains("replica")) {
            code = replica;
        } else if (p.contains("read-only") && !p.contains("sync")) {
            code = primary == 200 || standbyLeader == 200 ? 200 : replica;
        } else if (p.contains("health")) {
            code = running ? 200 : 503;
        } else if (clusterKnown) {
            boolean quorumMode = s.settings().synchronousMode() == ClusterSettings.SynchronousMode.QUORUM;
            boolean sync = s.synchronousStandby() && !quorumMode;
            boolean quorum = s.synchronousStandby() && quorumMode;
            if ((p.equals("/sync") || p.equals("/synchronous")) && sync) {
                code = replica;
            } else if (p.equals("/quorum") && quorum) {
                code = replica;
            } else if ((p.equals("/async") || p.equals("/asynchronous")) && !sync && !quorum) {
                code = replica;
            } else if (p.equals("/read-only-sync") || p.equals("/read-only-synchronous")) {
                code = primary == 200 || standbyLeader == 200 ? 200 : sync ? replica : 503;
            } else if (p.equals("/read-only-quorum")) {
                code = primary == 200 || standbyLeader == 200 ? 200 : quorum ? replica : 503;
            }
        }
        if (!ignoreTags && code == 200 && !tagsMatch(query, tags)) {
            code = 503;
        }
        return code;
    }

    private static long replayedLocation(Map<String, Object> report) {
        if (report.get("xlog") instanceof Map<?, ?> xlog && xlog.get("replayed_location") instanceof Number n) {
            return n.longValue();
        }
        return 0;
    }

    /** Every {@code tag_<name>=<value>} of the query matches this member's tag (booleans as "true"/"false"). */
    private static boolean tagsMatch(Map<String, List<String>> query, MemberTags tags) {
        Map<String, Object> mine = tags.asPatroniMap();
        for (Map.Entry<String, List<String>> e : query.entrySet()) {
            if (!e.getKey().startsWith("tag_")) {
                continue;
            }
            Object value = mine.get(e.getKey().substring(4));
            if (value == null) {
                return false;
            }
            String text = value instanceof String str ? str : String.valueOf(value).toLowerCase(java.util.Locale.ROOT);
            if (!text.equals(e.getValue().get(0))) {
                return false;
            }
        }
        return true;
    }

    /**
     * A size in bytes as Patroni's {@code parse_int(value, 'B')} reads it: a number, optionally
     * with a unit {@code B}, {@code kB}, {@code MB}, {@code GB} or {@code TB} (powers of 1024);
     * null when unreadable (no lag limit then, as in Patroni).
     */
    static Long bytes(String value) {
        Matcher m = SIZE.matcher(value == null ? "" : value);
        if (!m.matches()) {
            return null;
        }
        long factor;
        switch (m.group(2)) {
            case "", "B" -> factor = 1;
            case "kB" -> factor = 1L << 10;
            case "MB" -> factor = 1L << 20;
            case "GB" -> factor = 1L << 30;
            case "TB" -> factor = 1L << 40;
            default -> {
                return null;
            }
        }
        double v = Double.parseDouble(m.group(1)) * factor;
        return v >= Long.MAX_VALUE / 2.0 ? Long.MAX_VALUE / 2 : Math.round(v);
    }
}
