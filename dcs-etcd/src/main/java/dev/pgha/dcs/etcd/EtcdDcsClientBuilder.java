package dev.pgha.dcs.etcd;

import io.etcd.jetcd.Client;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;

/**
 * Configures an {@link EtcdDcsClient}. Either {@link #endpoints} (the adapter builds and owns a
 * jetcd client) or {@link #client} (the host's own jetcd client, which the adapter never closes)
 * is required, as are {@link #scope} and {@link #member}. Defaults follow Patroni: namespace
 * {@code /service}, retry timeout 10 s.
 */
public final class EtcdDcsClientBuilder {

    /** Default connect timeout per endpoint. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** Default idle time after which gRPC pings a connection to find a hung etcd member. */
    public static final Duration DEFAULT_KEEPALIVE_TIME = Duration.ofSeconds(5);
    /** Default time gRPC waits for a ping's answer before it drops the connection. */
    public static final Duration DEFAULT_KEEPALIVE_TIMEOUT = Duration.ofSeconds(2);

    private final List<String> endpoints = new ArrayList<>();
    private Client client;
    private String namespace = EtcdDcsClient.DEFAULT_NAMESPACE;
    private String scope;
    private String member;
    private Duration retryTimeout = EtcdDcsClient.DEFAULT_RETRY_TIMEOUT;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration keepaliveTime = DEFAULT_KEEPALIVE_TIME;
    private Duration keepaliveTimeout = DEFAULT_KEEPALIVE_TIMEOUT;
    private Path caFile;
    private Path certFile;
    private Path keyFile;
    private String authority;
    private String user;
    private String password;
    private boolean watchCache = true;

    EtcdDcsClientBuilder() {
    }

    /**
     * The etcd endpoints, as {@code host:port} (Patroni's {@code etcd3.hosts} form) or as URLs
     * ({@code http://host:port}, {@code https://host:port}). Adds to those given before.
     */
    public EtcdDcsClientBuilder endpoints(String... values) {
        return endpoints(Arrays.asList(values));
    }

    /** The etcd endpoints (see {@link #endpoints(String...)}). */
    public EtcdDcsClientBuilder endpoints(Collection<String> values) {
        for (String v : values) {
            if (v == null || v.isBlank()) {
                throw new IllegalArgumentException("etcd endpoint must not be blank");
            }
            endpoints.add(v.strip());
        }
        return this;
    }

    /**
     * A jetcd client owned by the host, instead of endpoints: the adapter uses it and never closes
     * it. Its own settings (TLS, auth, timeouts) apply; the adapter still bounds every call by the
     * retry timeout.
     */
    public EtcdDcsClientBuilder client(Client value) {
        this.client = Objects.requireNonNull(value, "client");
        return this;
    }

    /** Patroni's {@code namespace} (default {@code /service}). */
    public EtcdDcsClientBuilder namespace(String value) {
        this.namespace = Objects.requireNonNull(value, "namespace");
        return this;
    }

    /** Patroni's {@code scope}: the cluster's name (required). */
    public EtcdDcsClientBuilder scope(String value) {
        this.scope = value;
        return this;
    }

    /**
     * The member this client serves (required; Patroni's {@code name}): the client is bound to it,
     * its leader-key calls act for it and it writes only its member key. A controller built with
     * this client must have the same {@code HaConfig.name()}.
     */
    public EtcdDcsClientBuilder member(String value) {
        this.member = value;
        return this;
    }

    /** How long any call may take (Patroni's {@code retry_timeout}, default 10 s). */
    public EtcdDcsClientBuilder retryTimeout(Duration value) {
        this.retryTimeout = requirePositive(value, "retryTimeout");
        return this;
    }

    /** TCP connect timeout per endpoint (default 2 s). */
    public EtcdDcsClientBuilder connectTimeout(Duration value) {
        this.connectTimeout = requirePositive(value, "connectTimeout");
        return this;
    }

    /**
     * gRPC keepalive: ping after {@code time} without traffic, drop the connection when no answer
     * comes within {@code timeout} (defaults 5 s and 2 s), so calls stop going to a hung member.
     * etcd rejects pings more frequent than its {@code --grpc-keepalive-min-time} (5 s by default).
     */
    public EtcdDcsClientBuilder grpcKeepalive(Duration time, Duration timeout) {
        this.keepaliveTime = requirePositive(time, "keepalive time");
        this.keepaliveTimeout = requirePositive(timeout, "keepalive timeout");
        return this;
    }

    /** TLS: the CA certificate (PEM) that signed the etcd servers' certificates; switches to https. */
    public EtcdDcsClientBuilder tlsCaFile(Path pem) {
        this.caFile = Objects.requireNonNull(pem, "pem");
        return this;
    }

    /** TLS client authentication: a certificate chain and its PKCS#8 private key, both PEM. */
    public EtcdDcsClientBuilder tlsClientCertificate(Path certPem, Path keyPem) {
        this.certFile = Objects.requireNonNull(certPem, "certPem");
        this.keyFile = Objects.requireNonNull(keyPem, "keyPem");
        return this;
    }

    /** TLS: the name to verify the servers' certificates against, when it is not the endpoint's host. */
    public EtcdDcsClientBuilder tlsAuthority(String value) {
        this.authority = Objects.requireNonNull(value, "authority");
        return this;
    }

    /** etcd user and password (role-based access control). */
    public EtcdDcsClientBuilder auth(String user, String password) {
        this.user = Objects.requireNonNull(user, "user");
        this.password = Objects.requireNonNull(password, "password");
        return this;
    }

    /**
     * Whether {@code readCluster()} may answer from the watch-fed cache (default {@code true}):
     * then a read costs etcd nothing while the watch is known current, and it may miss another
     * member's write of the last few milliseconds (never this client's own). {@code false} makes
     * every read one linearizable prefix read. The lock is compare-and-set in etcd either way.
     */
    public EtcdDcsClientBuilder watchCache(boolean value) {
        this.watchCache = value;
        return this;
    }

    /**
     * Builds the client. Nothing is sent to etcd until the first call.
     *
     * @throws IllegalStateException    when a required setting is missing or settings conflict
     * @throws IllegalArgumentException when a value is invalid or a TLS file cannot be read
     */
    public EtcdDcsClient build() {
        KeyLayout keys = new KeyLayout(namespace, KeyLayout.requireScope(scope));
        if (member == null || member.isBlank() || member.contains("/")) {
            throw new IllegalStateException("member must be a non-blank name without '/', was " + member);
        }
        if (client != null) {
            if (!endpoints.isEmpty() || tls() || user != null) {
                throw new IllegalStateException("give either a jetcd client or endpoints (with TLS and auth), not both");
            }
            return new EtcdDcsClient(client, false, keys, member, new RetryTimeoutHolder(retryTimeout), watchCache);
        }
        if (endpoints.isEmpty()) {
            throw new IllegalStateException("no etcd endpoints: call endpoints(\"host:port\", ...) or client(jetcdClient)");
        }
        RetryTimeoutHolder holder = new RetryTimeoutHolder(retryTimeout);
        Client built = JetcdClients.build(this, holder);
        return new EtcdDcsClient(built, true, keys, member, holder, watchCache);
    }

    // ------------------------------------------------------ read by JetcdClients

    List<String> endpointUrls() {
        return endpoints.stream().map(e -> e.contains("://") ? e : (tls() ? "https://" : "http://") + e).toList();
    }

    boolean tls() {
        return caFile != null || certFile != null;
    }

    Path caFile() {
        return caFile;
    }

    Path certFile() {
        return certFile;
    }

    Path keyFile() {
        return keyFile;
    }

    String authority() {
        return authority;
    }

    String user() {
        return user;
    }

    String password() {
        return password;
    }

    Duration connectTimeout() {
        return connectTimeout;
    }

    Duration keepaliveTime() {
        return keepaliveTime;
    }

    Duration keepaliveTimeout() {
        return keepaliveTimeout;
    }

    static Duration requirePositive(Duration d, String what) {
        Objects.requireNonNull(d, what);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, was " + d);
        }
        return d;
    }
}
