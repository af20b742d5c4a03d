package dev.pgha.rest;

import dev.pgha.HaConfigException;

import java.nio.file.Path;
import java.util.Objects;

/**
 * The REST API's settings, named as Patroni's {@code restapi} section. Immutable and validated on
 * construction: a bad value throws {@link HaConfigException} naming the setting. Build with
 * {@link #builder()}.
 *
 * @param listenHost     the host part of {@code restapi.listen}: the address to bind (default {@code 127.0.0.1})
 * @param listenPort     the port of {@code restapi.listen} (default 8008; 0 picks a free port)
 * @param connectAddress {@code restapi.connect_address}: host:port other members and tools reach this
 *                       API at, published in {@code api_url}; defaults to {@code restapi.listen} unless
 *                       that binds every address ({@code 0.0.0.0}, {@code ::}), where it is required
 * @param username       {@code restapi.authentication.username}: with the password, HTTP basic
 *                       authentication for the unsafe methods (POST, PUT, PATCH, DELETE); null for none
 * @param password       {@code restapi.authentication.password}; never logged nor printed
 * @param certfile       {@code restapi.certfile}: the server certificate (PEM, with its chain); null for HTTP
 * @param keyfile        {@code restapi.keyfile}: its private key (PEM, PKCS#8); defaults to the certfile
 * @param keyfilePassword {@code restapi.keyfile_password}: the password of an encrypted PKCS#8 key, or null
 * @param cafile         {@code restapi.cafile}: the CA certificates that client certificates are checked against
 * @param verifyClient   {@code restapi.verify_client}: {@code none} (default), {@code optional} or
 *                       {@code required}; with {@code optional} and {@code required} the unsafe
 *                       methods need a valid client certificate, with {@code required} every request does
 */
public record RestSettings(String listenHost, int listenPort, String connectAddress, String username, String password,
                           Path certfile, Path keyfile, String keyfilePassword, Path cafile,
                           VerifyClient verifyClient) {

    /** Patroni's {@code restapi.verify_client} values. */
    public enum VerifyClient {
        /** No client certificates are asked for. */
        NONE,
        /** Asked for; the unsafe methods need one. */
        OPTIONAL,
        /** Every connection needs one. */
        REQUIRED;

        /** The value by its Patroni name. */
        public static VerifyClient of(String value) {
            for (VerifyClient v : values()) {
                if (v.name().equalsIgnoreCase(String.valueOf(value).strip())) {
                    return v;
                }
            }
            throw new HaConfigException("restapi.verify_client", "must be none, optional or required, was '" + value + "'");
        }
    }

    /** Validates every field. */
    public RestSettings {
        if (listenHost == null || listenHost.isBlank()) {
            throw new HaConfigException("restapi.listen", "must name a host to bind");
        }
        if (listenPort < 0 || listenPort > 65535) {
            throw new HaConfigException("restapi.listen", "port must be between 0 and 65535, was " + listenPort);
        }
        if (connectAddress != null && connectAddress.isBlank()) {
            connectAddress = null;
        }
        if (connectAddress == null) {
            if (isWildcard(listenHost)) {
                throw new HaConfigException("restapi.connect_address",
                        "must be set when restapi.listen binds every address (" + listenHost + ")");
            }
            connectAddress = hostPort(listenHost, listenPort);
        } else {
            parseHostPort("restapi.connect_address", connectAddress);
        }
        username = blankToNull(username);
        password = password == null || password.isEmpty() ? null : password;
        if ((username == null) != (password == null)) {
            throw new HaConfigException("restapi.authentication",
                    "needs both username and password (only " + (username == null ? "password" : "username") + " is set)");
        }
        if (keyfile != null && certfile == null) {
            throw new HaConfigException("restapi.keyfile", "needs restapi.certfile");
        }
        if (certfile != null && keyfile == null) {
            keyfile = certfile;
        }
        keyfilePassword = keyfilePassword == null || keyfilePassword.isEmpty() ? null : keyfilePassword;
        verifyClient = Objects.requireNonNullElse(verifyClient, VerifyClient.NONE);
        if (verifyClient != VerifyClient.NONE && (certfile == null || cafile == null)) {
            throw new HaConfigException("restapi.verify_client",
                    "needs restapi.certfile and restapi.cafile (client certificates are checked only over HTTPS)");
        }
        if (cafile != null && certfile == null) {
            throw new HaConfigException("restapi.cafile", "needs restapi.certfile");
        }
    }

    /** The defaults: HTTP on {@code 127.0.0.1:8008}, no authentication. */
    public static RestSettings defaults() {
        return builder().build();
    }

    /** A builder with the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Whether the API is served over TLS ({@code restapi.certfile} is set). */
    public boolean tls() {
        return certfile != null;
    }

    /** Whether unsafe methods need HTTP basic authentication ({@code restapi.authentication}). */
    public boolean authentication() {
        return username != null;
    }

    /**
     * The {@code api_url} this member publishes, in Patroni's format:
     * {@code http(s)://<connect_address>/patroni}; give it to {@code HaConfig.Builder.apiUrl}.
     */
    public String apiUrl() {
        return (tls() ? "https" : "http") + "://" + connectAddress + "/patroni";
    }

    /** {@code restapi.listen} as host:port. */
    public String listen() {
        return hostPort(listenHost, listenPort);
    }

    /** Prints no password. */
    @Override
    public String toString() {
        return "RestSettings[listen=" + listen() + ", connect_address=" + connectAddress
                + ", authentication=" + (username == null ? "none" : username + ":***")
                + ", certfile=" + certfile + ", keyfile=" + keyfile
                + ", keyfile_password=" + (keyfilePassword == null ? "none" : "***")
                + ", cafile=" + cafile + ", verify_client=" + verifyClient.name().toLowerCase(java.util.Locale.ROOT) + "]";
    }

    static boolean isWildcard(String host) {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("*") || host.equals("[::]");
    }

    private static String hostPort(String host, int port) {
        return (host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host) + ":" + port;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** {@code host:port}, {@code [v6]:port}: the host (without brackets) and the port. */
    static Object[] parseHostPort(String setting, String value) {
        String v = value.strip();
        int colon = v.lastIndexOf(':');
        if (colon <= 0 || colon == v.length() - 1) {
            throw new HaConfigException(setting, "must be host:port, was '" + value + "'");
        }
        String host = v.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new HaConfigException(setting, "must put an IPv6 address in brackets ([::1]:8008), was '" + value + "'");
        }
        int port;
        try {
            port = Integer.parseInt(v.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new HaConfigException(setting, "must end with a port number, was '" + value + "'");
        }
        if (port < 0 || port > 65535) {
            throw new HaConfigException(setting, "port must be between 0 and 65535, was '" + value + "'");
        }
        return new Object[] {host, port};
    }

    /** Builds {@link RestSettings}. */
    public static final class Builder {
        private String listenHost = "127.0.0.1";
        private int listenPort = 8008;
        private String connectAddress;
        private String username;
        private String password;
        private Path certfile;
        private Path keyfile;
        private String keyfilePassword;
        private Path cafile;
        private VerifyClient verifyClient = VerifyClient.NONE;

        private Builder() {
        }

        /** {@code restapi.listen}: {@code host:port} ({@code [::1]:8008} for IPv6). */
        public Builder listen(String value) {
            Object[] hp = parseHostPort("restapi.listen", Objects.requireNonNull(value, "restapi.listen"));
            this.listenHost = (String) hp[0];
            this.listenPort = (Integer) hp[1];
            return this;
        }

        /** {@code restapi.listen} as its parts. */
        public Builder listen(String host, int port) {
            this.listenHost = host;
            this.listenPort = port;
            return this;
        }

        /** {@code restapi.connect_address}: {@code host:port}. */
        public Builder connectAddress(String value) {
            this.connectAddress = value;
            return this;
        }

        /** {@code restapi.authentication.username} and {@code .password}. */
        public Builder authentication(String user, String pass) {
            this.username = user;
            this.password = pass;
            return this;
        }

        /** {@code restapi.certfile}. */
        public Builder certfile(Path value) {
            this.certfile = value;
            return this;
        }

        /** {@code restapi.keyfile}. */
        public Builder keyfile(Path value) {
            this.keyfile = value;
            return this;
        }

        /** {@code restapi.keyfile_password}. */
        public Builder keyfilePassword(String value) {
            this.keyfilePassword = value;
            return this;
        }

        /** {@code restapi.cafile}. */
        public Builder cafile(Path value) {
            this.cafile = value;
            return this;
        }

        /** {@code restapi.verify_client}. */
        public Builder verifyClient(VerifyClient value) {
            this.verifyClient = value;
            return this;
        }

        /** Validates and builds. */
        public RestSettings build() {
            return new RestSettings(listenHost, listenPort, connectAddress, username, password, certfile, keyfile,
                    keyfilePassword, cafile, verifyClient);
        }
    }
}
