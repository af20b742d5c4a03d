package dev.pgha.rest;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Objects;

/**
 * The answer of {@link RestApi#handle}: what a host's HTTP server sends back.
 *
 * @param status      the HTTP status code
 * @param contentType the {@code Content-Type}, or null for a response without a body
 * @param headers     further headers ({@code WWW-Authenticate}, ...)
 * @param body        the body (empty for none; HEAD and OPTIONS answers have none)
 */
public record RestResponse(int status, String contentType, Map<String, String> headers, byte[] body) {

    /** Copies the values. */
    public RestResponse {
        headers = Map.copyOf(Objects.requireNonNullElse(headers, Map.of()));
        body = body == null ? new byte[0] : body.clone();
    }

    /** A status with no body (Patroni's answer to HEAD and OPTIONS, and of {@code /liveness}). */
    public static RestResponse statusOnly(int status) {
        return new RestResponse(status, null, Map.of(), null);
    }

    /** A plain-text answer ({@code text/html} as Patroni labels them). */
    public static RestResponse text(int status, String message) {
        return new RestResponse(status, "text/html", Map.of(), message.getBytes(StandardCharsets.UTF_8));
    }

    /** A JSON answer. */
    static RestResponse json(int status, String json) {
        return new RestResponse(status, "application/json", Map.of(), json.getBytes(StandardCharsets.UTF_8));
    }

    /** This response with one more header. */
    RestResponse withHeader(String name, String value) {
        java.util.Map<String, String> h = new java.util.LinkedHashMap<>(headers);
        h.put(name, value);
        return new RestResponse(status, contentType, h, body);
    }

    @Override
    public byte[] body() {
        return body.clone();
    }

    /** The body as UTF-8 text. */
    public String bodyText() {
        return new String(body, StandardCharsets.UTF_8);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RestResponse r && status == r.status && Objects.equals(contentType, r.contentType)
                && headers.equals(r.headers) && java.util.Arrays.equals(body, r.body);
    }

    @Override
    public int hashCode() {
        return Objects.hash(status, contentType, headers, java.util.Arrays.hashCode(body));
    }

    @Override
    public String toString() {
        return status + " " + (contentType == null ? "" : contentType + " ") + bodyText();
    }
}
