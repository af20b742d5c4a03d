package dev.pgha.rest;

import dev.pgha.ClusterAdmin;
import dev.pgha.HaClock;
import dev.pgha.HaConfig;
import dev.pgha.HaController;
import dev.pgha.HaStatus;
import dev.pgha.postgres.PostgresState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Patroni's REST API for one member, as a plain request → response handler that a host mounts in
 * its own HTTP server ({@link RestServer} is a small one on the JDK's). Endpoints, status codes,
 * messages and JSON follow Patroni 3.0's {@code api.py}:
 *
 * <ul>
 *   <li>health: {@code GET}/{@code HEAD}/{@code OPTIONS} {@code /}, {@code /primary} ({@code /master},
 *       {@code /leader}, {@code /read-write}), {@code /standby-leader}, {@code /replica}
 *       ({@code ?lag=}, {@code ?tag_<name>=}), {@code /read-only}, {@code /synchronous},
 *       {@code /asynchronous}, {@code /health}; {@code GET /liveness}, {@code GET /readiness};
 *       answered from {@link HaController#status()} without waiting for a cycle;</li>
 *   <li>status: {@code GET /patroni}, {@code /cluster}, {@code /history}, {@code /config}, {@code /metrics};</li>
 *   <li>actions (HTTP basic authentication when {@code restapi.authentication} is set, a client
 *       certificate when {@code restapi.verify_client} asks for one): {@code PATCH}/{@code PUT /config},
 *       {@code POST}/{@code DELETE /switchover}, {@code POST /failover}, {@code POST}/{@code DELETE /restart},
 *       {@code POST /reinitialize}, {@code POST /reload}.</li>
 * </ul>
 *
 * <p>{@link #handle} never throws for a client's mistake: a bad body, an unknown member or path, a
 * wrong password get Patroni's status code and message. It is thread-safe. A switchover, failover
 * or restart request waits for its outcome, looking at the snapshot between pauses (by default
 * 50 ms, see {@link Builder#idle(Runnable)}), up to Patroni's time limits on the given clock.
 */
public final class RestApi {

    private static final Logger log = LoggerFactory.getLogger(RestApi.class);

    private final HaController controller;
    private final HaConfig config;
    private final RestSettings settings;
    private final HaClock clock;
    private final Actions actions;
    private final byte[] authKey;
    private final String member;
    /** When this handler was built (clock nanos): liveness before the first cycle. */
    private final long started;

    private RestApi(Builder b) {
        this.controller = Objects.requireNonNull(b.controller, "controller");
        this.config = Objects.requireNonNull(b.config, "config");
        this.settings = Objects.requireNonNull(b.settings, "settings");
        this.clock = Objects.requireNonNull(b.clock, "clock");
        this.member = config.name();
        this.actions = new Actions(member, controller, Objects.requireNonNull(b.admin, "admin"), clock, b.idle);
        this.authKey = settings.authentication() ? Base64.getEncoder()
                .encode((settings.username() + ":" + settings.password()).getBytes(StandardCharsets.UTF_8)) : null;
        this.started = clock.nanoTime();
    }

    /** A builder; controller, config, admin and settings are required. */
    public static Builder builder() {
        return new Builder();
    }

    /** The settings the API was built with. */
    public RestSettings settings() {
        return settings;
    }

    /** The member's name (for log messages). */
    String member() {
        return member;
    }

    /** Answers one request. Never throws for what the client sent. */
    public RestResponse handle(RestRequest request) {
        HaStatus s = controller.status();
        String segment = firstSegment(request.path());
        try {
            return switch (request.method()) {
                case "GET" -> get(segment, request, s);
                case "HEAD", "OPTIONS" -> RestResponse.statusOnly(health(request, s));
                case "POST", "PUT", "PATCH", "DELETE" -> unsafe(request.method() + " " + segment, request);
                default -> unsupported(request.method());
            };
        } catch (IllegalStateException e) {
            // the controller was closed meanwhile
            log.info("{}: {}: {}", member, request, e.getMessage());
            return RestResponse.text(503, e.getMessage());
        } catch (RuntimeException e) {
            log.error("{}: {} failed", member, request, e);
            return error(500);
        }
    }

    private RestResponse get(String segment, RestRequest request, HaStatus s) {
        return switch (segment) {
            case "patroni" -> RestResponse.json(200, Json.write(StatusReport.member(s, config)));
            case "cluster" -> RestResponse.json(200, Json.write(StatusReport.cluster(s.cluster())));
            case "history" -> RestResponse.json(200, Json.write(StatusReport.history(s.cluster().history())));
            case "config" -> s.cluster().config().version() == 0 ? error(502)
                    : RestResponse.json(200, Json.write(s.cluster().config().data()));
            case "metrics" -> new RestResponse(200, "text/plain", Map.of(),
                    Metrics.render(s, config.scope(), StatusReport.member(s, config)).getBytes(StandardCharsets.UTF_8));
            case "liveness" -> RestResponse.statusOnly(liveness(s));
            case "readiness" -> RestResponse.statusOnly(readiness(s));
            default -> RestResponse.json(health(request, s), Json.write(StatusReport.member(s, config)));
        };
    }

    private int health(RestRequest request, HaStatus s) {
        return HealthCheck.status(request.path(), query(request.query()), s, config.tags(),
                StatusReport.member(s, config));
    }

    private RestResponse unsafe(String route, RestRequest request) {
        boolean known = switch (route) {
            case "PATCH config", "PUT config", "POST reload", "POST restart", "DELETE restart", "DELETE switchover",
                    "POST reinitialize", "POST failover", "POST switchover" -> true;
            default -> false;
        };
        if (!known) {
            return unsupported(request.method());
        }
        RestResponse denied = checkAccess(request);
        if (denied != null) {
            return denied;
        }
        boolean bodyOptional = route.equals("POST restart") || route.equals("POST reinitialize");
        Map<String, Object> body = Map.of();
        if (!route.equals("POST reload") && !route.startsWith("DELETE")) {
            Object read = readBody(request, bodyOptional);
            if (read instanceof RestResponse bad) {
                return bad;
            }
            @SuppressWarnings("unchecked")
            Map<String, Object> m = (Map<String, Object>) read;
            body = m;
        }
        return switch (route) {
            case "PATCH config" -> actions.patchConfig(body);
            case "PUT config" -> actions.putConfig(body);
            case "POST reload" -> actions.reload();
            case "POST restart" -> actions.restart(body);
            case "DELETE restart" -> actions.cancelRestart();
            case "DELETE switchover" -> actions.cancelSwitchover();
            case "POST reinitialize" -> actions.reinitialize(body);
            case "POST failover" -> actions.failover(body, "failover");
            default -> actions.failover(body, "switchover");
        };
    }

    /**
     * Patroni's {@code _read_json_content}: 411 without {@code Content-Length}, 400 unless the body
     * is a JSON object (a non-empty one, unless the body is optional). Returns the object or the error.
     */
    private Object readBody(RestRequest request, boolean optional) {
        String length = request.header("Content-Length");
        if (length == null) {
            return optional ? new LinkedHashMap<String, Object>() : error(411);
        }
        byte[] body = request.body();
        if (optional && body.length == 0) {
            return new LinkedHashMap<String, Object>();
        }
        Map<String, Object> m = Json.readObject(body);
        if (m != null && (!m.isEmpty() || optional)) {
            return m;
        }
        log.info("{}: {}: bad request body", member, request);
        return error(400);
    }

    /** Patroni's {@code check_access}: a client certificate when asked for, then basic authentication. */
    private RestResponse checkAccess(RestRequest request) {
        if (settings.tls() && settings.verifyClient() != RestSettings.VerifyClient.NONE && !request.clientCertificate()) {
            return RestResponse.text(403, "client certificate required");
        }
        if (authKey == null) {
            return null;
        }
        String header = request.header("Authorization");
        String reason = null;
        if (header == null) {
            reason = "no auth header received";
        } else if (!header.startsWith("Basic ")
                || !MessageDigest.isEqual(authKey, header.substring(6).getBytes(StandardCharsets.UTF_8))) {
            reason = "not authenticated";
        }
        if (reason == null) {
            return null;
        }
        log.info("{}: {} refused: {}", member, request, reason);
        return RestResponse.text(401, reason).withHeader("WWW-Authenticate", "Basic realm=\"Patroni\"");
    }

    /** Patroni's {@code do_GET_liveness}: the HA loop ran within ttl (2 × ttl on a replica), or the cluster is paused. */
    private int liveness(HaStatus s) {
        if (s.paused()) {
            return 200;
        }
        boolean primary = (s.role() == dev.pgha.postgres.PostgresRole.PRIMARY
                || s.role() == dev.pgha.postgres.PostgresRole.PROMOTED) && s.postgresState() == PostgresState.RUNNING;
        Duration threshold = s.settings().ttl().multipliedBy(primary ? 1 : 2);
        java.time.Instant due = s.lastResult() == null ? null : s.lastResult().nextCycleDue();
        if (due == null) {
            // no cycle yet: alive for a first ttl after the API started
            return clock.nanoTime() - started < threshold.toNanos() ? 200 : 503;
        }
        return clock.wallTime().isBefore(due.plus(threshold)) ? 200 : 503;
    }

    /** Patroni's {@code do_GET_readiness}: the leader, or a running PostgreSQL with the DCS reachable. */
    private static int readiness(HaStatus s) {
        if (s.lockHeld()) {
            return 200;
        }
        if (s.postgresState() == PostgresState.RUNNING) {
            return s.dcsLastSeen() != null ? 200 : 503;
        }
        return 503;
    }

    private static String firstSegment(String path) {
        String p = path;
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        int slash = p.indexOf('/');
        return slash < 0 ? p : p.substring(0, slash);
    }

    /** The query as {@code parse_qs} reads it: names to values, blank values dropped. */
    static Map<String, List<String>> query(String raw) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (String pair : raw.split("[&;]")) {
            int eq = pair.indexOf('=');
            if (eq <= 0 || eq == pair.length() - 1) {
                continue;
            }
            try {
                String name = URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8);
                String value = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                out.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
            } catch (IllegalArgumentException e) {
                // a malformed escape: parse_qs keeps it as it is; ignoring the pair is close enough
            }
        }
        return out;
    }

    private static RestResponse unsupported(String method) {
        return RestResponse.text(501, "Unsupported method ('" + method + "')");
    }

    /** Python's {@code send_error(code)}: the status with its reason phrase. */
    static RestResponse error(int status) {
        String phrase = switch (status) {
            case 400 -> "Bad Request";
            case 409 -> "Conflict";
            case 411 -> "Length Required";
            case 500 -> "Internal Server Error";
            case 502 -> "Bad Gateway";
            case 503 -> "Service Unavailable";
            default -> "Error";
        };
        return RestResponse.text(status, phrase);
    }

    /** Collects the parts of a {@link RestApi}. */
    public static final class Builder {
        private HaController controller;
        private HaConfig config;
        private ClusterAdmin admin;
        private RestSettings settings = RestSettings.defaults();
        private HaClock clock = HaClock.system();
        private Runnable idle = () -> LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));

        private Builder() {
        }

        /** The member's controller: every answer comes from its {@link HaController#status()}. */
        public Builder controller(HaController value) {
            this.controller = value;
            return this;
        }

        /** The member's settings (scope, name, tags). */
        public Builder config(HaConfig value) {
            this.config = value;
            return this;
        }

        /** The admin that writes the {@code failover} and {@code config} keys. */
        public Builder admin(ClusterAdmin value) {
            this.admin = value;
            return this;
        }

        /** The API's settings (authentication, TLS). */
        public Builder settings(RestSettings value) {
            this.settings = value;
            return this;
        }

        /** The clock of schedules and time limits (default: the system's; give the controller's). */
        public Builder clock(HaClock value) {
            this.clock = value;
            return this;
        }

        /**
         * What a request that waits for an outcome does between two looks at the snapshot (default:
         * park 50 ms). A test on a simulated clock passes a step of its simulation.
         */
        public Builder idle(Runnable value) {
            this.idle = Objects.requireNonNull(value, "idle");
            return this;
        }

        /** Builds the handler. */
        public RestApi build() {
            return new RestApi(this);
        }
    }
}
