package dev.pgha.rest;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsExchange;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;
import dev.pgha.HaConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLPeerUnverifiedException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A small HTTP(S) server for a {@link RestApi} on the JDK's {@code com.sun.net.httpserver}: binds
 * {@code restapi.listen}, serves HTTPS when {@code restapi.certfile} is set (asking for client
 * certificates as {@code restapi.verify_client} says), and runs requests on its own pool of a few
 * threads (a switchover request waits for its outcome on one of them).
 *
 * <pre>{@code
 * try (RestServer server = RestServer.start(api)) {
 *     int port = server.port();
 *     ...
 * }
 * }</pre>
 */
public final class RestServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RestServer.class);
    private static final int THREADS = 4;
    private static final int MAX_BODY = 1 << 20;

    private final RestApi api;
    private final HttpServer server;
    private final ExecutorService pool;
    private final String member;

    private RestServer(RestApi api, String member) {
        this.api = Objects.requireNonNull(api, "api");
        this.member = member;
        RestSettings s = api.settings();
        InetSocketAddress address = new InetSocketAddress(s.listenHost(), s.listenPort());
        try {
            if (s.tls()) {
                SSLContext ctx = Tls.context(s);
                HttpsServer https = HttpsServer.create(address, 64);
                https.setHttpsConfigurator(new HttpsConfigurator(ctx) {
                    @Override
                    public void configure(HttpsParameters params) {
                        SSLParameters p = ctx.getDefaultSSLParameters();
                        p.setNeedClientAuth(s.verifyClient() == RestSettings.VerifyClient.REQUIRED);
                        if (s.verifyClient() == RestSettings.VerifyClient.OPTIONAL) {
                            p.setWantClientAuth(true);
                        }
                        params.setSSLParameters(p);
                    }
                });
                this.server = https;
            } else {
                this.server = HttpServer.create(address, 64);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(member + ": cannot bind restapi.listen " + s.listen() + ": " + e.getMessage(), e);
        }
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(THREADS, THREADS, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(256), r -> {
            Thread t = new Thread(r, "pgha-rest-" + member + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(pool);
        server.createContext("/", this::exchange);
    }

    /**
     * Binds {@code restapi.listen} and starts serving {@code api}.
     *
     * @throws UncheckedIOException when the address cannot be bound
     * @throws HaConfigException    when the TLS files cannot be used
     */
    public static RestServer start(RestApi api) {
        String member = api.member();
        RestServer s = new RestServer(api, member);
        s.server.start();
        log.info("{}: REST API listening on {}://{}", member, api.settings().tls() ? "https" : "http",
                s.server.getAddress());
        return s;
    }

    /** The port bound (the one chosen when {@code restapi.listen} gave port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    /** Stops listening; requests in progress get a second to finish. */
    @Override
    public void close() {
        server.stop(1);
        pool.shutdownNow();
        log.info("{}: REST API stopped", member);
    }

    private void exchange(HttpExchange ex) throws IOException {
        try (ex) {
            byte[] body;
            try (InputStream in = ex.getRequestBody()) {
                body = in.readNBytes(MAX_BODY + 1);
            }
            RestResponse r;
            if (body.length > MAX_BODY) {
                r = RestResponse.text(413, "Request Entity Too Large");
            } else {
                String query = ex.getRequestURI().getRawQuery();
                r = api.handle(new RestRequest(ex.getRequestMethod(), ex.getRequestURI().getRawPath(), query,
                        ex.getRequestHeaders(), body, clientCertificate(ex)));
            }
            if (r.contentType() != null) {
                ex.getResponseHeaders().set("Content-Type", r.contentType());
            }
            r.headers().forEach((k, v) -> ex.getResponseHeaders().set(k, v));
            byte[] out = r.body();
            boolean noBody = out.length == 0 || ex.getRequestMethod().equals("HEAD");
            ex.sendResponseHeaders(r.status(), noBody ? -1 : out.length);
            if (!noBody) {
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(out);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("{}: REST request {} {} ended early: {}", member, ex.getRequestMethod(), ex.getRequestURI(), e.toString());
        }
    }

    private static boolean clientCertificate(HttpExchange ex) {
        if (ex instanceof HttpsExchange https) {
            try {
                return https.getSSLSession().getPeerCertificates().length > 0;
            } catch (SSLPeerUnverifiedException e) {
                return false;
            }
        }
        return false;
    }
}
