package dev.pgha.rest;

import dev.pgha.ActionResult;
import dev.pgha.ClusterAdmin;
import dev.pgha.ClusterSettings;
import dev.pgha.ConfigUpdate;
import dev.pgha.HaClock;
import dev.pgha.HaController;
import dev.pgha.HaStatus;
import dev.pgha.RestartRequest;
import dev.pgha.cluster.ClusterView;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * The operator endpoints, as Patroni's {@code do_POST_*}, {@code do_DELETE_*}, {@code do_PATCH_config}
 * and {@code do_PUT_config}: validation with Patroni's status codes and messages, then the
 * controller's or the {@link ClusterAdmin}'s action, and for a switchover, a failover and a
 * restart without schedule, the wait for the outcome, watching the controller's snapshot.
 */
final class Actions {

    private static final Logger log = LoggerFactory.getLogger(Actions.class);

    private final String member;
    private final HaController controller;
    private final ClusterAdmin admin;
    private final HaClock clock;
    private final Runnable idle;

    Actions(String member, HaController controller, ClusterAdmin admin, HaClock clock, Runnable idle) {
        this.member = member;
        this.controller = controller;
        this.admin = admin;
        this.clock = clock;
        this.idle = idle;
    }

    /** {@code PATCH /config}: merge into the {@code config} key. */
    RestResponse patchConfig(Map<String, Object> patch) {
        ConfigUpdate u = admin.patchConfig(patch);
        log.info("{}: PATCH /config: {} {}", member, u.outcome(), u.message());
        return switch (u.outcome()) {
            case APPLIED, UNCHANGED -> RestResponse.json(200, Json.write(u.config()));
            case INVALID -> RestResponse.text(400, u.message());
            case CONFLICT -> RestApi.error(409);
            case ABSENT -> RestApi.error(503);
        };
    }

    /** {@code PUT /config}: replace the {@code config} key. */
    RestResponse putConfig(Map<String, Object> config) {
        ConfigUpdate u = admin.replaceConfig(config);
        log.info("{}: PUT /config: {} {}", member, u.outcome(), u.message());
        return switch (u.outcome()) {
            case APPLIED, UNCHANGED -> RestResponse.json(200, Json.write(config));
            case INVALID -> RestResponse.text(400, u.message());
            case CONFLICT, ABSENT -> RestApi.error(502);
        };
    }

    /** {@code POST /reload}. */
    RestResponse reload() {
        ActionResult r = controller.reload();
        log.info("{}: POST /reload: {}", member, r.message());
        return r.accepted() ? RestResponse.text(202, "reload scheduled") : RestResponse.text(503, r.message());
    }

    /** {@code POST /reinitialize} with the optional {@code force}. */
    RestResponse reinitialize(Map<String, Object> request) {
        boolean force = request.containsKey("force") && Requests.bool(request.get("force"));
        ActionResult r = controller.reinitialize(force);
        log.info("{}: POST /reinitialize (force={}): {}", member, force, r.message());
        return r.accepted() ? RestResponse.text(200, "reinitialize started") : RestResponse.text(503, r.message());
    }

    /** {@code DELETE /restart}. */
    RestResponse cancelRestart() {
        ActionResult r = controller.cancelScheduledRestart();
        return r.accepted() ? RestResponse.text(200, "scheduled restart deleted")
                : RestResponse.text(404, "no restarts are scheduled");
    }

    /** {@code DELETE /switchover}. */
    RestResponse cancelSwitchover() {
        ActionResult r = admin.cancelScheduledSwitchover();
        log.info("{}: DELETE /switchover: {}", member, r.message());
        if (r.accepted()) {
            return RestResponse.text(200, "scheduled switchover deleted");
        }
        return r.message().equals("no switchover is scheduled") ? RestResponse.text(404, r.message()) : RestApi.error(409);
    }

    /** {@code POST /restart}: the conditions, then a restart now (waited for) or a scheduled one. */
    RestResponse restart(Map<String, Object> request) {
        HaStatus s = controller.status();
        if (s.paused() && request.containsKey("schedule")) {
            return RestResponse.text(409, "Can't schedule restart in the paused state");
        }
        PostgresRole role = null;
        int belowVersion = 0;
        Instant at = null;
        Duration timeout = null;
        for (Map.Entry<String, Object> e : request.entrySet()) {
            Object v = e.getValue();
            switch (e.getKey()) {
                case "schedule" -> {
                    try {
                        at = Requests.schedule(v, "restart", clock.wallTime());
                    } catch (Requests.BadSchedule bad) {
                        return RestResponse.text(bad.status, bad.getMessage());
                    }
                }
                case "role" -> {
                    if ("master".equals(v) || "primary".equals(v)) {
                        role = PostgresRole.PRIMARY;
                    } else if ("replica".equals(v)) {
                        role = PostgresRole.REPLICA;
                    } else {
                        return RestResponse.text(400, "PostgreSQL role should be either primary or replica");
                    }
                }
                case "postgres_version" -> {
                    try {
                        belowVersion = RestartRequest.versionNumber(String.valueOf(v));
                    } catch (IllegalArgumentException bad) {
                        return RestResponse.text(400, bad.getMessage());
                    }
                }
                case "timeout" -> {
                    timeout = Requests.seconds(v);
                    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                        return RestResponse.text(400, "Timeout should be a positive number of seconds");
                    }
                }
                case "restart_pending" -> {
                    // its presence is the condition, whatever its value (as in Patroni)
                }
                default -> {
                    return RestResponse.text(400, "Unknown filter for the scheduled restart: " + e.getKey());
                }
            }
        }
        RestartRequest restart = new RestartRequest(role, belowVersion, request.containsKey("restart_pending"), at, timeout);
        log.info("{}: POST /restart: {}", member, restart);
        ActionResult r = controller.restart(restart);
        if (at != null) {
            return r.accepted() ? RestResponse.text(202, "Restart scheduled") : RestResponse.text(409, r.message());
        }
        if (!r.accepted()) {
            return RestResponse.text(503, r.message());
        }
        ClusterSettings settings = s.settings();
        Duration limit = (timeout != null ? timeout : settings.primaryStartTimeout()).plus(settings.primaryStopTimeout());
        long deadline = clock.nanoTime() + limit.toNanos();
        HaStatus now = controller.status();
        while (now.actionInProgress() != null) {
            if (clock.nanoTime() - deadline >= 0) {
                return RestResponse.text(503, "postgres is still starting");
            }
            idle.run();
            now = controller.status();
        }
        return now.postgresState() == PostgresState.RUNNING ? RestResponse.text(200, "restarted successfully")
                : RestResponse.text(503, "restart failed");
    }

    /** {@code POST /switchover} and {@code POST /failover} ({@code action} says which). */
    RestResponse failover(Map<String, Object> request, String action) {
        String leader = text(request.get("leader"));
        String candidate = text(request.get("candidate"));
        if (candidate == null) {
            candidate = text(request.get("member"));
        }
        Object scheduledAt = request.get("scheduled_at");
        if (scheduledAt instanceof String str && str.isEmpty()) {
            scheduledAt = null;
        }
        HaStatus s = controller.status();
        log.info("{}: received {} request with leader={} candidate={} scheduled_at={}", member, action, leader,
                candidate, scheduledAt);
        String title = Character.toUpperCase(action.charAt(0)) + action.substring(1);
        if (action.equals("failover") && candidate == null) {
            return RestResponse.text(400, "Failover could be performed only to a specific candidate");
        }
        if (action.equals("switchover") && leader == null) {
            return RestResponse.text(400, "Switchover could be performed only from a specific leader");
        }
        Instant at = null;
        if (scheduledAt != null) {
            if (leader == null) {
                return RestResponse.text(400, "Scheduled " + action + " is possible only from a specific leader");
            }
            if (s.paused()) {
                return RestResponse.text(400, "Can't schedule " + action + " in the paused state");
            }
            try {
                at = Requests.schedule(scheduledAt, action, clock.wallTime());
            } catch (Requests.BadSchedule bad) {
                return RestResponse.text(bad.status, bad.getMessage());
            }
        }
        if (s.paused() && candidate == null) {
            return RestResponse.text(400, title + " is possible only to a specific candidate in a paused state");
        }
        ClusterView cluster = s.cluster();
        if (at == null) {
            String problem = precheck(cluster, leader, candidate);
            if (problem != null) {
                return RestResponse.text(412, problem);
            }
        }
        Instant writtenAt = clock.wallTime();
        ActionResult r = leader != null ? admin.switchover(leader, candidate, at) : admin.failover(candidate);
        if (!r.accepted()) {
            // a failover naming the leader is written as a switchover: say it in the request's word
            String message = r.message().startsWith("switchover ") ? action + r.message().substring(10) : r.message();
            log.info("{}: {} refused: {}", member, action, message);
            return RestResponse.text(message.contains("in the past") ? 422 : 412, message);
        }
        if (at != null) {
            return RestResponse.text(202, title + " scheduled");
        }
        return outcome(cluster.leaderName().orElse(null), candidate, action, writtenAt, s.settings());
    }

    /** Patroni's {@code is_failover_possible} for the names: the leader and the candidate the request gives. */
    private static String precheck(ClusterView cluster, String leader, String candidate) {
        if (leader != null && !cluster.isLeader(leader)) {
            return "leader name does not match";
        }
        if (candidate != null && cluster.member(candidate).isEmpty()) {
            return "candidate does not exists";
        }
        return null;
    }

    /** Patroni's {@code poll_failover_result}: watches the snapshot for the new leader, up to 2 × max(10 s, loop_wait). */
    private RestResponse outcome(String oldLeader, String candidate, String action, Instant writtenAt,
                                 ClusterSettings settings) {
        Duration wait = settings.loopWait().compareTo(Duration.ofSeconds(10)) > 0 ? settings.loopWait()
                : Duration.ofSeconds(10);
        long deadline = clock.nanoTime() + wait.multipliedBy(2).toNanos();
        String verb = action.equals("switchover") ? "switch" : "fail";
        while (clock.nanoTime() - deadline < 0) {
            idle.run();
            HaStatus s = controller.status();
            if (s.dcsLastSeen() == null || !s.dcsLastSeen().isAfter(writtenAt)) {
                continue; // the view predates the request
            }
            ClusterView c = s.cluster();
            String now = c.leaderName().orElse(null);
            if (now != null && !now.equals(oldLeader)) {
                log.info("{}: {} done: {} leads", member, action, now);
                if (candidate == null || candidate.equals(now)) {
                    return RestResponse.text(200, "Successfully " + verb + "ed over to \"" + now + "\"");
                }
                return RestResponse.text(200, Character.toUpperCase(verb.charAt(0)) + verb.substring(1) + "ed over to \""
                        + now + "\" instead of \"" + candidate + "\"");
            }
            if (c.failover() == null) {
                return RestResponse.text(503, Character.toUpperCase(action.charAt(0)) + action.substring(1) + " failed");
            }
        }
        return RestResponse.text(503, Character.toUpperCase(action.charAt(0)) + action.substring(1) + " status unknown");
    }

    private static String text(Object v) {
        if (v == null) {
            return null;
        }
        String s = String.valueOf(v);
        return s.isEmpty() ? null : s;
    }
}
