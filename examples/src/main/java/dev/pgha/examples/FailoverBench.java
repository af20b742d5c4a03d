package dev.pgha.examples;

import dev.pgha.ActionResult;
import dev.pgha.ClusterAdmin;
import dev.pgha.HaConfig;
import dev.pgha.agent.AgentSettings;
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
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
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
 * <p>With {@code --against patroni} every fault but the commit latency is also done to a cluster of
 * three real Patroni 3.0.2 agents ({@link PatroniCluster}: the same PostgreSQL parameters,
 * {@code pg_hba.conf}, roles, {@code bootstrap.dcs} values and port scheme, its own etcd), both
 * clusters running side by side and the two systems taking turns repetition by repetition (pgha
 * first in odd repetitions, Patroni first in even ones). The planned switchover is then a command
 * for both — {@code Agent switchover} in its own JVM and {@code patronictl switchover --force} —
 * timed from its start to the {@code INSERT} on the candidate and to its own exit. Every figure is
 * printed with both systems' min / median / max and the ratio of the medians (pgha / Patroni).
 *
 * <pre>
 * ./scripts/bench.sh failover [--repetitions 5] [--ttl 10] [--loop-wait 1] [--retry-timeout 3] [--idle-seconds 30] [--against patroni]
 * </pre>
 */
public final class FailoverBench {

    private static final Duration STEP_LIMIT = Duration.ofSeconds(180);
    /** The sections, in the order they run; {@code --only} picks some. */
    private static final List<String> SECTIONS = List.of("host-loss", "crash", "switchover", "frozen-agent", "commit",
            "idle");
    private static final String PGHA = "pgha";
    private static final String PATRONI = "Patroni";
    private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss,SSS");
    private static final Pattern LEADER_LINE = Pattern.compile(
            "(?m)^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3}) INFO pgha\\.(\\S+) - no action\\. I am \\(\\2\\), the leader with the lock$");
    /** Patroni's line after a cycle that renewed the leader key (its default log format; one member per log). */
    private static final Pattern PATRONI_LEADER_LINE = Pattern.compile(
            "(?m)^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d,\\d{3}) INFO: no action\\. I am \\((\\S+)\\), the leader with the lock$");

    private final PrintStream out;
    private final int repetitions;
    private final int ttl;
    private final int loopWait;
    private final int retryTimeout;
    private final int idleSeconds;
    private final int warmUpSeconds;
    private final boolean againstPatroni;
    private final Set<String> only;
    /** figure -> system -> values. */
    private final Map<String, Map<String, List<Double>>> figures = new LinkedHashMap<>();

    FailoverBench(PrintStream out, int repetitions, int ttl, int loopWait, int retryTimeout, int idleSeconds,
                  int warmUpSeconds, boolean againstPatroni, Set<String> only) {
        this.out = out;
        this.repetitions = repetitions;
        this.ttl = ttl;
        this.loopWait = loopWait;
        this.retryTimeout = retryTimeout;
        this.idleSeconds = idleSeconds;
        this.warmUpSeconds = warmUpSeconds;
        this.againstPatroni = againstPatroni;
        this.only = Set.copyOf(only);
    }

    /** Runs the bench and prints the figures; see the class comment for the options. */
    public static void main(String[] args) throws Exception {
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        Map<String, Integer> o = new LinkedHashMap<>(Map.of("--repetitions", 5, "--ttl", 10, "--loop-wait", 1,
                "--retry-timeout", 3, "--idle-seconds", 30, "--warm-up-seconds", 60));
        boolean against = false;
        Set<String> only = new LinkedHashSet<>(SECTIONS);
        for (int i = 0; i < args.length; i += 2) {
            boolean ok = i + 1 < args.length;
            if (ok && args[i].equals("--against")) {
                ok = args[i + 1].equals("patroni");
                against = true;
            } else if (ok && args[i].equals("--only")) {
                only = new LinkedHashSet<>(List.of(args[i + 1].split(",")));
                ok = SECTIONS.containsAll(only);
            } else if (ok && o.containsKey(args[i])) {
                try {
                    o.put(args[i], Integer.parseInt(args[i + 1]));
                } catch (NumberFormatException e) {
                    ok = false;
                }
            } else {
                ok = false;
            }
            if (!ok) {
                System.err.println("usage: FailoverBench " + String.join(" ", o.keySet().stream()
                        .map(k -> "[" + k + " " + o.get(k) + "]").toList()) + " [--against patroni] [--only "
                        + String.join(",", SECTIONS) + "]");
                System.exit(2);
            }
        }
        // the same rule the agents apply, checked before anything starts
        HaConfig.builder().scope("bench").name("bench").ttl(Duration.ofSeconds(o.get("--ttl")))
                .loopWait(Duration.ofSeconds(o.get("--loop-wait")))
                .retryTimeout(Duration.ofSeconds(o.get("--retry-timeout"))).build();
        new FailoverBench(System.out, o.get("--repetitions"), o.get("--ttl"), o.get("--loop-wait"),
                o.get("--retry-timeout"), o.get("--idle-seconds"), o.get("--warm-up-seconds"), against, only).run();
        System.exit(0);
    }

    void run() throws Exception {
        out.printf(Locale.ROOT, "pgha failover bench: 3 agents (separate JVMs) + PostgreSQL %s + etcd, ttl %d s, "
                + "loop_wait %d s, retry_timeout %d s, %d repetitions; %d cores, %s%n", postgresVersion(), ttl,
                loopWait, retryTimeout, repetitions, Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"));
        if (againstPatroni) {
            out.printf(Locale.ROOT, "against %s: 3 Patroni agents with the same settings, their own etcd; the two "
                    + "clusters run side by side and take turns; no child subreaper for either%n", patroniVersion());
        }
        if (only.contains("host-loss")) {
            hostLoss();
        }
        if (only.contains("crash")) {
            postmasterCrash(0);
            postmasterCrash(300);
        }
        if (only.contains("switchover")) {
            switchover();
        }
        if (only.contains("frozen-agent")) {
            frozenAgent();
        }
        if (only.contains("commit")) {
            commitLatency();
        }
        if (only.contains("idle")) {
            idle();
        }
        out.println();
        if (!againstPatroni) {
            out.println("figure                                                     min   median      max");
            figures.forEach((name, bySystem) -> {
                List<Double> v = sorted(bySystem.get(PGHA));
                out.printf(Locale.ROOT, "%-52s %8.2f %8.2f %8.2f   (n=%d)%n", name, v.get(0), median(v),
                        v.get(v.size() - 1), v.size());
            });
            return;
        }
        out.println("figure                                                 |    pgha: min   median      max |"
                + " Patroni: min   median      max | pgha/Patroni (medians)");
        figures.forEach((name, bySystem) -> {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-54s", name));
            Double[] medians = new Double[2];
            int k = 0;
            for (String system : List.of(PGHA, PATRONI)) {
                List<Double> v = bySystem.get(system);
                if (v == null || v.isEmpty()) {
                    line.append(String.format(Locale.ROOT, " | %8s %8s %8s      ", "-", "-", "-"));
                } else {
                    v = sorted(v);
                    medians[k] = median(v);
                    line.append(String.format(Locale.ROOT, " | %8.2f %8.2f %8.2f n=%-3d", v.get(0), medians[k],
                            v.get(v.size() - 1), v.size()));
                }
                k++;
            }
            line.append(medians[0] != null && medians[1] != null && medians[1] != 0
                    ? String.format(Locale.ROOT, " | %.2f", medians[0] / medians[1]) : " | -");
            out.println(line);
        });
    }

    private static List<Double> sorted(List<Double> values) {
        List<Double> v = new ArrayList<>(values);
        Collections.sort(v);
        return v;
    }

    private AgentCluster cluster(int primaryStartTimeout) {
        return AgentCluster.builder().scope("bench")
                .setting("ttl", Integer.toString(ttl)).setting("loop_wait", Integer.toString(loopWait))
                .setting("retry_timeout", Integer.toString(retryTimeout))
                .setting("primary_start_timeout", Integer.toString(primaryStartTimeout)).build();
    }

    /**
     * The clusters of one section: pgha's, and with {@code --against patroni} Patroni's with the
     * same settings (AgentSettings' defaults where the bench sets nothing: maximum_lag_on_failover
     * 1048576; use_pg_rewind and use_slots on in both).
     */
    private Targets clusters(int primaryStartTimeout) {
        Targets t = new Targets();
        try {
            t.add(new PghaTarget(cluster(primaryStartTimeout)));
            if (againstPatroni) {
                t.add(new PatroniTarget(PatroniCluster.builder().scope("bench")
                        .dcs("ttl", Integer.toString(ttl)).dcs("loop_wait", Integer.toString(loopWait))
                        .dcs("retry_timeout", Integer.toString(retryTimeout))
                        .dcs("primary_start_timeout", Integer.toString(primaryStartTimeout))
                        .dcs("maximum_lag_on_failover", "1048576").build()));
            }
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    private String healthy(Target c) {
        await(c.system() + ": a leader with two replicas streaming through their slots",
                () -> c.leader().map(c::isHealthyWithLeader).orElse(false));
        return c.leader().orElseThrow();
    }

    /** Starts every cluster's agents, waits for them to be healthy and creates the table the probes write to. */
    private void start(Targets all) {
        all.list().forEach(Target::startAll);
        for (Target c : all.list()) {
            String leader = healthy(c);
            exec(c, leader, "CREATE TABLE bench_writes (at timestamptz DEFAULT now(), node text)");
            await(c.system() + ": the table on every member", () -> c.names().stream()
                    .allMatch(n -> c.query(n, "SELECT count(*) FROM pg_class WHERE relname = 'bench_writes'")
                            .equals(List.of("1"))));
        }
    }

    /** The systems in the order of repetition {@code i}: pgha first in odd ones, Patroni first in even ones. */
    private static List<Target> turns(Targets all, int i) {
        List<Target> order = new ArrayList<>(all.list());
        if (i % 2 == 0) {
            Collections.reverse(order);
        }
        return order;
    }

    private String label(Target c, int i) {
        return againstPatroni ? String.format(Locale.ROOT, "#%d %-7s", i, c.system()) : "#" + i;
    }

    private void hostLoss() throws Exception {
        section(againstPatroni
                ? "host loss: the primary's agent (pgha: and its guard; Patroni: its process) and postmaster SIGKILLed together"
                : "host loss: agent, guard and postmaster of the primary SIGKILLed together");
        try (Targets all = clusters(300)) {
            start(all);
            for (int i = 1; i <= repetitions; i++) {
                for (Target c : turns(all, i)) {
                    hostLoss(c, i);
                }
            }
        }
    }

    private void hostLoss(Target c, int i) throws Exception {
        String leader = healthy(c);
        pause(loopWait * 1500L);   // a settled cycle rhythm before the fault
        List<String> others = c.names().stream().filter(n -> !n.equals(leader)).toList();
        try (InsertProbe probe = new InsertProbe(c, others)) {
            long killMillis = System.currentTimeMillis();
            long t0 = System.nanoTime();
            c.killHost(leader);
            double lease = remainingLease(c, leader, killMillis);
            String winner = probe.await();
            double seconds = (probe.acceptedAt() - t0) / 1e9;
            out.printf(Locale.ROOT, "  %s %s lost, %s accepted an INSERT after %.2f s (lease left at the "
                    + "kill %.2f s: %.2f s above that floor)%n", label(c, i), leader, winner, seconds, lease, seconds - lease);
            add(c, "host loss: fault -> INSERT accepted elsewhere (s)", seconds);
            add(c, "host loss: lease left at the kill (s)", lease);
            add(c, "host loss: above the lease floor (s)", seconds - lease);
        }
        c.startAgent(leader);   // the host comes back: pg_rewind, then it streams again
    }

    /**
     * pgha only (Patroni's watchdog needs a device): the primary's agent JVM frozen (SIGSTOP) with its
     * PostgreSQL running. Its guard must stop PostgreSQL before the lease runs out, so that the old
     * primary refuses writes before another member accepts any; a {@link WriteSampler} asks every
     * server for a write every 20 ms and any overlap fails the bench.
     */
    private void frozenAgent() throws Exception {
        section("frozen primary agent (SIGSTOP; pgha only): the old primary must refuse writes before another "
                + "member accepts any");
        try (Targets all = new Targets().add(new PghaTarget(cluster(300)))) {
            start(all);
            PghaTarget c = (PghaTarget) all.list().get(0);
            for (int i = 1; i <= repetitions; i++) {
                String leader = healthy(c);
                pause(loopWait * 1500L);
                try (WriteSampler sampler = c.cluster.sampler(20).start()) {
                    long t0 = System.nanoTime();
                    c.cluster.freezeAgent(leader);
                    await("another member accepts writes", () -> c.leader()
                            .filter(l -> !l.equals(leader) && sampler.firstWritable(l, t0) != null).isPresent());
                    String promoted = c.leader().orElseThrow();
                    long writable = sampler.firstWritable(promoted, t0);
                    Long refused = sampler.firstRefused(leader, t0);
                    Long lastOld = sampler.lastWritable(leader);
                    if (refused == null || refused > writable || (lastOld != null && lastOld > writable)
                            || !sampler.overlaps().isEmpty()) {
                        throw new IllegalStateException("two writable primaries: " + leader + " refused writes at "
                                + refused + ", last writable at " + lastOld + "; " + promoted + " writable at " + writable
                                + "; overlaps " + sampler.overlaps());
                    }
                    double refusedAfter = (refused - t0) / 1e9;
                    double acceptedAfter = (writable - t0) / 1e9;
                    out.printf(Locale.ROOT, "  #%d %s frozen: it refused writes after %.2f s, %s accepted writes after "
                            + "%.2f s (%.2f s later); no overlap in %d samples%n", i, leader, refusedAfter, promoted,
                            acceptedAfter, acceptedAfter - refusedAfter, sampler.samples().size());
                    add(c, "frozen agent: old primary refuses writes (s)", refusedAfter);
                    add(c, "frozen agent: another member accepts writes (s)", acceptedAfter);
                }
                c.cluster.thawAgent(leader);   // it finds the lock gone and rejoins as a replica
            }
        }
    }

    private void postmasterCrash(int primaryStartTimeout) throws Exception {
        section("postmaster crash (SIGKILL, agent alive), primary_start_timeout " + primaryStartTimeout);
        try (Targets all = clusters(primaryStartTimeout)) {
            start(all);
            for (int i = 1; i <= repetitions; i++) {
                for (Target c : turns(all, i)) {
                    postmasterCrash(c, i, primaryStartTimeout > 0);
                }
            }
        }
    }

    private void postmasterCrash(Target c, int i, boolean inPlace) throws Exception {
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
            out.printf(Locale.ROOT, "  %s %s's postmaster killed, %s accepted an INSERT after %.2f s%n", label(c, i),
                    leader, winner, seconds);
            add(c, inPlace ? "postmaster crash, restart in place -> INSERT (s)"
                    : "postmaster crash, failover -> INSERT elsewhere (s)", seconds);
        }
    }

    private void switchover() throws Exception {
        section(againstPatroni
                ? "planned switchover (command start -> the candidate accepts an INSERT; the command's own duration)"
                : "planned switchover (ClusterAdmin request -> the candidate accepts an INSERT)");
        try (Targets all = clusters(300)) {
            start(all);
            if (againstPatroni) {
                all.list().forEach(Target::prepareCommands);
            }
            for (int i = 1; i <= repetitions; i++) {
                for (Target c : turns(all, i)) {
                    switchover(c, i);
                }
            }
        }
    }

    private void switchover(Target c, int i) throws Exception {
        String leader = healthy(c);
        pause(loopWait * 1500L);
        String candidate = c.names().stream().filter(n -> !n.equals(leader)).findFirst().orElseThrow();
        try (InsertProbe probe = new InsertProbe(c, List.of(candidate))) {
            if (!againstPatroni) {
                AgentCluster ac = ((PghaTarget) c).cluster;
                AgentSettings settings = AgentSettings.load(ac.settingsFile(leader), false);
                long t0 = System.nanoTime();
                ActionResult r = ClusterAdmin.of(settings.ha(), ac.dcs()).switchover(leader, candidate, null);
                if (!r.accepted()) {
                    throw new IllegalStateException("switchover refused: " + r.message());
                }
                probe.await();
                double seconds = (probe.acceptedAt() - t0) / 1e9;
                out.printf(Locale.ROOT, "  #%d %s -> %s: the candidate accepted an INSERT after %.2f s%n", i, leader,
                        candidate, seconds);
                add(c, "switchover: request -> INSERT on the candidate (s)", seconds);
                return;
            }
            AtomicLong exitedAt = new AtomicLong();
            int done = count(c.commandLog(), "Successfully switched over");
            long t0 = System.nanoTime();
            Process command = c.startSwitchover(leader, candidate);
            command.onExit().thenRun(() -> exitedAt.set(System.nanoTime()));
            probe.await();
            if (!command.waitFor(STEP_LIMIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)) {
                command.destroyForcibly();
                throw new IllegalStateException(c.system() + ": the switchover command did not end");
            }
            await("the exit time of the switchover command", () -> exitedAt.get() != 0);
            // patronictl exits 0 also when the REST API refused ("Switchover failed, details: ...")
            if (command.exitValue() != 0 || count(c.commandLog(), "Successfully switched over") != done + 1) {
                throw new IllegalStateException(c.system() + ": the switchover command exited with " + command.exitValue()
                        + ":\n" + c.commandLog());
            }
            double seconds = (probe.acceptedAt() - t0) / 1e9;
            double duration = (exitedAt.get() - t0) / 1e9;
            out.printf(Locale.ROOT, "  %s %s -> %s: the candidate accepted an INSERT after %.2f s, the command took %.2f s%n",
                    label(c, i), leader, candidate, seconds, duration);
            add(c, "switchover: command -> INSERT on the candidate (s)", seconds);
            add(c, "switchover: the command's duration (s)", duration);
        }
    }

    /**
     * What synchronous replication costs a writer: one client inserting through the multi-host
     * connection, committing each row, for {@code idle-seconds / 3} per mode and repetition; the
     * median and 99th percentile of its commits, asynchronous and with {@code synchronous_mode} on.
     * pgha only, also with {@code --against patroni}.
     */
    private void commitLatency() throws Exception {
        section("commit latency of one writer: asynchronous, then synchronous_mode on" + (againstPatroni ? " (pgha only)" : ""));
        PghaTarget t = new PghaTarget(cluster(300));
        try (Targets all = new Targets().add(t)) {
            AgentCluster c = t.cluster;
            start(all);
            exec(t, healthy(t), "CREATE TABLE bench_commits (v bigint PRIMARY KEY)");
            ClusterAdmin admin = ClusterAdmin.of(AgentSettings.load(c.settingsFile(c.names().get(0)), false).ha(), c.dcs());
            long window = Math.max(3, idleSeconds / 3) * 1000L;
            for (int i = 1; i <= repetitions; i++) {
                for (boolean sync : List.of(false, true)) {
                    admin.patchConfig(java.util.Map.of("synchronous_mode", sync));
                    await(sync ? "a synchronous standby published" : "the sync key gone", () -> {
                        var key = c.view().sync();
                        return sync ? key != null && !key.syncStandbys().isEmpty() : key == null;
                    });
                    String leader = healthy(t);
                    exec(t, leader, "TRUNCATE bench_commits");
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
                        add(t, "commit latency, " + mode + ", median (ms)", p50);
                        add(t, "commit latency, " + mode + ", p99 (ms)", p99);
                    }
                }
            }
        }
    }

    /**
     * A healthy idle cluster of each system (side by side with {@code --against patroni}, one
     * window for both): etcd's received gRPC messages, each agent process's CPU time (its own
     * utime + stime: pgha's guard and Patroni's short-lived helpers not counted) per cycle, for
     * the leader and the replicas, and its resident memory, sampled every second.
     */
    private void idle() throws Exception {
        section("healthy idle cluster, " + idleSeconds + " s after " + Math.max(3, warmUpSeconds) + " s of warm-up");
        try (Targets all = clusters(300)) {
            start(all);
            Map<Target, String> leaders = new LinkedHashMap<>();
            for (Target c : all.list()) {
                leaders.put(c, healthy(c));
            }
            // the JVM's compilers are done with the cycle's code only after some hundred cycles
            pause(Math.max(3, warmUpSeconds) * 1000L);
            Map<Target, Map<String, Long>> before = new LinkedHashMap<>();
            Map<String, Long> cpuBefore = new LinkedHashMap<>();
            Map<String, Integer> cyclesBefore = new LinkedHashMap<>();
            for (Target c : all.list()) {
                before.put(c, etcdMessages(c.metricsUrl()));
                for (String n : c.names()) {
                    cpuBefore.put(c.system() + n, cpuTicks(c.agentPid(n)));
                    cyclesBefore.put(c.system() + n, c.cycles(n));
                }
            }
            Map<Target, List<Long>> rss = new LinkedHashMap<>();
            long end = System.nanoTime() + Duration.ofSeconds(idleSeconds).toNanos();
            while (System.nanoTime() - end < 0) {
                for (Target c : all.list()) {
                    for (String n : c.names()) {
                        rss.computeIfAbsent(c, k -> new ArrayList<>()).add(residentKb(c.agentPid(n)));
                    }
                }
                pause(1000);
            }
            for (Target c : all.list()) {
                Map<String, Long> after = etcdMessages(c.metricsUrl());
                int totalCycles = 0;
                for (String n : c.names()) {
                    int cycles = c.cycles(n) - cyclesBefore.get(c.system() + n);
                    totalCycles += cycles;
                    long ticks = cpuTicks(c.agentPid(n)) - cpuBefore.get(c.system() + n);
                    double ms = ticks * 1000.0 / 100 / Math.max(1, cycles);   // USER_HZ is 100 on Linux
                    boolean isLeader = n.equals(leaders.get(c));
                    add(c, "agent CPU per cycle (ms)", ms);
                    add(c, isLeader ? "agent CPU per cycle, leader (ms)" : "agent CPU per cycle, replica (ms)", ms);
                    out.printf(Locale.ROOT, "  %s%s (%s): %d cycles, %.2f ms CPU per cycle%n",
                            againstPatroni ? c.system() + " " : "", n, isLeader ? "leader" : "replica", cycles, ms);
                }
                rss.get(c).forEach(kb -> add(c, "agent resident memory (MiB)", kb / 1024.0));
                long requests = 0;
                StringBuilder byMethod = new StringBuilder();
                for (Map.Entry<String, Long> e : after.entrySet()) {
                    long d = e.getValue() - before.get(c).getOrDefault(e.getKey(), 0L);
                    if (d > 0) {
                        requests += d;
                        byMethod.append(String.format(Locale.ROOT, " %s %.2f", e.getKey(), d / (double) totalCycles));
                    }
                }
                double perCycle = requests / (double) Math.max(1, totalCycles);
                out.printf(Locale.ROOT, "  %setcd received %d gRPC messages in %d member-cycles: %.2f per member per cycle "
                        + "(%s)%n", againstPatroni ? c.system() + "'s " : "", requests, totalCycles, perCycle,
                        byMethod.toString().strip());
                add(c, "etcd requests per member per cycle", perCycle);
            }
        }
    }

    /** What the bench does to a cluster of either system. */
    private interface Target {
        String system();

        List<String> names();

        void startAll();

        void startAgent(String name);

        Optional<String> leader();

        boolean isHealthyWithLeader(String leader);

        Connection connect(String name) throws SQLException;

        void execute(String name, String sql) throws SQLException;

        List<String> query(String name, String sql);

        void killHost(String name);

        long killPostmaster(String name);

        Optional<Long> postmasterPid(String name);

        String log(String name);

        /** The line a leader logs after a cycle that renewed its key: group 1 its time, group 2 the member. */
        Pattern leaderLine();

        /** The cycles {@code name} logged so far. */
        int cycles(String name);

        /** The agent process of {@code name} (pgha's JVM, Patroni's Python process). */
        long agentPid(String name);

        /** etcd's {@code /metrics}. */
        String metricsUrl();

        /** Starts the switchover command, output to {@link #commandLog}. */
        Process startSwitchover(String leader, String candidate);

        /** Gets the switchover command ready before it is timed (pgha: unpacks the distribution, if any). */
        default void prepareCommands() {
        }

        String commandLog();

        void close();
    }

    /** pgha's cluster: {@link AgentCluster}. */
    private static final class PghaTarget implements Target {
        final AgentCluster cluster;
        private Path launcher;

        PghaTarget(AgentCluster cluster) {
            this.cluster = cluster;
        }

        @Override public String system() {
            return PGHA;
        }

        @Override public List<String> names() {
            return cluster.names();
        }

        @Override public void startAll() {
            cluster.startAll();
        }

        @Override public void startAgent(String name) {
            cluster.startAgent(name);
        }

        @Override public Optional<String> leader() {
            return cluster.leader();
        }

        @Override public boolean isHealthyWithLeader(String leader) {
            return cluster.isHealthyWithLeader(leader);
        }

        @Override public Connection connect(String name) throws SQLException {
            return cluster.connect(name);
        }

        @Override public void execute(String name, String sql) throws SQLException {
            cluster.execute(name, sql);
        }

        @Override public List<String> query(String name, String sql) {
            return cluster.query(name, sql);
        }

        @Override public void killHost(String name) {
            cluster.killHost(name);
        }

        @Override public long killPostmaster(String name) {
            return cluster.killPostmaster(name);
        }

        @Override public Optional<Long> postmasterPid(String name) {
            return cluster.postmasterPid(name);
        }

        @Override public String log(String name) {
            return cluster.log(name);
        }

        @Override public Pattern leaderLine() {
            return LEADER_LINE;
        }

        @Override public int cycles(String name) {
            return count(log(name), "(?m) INFO pgha\\." + Pattern.quote(name) + " - ");
        }

        @Override public long agentPid(String name) {
            return cluster.agent(name).pid();
        }

        @Override public String metricsUrl() {
            return cluster.etcd().endpoint(0) + "/metrics";
        }

        /**
         * The distribution that {@code -Dpgha.dist} names (bench.sh passes the one it built),
         * unpacked into the cluster's directory, and one {@code bin/pgha list} run, so that the
         * timed command runs as installed: its first run archives the classes it loads (class data
         * sharing, see bin/pgha), as an installed pgha's first command does.
         */
        @Override public void prepareCommands() {
            String dist = System.getProperty("pgha.dist");
            if (dist == null || dist.isEmpty()) {
                return;
            }
            try {
                Path home = Files.createDirectories(cluster.base().resolve("dist"));
                run(List.of("tar", "-xzf", dist, "-C", home.toString(), "--strip-components=1"));
                launcher = home.resolve("bin/pgha");
                run(List.of(launcher.toString(), "list", cluster.settingsFile(cluster.names().get(0)).toString()));
            } catch (IOException | InterruptedException e) {
                throw new IllegalStateException("cannot prepare the distribution " + dist + ": " + e, e);
            }
        }

        private void run(List<String> command) throws IOException, InterruptedException {
            ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(commandLogFile().toFile()));
            pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
            Process p = pb.start();
            if (!p.waitFor(STEP_LIMIT.toSeconds(), java.util.concurrent.TimeUnit.SECONDS) || p.exitValue() != 0) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", command) + " failed:\n" + commandLog());
            }
        }

        /**
         * {@code bin/pgha switchover <settings> --leader L --candidate C} of the distribution
         * ({@link #prepareCommands}), or without one {@code Agent switchover} in a JVM started as
         * the agents' are.
         */
        @Override public Process startSwitchover(String leader, String candidate) {
            List<String> args = List.of("switchover", cluster.settingsFile(leader).toString(), "--leader", leader,
                    "--candidate", candidate);
            List<String> command = new ArrayList<>();
            if (launcher != null) {
                command.add(launcher.toString());
                command.addAll(args);
            } else {
                command.addAll(AgentCluster.agentCommand(args.toArray(String[]::new)));
            }
            try {
                ProcessBuilder pb = new ProcessBuilder(command)
                        .directory(cluster.base().toFile()).redirectErrorStream(true)
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                        .redirectOutput(ProcessBuilder.Redirect.appendTo(commandLogFile().toFile()));
                pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
                return pb.start();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot start the switchover command", e);
            }
        }

        private Path commandLogFile() {
            return cluster.base().resolve("switchover.log");
        }

        @Override public String commandLog() {
            try {
                return Files.exists(commandLogFile()) ? Files.readString(commandLogFile()) : "";
            } catch (IOException e) {
                return "(" + e + ")";
            }
        }

        @Override public void close() {
            cluster.close();
        }
    }

    /** Patroni's cluster: {@link PatroniCluster}. */
    private static final class PatroniTarget implements Target {
        final PatroniCluster cluster;

        PatroniTarget(PatroniCluster cluster) {
            this.cluster = cluster;
        }

        @Override public String system() {
            return PATRONI;
        }

        @Override public List<String> names() {
            return cluster.names();
        }

        @Override public void startAll() {
            cluster.startAll();
        }

        @Override public void startAgent(String name) {
            cluster.startAgent(name);
        }

        @Override public Optional<String> leader() {
            return cluster.leader();
        }

        @Override public boolean isHealthyWithLeader(String leader) {
            return cluster.isHealthyWithLeader(leader);
        }

        @Override public Connection connect(String name) throws SQLException {
            return cluster.connect(name);
        }

        @Override public void execute(String name, String sql) throws SQLException {
            cluster.execute(name, sql);
        }

        @Override public List<String> query(String name, String sql) {
            return cluster.query(name, sql);
        }

        @Override public void killHost(String name) {
            cluster.killHost(name);
        }

        @Override public long killPostmaster(String name) {
            return cluster.killPostmaster(name);
        }

        @Override public Optional<Long> postmasterPid(String name) {
            return cluster.postmasterPid(name);
        }

        @Override public String log(String name) {
            return cluster.log(name);
        }

        @Override public Pattern leaderLine() {
            return PATRONI_LEADER_LINE;
        }

        /** Patroni logs one "no action. I am (...)" line per cycle of a healthy cluster. */
        @Override public int cycles(String name) {
            return count(log(name), "(?m) INFO: no action\\. I am \\(" + Pattern.quote(name) + "\\)");
        }

        @Override public long agentPid(String name) {
            return cluster.agentPid(name).orElseThrow(() -> new IllegalStateException("Patroni of " + name
                    + " does not run"));
        }

        @Override public String metricsUrl() {
            return cluster.etcd().endpoint(0) + "/metrics";
        }

        @Override public Process startSwitchover(String leader, String candidate) {
            return cluster.startSwitchover(leader, candidate);
        }

        @Override public String commandLog() {
            return cluster.switchoverLog();
        }

        @Override public void close() {
            cluster.close();
        }
    }

    /** The clusters of a section, closed together (each one's close kills and deletes everything it started). */
    private static final class Targets implements AutoCloseable {
        private final List<Target> list = new ArrayList<>();

        Targets add(Target t) {
            list.add(t);
            return this;
        }

        List<Target> list() {
            return list;
        }

        @Override
        public void close() {
            RuntimeException first = null;
            for (Target t : list) {
                try {
                    t.close();
                } catch (RuntimeException e) {
                    first = first == null ? e : first;
                }
            }
            if (first != null) {
                throw first;
            }
        }
    }

    /** Tries an INSERT on each target in its own thread until one succeeds. */
    private static final class InsertProbe implements AutoCloseable {
        private final Target c;
        private final List<Thread> threads = new ArrayList<>();
        private final AtomicLong acceptedAt = new AtomicLong();
        private volatile String winner;
        private volatile boolean stopped;

        InsertProbe(Target c, List<String> targets) {
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
    private double remainingLease(Target c, String leader, long killMillis) {
        Matcher m = c.leaderLine().matcher(c.log(leader));
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

    private static int count(String log, String regex) {
        Matcher m = Pattern.compile(regex).matcher(log);
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
    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }

    private static long residentKb(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        return 0;
    }

    private static String patroniVersion() {
        try {
            Process p = new ProcessBuilder(PatroniCluster.PATRONI, "--version").redirectErrorStream(true).start();
            return new String(p.getInputStream().readAllBytes()).strip().replace("patroni ", "Patroni ");
        } catch (IOException e) {
            return "Patroni ?";
        }
    }

    private static String postgresVersion() {
        try {
            Process p = new ProcessBuilder("pg_config", "--version").redirectErrorStream(true).start();
            return new String(p.getInputStream().readAllBytes()).strip().replace("PostgreSQL ", "");
        } catch (IOException e) {
            return "?";
        }
    }

    private void add(Target system, String figure, double value) {
        figures.computeIfAbsent(figure, k -> new LinkedHashMap<>())
                .computeIfAbsent(system.system(), k -> new ArrayList<>()).add(value);
    }

    private static double median(List<Double> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private void section(String title) {
        out.println();
        out.println(title);
    }

    private static void exec(Target c, String node, String sql) {
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
