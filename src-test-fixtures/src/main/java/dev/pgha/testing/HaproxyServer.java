package dev.pgha.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A real HAProxy for tests: Debian's {@code haproxy} binary started in the foreground
 * ({@code haproxy -f <cfg> -db}, never daemonized) as a child process in a temp directory, with a
 * configuration generated the way Patroni's documentation writes it ({@code docs/haproxy.cfg}):
 * {@code mode tcp}, one {@code listen} section per port, each server checked over HTTP on the
 * member's REST API port.
 *
 * <ul>
 *   <li>{@code listen primary} on {@link #primaryPort()}: {@code option httpchk OPTIONS /primary},
 *       {@code http-check expect status 200}: connections go to the member whose REST API answers
 *       200 for {@code /primary}, the leader;
 *   <li>{@code listen replicas} on {@link #replicaPort()}: the same with
 *       {@code OPTIONS /replica?lag=16MB}: connections go to the running replicas at most 16 MB
 *       behind the leader (round robin).
 * </ul>
 *
 * <p>Every server line is {@code server <member> 127.0.0.1:<pg port> maxconn 100 check port <rest port>}
 * under {@code default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions}: a member is
 * taken out after two failed checks (about 2 s) and put back after one good one, and the sessions
 * to a member marked down are closed, so clients reconnect to the new leader rather than linger on
 * the old one. Both ports bind to 127.0.0.1 on free ports. There is no stats page; a read-only
 * stats socket ({@code level user}) in the directory tells {@link #serversUp(String)} which servers
 * HAProxy routes to.
 *
 * <pre>{@code
 * try (HaproxyServer haproxy = HaproxyServer.start(List.of(
 *         new HaproxyServer.Backend("node1", pgPort1, restPort1), ...))) {
 *     DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + haproxy.primaryPort() + "/postgres", ...);
 * }
 * }</pre>
 *
 * <p>The binary is the one named by the system property {@code pgha.haproxy.binary}, else
 * {@code haproxy} on the {@code PATH}, else {@code /usr/sbin/haproxy} or
 * {@code /usr/local/sbin/haproxy} (a non-root {@code PATH} often lacks the sbin directories).
 * HAProxy's output (its warnings about servers going up and down, and one {@code tcplog} line per
 * connection naming the server it went to) goes to {@code haproxy.log} in the directory;
 * {@link #output()} and {@link #logTail(int)} return it for failure messages. {@link #close()}
 * kills the process and deletes the directory; a JVM shutdown hook does the same for servers a
 * test forgot to close.
 */
public final class HaproxyServer implements AutoCloseable {

    /** System property naming the haproxy binary (default: {@code haproxy} on the PATH, or in /usr/sbin). */
    public static final String BINARY_PROPERTY = "pgha.haproxy.binary";

    private static final List<String> SBIN = List.of("/usr/sbin", "/usr/local/sbin");
    private static final Set<HaproxyServer> RUNNING = ConcurrentHashMap.newKeySet();
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STATS_TIMEOUT = Duration.ofSeconds(2);

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(HaproxyServer::close),
                "haproxy-server-cleanup"));
    }

    private final Path dir;
    private final Path config;
    private final Path log;
    private final Path statsSocket;
    private final int primaryPort;
    private final int replicaPort;
    private final String configText;
    private Process process;
    private volatile boolean closed;

    /**
     * One PostgreSQL member behind HAProxy.
     *
     * @param name     the server's name in the configuration (the member's name)
     * @param pgPort   its PostgreSQL port on 127.0.0.1, where connections are forwarded
     * @param restPort its REST API port on 127.0.0.1, where HAProxy sends its health checks
     */
    public record Backend(String name, int pgPort, int restPort) {

        /** Rejects names HAProxy would not take and ports out of range. */
        public Backend {
            Objects.requireNonNull(name, "name");
            if (!name.matches("[A-Za-z0-9_.:-]+")) {
                throw new IllegalArgumentException("not a HAProxy server name: '" + name + "'");
            }
            checkPort(pgPort, "pgPort");
            checkPort(restPort, "restPort");
        }

        private static void checkPort(int port, String what) {
            if (port < 1 || port > 65535) {
                throw new IllegalArgumentException(what + " out of range: " + port);
            }
        }
    }

    private HaproxyServer(Path dir, List<Backend> backends) {
        this.dir = dir;
        this.config = dir.resolve("haproxy.cfg");
        this.log = dir.resolve("haproxy.log");
        this.statsSocket = dir.resolve("stats.sock");
        int[] free = FreePorts.allocate(2);
        this.primaryPort = free[0];
        this.replicaPort = free[1];
        this.configText = config(backends, primaryPort, replicaPort, statsSocket);
    }

    /**
     * Starts HAProxy in front of {@code backends} and waits until it listens on both ports (not
     * until its checks found a leader: poll {@link #serversUp} for that).
     *
     * @throws IllegalStateException when the binary is missing, or HAProxy exits or does not answer
     *                               within 30 s (with its output)
     */
    public static HaproxyServer start(List<Backend> backends) {
        if (backends.isEmpty()) {
            throw new IllegalArgumentException("HAProxy needs at least one backend");
        }
        if (backends.stream().map(Backend::name).distinct().count() != backends.size()) {
            throw new IllegalArgumentException("duplicate server names in " + backends);
        }
        String binary = findBinary();
        HaproxyServer server;
        try {
            // under /tmp, not java.io.tmpdir: the stats socket's path must stay short (about 107 bytes)
            server = new HaproxyServer(Files.createTempDirectory(Path.of("/tmp"), "pgha-haproxy-"), List.copyOf(backends));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp directory for HAProxy", e);
        }
        RUNNING.add(server);
        try {
            server.launch(binary);
            server.awaitListening(READY_TIMEOUT);
            return server;
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        }
    }

    /**
     * The configuration for {@code backends} with the two frontends on {@code primaryPort} and
     * {@code replicaPort} and a read-only stats socket at {@code statsSocket}, as {@link #start}
     * writes it.
     */
    static String config(List<Backend> backends, int primaryPort, int replicaPort, Path statsSocket) {
        StringBuilder c = new StringBuilder();
        c.append("# generated by dev.pgha.testing.HaproxyServer, after Patroni's docs/haproxy.cfg\n");
        c.append("global\n");
        c.append("    maxconn 100\n");
        c.append("    nbthread 1\n");
        c.append("    stats socket ").append(statsSocket).append(" mode 600 level user\n");
        c.append("    log stderr format raw local0 info\n");
        c.append("\n");
        c.append("defaults\n");
        c.append("    log global\n");
        c.append("    mode tcp\n");
        c.append("    option tcplog\n");
        c.append("    retries 2\n");
        c.append("    timeout client 5m\n");
        c.append("    timeout connect 2s\n");
        c.append("    timeout server 5m\n");
        c.append("    timeout check 2s\n");
        listen(c, "primary", primaryPort, "/primary", backends);
        listen(c, "replicas", replicaPort, "/replica?lag=16MB", backends);
        return c.toString();
    }

    private static void listen(StringBuilder c, String name, int port, String check, List<Backend> backends) {
        c.append("\n");
        c.append("listen ").append(name).append('\n');
        c.append("    bind 127.0.0.1:").append(port).append('\n');
        c.append("    option httpchk OPTIONS ").append(check).append('\n');
        c.append("    http-check expect status 200\n");
        c.append("    default-server inter 1s fall 2 rise 1 on-marked-down shutdown-sessions\n");
        for (Backend b : backends) {
            c.append("    server ").append(b.name()).append(" 127.0.0.1:").append(b.pgPort())
                    .append(" maxconn 100 check port ").append(b.restPort()).append('\n');
        }
    }

    private synchronized void launch(String binary) {
        List<String> command = List.of(binary, "-f", config.toString(), "-db");
        try {
            Files.writeString(config, configText, StandardCharsets.UTF_8);
            process = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start HAProxy: " + command, e);
        }
    }

    /**
     * Waits until HAProxy answers on its stats socket, which it does once it runs its event loop,
     * after binding both ports (probing the ports themselves would open connections to the
     * backends).
     */
    private void awaitListening(Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (!stats("show info").contains("Name: HAProxy")) {
            if (!isRunning()) {
                throw new IllegalStateException("HAProxy exited with status " + exitStatus() + ":\n" + output()
                        + "\nconfiguration:\n" + configText);
            }
            if (System.nanoTime() - end > 0) {
                throw new IllegalStateException("HAProxy does not answer on its stats socket within " + timeout
                        + ":\n" + output());
            }
            EtcdServer.pause(20);
        }
    }

    private synchronized String exitStatus() {
        return process == null || process.isAlive() ? "?" : Integer.toString(process.exitValue());
    }

    /** The port on 127.0.0.1 that forwards to the leader ({@code listen primary}). */
    public int primaryPort() {
        return primaryPort;
    }

    /** The port on 127.0.0.1 that forwards to the streaming replicas ({@code listen replicas}). */
    public int replicaPort() {
        return replicaPort;
    }

    /**
     * The servers of {@code listen} ({@code primary} or {@code replicas}) that HAProxy routes new
     * connections to now: those whose status is UP, which includes a server not checked yet
     * (HAProxy starts every server UP, and spreads the first checks over the interval) and one
     * that failed fewer than {@code fall} checks ({@code UP 1/2}). So right after {@link #start}
     * every server is in both sets; wait for the set you expect. Empty when HAProxy cannot be asked.
     */
    public Set<String> serversUp(String listen) {
        Set<String> up = new TreeSet<>();
        List<String> lines = stats("show stat -1 4 -1").lines().toList();
        if (lines.isEmpty() || !lines.get(0).startsWith("# ")) {
            return up;
        }
        List<String> header = List.of(lines.get(0).substring(2).split(","));
        int proxy = header.indexOf("pxname");
        int server = header.indexOf("svname");
        int status = header.indexOf("status");
        if (proxy < 0 || server < 0 || status < 0) {
            return up;
        }
        int needed = Math.max(Math.max(proxy, server), status) + 1;
        for (String line : lines.subList(1, lines.size())) {
            // the fields up to status are names (no commas) and numbers: a plain split is safe
            String[] f = line.split(",", needed + 1);
            if (f.length < needed || !f[proxy].equals(listen)) {
                continue;
            }
            if (f[status].startsWith("UP")) {
                up.add(f[server]);
            }
        }
        return up;
    }

    /**
     * What HAProxy answers on its stats socket to {@code command} (it closes the connection after
     * one answer); empty when it cannot be asked or takes longer than 2 s.
     */
    private String stats(String command) {
        if (!isRunning()) {
            return "";
        }
        long end = System.nanoTime() + STATS_TIMEOUT.toNanos();
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
             Selector selector = Selector.open()) {
            ch.connect(UnixDomainSocketAddress.of(statsSocket));
            ByteBuffer request = ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII));
            while (request.hasRemaining()) {
                ch.write(request);
            }
            ch.configureBlocking(false);
            ch.register(selector, SelectionKey.OP_READ);
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(8192);
            while (true) {
                long left = TimeUnit.NANOSECONDS.toMillis(end - System.nanoTime());
                if (left <= 0) {
                    return "";
                }
                selector.select(left);
                selector.selectedKeys().clear();
                int n;
                while ((n = ch.read(buf)) > 0) {
                    answer.write(buf.array(), 0, buf.position());
                    buf.clear();
                }
                if (n < 0) {
                    return answer.toString(StandardCharsets.US_ASCII);
                }
            }
        } catch (IOException e) {
            return "";
        }
    }

    /** The configuration HAProxy runs with. */
    public String configuration() {
        return configText;
    }

    /** Whether the HAProxy process runs. */
    public synchronized boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** The server's directory (configuration and log). */
    public Path directory() {
        return dir;
    }

    /** Everything HAProxy printed so far (empty after {@link #close()}). */
    public String output() {
        try {
            return Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
        } catch (IOException | UncheckedIOException e) {
            return "(no output: " + e.getMessage() + ")";
        }
    }

    /** The last {@code lines} lines HAProxy printed. */
    public String logTail(int lines) {
        List<String> all = output().lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }

    /** Kills HAProxy (SIGKILL), waits for it to exit, and deletes the directory. Idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (process != null) {
                ScratchFiles.kill(process);
            }
        }
        RUNNING.remove(this);
        ScratchFiles.deleteTree(dir);
    }

    private static String findBinary() {
        return findBinary(System.getProperty(BINARY_PROPERTY), System.getenv("PATH"), SBIN);
    }

    /** The haproxy binary: the configured one, else {@code haproxy} on the search path, else in an sbin directory. */
    static String findBinary(String configured, String searchPath, List<String> sbin) {
        if (configured != null && !configured.isBlank()) {
            if (!Files.isExecutable(Path.of(configured))) {
                throw new IllegalStateException(BINARY_PROPERTY + "=" + configured + " is not an executable file");
            }
            return configured;
        }
        List<String> dirs = new ArrayList<>(List.of(Objects.requireNonNullElse(searchPath, "").split(":")));
        dirs.addAll(sbin);
        for (String d : dirs) {
            if (d.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(d, "haproxy");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new IllegalStateException("the haproxy binary was not found on the PATH nor in " + String.join(", ", sbin)
                + ": install Debian's haproxy package (apt-get install haproxy, or run scripts/deps.sh), or set -D"
                + BINARY_PROPERTY + "=/path/to/haproxy");
    }

}
