package dev.pgha.examples;

import dev.pgha.ActionResult;
import dev.pgha.CycleResult;
import dev.pgha.HaClock;
import dev.pgha.HaConfig;
import dev.pgha.HaController;
import dev.pgha.agent.AgentLoop;
import dev.pgha.agent.ClusterTable;
import dev.pgha.dcs.DcsClient;
import dev.pgha.dcs.inmemory.InMemoryDcs;
import dev.pgha.postgres.local.LocalPostgres;
import dev.pgha.postgres.local.LocalPostgresConfig;
import dev.pgha.testing.TempPostgres;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;

/**
 * A guided tour of pgha on real PostgreSQL servers: three members in one JVM, each a
 * {@link HaController} over {@link LocalPostgres} driven by an {@link AgentLoop} in real time,
 * sharing the embedded in-memory DCS. The tour shows the leader race at bootstrap, rows written on
 * the primary and read on the replicas, the loss of the primary's host and the failover (timed
 * from the fault until another node accepts an INSERT), the old primary's return as a replica
 * through pg_rewind, and a switchover, with a {@code patronictl list}-style table after each step.
 * A sampler asks every server {@code SELECT pg_is_in_recovery()} four times a second throughout
 * and counts how many accepted writes at once.
 *
 * <p>Everything lives in a temp directory ({@code /tmp/pgha-*}) on free loopback ports; when the
 * JVM runs as root the servers run as the {@code postgres} OS user. {@link #close()} (also run on
 * Ctrl-C) stops the agents, kills every postmaster it started and deletes the directory. Run it
 * with {@code ./scripts/demo.sh}.
 */
public final class RealDemo implements AutoCloseable {

    static final String SCOPE = "demo";
    private static final List<String> NAMES = List.of("node1", "node2", "node3");
    private static final Duration STEP_LIMIT = Duration.ofSeconds(120);
    private static final Pattern COUNTDOWN = Pattern.compile("\\d+ seconds");

    private final PrintStream out;
    private final long startNanos = System.nanoTime();
    private final TempPostgres tmp;
    private final InMemoryDcs store = InMemoryDcs.create(HaClock.system());
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final List<String> problems = new ArrayList<>();
    private final List<String> writableAfterStep = new ArrayList<>();
    private final List<String> said = new ArrayList<>();
    private final Thread sampler;
    private volatile boolean stopped;
    private volatile int maxWritable;
    private volatile String splitBrain;

    /** One member: its server's configuration and the agent running it now (replaced when its host comes back). */
    private static final class Node {
        final String name;
        final LocalPostgresConfig config;
        volatile LocalPostgres pg;
        volatile AgentLoop loop;
        volatile String lastSaid;

        Node(String name, LocalPostgresConfig config) {
            this.name = name;
            this.config = config;
        }
    }

    private RealDemo(PrintStream out) {
        this.out = out;
        this.tmp = TempPostgres.create();
        for (String name : NAMES) {
            LocalPostgresConfig config = tmp.node(name).scope(SCOPE).build();
            nodes.put(name, new Node(name, config));
        }
        this.sampler = new Thread(this::sample, "pgha-demo-sampler");
        this.sampler.setDaemon(true);
    }

    /** Runs the tour on stdout; exits with status 1 if a step did not happen. */
    public static void main(String[] args) {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        RealDemo demo = new RealDemo(System.out);
        Thread hook = new Thread(demo::close, "pgha-demo-cleanup");
        Runtime.getRuntime().addShutdownHook(hook);
        Tour tour;
        try {
            tour = demo.tour();
        } finally {
            demo.close();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down
            }
        }
        System.out.flush();
        System.exit(tour.complete() ? 0 : 1);
    }

    /**
     * Runs the whole tour, printing it to {@code out}, and cleans up.
     *
     * @return what each step achieved, for tests
     */
    public static Tour run(PrintStream out) {
        try (RealDemo demo = new RealDemo(out)) {
            return demo.tour();
        }
    }

    /**
     * What the tour achieved.
     *
     * @param bootstrapLeader    the leader after bootstrap (null if none)
     * @param bootstrapped       one primary and two streaming replicas after bootstrap
     * @param rowsWritten        rows inserted on the first primary
     * @param replicated         every replica showed all of them
     * @param failoverLeader     the node that took over when the primary's host was lost (null if none)
     * @param failoverSeconds    seconds from the host loss until another node accepted an INSERT
     * @param rowsKept           the new primary had every row the replicas had replayed before the fault
     * @param oldPrimaryRejoined the lost primary came back as a replica streaming from the new leader
     * @param oldPrimaryRewound  pg_rewind ran on it
     * @param switchoverTarget   the member the switchover asked for (null if not attempted)
     * @param finalLeader        the leader at the end (null if none)
     * @param maxWritable        the most servers that accepted writes at the same time (1: no split brain)
     * @param writableAfterStep  "step: [writable servers]" sampled after each step
     * @param problems           steps that did not happen
     * @param said               every "node: message" line printed
     */
    public record Tour(String bootstrapLeader, boolean bootstrapped, int rowsWritten, boolean replicated,
                       String failoverLeader, double failoverSeconds, boolean rowsKept, boolean oldPrimaryRejoined,
                       boolean oldPrimaryRewound, String switchoverTarget, String finalLeader, int maxWritable,
                       List<String> writableAfterStep, List<String> problems, List<String> said) {

        /** Whether every step happened as intended. */
        public boolean complete() {
            return bootstrapped && replicated && failoverLeader != null && !failoverLeader.equals(bootstrapLeader)
                    && rowsKept && oldPrimaryRejoined && switchoverTarget != null
                    && switchoverTarget.equals(finalLeader) && maxWritable == 1 && problems.isEmpty();
        }
    }

    private HaConfig haConfig(String name) {
        return HaConfig.builder().scope(SCOPE).name(name)
                .ttl(Duration.ofSeconds(10)).loopWait(Duration.ofSeconds(1)).retryTimeout(Duration.ofSeconds(3))
                .primaryStartTimeout(Duration.ZERO).usePgRewind(true).build();
    }

    /** Starts (or, after a host loss, starts again) the agent of {@code name}. */
    private void startAgent(Node n) {
        LocalPostgres pg = LocalPostgres.create(n.config, HaClock.system());
        DcsClient dcs = store.client(n.name);
        HaController ha = HaController.builder().config(haConfig(n.name)).dcs(dcs).postgres(pg)
                .listener(pg.listener()).build();
        n.pg = pg;
        n.lastSaid = null;
        n.loop = new AgentLoop(n.name, ha, dcs, pg, r -> narrate(n, r)).start();
    }

    private synchronized void narrate(Node n, CycleResult r) {
        String key = COUNTDOWN.matcher(r.message()).replaceAll("N seconds");
        if (!key.equals(n.lastSaid)) {
            n.lastSaid = key;
            said.add(n.name + ": " + r.message());
            out.printf(Locale.ROOT, "  %s  %-6s %s%n", time(), n.name, r.message());
        }
    }

    private synchronized void event(String text) {
        out.printf(Locale.ROOT, "  %s  >>> %s%n", time(), text);
    }

    private synchronized void println(String text) {
        out.println(text);
    }

    private String time() {
        return String.format(Locale.ROOT, "t=%5.1fs", (System.nanoTime() - startNanos) / 1e9);
    }

    private Tour tour() {
        println("pgha demo: a three-node PostgreSQL cluster on real servers");
        println("==========================================================");
        println("Three PostgreSQL servers on this machine (temp directories, free loopback ports), each");
        println("run by pgha's HA engine (HaController over LocalPostgres) in its own agent loop; they share");
        println("the embedded in-memory DCS. Short settings so it all takes a minute: ttl 10 s, loop_wait 1 s,");
        println("retry_timeout 3 s, primary_start_timeout 0, use_pg_rewind on. Lines show a node's cycle");
        println("message whenever it changes (Patroni's wording); '>>>' marks what the demo does.");
        println("Data under " + tmp.base() + ".");
        sampler.start();

        // 1. Bootstrap ----------------------------------------------------------------------------
        section("1. Bootstrap: three empty data directories, one leader race");
        println("All three agents start at once. Each tries to take the 'initialize' key; the winner runs");
        println("initdb and takes the leader key, the others wait and clone from it with pg_basebackup.");
        println("");
        nodes.values().forEach(this::startAgent);
        boolean bootstrapped = await("bootstrap", this::converged);
        String first = leader();
        table("after bootstrap");
        println(first + " won the race and leads; the other two stream from it.");

        // 2. Writes --------------------------------------------------------------------------------
        section("2. Rows written on the primary, read on the replicas");
        int rows = 1000;
        boolean replicated = false;
        try {
            execute(first, "CREATE TABLE demo_rows (id int PRIMARY KEY, written_on text, at timestamptz DEFAULT now())");
            execute(first, "INSERT INTO demo_rows (id, written_on) SELECT g, '" + first + "' FROM generate_series(1, "
                    + rows + ") g");
            event("inserted " + rows + " rows on " + first);
            replicated = await("rows on every replica", () -> NAMES.stream().allMatch(n -> count(n) == rows));
            for (String n : NAMES) {
                println(String.format(Locale.ROOT, "    %s: SELECT count(*) FROM demo_rows -> %d%s", n, count(n),
                        n.equals(first) ? "   (primary)" : "   (replica, read-only)"));
            }
        } catch (SQLException e) {
            problem("writing on " + first + " failed: " + e.getMessage());
        }
        table("after the writes");

        // 3. Host loss: failover -------------------------------------------------------------------
        section("3. The primary's host is lost: failover");
        String failoverLeader = null;
        double failoverSeconds = Double.NaN;
        boolean rowsKept = false;
        if (first != null) {
            println("The machine of " + first + " goes away: its agent stops running cycles and its postmaster");
            println("dies (kill -9). Nobody renews the leader key, so the replicas wait for its lease (ttl 10 s)");
            println("to run out; then the healthiest one takes the key and promotes itself.");
            println("");
            long replayed = NAMES.stream().filter(n -> !n.equals(first)).mapToLong(this::count).min().orElse(0);
            Node old = nodes.get(first);
            long t0 = System.nanoTime();
            old.loop.halt();
            old.pg.postmasterPid().ifPresent(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
            event("host of " + first + " lost: agent stopped, postmaster killed (kill -9)");
            String[] winner = new String[1];
            boolean tookOver = await("failover", () -> {
                for (String n : NAMES) {
                    if (!n.equals(first) && tryInsert(n)) {
                        winner[0] = n;
                        return true;
                    }
                }
                return false;
            });
            if (tookOver) {
                failoverLeader = winner[0];
                failoverSeconds = (System.nanoTime() - t0) / 1e9;
                event(String.format(Locale.ROOT, "%s accepts an INSERT, %.1f s after the host was lost",
                        failoverLeader, failoverSeconds));
                String nl = failoverLeader;
                await("the other replica following " + nl, () -> NAMES.stream()
                        .filter(n -> !n.equals(first) && !n.equals(nl)).allMatch(n -> follows(n, nl)));
                long kept = count(failoverLeader);
                rowsKept = kept >= replayed;
                table("after the failover");
                println(String.format(Locale.ROOT, "%s took over %.1f s after the fault: the lease had to run out"
                        + " (ttl 10 s from its%nlast renewal), then a cycle and a promotion. It has all %d rows the"
                        + " replicas had replayed%n(%d now, with the probe INSERT).", failoverLeader, failoverSeconds,
                        replayed, kept));
            }
        }

        // 4. Rejoin --------------------------------------------------------------------------------
        section("4. The old primary comes back and rejoins as a replica");
        boolean rejoined = false;
        boolean rewound = false;
        if (failoverLeader != null) {
            println("The host of " + first + " boots again and a new agent starts. Its data directory was not");
            println("shut down cleanly and its timeline ended where the new leader's began: pgha runs crash");
            println("recovery, then pg_rewind from " + failoverLeader + ", and starts it as a replica.");
            println("");
            Node old = nodes.get(first);
            startAgent(old);
            event("host of " + first + " is back: a new agent starts");
            String nl = failoverLeader;
            rejoined = await("rejoin", () -> follows(first, nl) && count(first) == count(nl));
            rewound = old.pg.lastRewind().isPresent();
            table("after the rejoin");
            if (rejoined) {
                println(first + (rewound ? " was rewound with pg_rewind" : " needed no rewind") + " and now streams from "
                        + failoverLeader + " (" + count(first) + " rows).");
            }
        }

        // 5. Switchover ----------------------------------------------------------------------------
        section("5. Switchover back to " + first);
        String target = null;
        String finalLeader = leader();
        if (rejoined) {
            target = first;
            String from = finalLeader;
            println("Like 'patronictl switchover --candidate " + target + "': the failover key names the candidate,");
            println("the leader stops its PostgreSQL and releases the key, the candidate promotes, the old leader");
            println("follows it.");
            println("");
            long t0 = System.nanoTime();
            ActionResult accepted = nodes.get(from).loop.controller().switchover(target, null);
            event("switchover to " + target + " asked of " + from + ": " + accepted.message());
            nodes.get(from).loop.wakeUp();
            String wanted = target;
            boolean done = await("switchover", () -> wanted.equals(leader()) && tryInsert(wanted)
                    && NAMES.stream().filter(n -> !n.equals(wanted)).allMatch(n -> follows(n, wanted)));
            finalLeader = leader();
            table("after the switchover");
            if (done) {
                println(String.format(Locale.ROOT, "%s leads again (%.1f s); %s demoted itself cleanly and follows it.",
                        target, (System.nanoTime() - t0) / 1e9, from));
            }
        }

        if (splitBrain != null) {
            problem("two servers accepted writes at once: " + splitBrain);
        }
        Tour tour;
        synchronized (this) {
            tour = new Tour(first, bootstrapped, rows, replicated, failoverLeader, failoverSeconds, rowsKept, rejoined,
                    rewound, target, finalLeader, maxWritable, List.copyOf(writableAfterStep), List.copyOf(problems),
                    List.copyOf(said));
        }
        summary(tour);
        return tour;
    }

    private void summary(Tour t) {
        section("Summary");
        if (t.complete()) {
            println(String.format(Locale.ROOT, "%s won the bootstrap race; %d rows reached both replicas; when %s's host"
                    + " was lost,%n%s accepted writes %.1f s later with every replayed row; %s came back as a replica"
                    + "%s;%nthe switchover made %s the leader again. The sampler never saw two servers accepting"
                    + " writes.", t.bootstrapLeader(), t.rowsWritten(), t.bootstrapLeader(), t.failoverLeader(),
                    t.failoverSeconds(), t.bootstrapLeader(), t.oldPrimaryRewound() ? " via pg_rewind" : "",
                    t.switchoverTarget()));
        } else {
            println("The tour did not complete:");
            t.problems().forEach(p -> println("  - " + p));
            if (t.maxWritable() > 1) {
                println("  - " + t.maxWritable() + " servers accepted writes at the same time");
            }
        }
        println(String.format(Locale.ROOT, "(%.0f s)", (System.nanoTime() - startNanos) / 1e9));
    }

    // ------------------------------------------------------------------------------ observation

    /** One leader that accepts writes, the two others streaming from it, every agent saying "no action". */
    private boolean converged() {
        String l = leader();
        return l != null && tryWritable(l) && NAMES.stream().filter(n -> !n.equals(l)).allMatch(n -> follows(n, l));
    }

    /** Whether {@code name}'s agent follows {@code leader} and its server streams from it. */
    private boolean follows(String name, String leader) {
        Node n = nodes.get(name);
        CycleResult r = n.loop == null ? null : n.loop.lastResult();
        return r != null && r.message().equals("no action. I am (" + name + "), a secondary, and following a leader ("
                + leader + ")") && n.pg.status().streaming();
    }

    private String leader() {
        return store.snapshot().leaderName().orElse(null);
    }

    private boolean await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + STEP_LIMIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                problem(what + " did not happen within " + STEP_LIMIT.toSeconds() + " s");
                return false;
            }
            pause(200);
        }
        return true;
    }

    private void problem(String text) {
        synchronized (this) {
            problems.add(text);
        }
        event("!!! " + text);
    }

    private void table(String step) {
        pause(1200);   // member keys are refreshed once per loop_wait: let them catch up with the servers
        List<String> writable = writable();
        synchronized (this) {
            writableAfterStep.add(step + ": " + writable);
            out.println();
            out.print(ClusterTable.render(store.snapshot(), SCOPE, NAMES));
            out.println("  accepting writes (SELECT pg_is_in_recovery() = false): " + String.join(", ", writable));
            out.println();
        }
        if (writable.size() > 1) {
            problem("after " + step + " these servers accept writes: " + writable);
        }
    }

    /** Samples every server four times a second; records the most that accepted writes at once. */
    private void sample() {
        while (!stopped) {
            store.checkExpiry();   // etcd expires keys on its own; the in-memory store on access
            List<String> w = writable();
            if (w.size() > maxWritable) {
                maxWritable = w.size();
            }
            if (w.size() > 1 && splitBrain == null) {
                splitBrain = time() + " " + w;
            }
            pause(250);
        }
    }

    /** The servers that answer {@code pg_is_in_recovery() = false} right now. */
    private List<String> writable() {
        TreeSet<String> w = new TreeSet<>();
        for (String n : NAMES) {
            if (tryWritable(n)) {
                w.add(n);
            }
        }
        return List.copyOf(w);
    }

    private boolean tryWritable(String name) {
        try (Connection c = connect(name); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
            return rs.next() && !rs.getBoolean(1);
        } catch (SQLException e) {
            return false;
        }
    }

    private boolean tryInsert(String name) {
        try (Connection c = connect(name); Statement st = c.createStatement()) {
            st.executeUpdate("INSERT INTO demo_rows (id, written_on) SELECT coalesce(max(id), 0) + 1, '" + name
                    + "' FROM demo_rows");
            return true;
        } catch (SQLException e) {
            return false;
        }
    }

    private long count(String name) {
        try (Connection c = connect(name); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM demo_rows")) {
            return rs.next() ? rs.getLong(1) : -1;
        } catch (SQLException e) {
            return -1;
        }
    }

    private void execute(String name, String sql) throws SQLException {
        try (Connection c = connect(name); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    private Connection connect(String name) throws SQLException {
        LocalPostgresConfig config = nodes.get(name).config;
        Properties p = new Properties();
        p.setProperty("user", config.superuser().username());
        if (config.superuser().hasPassword()) {
            p.setProperty("password", config.superuser().password());
        }
        p.setProperty("connectTimeout", "1");
        p.setProperty("socketTimeout", "3");
        p.setProperty("loginTimeout", "2");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + config.port() + "/postgres", p);
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private void section(String title) {
        println("");
        println(title);
        println("-".repeat(title.length()));
    }

    /**
     * Stops the agents (replicas first, each gracefully: PostgreSQL stopped, keys released), then
     * kills whatever is left under the temp directory and deletes it. Safe to call twice.
     */
    @Override
    public void close() {
        synchronized (this) {
            if (stopped) {
                return;
            }
            stopped = true;
        }
        section("Cleaning up");
        println("The agents shut down as on SIGTERM (replicas first; the leader stops PostgreSQL and releases");
        println("its key), then everything under " + tmp.base() + " is killed and deleted.");
        String l = leader();
        List<Node> order = new ArrayList<>(nodes.values());
        order.sort((a, b) -> Boolean.compare(a.name.equals(l), b.name.equals(l)));
        for (Node n : order) {
            if (n.loop != null) {
                n.loop.shutdown(Duration.ofSeconds(20));
            }
        }
        for (Node n : nodes.values()) {
            if (n.pg != null) {
                n.pg.close();
            }
        }
        tmp.close();
    }
}
