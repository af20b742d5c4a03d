package dev.pgha.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HAProxy launcher against fake members: each a TCP server that greets with its name (for
 * PostgreSQL) and an HTTP server answering the health checks with the code the test sets (for the
 * REST API). HAProxy routes by the checks' answers and follows them when they change.
 */
class HaproxyServerTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private final List<AutoCloseable> open = new ArrayList<>();
    /** What each fake member answers: path -> status, by member. */
    private final Map<String, Map<String, Integer>> answers = new ConcurrentHashMap<>();
    private final List<String> checks = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    @Test
    void routesThePrimaryPortToTheMemberAnswering200ForPrimaryAndFollowsAChange() throws Exception {
        HaproxyServer.Backend a = fakeMember("a", true);
        HaproxyServer.Backend b = fakeMember("b", false);
        HaproxyServer haproxy = HaproxyServer.start(List.of(a, b));
        open.add(0, haproxy);
        assertThat(haproxy.configuration()).contains("mode tcp", "option httpchk OPTIONS /primary",
                "option httpchk OPTIONS /replica?lag=16MB", "http-check expect status 200",
                "default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions",
                "server a 127.0.0.1:" + a.pgPort() + " maxconn 100 check port " + a.restPort());

        // (a server not checked yet counts as up: the set alone does not say every server was checked)
        List<String> everyCheck = List.of("a OPTIONS /primary", "b OPTIONS /primary", "a OPTIONS /replica?lag=16MB",
                "b OPTIONS /replica?lag=16MB");
        TempPostgres.until("HAProxy checked every member on both ports", WAIT, () -> checks.containsAll(everyCheck));
        TempPostgres.until("HAProxy routes the primary port to a and the replica port to b", WAIT,
                () -> haproxy.serversUp("primary").equals(Set.of("a")) && haproxy.serversUp("replicas").equals(Set.of("b")));
        assertThat(greeting(haproxy.primaryPort())).isEqualTo("a");
        assertThat(greeting(haproxy.replicaPort())).isEqualTo("b");

        // the roles swap
        roles("a", false);
        roles("b", true);
        TempPostgres.until("HAProxy routes the primary port to b", WAIT,
                () -> haproxy.serversUp("primary").equals(Set.of("b")) && haproxy.serversUp("replicas").equals(Set.of("a")));
        assertThat(greeting(haproxy.primaryPort())).isEqualTo("b");
        assertThat(greeting(haproxy.replicaPort())).isEqualTo("a");
        assertThat(haproxy.output()).contains("Server primary/a is DOWN");

        Path dir = haproxy.directory();
        haproxy.close();
        assertThat(haproxy.isRunning()).isFalse();
        assertThat(dir).doesNotExist();
        assertThat(haproxy.serversUp("primary")).isEmpty();
        haproxy.close();
    }

    @Test
    void aMissingBinaryIsReportedWithThePackageToInstall(@TempDir Path empty) throws IOException {
        assertThatThrownBy(() -> HaproxyServer.findBinary(null, empty.toString(), List.of()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("haproxy binary was not found").hasMessageContaining("Debian's haproxy package")
                .hasMessageContaining("scripts/deps.sh");
        Path sbin = Files.createDirectories(empty.resolve("sbin"));
        Path binary = Files.createFile(sbin.resolve("haproxy"));
        binary.toFile().setExecutable(true);
        assertThat(HaproxyServer.findBinary(null, empty.toString(), List.of(sbin.toString())))
                .as("found in an sbin directory missing from the PATH").isEqualTo(binary.toString());
        assertThatThrownBy(() -> HaproxyServer.findBinary("/nonexistent/haproxy", null, List.of()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("/nonexistent/haproxy");
    }

    @Test
    void badBackendsAreRejected() {
        assertThatThrownBy(() -> new HaproxyServer.Backend("no spaces", 1, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new HaproxyServer.Backend("a", 0, 2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HaproxyServer.start(List.of())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> HaproxyServer.start(List.of(new HaproxyServer.Backend("a", 1, 2),
                new HaproxyServer.Backend("a", 3, 4)))).isInstanceOf(IllegalArgumentException.class);
    }

    private void roles(String name, boolean primary) {
        answers.put(name, Map.of("/primary", primary ? 200 : 503, "/replica", primary ? 503 : 200));
    }

    /** A fake member: a TCP server writing its name to every connection, and its health-check server. */
    private HaproxyServer.Backend fakeMember(String name, boolean primary) throws IOException {
        roles(name, primary);
        ServerSocket pg = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        open.add(pg);
        Thread greeter = new Thread(() -> {
            while (!pg.isClosed()) {
                try (Socket s = pg.accept()) {
                    s.getOutputStream().write(name.getBytes(StandardCharsets.US_ASCII));
                } catch (IOException e) {
                    // closed, or the client went away
                }
            }
        }, "fake-pg-" + name);
        greeter.setDaemon(true);
        greeter.start();
        HttpServer rest = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        rest.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            String query = exchange.getRequestURI().getRawQuery();
            checks.add(name + " " + exchange.getRequestMethod() + " " + path + (query == null ? "" : "?" + query));
            exchange.sendResponseHeaders(answers.get(name).getOrDefault(path, 404), -1);
            exchange.close();
        });
        rest.start();
        open.add(() -> rest.stop(0));
        return new HaproxyServer.Backend(name, pg.getLocalPort(), rest.getAddress().getPort());
    }

    /** What the server behind {@code port} writes to a new connection. */
    private static String greeting(int port) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(5000);
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.US_ASCII);
        }
    }
}
