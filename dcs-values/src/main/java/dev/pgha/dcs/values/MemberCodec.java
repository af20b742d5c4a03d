package dev.pgha.dcs.values;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The member key's JSON, as Patroni 3.0.2 writes and reads it:
 * <pre>{@code {"conn_url":"postgres://127.0.0.1:5432/postgres","api_url":"http://127.0.0.1:8008/patroni",
 *  "state":"running","role":"master","version":"3.0.2","xlog_location":151090208,"timeline":13}}</pre>
 *
 * <p>Writing: fields in Patroni's order, absent values left out, the primary's role written as
 * {@code "master"} (what Patroni 3 writes and what its {@code patronictl} compares with; Patroni 4
 * reads both), {@code checkpoint_after_promote: false} while a new leader's checkpoint is pending,
 * tags only when they differ from the defaults, {@code pending_restart: true} after them while
 * PostgreSQL waits for a restart to apply a setting (as Patroni 3.0.2 writes it and its
 * {@code patronictl list} shows it), and the newer fields {@code replication_state},
 * {@code replay_lsn} and {@code receive_lsn} (Patroni 3.0.2 ignores them, later versions read them);
 * then {@code scheduled_restart} ({@code {"schedule": ...}}) while a restart is scheduled and
 * {@code pause: true} in maintenance mode, as Patroni writes them; then {@code watchdog_failed: true}
 * while the member's required fencing guard cannot be activated (Patroni publishes that flag in its
 * REST status; Patroni ignores it in the member key, and an absent flag reads as false); last,
 * pgha's {@code quorum_vote} (the {@code sync} key's version, see {@link Member#quorumVote()}).
 *
 * <p>Reading is lenient: a field of the wrong type reads as absent, {@code "master"} reads as
 * {@code "primary"}, and a value that is not a JSON object reads as a member known only by name
 * (Patroni does the same with undecodable member data). The legacy plain-connection-string form
 * ({@code postgres://...}) is read as the {@code conn_url}.
 */
final class MemberCodec {

    /** The role Patroni 3 writes for a primary. */
    static final String PATRONI3_PRIMARY = "master";

    private MemberCodec() {
    }

    /** The member as Patroni's member JSON. */
    static String encode(Member m) {
        Map<String, Object> out = new LinkedHashMap<>();
        putIfPresent(out, "conn_url", m.connUrl());
        putIfPresent(out, "api_url", m.apiUrl());
        putIfPresent(out, "state", m.state());
        putIfPresent(out, "role", "primary".equals(m.role()) ? PATRONI3_PRIMARY : m.role());
        putIfPresent(out, "version", m.version());
        if (m.checkpointAfterPromotePending()) {
            out.put("checkpoint_after_promote", false);
        }
        Map<String, Object> tags = m.tags().asPatroniMap();
        if (!tags.isEmpty()) {
            out.put("tags", tags);
        }
        if (m.pendingRestart()) {
            out.put("pending_restart", true);
        }
        putIfPresent(out, "xlog_location", m.xlogLocation());
        putIfPresent(out, "replication_state", m.replicationState());
        putIfPresent(out, "replay_lsn", m.replayLsn());
        putIfPresent(out, "receive_lsn", m.receiveLsn());
        putIfPresent(out, "timeline", m.timeline());
        if (m.scheduledRestart() != null) {
            out.put("scheduled_restart", Map.of("schedule", m.scheduledRestart()));
        }
        if (m.pause()) {
            out.put("pause", true);
        }
        if (m.watchdogFailed()) {
            out.put("watchdog_failed", true);
        }
        putIfPresent(out, "quorum_vote", m.quorumVote());
        return Json.write(out);
    }

    /**
     * Decodes a member key's value.
     *
     * @param problems receives a description of what was ignored (the caller logs it)
     */
    static Member decode(String name, String value, Problems problems) {
        if (value != null && value.startsWith("postgres")) {
            return new Member(name, value, null, null, null, null, null, null, null, null, null, MemberTags.DEFAULT,
                    false);
        }
        JsonNode n = Json.parse(value);
        if (n == null || !n.isObject()) {
            problems.add("not a JSON object");
            return Member.named(name);
        }
        String role = Json.text(n, "role");
        if (PATRONI3_PRIMARY.equals(role)) {
            role = "primary";
        }
        JsonNode checkpoint = n.get("checkpoint_after_promote");
        boolean checkpointPending = checkpoint != null && Boolean.FALSE.equals(Json.bool(checkpoint));
        JsonNode watchdog = n.get("watchdog_failed");
        // An unreadable flag counts as set (the safe side, as for nofailover).
        boolean watchdogFailed = watchdog != null && !watchdog.isNull()
                && flag(watchdog, "watchdog_failed", true, problems);
        JsonNode pending = n.get("pending_restart");
        boolean pendingRestart = pending != null && !pending.isNull() && flag(pending, "pending_restart", false, problems);
        JsonNode pauseFlag = n.get("pause");
        boolean pause = pauseFlag != null && !pauseFlag.isNull() && flag(pauseFlag, "pause", false, problems);
        JsonNode scheduled = n.get("scheduled_restart");
        String schedule = null;
        if (scheduled != null && !scheduled.isNull()) {
            if (scheduled.isObject() && scheduled.path("schedule").isTextual()) {
                schedule = scheduled.get("schedule").textValue();
            } else {
                problems.add("scheduled_restart is not an object with a schedule");
            }
        }
        return new Member(name, text(n, "conn_url", problems), text(n, "api_url", problems),
                text(n, "state", problems), role, text(n, "version", problems),
                number(n, "xlog_location", problems), number(n, "receive_lsn", problems),
                number(n, "replay_lsn", problems), text(n, "replication_state", problems),
                number(n, "timeline", problems), tags(n.get("tags"), problems), checkpointPending, watchdogFailed,
                pendingRestart, schedule, pause, number(n, "quorum_vote", problems));
    }

    /** Patroni's tags object as {@link MemberTags}; anything unknown becomes a custom tag. */
    static MemberTags tags(JsonNode n, Problems problems) {
        if (n == null || n.isNull()) {
            return MemberTags.DEFAULT;
        }
        if (!n.isObject()) {
            problems.add("tags is not an object");
            return MemberTags.DEFAULT;
        }
        MemberTags tags = MemberTags.DEFAULT;
        Map<String, String> custom = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : n.properties()) {
            JsonNode v = e.getValue();
            switch (e.getKey()) {
                // An unreadable nofailover counts as set (the safe side; Patroni takes any truthy value).
                case "nofailover" -> tags = tags.withNoFailover(flag(v, "nofailover", true, problems));
                case "clonefrom" -> tags = tags.withCloneFrom(flag(v, "clonefrom", false, problems));
                case "noloadbalance" -> tags = tags.withNoLoadBalance(flag(v, "noloadbalance", false, problems));
                case "nosync" -> tags = tags.withNoSync(flag(v, "nosync", false, problems));
                case "replicatefrom" -> tags = tags.withReplicateFrom(v.isTextual() ? v.textValue() : null);
                case "failover_priority" -> {
                    Integer p = priority(v, "failover_priority", problems);
                    tags = p == null ? tags : tags.withFailoverPriority(p);
                }
                case "sync_priority" -> {
                    Integer p = priority(v, "sync_priority", problems);
                    tags = p == null ? tags : tags.withSyncPriority(p);
                }
                default -> {
                    if (!v.isNull()) {
                        custom.put(e.getKey(), Json.asString(v));
                    }
                }
            }
        }
        return tags.withCustom(custom);
    }

    private static Integer priority(JsonNode v, String field, Problems problems) {
        Long p = Json.number(v);
        if (p == null || p != p.intValue()) {
            problems.add(field + " is not an integer");
            return null;
        }
        return p.intValue();
    }

    private static boolean flag(JsonNode v, String field, boolean whenInvalid, Problems problems) {
        Boolean b = Json.bool(v);
        if (b == null) {
            problems.add(field + " is not a boolean, read as " + whenInvalid);
            return whenInvalid;
        }
        return b;
    }

    private static String text(JsonNode n, String field, Problems problems) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            problems.add(field + " is not a string");
            return null;
        }
        return v.textValue();
    }

    private static Long number(JsonNode n, String field, Problems problems) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        Long value = Json.number(v);
        if (value == null) {
            problems.add(field + " is not an integer");
        }
        return value;
    }

    private static void putIfPresent(Map<String, Object> out, String field, Object value) {
        if (value != null) {
            out.put(field, value);
        }
    }
}
