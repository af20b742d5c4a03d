package dev.pgha.dcs.values;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The JSON of the cluster-wide keys as Patroni 3.x writes them: {@code config}, {@code failover},
 * {@code sync}, {@code history}, {@code status} and {@code failsafe}. Decoders never throw: a value
 * they cannot use reads as absent (null, or the record's empty constant), with the reason added to
 * the {@link Problems}. {@link PatroniValues} is the public face of this class.
 */
final class ValueCodec {

    private ValueCodec() {
    }

    // ------------------------------------------------------------------ config

    static String encodeConfig(ClusterConfig config) {
        return Json.write(config.data());
    }

    /**
     * The config key. A value that is not a JSON object reads as empty data but keeps its version,
     * so a compare-and-set can still replace it.
     */
    static ClusterConfig decodeConfig(String value, long version, Problems problems) {
        JsonNode n = Json.parse(value);
        if (n == null || !n.isObject()) {
            problems.add("not a JSON object");
            return new ClusterConfig(Map.of(), version);
        }
        Map<String, Object> data = new LinkedHashMap<>(Json.toMap(n));
        data.values().removeIf(v -> v == null);
        return new ClusterConfig(data, version);
    }

    // ---------------------------------------------------------------- failover

    /** {@code {"leader":..,"member":..,"scheduled_at":..}} without absent fields; {@code {}} when empty. */
    static String encodeFailover(Failover f) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (f.leader() != null) {
            out.put("leader", f.leader());
        }
        if (f.candidate() != null) {
            out.put("member", f.candidate());
        }
        if (f.scheduledAt() != null) {
            out.put("scheduled_at", f.scheduledAt());
        }
        return Json.write(out);
    }

    /**
     * The failover key: Patroni's JSON object, or the legacy {@code "leader:candidate"} text. Null
     * for an empty value, {@code {}}, or JSON that is not an object (what Patroni reads as no request).
     */
    static Failover decodeFailover(String value, long version, Problems problems) {
        if (value == null || value.isBlank()) {
            return null;
        }
        JsonNode n = Json.parse(value);
        if (n == null) {
            String[] parts = value.split(":", -1);
            String leader = parts[0].strip();
            String candidate = parts.length > 1 ? parts[1].strip() : null;
            Failover legacy = new Failover(leader, candidate, null, version);
            return legacy.isEmpty() ? null : legacy;
        }
        if (!n.isObject()) {
            problems.add("neither a JSON object nor leader:candidate");
            return null;
        }
        String leader = field(n, "leader", problems);
        String member = field(n, "member", problems);
        String scheduledAt = field(n, "scheduled_at", problems);
        Failover f = new Failover(leader, member, scheduledAt, version);
        return f.isEmpty() ? null : f;
    }

    // -------------------------------------------------------------------- sync

    /** {@code {"leader":..,"sync_standby":"a,b"}} ({@code null} when none), plus {@code quorum} when set. */
    static String encodeSync(SyncState s) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("leader", s.leader());
        out.put("sync_standby", s.syncStandbys().isEmpty() ? null : String.join(",", new TreeSet<>(s.syncStandbys())));
        if (s.quorum() != 0) {
            out.put("quorum", s.quorum());
        }
        return Json.write(out);
    }

    /**
     * The sync key; one naming no leader (which the rules treat as unusable) when it is not a JSON
     * object, so that its version is still known for compare-and-set.
     */
    static SyncState decodeSync(String value, long version, Problems problems) {
        if (value == null) {
            return null;
        }
        JsonNode n = Json.parse(value);
        if (n == null || !n.isObject()) {
            problems.add("not a JSON object");
            return new SyncState(null, Set.of(), 0, version);
        }
        Set<String> standbys = new TreeSet<>();
        JsonNode s = n.get("sync_standby");
        if (s != null && s.isTextual()) {
            Arrays.stream(s.textValue().split(",")).map(String::strip).filter(x -> !x.isEmpty()).forEach(standbys::add);
        } else if (s != null && s.isArray()) {
            s.forEach(x -> {
                if (x.isTextual()) {
                    standbys.add(x.textValue());
                }
            });
        } else if (s != null && !s.isNull()) {
            problems.add("sync_standby is neither a string nor a list");
        }
        Long quorum = Json.number(n, "quorum");
        int q = quorum == null || quorum != quorum.intValue() ? 0 : quorum.intValue();
        return new SyncState(field(n, "leader", problems), standbys, q, version);
    }

    // ----------------------------------------------------------------- history

    /** A list of {@code [timeline, lsn, reason]} or {@code [timeline, lsn, reason, timestamp, leader]}. */
    static String encodeHistory(TimelineHistory h) {
        List<List<Object>> lines = new ArrayList<>();
        for (TimelineHistory.Entry e : h.entries()) {
            List<Object> line = new ArrayList<>(List.of(e.timeline(), e.switchLsn(), e.reason() == null ? "" : e.reason()));
            if (e.timestamp() != null || e.newLeader() != null) {
                line.add(e.timestamp());
                line.add(e.newLeader());
            }
            lines.add(line);
        }
        return Json.write(lines);
    }

    /**
     * The history key. One unusable line makes the whole value unusable (it reads as
     * {@link TimelineHistory#EMPTY}, an unknown timeline) rather than a shorter history that would
     * name an older timeline.
     */
    static TimelineHistory decodeHistory(String value, Problems problems) {
        JsonNode n = Json.parse(value);
        if (n == null || !n.isArray()) {
            problems.add("not a JSON list");
            return TimelineHistory.EMPTY;
        }
        List<TimelineHistory.Entry> entries = new ArrayList<>();
        for (JsonNode line : n) {
            Long timeline = line.isArray() ? Json.number(line.get(0)) : null;
            Long lsn = line.isArray() ? Json.number(line.get(1)) : null;
            if (timeline == null || lsn == null) {
                problems.add("an entry is not [timeline, lsn, ...]: " + line);
                return TimelineHistory.EMPTY;
            }
            entries.add(new TimelineHistory.Entry(timeline, lsn, textAt(line, 2), textAt(line, 3), textAt(line, 4)));
        }
        return new TimelineHistory(entries);
    }

    // ------------------------------------------------------------------ status

    /**
     * {@code {"optime":N}}, plus {@code "slots":{name:N}} when there are slots and
     * {@code "retain_slots":[name,...]} when there are retained names, as Patroni 4 writes it
     * (it leaves out what is empty).
     */
    static String encodeStatus(ClusterStatus s) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("optime", s.optime());
        if (!s.slots().isEmpty()) {
            out.put("slots", new TreeMap<>(s.slots()));
        }
        if (!s.retainSlots().isEmpty()) {
            out.put("retain_slots", s.retainSlots());
        }
        return Json.write(out);
    }

    /**
     * The status key; {@link ClusterStatus#EMPTY} when unusable. Unusable slot entries and
     * retained names are skipped; like Patroni, {@code slots} and {@code retain_slots} may also be
     * JSON text holding the object or list.
     */
    static ClusterStatus decodeStatus(String value, Problems problems) {
        JsonNode n = Json.parse(value);
        if (n == null || !n.isObject()) {
            problems.add("not a JSON object");
            return ClusterStatus.EMPTY;
        }
        Long optime = Json.number(n, "optime");
        if (optime == null && n.has("optime")) {
            problems.add("optime is not an integer");
        }
        Map<String, Long> slots = new TreeMap<>();
        JsonNode s = embedded(n.get("slots"));
        if (s != null && s.isObject()) {
            for (Map.Entry<String, JsonNode> e : s.properties()) {
                Long lsn = Json.number(e.getValue());
                if (lsn == null) {
                    problems.add("slot " + e.getKey() + " has no integer position");
                } else {
                    slots.put(e.getKey(), lsn);
                }
            }
        }
        List<String> retain = new ArrayList<>();
        JsonNode r = embedded(n.get("retain_slots"));
        if (r != null && r.isArray()) {
            for (JsonNode name : r) {
                if (name.isTextual() && !name.textValue().isEmpty()) {
                    retain.add(name.textValue());
                } else {
                    problems.add("retain_slots holds a value that is not a slot name: " + name);
                }
            }
        } else if (r != null && !r.isNull()) {
            problems.add("retain_slots is not a list");
        }
        return new ClusterStatus(optime == null ? 0 : optime, slots, retain);
    }

    /** A value Patroni may have stored as JSON text inside the JSON: parsed; anything else as is. */
    private static JsonNode embedded(JsonNode v) {
        if (v != null && v.isTextual()) {
            JsonNode parsed = Json.parse(v.textValue());
            return parsed != null ? parsed : v;
        }
        return v;
    }

    /** The legacy {@code optime/leader} key: a plain decimal WAL position. */
    static ClusterStatus decodeLegacyOptime(String value, Problems problems) {
        try {
            return new ClusterStatus(Long.parseLong(value == null ? "" : value.strip()), Map.of());
        } catch (NumberFormatException e) {
            problems.add("not a decimal WAL position");
            return ClusterStatus.EMPTY;
        }
    }

    // ---------------------------------------------------------------- failsafe

    /** {@code {name:api_url,...}}, names in order. */
    static String encodeFailsafe(Map<String, String> failsafe) {
        return Json.write(new TreeMap<>(failsafe));
    }

    /** The failsafe key: member name to api_url; entries without a string value are skipped. */
    static Map<String, String> decodeFailsafe(String value, Problems problems) {
        JsonNode n = Json.parse(value);
        if (n == null || !n.isObject()) {
            problems.add("not a JSON object");
            return Map.of();
        }
        Map<String, String> out = new TreeMap<>();
        for (Map.Entry<String, JsonNode> e : n.properties()) {
            if (e.getValue().isTextual()) {
                out.put(e.getKey(), e.getValue().textValue());
            } else {
                problems.add("member " + e.getKey() + " has no api_url string");
            }
        }
        return out;
    }

    // ----------------------------------------------------------------- helpers

    private static String field(JsonNode n, String name, Problems problems) {
        JsonNode v = n.get(name);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            problems.add(name + " is not a string");
            return null;
        }
        return v.textValue();
    }

    private static String textAt(JsonNode line, int index) {
        JsonNode v = line.get(index);
        return v != null && v.isTextual() ? v.textValue() : null;
    }
}
