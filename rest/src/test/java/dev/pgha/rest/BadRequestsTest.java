package dev.pgha.rest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.params.provider.Arguments.arguments;

/**
 * What the client gets wrong, each with Patroni's status code and message: no body, a body that is
 * not a JSON object, unknown members, schedules in the past or without a time zone, bad restart
 * conditions, settings the cluster rejects, unsupported methods, unknown paths, missing or wrong
 * credentials. {@code $L} stands for the leader's name.
 */
class BadRequestsTest {

    private static final Cluster CLUSTER = Cluster.converged(
            RestSettings.builder().authentication("admin", "s3cret").build());
    private static final String AUTH = "Basic " + Base64.getEncoder()
            .encodeToString("admin:s3cret".getBytes(StandardCharsets.UTF_8));

    static Stream<Arguments> requests() {
        return Stream.of(
                arguments("POST", "/switchover", null, 411, "Length Required"),
                arguments("POST", "/switchover", "not json", 400, "Bad Request"),
                arguments("POST", "/switchover", "[1, 2]", 400, "Bad Request"),
                arguments("POST", "/switchover", "{}", 400, "Bad Request"),
                arguments("POST", "/switchover", "{\"leader\": \"x\"} trailing", 400, "Bad Request"),
                arguments("POST", "/switchover", "{\"candidate\": \"node2\"}", 400,
                        "Switchover could be performed only from a specific leader"),
                arguments("POST", "/switchover", "{\"leader\": \"nobody\"}", 412, "leader name does not match"),
                arguments("POST", "/switchover", "{\"leader\": \"$L\", \"candidate\": \"ghost\"}", 412,
                        "candidate does not exists"),
                arguments("POST", "/switchover", "{\"leader\": \"$L\", \"candidate\": \"$L\"}", 412,
                        "switchover is not possible: member $L is already the leader"),
                arguments("POST", "/failover", "{\"leader\": \"$L\"}", 400,
                        "Failover could be performed only to a specific candidate"),
                arguments("POST", "/switchover", "{\"leader\": \"$L\", \"scheduled_at\": \"2020-01-01T00:00:00+00:00\"}",
                        422, "Cannot schedule switchover in the past"),
                arguments("POST", "/switchover", "{\"leader\": \"$L\", \"scheduled_at\": \"tomorrow\"}", 422,
                        "Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601"),
                arguments("POST", "/switchover", "{\"leader\": \"$L\", \"scheduled_at\": 12}", 422,
                        "Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601"),
                arguments("POST", "/switchover", "{\"leader\": \"$L\", \"scheduled_at\": \"2030-01-01T10:00:00\"}", 400,
                        "Timezone information is mandatory for the scheduled switchover"),
                arguments("POST", "/failover", "{\"candidate\": \"node2\", \"scheduled_at\": \"2030-01-01T10:00Z\"}", 400,
                        "Scheduled failover is possible only from a specific leader"),
                arguments("POST", "/restart", "{\"role\": \"leader\"}", 400,
                        "PostgreSQL role should be either primary or replica"),
                arguments("POST", "/restart", "{\"postgres_version\": \"abc\"}", 400, "Invalid PostgreSQL version: abc"),
                arguments("POST", "/restart", "{\"postgres_version\": \"9.6\"}", 400,
                        "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 9.6"),
                arguments("POST", "/restart", "{\"timeout\": -1}", 400, "Timeout should be a positive number of seconds"),
                arguments("POST", "/restart", "{\"timeout\": \"soon\"}", 400, "Timeout should be a positive number of seconds"),
                arguments("POST", "/restart", "{\"foo\": 1}", 400, "Unknown filter for the scheduled restart: foo"),
                arguments("POST", "/restart", "{\"schedule\": \"2020-01-01T00:00:00+00:00\"}", 422,
                        "Cannot schedule restart in the past"),
                arguments("POST", "/restart", "[]", 400, "Bad Request"),
                arguments("DELETE", "/restart", null, 404, "no restarts are scheduled"),
                arguments("DELETE", "/switchover", null, 404, "no switchover is scheduled"),
                arguments("PATCH", "/config", "{}", 400, "Bad Request"),
                arguments("PATCH", "/config", "{\"loop_wait\": \"often\"}", 400, "loop_wait"),
                arguments("PUT", "/config", "{\"ttl\": 5}", 400, "ttl"),
                arguments("POST", "/nothing", "{}", 501, "Unsupported method ('POST')"),
                arguments("PUT", "/patroni", "{}", 501, "Unsupported method ('PUT')"),
                arguments("TRACE", "/", null, 501, "Unsupported method ('TRACE')"));
    }

    @ParameterizedTest(name = "{0} {1} {2} -> {3}")
    @MethodSource("requests")
    void answersWithPatronisCodeAndMessage(String method, String path, String body, int status, String message) {
        String leader = CLUSTER.leader();
        RestResponse r = CLUSTER.api(CLUSTER.replica()).handle(RestRequest.of(method, path,
                Map.of("Authorization", AUTH), body == null ? null : body.replace("$L", leader)));
        assertThat(r.status()).as(r.bodyText()).isEqualTo(status);
        assertThat(r.bodyText()).contains(message.replace("$L", leader));
        assertThat(r.bodyText()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    @Test
    void anUnknownGetPathIsAHealthCheckThatFails() {
        RestResponse r = CLUSTER.call(CLUSTER.leader(), "GET", "/nothing");
        assertThat(r.status()).isEqualTo(503);
        assertThat(r.contentType()).isEqualTo("application/json");
    }

    @Test
    void unsafeMethodsNeedTheCredentials() {
        RestApi api = CLUSTER.api(CLUSTER.leader());
        RestResponse none = api.handle(RestRequest.of("POST", "/reload"));
        assertThat(none.status()).isEqualTo(401);
        assertThat(none.bodyText()).isEqualTo("no auth header received");
        assertThat(none.headers()).containsEntry("WWW-Authenticate", "Basic realm=\"Patroni\"");
        String wrong = "Basic " + Base64.getEncoder().encodeToString("admin:guess".getBytes(StandardCharsets.UTF_8));
        RestResponse bad = api.handle(RestRequest.of("DELETE", "/switchover", Map.of("Authorization", wrong), null));
        assertThat(bad.status()).isEqualTo(401);
        assertThat(bad.bodyText()).isEqualTo("not authenticated");
        assertThat(api.handle(RestRequest.of("POST", "/reload", Map.of("Authorization", "Bearer x"), null)).status())
                .isEqualTo(401);
        assertThat(api.handle(RestRequest.of("GET", "/patroni")).status()).isEqualTo(200);
        assertThat(api.handle(RestRequest.of("POST", "/reload", Map.of("Authorization", AUTH), null)).status())
                .isEqualTo(202);
    }

    @Test
    void schedulesAreRefusedInThePausedState() {
        Cluster c = Cluster.converged();
        assertThat(c.call(c.leader(), "PATCH", "/config", "{\"pause\": true}").status()).isEqualTo(200);
        c.settle();
        String at = c.sim.now().plusSeconds(600).toString();
        RestResponse s = c.call(c.leader(), "POST", "/switchover",
                "{\"leader\": \"" + c.leader() + "\", \"scheduled_at\": \"" + at + "\"}");
        assertThat(s.status()).isEqualTo(400);
        assertThat(s.bodyText()).isEqualTo("Can't schedule switchover in the paused state");
        RestResponse any = c.call(c.leader(), "POST", "/switchover", "{\"leader\": \"" + c.leader() + "\"}");
        assertThat(any.status()).isEqualTo(400);
        assertThat(any.bodyText()).isEqualTo("Switchover is possible only to a specific candidate in a paused state");
        RestResponse r = c.call(c.replica(), "POST", "/restart", "{\"schedule\": \"" + at + "\"}");
        assertThat(r.status()).isEqualTo(409);
        assertThat(r.bodyText()).isEqualTo("Can't schedule restart in the paused state");
    }

    @Test
    void settingsRejectBadValuesNamingTheSetting() {
        assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(dev.pgha.HaConfigException.class,
                () -> RestSettings.builder().listen("nohost").build()).field()).isEqualTo("restapi.listen");
        assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(dev.pgha.HaConfigException.class,
                () -> RestSettings.builder().listen("0.0.0.0:8008").build()).field()).isEqualTo("restapi.connect_address");
        assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(dev.pgha.HaConfigException.class,
                () -> RestSettings.builder().authentication("u", null).build()).field()).isEqualTo("restapi.authentication");
        assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(dev.pgha.HaConfigException.class,
                () -> RestSettings.builder().verifyClient(RestSettings.VerifyClient.REQUIRED).build()).field())
                .isEqualTo("restapi.verify_client");
        assertThat(org.assertj.core.api.Assertions.catchThrowableOfType(dev.pgha.HaConfigException.class,
                () -> RestSettings.VerifyClient.of("sometimes")).field()).isEqualTo("restapi.verify_client");
        RestSettings s = RestSettings.builder().listen("0.0.0.0:8009").connectAddress("10.0.0.5:8009")
                .authentication("admin", "s3cret").build();
        assertThat(s.apiUrl()).isEqualTo("http://10.0.0.5:8009/patroni");
        assertThat(s.toString()).doesNotContain("s3cret");
        assertThat(RestSettings.defaults().apiUrl()).isEqualTo("http://127.0.0.1:8008/patroni");
    }
}
