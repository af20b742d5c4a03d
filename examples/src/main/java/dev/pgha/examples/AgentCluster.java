package dev.pgha.examples;

import dev.pgha.agent.Agent;
import dev.pgha.agent.AgentSettings;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.SlotNames;
import dev.pgha.dcs.DcsClient;
import dev.pgha.dcs.DcsException;
import dev.pgha.dcs.etcd.EtcdDcsClient;
import dev.pgha.testing.EtcdServer;
import dev.pgha.testing.TempPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * A cluster of pgha agents on this machine, the way a user runs pgha: one real etcd server and,
 * per member, an {@link Agent} in its own JVM with its own real PostgreSQL — all on free loopback
 * ports under one temp directory, and all killed and deleted by {@link #close()}. Tests and the
 * failover bench use it to do to a member what happens to hosts: {@link #killHost} (agent, guard
 * and postmaster SIGKILLed together), {@link #killPostmaster} (a PostgreSQL crash under a live
 * agent), {@link #freezeAgent} (SIGSTOP: a frozen JVM, its guard still running) and
 * {@link #stopAgent} (SIGTERM: a planned stop).
 *
 * <p>The agents are started with this JVM's own {@code java} and class path, so the class path
 * must hold pgha-examples and its dependencies (true in its tests and in {@code scripts/bench.sh}).
 */
public final class AgentCluster implements AutoCloseable {

    private static final Duration STOP_LIMIT = Duration.ofSeconds(60);

    private final String scope;
    private final Map<String, Map<String, String>> settings;
    private final TempPostgres tmp;
    private final EtcdServer etcd;
    private final DcsClient observer;
    private final Map<String, Process> agents = new TreeMap<>();
    private final Map<String, Integer> ports = new TreeMap<>();
    private final Map<String, Integer> restPorts = new TreeMap<>();

    private AgentCluster(Builder b) {
        this.scope = b.scope;
        this.tmp = TempPostgres.create();
        try {
            this.etcd = EtcdServer.start();
        } catch (RuntimeException e) {
            tmp.close();
            throw e;
        }
        this.settings = new LinkedHashMap<>();
        try {
            Path suPw = tmp.base().resolve("superuser.pw");
            Files.writeString(suPw, TempPostgres.SUPERUSER_PASSWORD + "\n");
            for (String name : b.names) {
                int port = TempPostgres.freePort();
                ports.put(name, port);
                Path dir = tmp.base().resolve(name);
                Map<String, String> s = new LinkedHashMap<>();
                s.put("scope", scope);
                s.put("name", name);
                s.put("dcs.type", "etcd");
                s.put("etcd.hosts", etcd.hosts());
                s.put("ttl", "10");
                s.put("loop_wait", "1");
                s.put("retry_timeout", "3");
                s.put("shutdown_timeout", "60");
                s.put("postgresql.use_pg_rewind", "true");
                s.put("postgresql.data_dir", dir.resolve("data").toString());
                s.put("postgresql.work_dir", dir.resolve("work").toString());
                s.put("postgresql.port", Integer.toString(port));
                int restPort = TempPostgres.freePort();
                restPorts.put(name, restPort);
                s.put("restapi.listen", "127.0.0.1:" + restPort);
                s.put("postgresql.authentication.superuser.password_file", suPw.toString());
                s.put("postgresql.authentication.replication.password_env", "PGHA_REPLICATION_PASSWORD");
                s.put("postgresql.parameters.fsync", "off");
                s.put("postgresql.parameters.shared_buffers", "16MB");
                s.put("bootstrap.dcs.postgresql.parameters.max_connections", "30");
                s.putAll(b.common);
                s.putAll(b.perMember.getOrDefault(name, Map.of()));
                settings.put(name, s);
            }
            this.observer = EtcdDcsClient.builder().endpoints(etcd.endpoints()).scope(scope)
                    .member("pgha-observer").retryTimeout(Duration.ofSeconds(3))
                    // idle between reads and without a watch: etcd answers pings every 5 s without a
                    // stream with GOAWAY (too_many_pings)
                    .grpcKeepalive(Duration.ofSeconds(30), Duration.ofSeconds(5)).build();
        } catch (IOException | RuntimeException e) {
            etcd.close();
            tmp.close();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    /** A cluster of members {@code node1..node3} in scope {@code agents}, with ttl 10, loop_wait 1, retry_timeout 3. */
    public static Builder builder() {
        return new Builder();
    }

    /** The members' names. */
    public List<String> names() {
        return List.copyOf(settings.keySet());
    }

    /** The cluster's scope. */
    public String scope() {
        return scope;
    }

    /** The etcd server. */
    public EtcdServer etcd() {
        return etcd;
    }

    /** The scratch directory holding every member's files and logs. */
    public Path base() {
        return tmp.base();
    }

    /** The port of {@code name}'s PostgreSQL on 127.0.0.1. */
    public int port(String name) {
        return ports.get(check(name));
    }

    /**
     * The port of {@code name}'s REST API on 127.0.0.1 (its {@code restapi.listen}, unless a test
     * overrode that setting).
     */
    public int restPort(String name) {
        return restPorts.get(check(name));
    }

    /** The properties file of {@code name} (written when its agent starts). */
    public Path settingsFile(String name) {
        return tmp.base().resolve(check(name) + ".properties");
    }

    /** Starts the agent of {@code name} (again, after it was killed or stopped); its output goes to {@link #log}. */
    public synchronized void startAgent(String name) {
        Process old = agents.get(check(name));
        if (old != null && old.isAlive()) {
            throw new IllegalStateException("the agent of " + name + " is running");
        }
        try {
            Path file = settingsFile(name);
            StringBuilder text = new StringBuilder();
            settings.get(name).forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
            Files.writeString(file, text.toString());
            Path dir = Files.createDirectories(tmp.base().resolve(name));
            Path log = tmp.base().resolve(name + ".log");
            ProcessBuilder pb = new ProcessBuilder(agentCommand(file.toString()))
                    .directory(dir.toFile())   // so TempPostgres' clean-up finds it by its working directory
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().putAll(Agent.ENVIRONMENT);
            pb.environment().put("PGHA_REPLICATION_PASSWORD", TempPostgres.REPLICATION_PASSWORD);
            agents.put(name, pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the agent of " + name, e);
        }
    }

    /**
     * The command that runs {@link Agent} with {@code args} in a JVM of its own, as the cluster's
     * agents run: this JVM's {@code java} and class path, {@link Agent#JVM_OPTIONS}.
     */
    public static List<String> agentCommand(String... args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(Agent.JVM_OPTIONS);
        command.addAll(List.of("-cp", absoluteClassPath(), Agent.class.getName()));
        command.addAll(List.of(args));
        return command;
    }

    /** This JVM's class path with every entry absolute (the agents run in their own directories). */
    private static String absoluteClassPath() {
        List<String> entries = new ArrayList<>();
        for (String e : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            if (!e.isEmpty()) {
                entries.add(Path.of(e).toAbsolutePath().toString());
            }
        }
        return String.join(java.io.File.pathSeparator, entries);
    }

    /** Starts every member's agent. */
    public void startAll() {
        names().forEach(this::startAgent);
    }

    /** The agent process of {@code name}, or null if never started. */
    public synchronized Process agent(String name) {
        return agents.get(check(name));
    }

    /** What the agent of {@code name} printed so far (all its runs). */
    public String log(String name) {
        try {
            Path f = tmp.base().resolve(check(name) + ".log");
            return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Waits for {@code condition} (polled every 20 ms) up to {@code limit}; when it does not come,
     * fails naming it, with the last 100 lines each agent printed (a line repeating the one before,
     * but for its time stamp, left out).
     */
    public void await(String what, Duration limit, BooleanSupplier condition) {
        try {
            TempPostgres.until(what, limit, condition);
        } catch (AssertionError e) {
            StringBuilder logs = new StringBuilder(e.getMessage());
            for (String n : names()) {
                List<String> kept = new ArrayList<>();
                String previous = "";
                for (String line : log(n).split("\n")) {
                    String text = line.replaceFirst("^\\S+ \\S+ ", "");
                    if (!text.equals(previous)) {
                        kept.add(line);
                    }
                    previous = text;
                }
                logs.append("\n--- ").append(n).append(" (last lines, repeats left out)\n");
                kept.subList(Math.max(0, kept.size() - 100), kept.size()).forEach(l -> logs.append(l).append('\n'));
            }
            throw new AssertionError(logs.toString(), e);
        }
    }

    /** The pid of {@code name}'s postmaster from {@code postmaster.pid}, if it has one. */
    public Optional<Long> postmasterPid(String name) {
        Path pidFile = Path.of(settings.get(check(name)).get("postgresql.data_dir"), "postmaster.pid");
        try {
            List<String> lines = Files.readAllLines(pidFile);
            return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * A PostgreSQL crash: SIGKILL to {@code name}'s postmaster (its backends follow it), the agent
     * left running.
     *
     * @return the pid killed
     */
    public long killPostmaster(String name) {
        long pid = postmasterPid(name).orElseThrow(() -> new IllegalStateException(name + " has no postmaster"));
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        return pid;
    }

    /**
     * The loss of {@code name}'s host: its postmaster with every backend, its fencing guard and its
     * agent JVM are SIGKILLed, in that order, with no chance to stop cleanly.
     */
    public synchronized void killHost(String name) {
        List<ProcessHandle> victims = new ArrayList<>();
        postmasterPid(name).flatMap(ProcessHandle::of).ifPresent(pm -> {
            victims.add(pm);
            pm.descendants().forEach(victims::add);
        });
        Process agent = agents.get(check(name));
        if (agent != null) {
            agent.toHandle().descendants().forEach(victims::add);
            victims.add(agent.toHandle());
        }
        victims.forEach(ProcessHandle::destroyForcibly);
        for (ProcessHandle h : victims) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("process " + h.pid() + " of " + name + " did not die", e);
            }
        }
    }

    /** SIGSTOP to {@code name}'s agent JVM only: a frozen host program; PostgreSQL and the guard run on. */
    public void freezeAgent(String name) {
        signal(name, "STOP");
    }

    /** SIGCONT to {@code name}'s agent JVM. */
    public void thawAgent(String name) {
        signal(name, "CONT");
    }

    private void signal(String name, String signal) {
        Process agent = agent(name);
        if (agent == null || !agent.isAlive()) {
            throw new IllegalStateException("the agent of " + name + " is not running");
        }
        signal(agent.pid(), signal);
    }

    /**
     * A replication stall: SIGSTOP to the walsenders on {@code primary} that serve {@code replicas};
     * the primary goes on accepting writes that those replicas do not receive.
     *
     * @return the walsender pids, for {@link #resume}
     */
    public List<Long> pauseWalSenders(String primary, String... replicas) {
        List<Long> pids = new ArrayList<>();
        for (String replica : replicas) {
            List<String> pid = query(primary, "SELECT pid FROM pg_stat_replication WHERE application_name = '"
                    + check(replica) + "'");
            if (pid.isEmpty()) {
                throw new IllegalStateException(primary + " has no walsender for " + replica);
            }
            pids.add(Long.parseLong(pid.get(0)));
        }
        pids.forEach(p -> signal(p, "STOP"));
        return pids;
    }

    /** SIGCONT to processes stopped by {@link #pauseWalSenders} (those still alive). */
    public void resume(List<Long> pids) {
        pids.stream().filter(p -> ProcessHandle.of(p).isPresent()).forEach(p -> signal(p, "CONT"));
    }

    private static void signal(long pid, String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * SIGTERM to {@code name}'s agent, Patroni's graceful shutdown, and waits for it to exit.
     *
     * @return whether it exited within a minute
     */
    public boolean stopAgent(String name) {
        Process agent = agent(name);
        if (agent == null) {
            return true;
        }
        agent.destroy();
        try {
            return agent.waitFor(STOP_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** A client of the cluster's etcd (member name {@code pgha-observer}, which never publishes itself). */
    public DcsClient dcs() {
        return observer;
    }

    /** The cluster as the DCS holds it now. */
    public ClusterView view() {
        return observer.readCluster();
    }

    /** The leader key's holder now, if any (empty also when etcd cannot be read). */
    public Optional<String> leader() {
        try {
            return view().leaderName();
        } catch (DcsException e) {
            return Optional.empty();
        }
    }

    /** A new superuser connection to {@code name}'s PostgreSQL, database {@code postgres}. */
    public Connection connect(String name) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", TempPostgres.SUPERUSER_PASSWORD);
        p.setProperty("connectTimeout", "2");
        p.setProperty("socketTimeout", "10");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port(name) + "/postgres", p);
    }

    /** Runs a statement on {@code name}. */
    public void execute(String name, String sql) throws SQLException {
        try (Connection c = connect(name); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** The first column of every row {@code sql} returns on {@code name}, as text; empty when it cannot be asked. */
    public List<String> query(String name, String sql) {
        List<String> out = new ArrayList<>();
        try (Connection c = connect(name); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        } catch (SQLException e) {
            return List.of();
        }
        return out;
    }

    /** Whether {@code name} accepts a write now ({@code SELECT txid_current()} succeeds). */
    public boolean acceptsWrites(String name) {
        return !query(name, "SELECT txid_current()").isEmpty();
    }

    /**
     * The timeline {@code name}'s server runs on: a primary's from the WAL file it writes (its last
     * checkpoint may predate the promotion), a replica's from the WAL it receives; -1 when unknown.
     */
    public int timeline(String name) {
        List<String> r = query(name, "SELECT CASE WHEN pg_is_in_recovery() THEN (SELECT received_tli FROM "
                + "pg_stat_wal_receiver) ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int "
                + "END");
        return r.isEmpty() || r.get(0) == null ? -1 : Integer.parseInt(r.get(0));
    }

    /**
     * The replicas streaming from {@code primary} through their own member slot: the
     * {@code application_name}s of {@code pg_stat_replication} rows in state {@code streaming}
     * whose walsender is the active process of the slot named after the member.
     */
    public List<String> streamingThroughSlots(String primary) {
        List<String> pairs = query(primary, "SELECT r.application_name || ' ' || s.slot_name FROM pg_stat_replication r "
                + "JOIN pg_replication_slots s ON s.active_pid = r.pid "
                + "WHERE r.state = 'streaming' AND s.slot_type = 'physical' ORDER BY 1");
        List<String> out = new ArrayList<>();
        for (String pair : pairs) {
            String[] p = pair.split(" ", 2);
            if (p.length == 2 && p[1].equals(SlotNames.fromMemberName(p[0]))) {
                out.add(p[0]);
            }
        }
        return out;
    }

    /**
     * Whether the cluster is whole: {@code leader} holds the key and accepts writes, every other
     * member streams from it through its slot, and the member keys say so (running replicas with a
     * timeline: what the members judge failover candidates by).
     */
    public boolean isHealthyWithLeader(String leader) {
        List<String> others = names().stream().filter(n -> !n.equals(leader)).toList();
        ClusterView view;
        try {
            view = view();
        } catch (DcsException e) {
            return false;
        }
        boolean published = view.leaderName().filter(leader::equals).isPresent()
                && others.stream().allMatch(n -> view.member(n)
                        .filter(m -> m.isRunning() && !m.isPrimaryRole() && m.timeline() != null).isPresent());
        return published && acceptsWrites(leader) && streamingThroughSlots(leader).containsAll(others);
    }

    /** A sampler over every member's server (superuser connections), not yet started. */
    public WriteSampler sampler(long intervalMillis) {
        Map<String, IntSupplier> p = new TreeMap<>();
        ports.forEach((n, port) -> p.put(n, () -> port));
        return new WriteSampler(p, "postgres", TempPostgres.SUPERUSER_PASSWORD, intervalMillis);
    }

    private String check(String name) {
        if (!settings.containsKey(name)) {
            throw new IllegalArgumentException("no member " + name + " (members: " + settings.keySet() + ")");
        }
        return name;
    }

    /**
     * Kills every agent (SIGKILL, frozen ones too), every process working under the scratch
     * directory (postmasters, guards), stops etcd and deletes the directory.
     */
    @Override
    public synchronized void close() {
        for (Process p : agents.values()) {
            p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : agents.values()) {
            try {
                p.waitFor(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        observer.close();
        tmp.close();
        etcd.close();
    }

    /** How the cluster is set up; every value is an agent setting (see {@link AgentSettings}). */
    public static final class Builder {
        private String scope = "agents";
        private final List<String> names = new ArrayList<>(List.of("node1", "node2", "node3"));
        private final Map<String, String> common = new LinkedHashMap<>();
        private final Map<String, Map<String, String>> perMember = new TreeMap<>();

        private Builder() {
        }

        /** The scope (default {@code agents}). */
        public Builder scope(String value) {
            this.scope = value;
            return this;
        }

        /** The members' names (default node1, node2, node3). */
        public Builder names(List<String> value) {
            names.clear();
            names.addAll(value);
            return this;
        }

        /** A setting for every member, e.g. {@code setting("primary_start_timeout", "0")}. */
        public Builder setting(String key, String value) {
            common.put(key, value);
            return this;
        }

        /** A setting for one member, e.g. {@code setting("node3", "tags.nofailover", "true")}. */
        public Builder setting(String member, String key, String value) {
            perMember.computeIfAbsent(member, k -> new LinkedHashMap<>()).put(key, value);
            return this;
        }

        /** Starts etcd and writes the settings; no agent runs until {@link AgentCluster#startAgent}. */
        public AgentCluster build() {
            return new AgentCluster(this);
        }
    }
}
