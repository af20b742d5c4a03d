package dev.pgha.examples;

import dev.pgha.ActionResult;
import dev.pgha.ClusterAdmin;
import dev.pgha.HaConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The failover bench: three agents as separate processes with real PostgreSQL over a real etcd
 * ({@link AgentCluster}), and for each fault, repeated, the time from the fault until a server
 * accepts an {@code INSERT} again — another one after a failover, the same one after a restart
 * in place:
 * <ul>
 *   <li><b>host loss</b>: the primary's agent, guard and postmaster SIGKILLed together; also the
 *       lease that was left at the kill (the leader key's last renewal plus ttl, minus the kill),
 *       the floor no failover can beat, and how far above it the failover came;</li>
 *   <li><b>postmaster crash, primary_start_timeout 0</b>: failover;</li>
 *   <li><b>postmaster crash, primary_start_timeout 300</b>: restart in place;</li>
 *   <li><b>planned switchover</b>: from the request to the candidate accepting writes;</li>
 *   <li><b>commit latency</b>: one writer's commits, asynchronous and with {@code synchronous_mode} on
 *       (median and 99th percentile; the agents run PostgreSQL with {@code fsync=off}, so the
 *       figures are the replication round trip, not the disk).</li>
 * </ul>
 * Then, in a healthy idle cluster, the etcd requests per member per cycle (gRPC messages etcd
 * received, from its own {@code /metrics}), and each agent's resident memory and CPU time per
 * cycle. Every figure is printed as min / median / max.
 *
 * <pre>
 * ./scripts/bench.sh failover [--repetitions 5] [--ttl 10] [--loop-wait 1] [--retry-timeout 3] [--idle-seconds 30]
 * </pre>
 */
public final class FailoverBench {

    private static final Duration STEP_LIMIT = Duration.ofSeconds(180);
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");
    private static final Pattern LEADER_LINE = Pattern.compile(
            "(?m)^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3}) INFO pgha\\.(\\S+) - no action\\. I am \\(\\2\\), the leader with the lock$");

    private final PrintStream out;
    private final int repetitions;
    private final int ttl;
    private final int loopWait;
    private final int retryTimeout;
    private final int idleSeconds;
    private final Map<String, List<Double>> figures = new LinkedHashMap<>();

    FailoverBench(PrintStream out, int repetitions, int ttl, int loopWait, int retryTimeout, int idleSeconds) {
        this.out = out;
        this.repetitions = repetitions;
        this.ttl = ttl;
        this.loopWait = loopWait;
        this.retryTimeout = retryTimeout;
        this.idleSeconds = idleSeconds;
    }

    /** Runs the bench and prints the figures; see the class comment for the options. */
    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        Map<String, Integer> o = new LinkedHashMap<>(Map.of("--repetitions", 5, "--ttl", 10, "--loop-wait", 1,
                "--retry-timeout", 3, "--idle-seconds", 30));
        for (int i = 0; i < args.length; i += 2) {
            if (!o.containsKey(args[i]) || i + 1 >= args.length) {
                System.err.println("usage: FailoverBench " + String.join(" ", o.keySet().stream()
                        .map(k -> "[" + k + " " + o.get(k) + "]").toList()));
                System.exit(2);
            }
            o.put(args[i], Integer.parseInt(args[i + 1]));
        }
        // the same rule the agents apply, checked before anything starts
        HaConfig.builder().scope("bench").name("bench").ttl(Duration.ofSeconds(o.get("--ttl")))
                .loopWait(Duration.ofSeconds(o.get("--loop-wait")))
                .retryTimeout(Duration.ofSeconds(o.get("--retry-timeout"))).build();
        new FailoverBench(System.out, o.get("--repetitions"), o.get("--ttl"), o.get("--loop-wait"),
                o.get("--retry-timeout"), o.get("--idle-seconds")).run();
        System.exit(0);
    }

    void run() throws Exception {
        out.printf(Locale.ROOT, "pgha failover bench: 3 agents (separate JVMs) + PostgreSQL %s + etcd, ttl %d s, "
                + "loop_wait %d s, retry_timeout %d s, %d repetitions; %d cores, %s%n", postgresVersion(), ttl,
                loopWait, retryTimeout, repetitions, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        hostLoss();
        postmasterCrash(0);
        postmasterCrash(300);
        switchover();
        commitLatency();
        idle();
        out.println();
        out.println("figure                                                     min   median      max");
        figures.forEach((name, values) -> {
            List<Double> v = new ArrayList<>(values);
            Collections.sort(v);
            out.printf(Locale.ROOT, "%-52s %8.2f %8.2f %8.2f   (n=%d)%n", name, v.get(0), median(v),
                    v.get(v.size() - 1), v.size());
        });
    }

    private AgentCluster cluster(int primaryStartTimeout) {
        return AgentCluster.builder().scope("bench")
                .setting("ttl", Integer.toString(ttl)).setting("loop_wait", Integer.toString(loopWait))
                .setting("retry_timeout", Integer.toString(retryTimeout))
                .setting("primary_start_timeout", Integer.toString(primaryStartTimeout)).build();
    }

    private String healthy(AgentCluster c) {
        await("a leader with two replicas streaming through their slots",
                () -> c.leader().map(c::isHealthyWithLeader).orElse(false));
        return c.leader().orElseThrow();
    }

    /** Starts the agents, waits for a healthy cluster and creates the table the probes write to. */
    private void start(AgentCluster c) {
        c.startAll();
        String leader = healthy(c);
        exec(c, leader, "CREATE TABLE bench_writes (at timestamptz DEFAULT now(), node text)");
        await("the table on every member", () -> c.names().stream()
                .allMatch(n -> c.query(n, "SELECT count(*) FROM pg_class WHERE relname = 'bench_writes'")
                        .equals(List.of("1"))));
    }

    private void hostLoss() throws Exception {
        section("host loss: agent, guard and postmaster of the primary SIGKILLed together");
        try (AgentCluster c = cluster(300)) {
            start(c);
            for (int i = 1; i <= repetitions; i++) {
                String leader = healthy(c);
                pause(loopWait * 1500L);   // a settled cycle rhythm before the fault
                List<String> others = c.names().stream().filter(n -> !n.equals(leader)).toList();
                try (InsertProbe probe = new InsertProbe(c, others)) {
                    long killMillis = System.currentTimeMillis();
                    long t0 = System.nanoTime();
                    c.killHost(leader);
                    double lease = remainingLease(c.log(leader), leader, killMillis);
                    String winner = probe.await();
                    double seconds = (probe.acceptedAt() - t0) / 1e9;
                    out.printf(Locale.ROOT, "  #%d %s lost, %s accepted an INSERT after %.2f s (lease left at the "
                            + "kill %.2f s: %.2f s above that floor)%n", i, leader, winner, seconds, lease, seconds - lease);
                    add("host loss: fault -> INSERT accepted elsewhere (s)", seconds);
                    add("host loss: lease left at the kill (s)", lease);
                    add("host loss: above the lease floor (s)", seconds - lease);
                }
                c.startAgent(leader);   // the host comes back: pg_rewind, then it streams again
            }
        }
    }

    private void postmasterCrash(int primaryStartTimeout) throws Exception {
        boolean inPlace = primaryStartTimeout > 0;
        section("postmaster crash (SIGKILL, agent alive), primary_start_timeout " + primaryStartTimeout);
        try (AgentCluster c = cluster(primaryStartTimeout)) {
            start(c);
            for (int i = 1; i <= repetitions; i++) {
                String leader = healthy(c);
                pause(loopWait * 1500L);
                List<String> targets = inPlace ? List.of(leader)
                        : c.names().stream().filter(n -> !n.equals(leader)).toList();
                // the replicas are probed from before the fault (their connections survive a
                // promotion); the crashed primary only through connections opened after it, so an
                // orphaned backend of the killed postmaster cannot count
                long t0 = System.nanoTime();
                long killed = inPlace ? c.killPostmaster(leader) : 0;
                try (InsertProbe probe = new InsertProbe(c, targets)) {
                    if (!inPlace) {
                        t0 = System.nanoTime();
                        c.killPostmaster(leader);
                    }
                    String winner = probe.await();
                    if (inPlace && c.postmasterPid(leader).filter(p -> p != killed).isEmpty()) {
                        throw new IllegalStateException("an INSERT on " + leader + " succeeded without a new postmaster");
                    }
                    double seconds = (probe.acceptedAt() - t0) / 1e9;
                    out.printf(Locale.ROOT, "  #%d %s's postmaster killed, %s accepted an INSERT after %.2f s%n", i,
                            leader, winner, seconds);
                    add(inPlace ? "postmaster crash, restart in place -> INSERT (s)"
                            : "postmaster crash, failover -> INSERT elsewhere (s)", seconds);
                }
            }
        }
    }

    private void switchover() throws Exception {
        section("planned switchover (ClusterAdmin request -> the candidate accepts an INSERT)");
        try (AgentCluster c = cluster(300)) {
            start(c);
            for (int i = 1; i <= repetitions; i++) {
                String leader = healthy(c);
                pause(loopWait * 1500L);
                String candidate = c.names().stream().filter(n -> !n.equals(leader)).findFirst().orElseThrow();
                AgentSettings settings = AgentSettings.load(c.settingsFile(leader), false);
                try (InsertProbe probe = new InsertProbe(c, List.of(candidate))) {
                    long t0 = System.nanoTime();
                    ActionResult r = ClusterAdmin.of(settings.ha(), c.dcs()).switchover(leader, candidate, null);
                    if (!r.accepted()) {
                        throw new IllegalStateException("switchover refused: " + r.message());
                    }
                    probe.await();
                    double seconds = (probe.acceptedAt() - t0) / 1e9;
                    out.printf(Locale.ROOT, "  #%d %s -> %s: the candidate accepted an INSERT after %.2f s%n", i, leader,
                            candidate, seconds);
                    add("switchover: request -> INSERT on the candidate (s)", seconds);
                }
            }
        }
    }

    /**
     * What synchronous replication costs a writer: one client inserting through the multi-host
     * connection, committing each row, for {@code idle-seconds / 3} per mode and repetition; the
     * median and 99th percentile of its commits, asynchronous and with {@code synchronous_mode} on.
     */
    private void commitLatency() throws Exception {
        section("commit latency of one writer: asynchronous, then synchronous_mode on");
        try (AgentCluster c = cluster(300)) {
            start(c);
            exec(c, healthy(c), "CREATE TABLE bench_commits (v bigint PRIMARY KEY)");
            ClusterAdmin admin = ClusterAdmin.of(AgentSettings.load(c.settingsFile(c.names().get(0)), false).ha(), c.dcs());
            long window = Math.max(3, idleSeconds / 3) * 1000L;
            for (int i = 1; i <= repetitions; i++) {
                for (boolean sync : List.of(false, true)) {
                    admin.patchConfig(java.util.Map.of("synchronous_mode", sync));
                    await(sync ? "a synchronous standby published" : "the sync key gone", () -> {
                        var key = c.view().sync();
                        return sync ? key != null && !key.syncStandbys().isEmpty() : key == null;
                    });
                    String leader = healthy(c);
                    exec(c, leader, "TRUNCATE bench_commits");
                    try (AcknowledgedWriter w = new AcknowledgedWriter(c.names().stream().map(c::port).toList(),
                            "postgres", dev.pgha.testing.TempPostgres.SUPERUSER_PASSWORD, "bench_commits").start()) {
                        pause(window);
                        List<Long> ns = new ArrayList<>(w.latenciesNanos());
                        Collections.sort(ns);
                        if (ns.isEmpty()) {
                            throw new IllegalStateException("no commit acknowledged: " + w.lastError());
                        }
                        double p50 = ns.get(ns.size() / 2) / 1e6;
                        double p99 = ns.get(Math.min(ns.size() - 1, ns.size() * 99 / 100)) / 1e6;
                        String mode = sync ? "synchronous_mode on" : "asynchronous";
                        out.printf(Locale.ROOT, "  #%d %s: %d commits, median %.2f ms, p99 %.2f ms%n", i, mode,
                                ns.size(), p50, p99);
                        add("commit latency, " + mode + ", median (ms)", p50);
                        add("commit latency, " + mode + ", p99 (ms)", p99);
                    }
                }
            }
        }
    }

    private void idle() throws Exception {
        section("healthy idle cluster, " + idleSeconds + " s");
        try (AgentCluster c = cluster(300)) {
            start(c);
            pause(3000);
            String metrics = c.etcd().endpoint(0) + "/metrics";
            Map<String, Long> before = etcdMessages(metrics);
            Map<String, long[]> cpuBefore = new LinkedHashMap<>();
            Map<String, Integer> cyclesBefore = new LinkedHashMap<>();
            for (String n : c.names()) {
                cpuBefore.put(n, cpuTicks(c.agent(n).pid()));
                cyclesBefore.put(n, cycles(c.log(n), n));
            }
            List<Long> rss = new ArrayList<>();
            long end = System.nanoTime() + Duration.ofSeconds(idleSeconds).toNanos();
            while (System.nanoTime() - end < 0) {
                for (String n : c.names()) {
                    rss.add(residentKb(c.agent(n).pid()));
                }
                pause(1000);
            }
            Map<String, Long> after = etcdMessages(metrics);
            int totalCycles = 0;
            for (String n : c.names()) {
                int cycles = cycles(c.log(n), n) - cyclesBefore.get(n);
                totalCycles += cycles;
                long ticks = cpuTicks(c.agent(n).pid())[0] - cpuBefore.get(n)[0];
                double ms = ticks * 1000.0 / 100 / Math.max(1, cycles);   // USER_HZ is 100 on Linux
                add("agent CPU per cycle (ms)", ms);
                out.printf(Locale.ROOT, "  %s: %d cycles, %.2f ms CPU per cycle%n", n, cycles, ms);
            }
            rss.forEach(kb -> add("agent resident memory (MiB)", kb / 1024.0));
            long requests = 0;
            StringBuilder byMethod = new StringBuilder();
            for (Map.Entry<String, Long> e : after.entrySet()) {
                long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
                if (d > 0) {
                    requests += d;
                    byMethod.append(String.format(Locale.ROOT, " %s %.2f", e.getKey(), d / (double) totalCycles));
                }
            }
            double perCycle = requests / (double) Math.max(1, totalCycles);
            out.printf(Locale.ROOT, "  etcd received %d gRPC messages in %d member-cycles: %.2f per member per cycle "
                    + "(%s)%n", requests, totalCycles, perCycle, byMethod.toString().strip());
            add("etcd requests per member per cycle", perCycle);
        }
    }

    /** Tries an INSERT on each target in its own thread until one succeeds. */
    private static final class InsertProbe implements AutoCloseable {
        private final AgentCluster c;
        private final List<Thread> threads = new ArrayList<>();
        private final AtomicLong acceptedAt = new AtomicLong();
        private volatile String winner;
        private volatile boolean stopped;

        InsertProbe(AgentCluster c, List<String> targets) {
            this.c = c;
            for (String t : targets) {
                Thread th = new Thread(() -> probe(t), "insert-probe-" + t);
                th.setDaemon(true);
                threads.add(th);
            }
            threads.forEach(Thread::start);
        }

        private void probe(String target) {
            Connection conn = null;
            while (!stopped && winner == null) {
                try {
                    if (conn == null) {
                        conn = c.connect(target);
                    }
                    try (Statement st = conn.createStatement()) {
                        st.executeUpdate("INSERT INTO bench_writes (node) VALUES ('" + target + "')");
                    }
                    long now = System.nanoTime();
                    if (acceptedAt.compareAndSet(0, now)) {
                        winner = target;
                    }
                } catch (SQLException e) {
                    closeQuietly(conn);
                    conn = null;
                    pause(20);
                }
            }
            closeQuietly(conn);
        }

        /** Waits until a target accepted an INSERT after the fault; returns which. */
        String await() {
            FailoverBench.await("a server accepts an INSERT", () -> winner != null);
            return winner;
        }

        long acceptedAt() {
            return acceptedAt.get();
        }

        @Override
        public void close() {
            stopped = true;
            for (Thread t : threads) {
                try {
                    t.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * The lease left when the leader was killed: its last "the leader with the lock" line (written
     * right after the renewal) plus ttl, minus the kill.
     */
    private double remainingLease(String log, String leader, long killMillis) {
        Matcher m = LEADER_LINE.matcher(log);
        Long last = null;
        while (m.find()) {
            if (m.group(2).equals(leader)) {
                last = LocalDateTime.parse(m.group(1), LOG_TIME).atZone(ZoneId.systemDefault()).toInstant().toEpochMilli();
            }
        }
        if (last == null) {
            throw new IllegalStateException(leader + " never logged a cycle as leader");
        }
        return (last + ttl * 1000L - killMillis) / 1000.0;
    }

    private static int cycles(String log, String name) {
        Matcher m = Pattern.compile("(?m) INFO pgha\\." + Pattern.quote(name) + " - ").matcher(log);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    /** gRPC messages etcd received, by method, from its {@code /metrics}. */
    private static Map<String, Long> etcdMessages(String url) throws IOException, InterruptedException {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        Map<String, Long> out = new LinkedHashMap<>();
        Matcher m = Pattern.compile("(?m)^grpc_server_msg_received_total\\{[^}]*grpc_method=\"(\\w+)\"[^}]*} (\\S+)$")
                .matcher(r.body());
        while (m.find()) {
            out.merge(m.group(1), (long) Double.parseDouble(m.group(2)), Long::sum);
        }
        return out;
    }

    /** utime + stime of a process, in clock ticks. */
    private static long[] cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new long[] {Long.parseLong(f[11]) + Long.parseLong(f[12])};
    }

    private static long residentKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        return 0;
    }

    private static String postgresVersion() {
        try {
            Process p = new ProcessBuilder("pg_config", "--version").redirectErrorStream(true).start();
            return new String(p.getInputStream().readAllBytes()).strip().replace("PostgreSQL ", "");
        } catch (IOException e) {
            return "?";
        }
    }

    private void add(String figure, double value) {
        figures.computeIfAbsent(figure, k -> new ArrayList<>()).add(value);
    }

    private static double median(List<Double> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private void section(String title) {
        out.println();
        out.println(title);
    }

    private static void exec(AgentCluster c, String node, String sql) {
        try {
            c.execute(node, sql);
        } catch (SQLException e) {
            throw new IllegalStateException(sql + " on " + node + ": " + e.getMessage(), e);
        }
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + STEP_LIMIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("not within " + STEP_LIMIT.toSeconds() + " s: " + what);
            }
            pause(20);
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // broken already
            }
        }
    }
}
