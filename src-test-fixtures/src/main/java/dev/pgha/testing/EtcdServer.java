package dev.pgha.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;

/**
 * Real etcd servers for tests: Debian's {@code etcd} binary (package {@code etcd-server}) started
 * as a single node or as a cluster of several members on free loopback ports, each in a temp
 * directory, with short heartbeat and election timeouts so it is ready in well under a second (a
 * cluster in a few). Lease TTLs of 1 s work with these timeouts (etcd's minimum lease TTL is
 * 1.5 election timeouts, rounded up to whole seconds).
 *
 * <p>Members can be stopped, killed, frozen ({@code SIGSTOP}: a hung process whose sockets stay
 * open) and thawed, and started again. {@link #close()} kills every member and deletes the
 * directory; a JVM shutdown hook does the same for servers a test forgot to close.
 *
 * <pre>{@code
 * try (EtcdServer etcd = EtcdServer.start(3)) {
 *     EtcdDcsClient client = EtcdDcsClient.builder().endpoints(etcd.endpoints())...;
 *     etcd.freeze(1);
 * }
 * }</pre>
 *
 * <p>{@link #builder()} sets the number of members, the raft timings and TLS for the client port
 * (with client-certificate authentication). Health is asked over each member's plain-http
 * metrics port, so it works with TLS too.
 *
 * <p>The binary is {@code etcd} on the {@code PATH}, or the one named by the system property
 * {@code pgha.etcd.binary}. Output goes to {@code member<i>.log} in the server's directory;
 * {@link #logTail(int, int)} returns the end of it for failure messages.
 */
public final class EtcdServer implements AutoCloseable {

    /** System property naming the etcd binary (default: {@code etcd} on the PATH). */
    public static final String BINARY_PROPERTY = "pgha.etcd.binary";

    private static final Set<EtcdServer> RUNNING = ConcurrentHashMap.newKeySet();
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> RUNNING.forEach(EtcdServer::close), "etcd-server-cleanup"));
    }

    private final Path dir;
    private final String binary;
    private final Tls tls;
    private final List<EtcdMember> members = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
    private volatile boolean closed;

    private EtcdServer(Builder b) throws IOException {
        this.binary = findBinary();
        this.dir = Files.createTempDirectory("pgha-etcd-");
        this.tls = b.tls;
        int[] free = FreePorts.allocate(3 * b.members);
        String cluster = IntStream.range(0, b.members)
                .mapToObj(i -> "m" + i + "=http://127.0.0.1:" + free[3 * i + 1]).collect(Collectors.joining(","));
        for (int i = 0; i < b.members; i++) {
            members.add(new EtcdMember(i, free[3 * i], free[3 * i + 1], free[3 * i + 2], dir, binary, cluster,
                    "pgha-" + dir.getFileName(), b, tls));
        }
    }

    /** A builder: one member, fast raft timings, plain http. */
    public static Builder builder() {
        return new Builder();
    }

    /** Starts a single-node etcd and waits until it is healthy. */
    public static EtcdServer start() {
        return start(1);
    }

    /** Starts an etcd cluster of {@code members} members and waits until all are healthy. */
    public static EtcdServer start(int members) {
        return builder().members(members).start();
    }

    /**
     * Starts an etcd cluster with the given raft timings (etcd's defaults are 100 ms and 1000 ms)
     * and waits until all members are healthy.
     */
    public static EtcdServer start(int members, int heartbeatMillis, int electionMillis) {
        return builder().members(members).raftTimings(heartbeatMillis, electionMillis).start();
    }

    private static EtcdServer start(Builder b) {
        EtcdServer server;
        try {
            server = new EtcdServer(b);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp directory for etcd", e);
        }
        RUNNING.add(server);
        try {
            for (EtcdMember m : server.members) {
                m.start();
            }
            server.awaitHealthy(READY_TIMEOUT);
            return server;
        } catch (RuntimeException | Error e) {
            server.close();
            throw e;
        }
    }

    /** The client URLs of all members ({@code http://127.0.0.1:port}, https with TLS), running or not. */
    public List<String> endpoints() {
        return members.stream().map(EtcdMember::clientUrl).toList();
    }

    /** The client URL of one member. */
    public String endpoint(int member) {
        return member(member).clientUrl();
    }

    /** Patroni's {@code etcd3.hosts} form of the endpoints: {@code 127.0.0.1:port,...}. */
    public String hosts() {
        return members.stream().map(m -> "127.0.0.1:" + m.clientPort()).collect(Collectors.joining(","));
    }

    /** How many members the server has. */
    public int size() {
        return members.size();
    }

    /** Stops a member with SIGTERM and waits for it to exit. */
    public void stop(int member) {
        member(member).stop(false);
    }

    /** Kills a member with SIGKILL and waits for it to exit. */
    public void kill(int member) {
        member(member).stop(true);
    }

    /** Freezes a member with SIGSTOP: its sockets stay open but it answers nothing. */
    public void freeze(int member) {
        member(member).signal("STOP");
    }

    /** Thaws a frozen member with SIGCONT. */
    public void thaw(int member) {
        member(member).signal("CONT");
    }

    /** Starts a stopped or killed member again on its data directory and ports. */
    public void restart(int member) {
        EtcdMember m = member(member);
        if (m.isAlive()) {
            throw new IllegalStateException("etcd member " + member + " is still running");
        }
        m.start();
    }

    /** Whether the member's process runs (frozen counts as running). */
    public boolean isRunning(int member) {
        return member(member).isAlive();
    }

    /**
     * Whether the member answers {@code /health} with {@code true} (it is up and sees a raft
     * leader); asked on its plain-http metrics port, so this works with TLS too.
     */
    public boolean isHealthy(int member) {
        EtcdMember m = member(member);
        if (!m.isAlive()) {
            return false;
        }
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create(m.metricsUrl() + "/health"))
                    .timeout(Duration.ofMillis(500)).GET().build();
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200 && r.body().replace(" ", "").contains("\"health\":\"true\"");
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * Waits until every running, unfrozen member is healthy.
     *
     * @throws IllegalStateException with the members' log tails when that does not happen in time
     */
    public void awaitHealthy(Duration timeout) {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            List<EtcdMember> waiting = members.stream().filter(m -> m.isAlive() && !m.isFrozen())
                    .filter(m -> !isHealthy(m.index())).toList();
            if (waiting.isEmpty()) {
                return;
            }
            for (EtcdMember m : waiting) {
                if (!m.isAlive()) {
                    throw new IllegalStateException("etcd member " + m.index() + " exited:\n" + logTail(m.index(), 30));
                }
            }
            if (System.nanoTime() - end > 0) {
                String logs = waiting.stream().map(m -> "member " + m.index() + ":\n" + logTail(m.index(), 30))
                        .collect(Collectors.joining("\n"));
                throw new IllegalStateException("etcd not healthy within " + timeout + "\n" + logs);
            }
            pause(20);
        }
    }

    /** The last {@code lines} lines of a member's log. */
    public String logTail(int member, int lines) {
        Path log = member(member).log();
        try (Stream<String> s = Files.lines(log)) {
            List<String> all = s.toList();
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** The server's directory (data directories and logs). */
    public Path directory() {
        return dir;
    }

    /** Kills every member (thawing frozen ones first) and deletes the directory. Idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (EtcdMember m : members) {
            m.destroy();
        }
        RUNNING.remove(this);
        ScratchFiles.deleteTree(dir);
    }

    private EtcdMember member(int index) {
        if (index < 0 || index >= members.size()) {
            throw new IllegalArgumentException("no etcd member " + index + " (members 0.." + (members.size() - 1) + ")");
        }
        if (closed) {
            throw new IllegalStateException("the etcd server is closed");
        }
        return members.get(index);
    }

    private static String findBinary() {
        return findBinary(System.getProperty(BINARY_PROPERTY), System.getenv("PATH"));
    }

    /** The etcd binary: the configured one, else {@code etcd} on the search path. */
    static String findBinary(String configured, String searchPath) {
        if (configured != null && !configured.isBlank()) {
            if (!Files.isExecutable(Path.of(configured))) {
                throw new IllegalStateException(BINARY_PROPERTY + "=" + configured + " is not an executable file");
            }
            return configured;
        }
        String path = Objects.requireNonNullElse(searchPath, "/usr/local/bin:/usr/bin:/bin");
        for (String d : path.split(":")) {
            Path candidate = Path.of(d.isEmpty() ? "." : d, "etcd");
            if (Files.isExecutable(candidate)) {
                return candidate.toString();
            }
        }
        throw new IllegalStateException("the etcd binary was not found on the PATH: install Debian's etcd-server "
                + "package (apt-get install etcd-server, or run scripts/deps.sh), or set -D" + BINARY_PROPERTY
                + "=/path/to/etcd");
    }

    static void pause(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for etcd", e);
        }
    }

    /**
     * TLS for the client port: the server's certificate and key and the CA that signs client
     * certificates (clients must present one). PEM files.
     *
     * @param caCert     the CA certificate
     * @param serverCert the server certificate (valid for 127.0.0.1)
     * @param serverKey  the server's private key
     */
    public record Tls(Path caCert, Path serverCert, Path serverKey) {

        /** Rejects missing files. */
        public Tls {
            Objects.requireNonNull(caCert, "caCert");
            Objects.requireNonNull(serverCert, "serverCert");
            Objects.requireNonNull(serverKey, "serverKey");
        }
    }

    /** Configures an {@link EtcdServer}. */
    public static final class Builder {
        private int members = 1;
        private int heartbeatMillis = 10;
        private int electionMillis = 100;
        private Tls tls;

        private Builder() {
        }

        /** The number of members (default 1). */
        public Builder members(int value) {
            if (value < 1) {
                throw new IllegalArgumentException("members must be at least 1, was " + value);
            }
            this.members = value;
            return this;
        }

        /** Raft heartbeat and election timeouts in ms (default 10 and 100; etcd's own are 100 and 1000). */
        public Builder raftTimings(int heartbeat, int election) {
            this.heartbeatMillis = heartbeat;
            this.electionMillis = election;
            return this;
        }

        /** Serves clients over TLS with client-certificate authentication. */
        public Builder tls(Tls value) {
            this.tls = Objects.requireNonNull(value, "tls");
            return this;
        }

        int heartbeatMillis() {
            return heartbeatMillis;
        }

        int electionMillis() {
            return electionMillis;
        }

        /** Starts the members and waits until all are healthy. */
        public EtcdServer start() {
            return EtcdServer.start(this);
        }
    }

}
