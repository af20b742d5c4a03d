package dev.pgha.rest;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One HTTP request as {@link RestApi#handle} sees it, independent of the server that received it.
 *
 * @param method            the HTTP method, upper case ({@code GET}, {@code POST}, ...)
 * @param path              the path without the query ({@code /replica})
 * @param query             the raw query string without {@code ?} ({@code lag=1MB&tag_dc=eu}); empty when none
 * @param headers           the headers; names are looked up ignoring case
 * @param body              the body's bytes (empty when none)
 * @param clientCertificate whether the client presented a certificate the server's TLS layer verified
 */
public record RestRequest(String method, String path, String query, Map<String, List<String>> headers, byte[] body,
                          boolean clientCertificate) {

    /** Normalises the values: upper-case method, {@code /} for an empty path, copied headers. */
    public RestRequest {
        method = Objects.requireNonNull(method, "method").toUpperCase(Locale.ROOT);
        path = path == null || path.isEmpty() ? "/" : path;
        query = query == null ? "" : query;
        TreeMap<String, List<String>> copy = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        if (headers != null) {
            headers.forEach((k, v) -> copy.put(k, List.copyOf(v)));
        }
        headers = java.util.Collections.unmodifiableMap(copy);
        body = body == null ? new byte[0] : body.clone();
    }

    /**
     * A request without headers or body: {@code target} is the path, optionally with {@code ?query}.
     */
    public static RestRequest of(String method, String target) {
        return of(method, target, Map.of(), null);
    }

    /** A request with a UTF-8 body (null for none) and headers; {@code Content-Length} is added for a body. */
    public static RestRequest of(String method, String target, Map<String, String> headers, String body) {
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        String query = q < 0 ? "" : target.substring(q + 1);
        TreeMap<String, List<String>> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        headers.forEach((k, v) -> h.put(k, List.of(v)));
        byte[] bytes = body == null ? null : body.getBytes(StandardCharsets.UTF_8);
        if (bytes != null) {
            h.putIfAbsent("Content-Length", List.of(Integer.toString(bytes.length)));
        }
        return new RestRequest(method, path, query, h, bytes, false);
    }

    /** This request as if the client had presented a verified certificate (or not). */
    public RestRequest withClientCertificate(boolean value) {
        return new RestRequest(method, path, query, headers, body, value);
    }

    /** The first value of a header, or null. */
    public String header(String name) {
        List<String> v = headers.get(name);
        return v == null || v.isEmpty() ? null : v.get(0);
    }

    @Override
    public byte[] body() {
        return body.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof RestRequest r && method.equals(r.method) && path.equals(r.path) && query.equals(r.query)
                && headers.equals(r.headers) && java.util.Arrays.equals(body, r.body)
                && clientCertificate == r.clientCertificate;
    }

    @Override
    public int hashCode() {
        return Objects.hash(method, path, query, headers, java.util.Arrays.hashCode(body), clientCertificate);
    }

    /** Never prints the headers (they may carry credentials) nor the body. */
    @Override
    public String toString() {
        return method + " " + path + (query.isEmpty() ? "" : "?" + query);
    }
}
