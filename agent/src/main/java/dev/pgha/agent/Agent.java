package dev.pgha.agent;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.ClusterAdmin;
import dev.pgha.HaClock;
import dev.pgha.HaController;
import dev.pgha.cluster.ClusterView;
import dev.pgha.dcs.DcsClient;
import dev.pgha.dcs.DcsException;
import dev.pgha.dcs.etcd.EtcdDcsClient;
import dev.pgha.dcs.etcd.EtcdDcsClientBuilder;
import dev.pgha.dcs.inmemory.InMemoryDcs;
import dev.pgha.fencing.PostmasterGuard;
import dev.pgha.postgres.local.LocalPostgres;
import dev.pgha.rest.RestApi;
import dev.pgha.rest.RestServer;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * pgha as a runnable agent, one per PostgreSQL server, like Patroni: it reads a patroni.yml or a properties file
 * (see {@link AgentSettings} and the README), builds {@link LocalPostgres}, the DCS client
 * ({@link EtcdDcsClient}, or the in-memory DCS for a single member) and an {@link HaController},
 * and runs the cycles with an {@link AgentLoop}, logging one line per cycle
 * ({@code INFO pgha.node1 - no action. I am (node1), the leader with the lock}). A
 * {@link PostmasterGuard} fences the primary when the JVM freezes or dies (Patroni's watchdog,
 * {@code watchdog.mode}). SIGTERM (or
 * Ctrl-C) is Patroni's graceful shutdown: a primary stops PostgreSQL and releases the leader key
 * so a replica takes over at once.
 *
 * <p>The distribution's {@code bin/pgha} runs it with {@link #JVM_OPTIONS}.
 *
 * <pre>
 * java dev.pgha.agent.Agent [run] patroni.yml         run the agent (YAML, or a properties file)
 * java dev.pgha.agent.Agent version                   print pgha's version
 * java dev.pgha.agent.Agent list patroni.yml         print the cluster like patronictl list
 * java dev.pgha.agent.Agent switchover patroni.yml --candidate node2
 * java dev.pgha.agent.Agent failover patroni.yml --candidate node2
 * </pre>
 */
public final class Agent {

    /**
     * The JVM options the agent is meant to run with: a small heap that grows only as needed and is
     * given back, the client compiler only (compiling code run once a cycle after some 40 cycles,
     * not some 200), the serial collector, small thread stacks, the C heap trimmed every 10 s, no
     * {@code hsperfdata} file and netty's unpooled allocator. With {@link #ENVIRONMENT} an agent's
     * resident memory is about 90 MiB (about 170 MiB with the JVM's defaults, which commit a
     * quarter of the RAM's worth of heap).
     */
    public static final List<String> JVM_OPTIONS = List.of("-Xms8m", "-Xmx64m", "-XX:MinHeapFreeRatio=10",
            "-XX:MaxHeapFreeRatio=30", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-XX:CICompilerCount=1",
            "-XX:CompileThresholdScaling=0.2", "-XX:TrimNativeHeapInterval=10000", "-Xss256k",
            "-XX:MaxDirectMemorySize=16m", "-XX:-UsePerfData", "-Dio.netty.allocator.type=unpooled");

    /** The environment the agent is meant to run with: two C heap arenas, not two per core (glibc's default). */
    public static final Map<String, String> ENVIRONMENT = Map.of("MALLOC_ARENA_MAX", "2");

    /** gRPC logs through java.util.logging; its INFO lines (epoll probing) are noise on the agent's output. */
    private static final java.util.logging.Logger GRPC_LOG = java.util.logging.Logger.getLogger("io.grpc");

    private final AgentSettings settings;
    private final Logger log;
    private final DcsClient dcs;
    private final LocalPostgres postgres;
    private final PostmasterGuard guard;
    private final AgentLoop loop;
    private final RestApi api;
    private RestServer server;

    /** Builds the agent's parts; nothing runs until {@link #start()}. */
    public Agent(AgentSettings settings) {
        this.settings = settings;
        this.log = LoggerFactory.getLogger("pgha." + settings.name());
        this.dcs = dcs(settings);
        this.postgres = LocalPostgres.create(settings.postgres(), HaClock.system());
        this.guard = PostmasterGuard.builder().mode(settings.watchdogMode())
                .dataDirectory(settings.postgres().dataDir()).margin(settings.safetyMargin()).build();
        HaController controller = HaController.builder().config(settings.ha()).dcs(dcs).postgres(postgres)
                .listener(postgres.listener()).leaseGuard(guard).build();
        this.loop = new AgentLoop(settings.name(), controller, dcs, postgres, this::logCycle);
        this.api = RestApi.builder().controller(controller).config(settings.ha())
                .admin(ClusterAdmin.of(settings.ha(), dcs)).settings(settings.rest()).build();
    }

    /** The DCS client the settings describe. */
    static DcsClient dcs(AgentSettings s) {
        if (s.dcsType().equals("inmemory")) {
            return InMemoryDcs.create(HaClock.system()).client(s.name());
        }
        EtcdDcsClientBuilder b = EtcdDcsClient.builder().endpoints(s.etcdHosts()).namespace(s.namespace())
                .scope(s.scope()).member(s.name()).retryTimeout(s.ha().bootstrapDcs().retryTimeout());
        if (s.etcdUser() != null) {
            b.auth(s.etcdUser(), s.etcdPassword());
        }
        if (s.etcdTls().caCert() != null) {
            b.tlsCaFile(s.etcdTls().caCert());
        }
        if (s.etcdTls().clientCert() != null) {
            b.tlsClientCertificate(s.etcdTls().clientCert(), s.etcdTls().clientKey());
        }
        return b.build();
    }

    /** Starts the cycles. */
    public Agent start() {
        log.info("starting pgha {} agent: scope {}, member {}, DCS {}{}, data directory {}", version(), settings.scope(),
                settings.name(), settings.dcsType(), settings.dcsType().equals("etcd") ? " " + settings.etcdHosts() : "",
                settings.postgres().dataDir());
        settings.warnings().forEach(w -> log.warn("{}: {}", settings.name(), w));
        server = RestServer.start(api);
        loop.start();
        return this;
    }

    /** The loop running the controller. */
    public AgentLoop loop() {
        return loop;
    }

    /** The local PostgreSQL. */
    public LocalPostgres postgres() {
        return postgres;
    }

    /**
     * Patroni's graceful shutdown, bounded by {@code shutdown_timeout}: PostgreSQL stops, the leader
     * key (if held) is released; then the DCS client is closed.
     *
     * @return whether it completed in time
     */
    public boolean stop() {
        log.info("shutting down (graceful: stop PostgreSQL, release the leader key)");
        boolean done = loop.shutdown(settings.shutdownTimeout());
        if (server != null) {
            server.close();
        }
        if (!done) {
            log.warn("shutdown did not complete within {} s", settings.shutdownTimeout().toSeconds());
        }
        if (done) {
            guard.close();   // PostgreSQL is stopped: nothing left to fence
        }
        postgres.close();
        dcs.close();
        return done;
    }

    private void logCycle(CycleResult r) {
        if (r.action() == CycleAction.FAILED || r.action() == CycleAction.DCS_ERROR
                || r.action() == CycleAction.POSTGRES_ERROR) {
            log.error("{}", r.message());
        } else {
            log.info("{}", r.message());
        }
    }

    /**
     * pgha's version: the {@code Implementation-Version} of this jar's manifest, or
     * {@code unknown} when the classes do not come from the jar (an IDE, {@code target/classes}).
     */
    public static String version() {
        String v = Agent.class.getPackage().getImplementationVersion();
        return v == null ? "unknown" : v;
    }

    /**
     * Runs the agent ({@code [run] <settings>}), or {@code list}, {@code switchover},
     * {@code failover}, {@code version}; exit status 2 for bad usage or settings, 1 for a failure.
     */
    public static void main(String[] args) {
        configureLogging();
        if (args.length == 1 && args[0].equals("version")) {
            System.out.println("pgha " + version());
            System.exit(0);
        } else if (args.length == 1 && !args[0].startsWith("-")) {
            System.exit(run(Path.of(args[0])));
        } else if (args.length == 2 && args[0].equals("run")) {
            System.exit(run(Path.of(args[1])));
        } else if (args.length == 2 && args[0].equals("list")) {
            System.exit(list(Path.of(args[1]), System.out, System.err));
        } else if (args.length >= 2 && (args[0].equals("switchover") || args[0].equals("failover"))) {
            System.exit(AgentRequest.run(args, System.out, System.err));
        }
        System.err.println("usage: pgha [run] <patroni.yml>      run the agent (a *.yml/*.yaml file, or properties)");
        System.err.println("       pgha list <patroni.yml>       print the cluster like patronictl list");
        System.err.println("       " + AgentRequest.USAGE_SWITCHOVER);
        System.err.println("       " + AgentRequest.USAGE_FAILOVER);
        System.err.println("       pgha version                  print pgha's version");
        System.exit(2);
    }

    /** slf4j-simple in Patroni's shape, unless the user configured it: time, level, member, message. */
    private static void configureLogging() {
        setDefault("org.slf4j.simpleLogger.showDateTime", "true");
        setDefault("org.slf4j.simpleLogger.dateTimeFormat", "yyyy-MM-dd HH:mm:ss,SSS");
        setDefault("org.slf4j.simpleLogger.showThreadName", "false");
        setDefault("org.slf4j.simpleLogger.showShortLogName", "false");
        setDefault("org.slf4j.simpleLogger.logFile", "System.out");
        setDefault("org.slf4j.simpleLogger.showLogName", "true");
        setDefault("org.slf4j.simpleLogger.log.pgha", "info");
        setDefault("org.slf4j.simpleLogger.log.dev.pgha", "info");   // the engine's reasons, as Patroni logs them
        GRPC_LOG.setLevel(java.util.logging.Level.WARNING);
    }

    private static void setDefault(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }

    private static int run(Path file) {
        AgentSettings settings;
        try {
            settings = AgentSettings.load(file);
        } catch (IllegalArgumentException e) {
            System.err.println(file + ": " + e.getMessage());
            return 2;
        }
        Agent agent;
        try {
            agent = new Agent(settings);
        } catch (RuntimeException e) {
            System.err.println("cannot start: " + e.getMessage());
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            agent.stop();
            stopped.countDown();
        }, "pgha-shutdown"));
        agent.loop().onFatal(e -> Runtime.getRuntime().halt(70));   // EX_SOFTWARE: no shutdown hook, no cycles
        agent.start();
        try {
            stopped.await();   // the loop runs on its own thread; SIGTERM runs the hook and exits
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /**
     * The settings of a command that works on the cluster through its DCS ({@code list},
     * {@code switchover}, {@code failover}); the keys it ignores are named on {@code err}, as the
     * agent logs them; null, after saying why on {@code err}, when the file is bad or names no
     * shared DCS.
     */
    static AgentSettings commandSettings(Path file, String command, PrintStream err) {
        AgentSettings settings;
        try {
            settings = AgentSettings.load(file, false);
        } catch (IllegalArgumentException e) {
            err.println(file + ": " + e.getMessage());
            return null;
        }
        settings.warnings().forEach(w -> err.println(file + ": " + w));
        if (!settings.dcsType().equals("etcd")) {
            err.println(command + " needs a shared DCS: the in-memory DCS lives inside one agent (dcs.type=etcd)");
            return null;
        }
        return settings;
    }

    /** Prints the cluster the settings name, from the DCS, like {@code patronictl list}. */
    public static int list(Path file, PrintStream out, PrintStream err) {
        AgentSettings settings = commandSettings(file, "list", err);
        if (settings == null) {
            return 2;
        }
        try (DcsClient dcs = dcs(settings)) {
            ClusterView view = dcs.readCluster();
            out.print(ClusterTable.render(view, settings.scope(), List.of()));
            return 0;
        } catch (DcsException e) {
            err.println("cannot read the cluster from etcd " + settings.etcdHosts() + ": " + e.getMessage());
            return 1;
        }
    }
}
