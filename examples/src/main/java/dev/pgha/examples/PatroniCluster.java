package dev.pgha.examples;

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

/**
 * A cluster of real Patroni agents on this machine, for comparing pgha with Patroni in the failover
 * bench: one real etcd server and, per member, Patroni ({@code /usr/bin/patroni}, Debian's package)
 * run as the {@code postgres} user through {@code runuser}, with its own real PostgreSQL 15 — all on
 * free loopback ports under one temp directory owned by {@code postgres}, all killed and deleted
 * by {@link #close()} (and by {@link TempPostgres}'s and {@link EtcdServer}'s shutdown hooks on
 * Ctrl-C: every process works under the directory).
 *
 * <p>The members get what {@link AgentCluster} gives pgha's agents: the same PostgreSQL
 * parameters ({@code fsync=off}, {@code shared_buffers=16MB}, {@code max_connections=30} from the
 * DCS, no Unix socket, the cluster-wide ones at Patroni's defaults), the same {@code pg_hba.conf}
 * lines, the same roles and passwords, initdb with UTF8 and locale C, {@code use_pg_rewind} and
 * {@code use_slots} on, and the {@code bootstrap.dcs} values given to the {@link Builder}.
 */
public final class PatroniCluster implements AutoCloseable {

    /** Patroni's executable from Debian's {@code patroni} package (3.0.2 on Debian 12, what this harness is written for). */
    public static final String PATRONI = "/usr/bin/patroni";

    private static final Duration STOP_LIMIT = Duration.ofSeconds(20);

    private final String scope;
    private final List<String> names;
    private final TempPostgres tmp;
    private final EtcdServer etcd;
    private final DcsClient observer;
    private final Map<String, Process> agents = new TreeMap<>();
    private final Map<String, Integer> ports = new TreeMap<>();
    private final Map<String, Integer> restPorts = new TreeMap<>();

    private PatroniCluster(Builder b) {
        if (!Files.isExecutable(Path.of(PATRONI))) {
            throw new IllegalStateException(PATRONI + " not found: install Debian's patroni package "
                    + "(apt-get install --no-install-recommends patroni, or run scripts/deps.sh)");
        }
        this.scope = b.scope;
        this.names = List.copyOf(b.names);
        this.tmp = TempPostgres.create();
        try {
            this.etcd = EtcdServer.start();
        } catch (RuntimeException e) {
            tmp.close();
            throw e;
        }
        try {
            for (String name : names) {
                ports.put(name, TempPostgres.freePort());
                restPorts.put(name, TempPostgres.freePort());
            }
            for (String name : names) {
                Path dir = Files.createDirectories(tmp.base().resolve(name));
                TempPostgres.chown(dir);
                Path yml = configFile(name);
                Files.writeString(yml, yaml(name, dir, b.dcs));
                TempPostgres.chown(yml);
            }
            Files.writeString(patronictlConfig(), "scope: " + scope + "\nnamespace: /service/\netcd3:\n  hosts: "
                    + etcd.hosts() + "\n");
            this.observer = EtcdDcsClient.builder().endpoints(etcd.endpoints()).scope(scope)
                    .member("pgha-observer").retryTimeout(Duration.ofSeconds(3))
                    .grpcKeepalive(Duration.ofSeconds(30), Duration.ofSeconds(5)).build();
        } catch (IOException | RuntimeException e) {
            etcd.close();
            tmp.close();
            throw e instanceof IOException io ? new UncheckedIOException(io) : (RuntimeException) e;
        }
    }

    /** Members {@code node1..node3} in scope {@code patroni}, ttl 10, loop_wait 1, retry_timeout 3. */
    public static Builder builder() {
        return new Builder();
    }

    private String yaml(String name, Path dir, Map<String, String> dcs) {
        int port = ports.get(name);
        int rest = restPorts.get(name);
        StringBuilder y = new StringBuilder();
        y.append("scope: ").append(scope).append('\n')
                .append("namespace: /service/\n")
                .append("name: ").append(name).append('\n')
                .append("log:\n  level: INFO\n")
                .append("restapi:\n  listen: 127.0.0.1:").append(rest).append("\n  connect_address: 127.0.0.1:")
                .append(rest).append('\n')
                .append("etcd3:\n  hosts: ").append(etcd.hosts()).append('\n')
                .append("bootstrap:\n  dcs:\n");
        dcs.forEach((k, v) -> y.append("    ").append(k).append(": ").append(v).append('\n'));
        y.append("    postgresql:\n      use_pg_rewind: true\n      use_slots: true\n")
                .append("      parameters:\n        max_connections: 30\n")
                .append("  initdb:\n  - encoding: UTF8\n  - locale: C\n")
                .append("postgresql:\n")
                .append("  listen: 127.0.0.1:").append(port).append('\n')
                .append("  connect_address: 127.0.0.1:").append(port).append('\n')
                .append("  data_dir: ").append(dir.resolve("data")).append('\n')
                .append("  bin_dir: /usr/lib/postgresql/15/bin\n")
                .append("  pgpass: ").append(dir.resolve("pgpass")).append('\n')
                .append("  authentication:\n")
                .append("    superuser:\n      username: postgres\n      password: '")
                .append(TempPostgres.SUPERUSER_PASSWORD).append("'\n")
                .append("    replication:\n      username: replicator\n      password: '")
                .append(TempPostgres.REPLICATION_PASSWORD).append("'\n")
                .append("  parameters:\n    fsync: 'off'\n    shared_buffers: 16MB\n    unix_socket_directories: ''\n")
                // pgha's default pg_hba.conf lines (ConfigFiles.defaultHba with passwords)
                .append("  pg_hba:\n")
                .append("  - local   all          all                        peer\n")
                .append("  - host    all          all          127.0.0.1/32  scram-sha-256\n")
                .append("  - host    all          all          ::1/128       scram-sha-256\n")
                .append("  - host    replication  replicator   127.0.0.1/32  scram-sha-256\n")
                .append("  - host    replication  replicator   ::1/128       scram-sha-256\n");
        return y.toString();
    }

    /** The members' names. */
    public List<String> names() {
        return names;
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

    /** The port of {@code name}'s REST API on 127.0.0.1. */
    public int restPort(String name) {
        return restPorts.get(check(name));
    }

    /** The Patroni configuration file of {@code name}. */
    public Path configFile(String name) {
        return tmp.base().resolve(check(name) + ".yml");
    }

    /** A patronictl configuration file naming this cluster's etcd, namespace and scope. */
    public Path patronictlConfig() {
        return tmp.base().resolve("patronictl.yml");
    }

    /** Starts Patroni for {@code name} (again, after it was killed); its output goes to {@link #log}. */
    public synchronized void startAgent(String name) {
        Process old = agents.get(check(name));
        if (old != null && old.isAlive()) {
            throw new IllegalStateException("Patroni of " + name + " is running");
        }
        try {
            Path log = tmp.base().resolve(name + ".log");
            ProcessBuilder pb = new ProcessBuilder("runuser", "-u", "postgres", "--", PATRONI,
                    configFile(name).toString())
                    .directory(tmp.base().resolve(name).toFile())   // TempPostgres' clean-up finds it by its working directory
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            agents.put(name, pb.start());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start Patroni for " + name, e);
        }
    }

    /** Starts every member's Patroni. */
    public void startAll() {
        names.forEach(this::startAgent);
    }

    /**
     * The pid of {@code name}'s Patroni process itself (the Python process {@code runuser} forked),
     * or empty when it does not run.
     */
    public synchronized Optional<Long> agentPid(String name) {
        Process p = agents.get(check(name));
        if (p == null || !p.isAlive()) {
            return Optional.empty();
        }
        return p.toHandle().children().filter(h -> h.info().command().map(c -> !c.endsWith("runuser")).orElse(true))
                .map(ProcessHandle::pid).findFirst();
    }

    /** What Patroni of {@code name} printed so far (all its runs). */
    public String log(String name) {
        try {
            Path f = tmp.base().resolve(check(name) + ".log");
            return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The pid of {@code name}'s postmaster from {@code postmaster.pid}, if it has one. */
    public Optional<Long> postmasterPid(String name) {
        Path pidFile = tmp.base().resolve(check(name)).resolve("data").resolve("postmaster.pid");
        try {
            List<String> lines = Files.readAllLines(pidFile);
            return lines.isEmpty() ? Optional.empty() : Optional.of(Long.parseLong(lines.get(0).strip()));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    /**
     * A PostgreSQL crash: SIGKILL to {@code name}'s postmaster only (its backends follow it), Patroni
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
     * The loss of {@code name}'s host: its postmaster with every backend and its Patroni process
     * (with any child it has) are SIGKILLed together, with no chance to stop cleanly; then the
     * {@code runuser} parent, which exits once Patroni has, is awaited.
     */
    public synchronized void killHost(String name) {
        List<ProcessHandle> victims = new ArrayList<>();
        postmasterPid(name).flatMap(ProcessHandle::of).ifPresent(pm -> {
            victims.add(pm);
            pm.descendants().forEach(victims::add);
        });
        Process runuser = agents.get(check(name));
        if (runuser != null) {
            runuser.toHandle().descendants().forEach(victims::add);
        }
        victims.forEach(ProcessHandle::destroyForcibly);
        if (runuser != null) {
            victims.add(runuser.toHandle());
        }
        for (ProcessHandle h : victims) {
            try {
                h.onExit().get(10, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new IllegalStateException("process " + h.pid() + " of " + name + " did not die", e);
            }
        }
    }

    /** The cluster as the DCS holds it now (read with pgha's etcd adapter: Patroni's keys and values). */
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

    /** The replicas streaming from {@code primary} through the slot named after them. */
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
     * member streams from it through its slot and publishes itself as a running replica with a
     * timeline — the same test as {@link AgentCluster#isHealthyWithLeader}.
     */
    public boolean isHealthyWithLeader(String leader) {
        List<String> others = names.stream().filter(n -> !n.equals(leader)).toList();
        ClusterView view;
        try {
            view = view();
        } catch (DcsException e) {
            return false;
        }
        boolean published = view.leaderName().filter(leader::equals).isPresent()
                && others.stream().allMatch(n -> view.member(n)
                        .filter(m -> m.isRunning() && !m.isPrimaryRole() && m.timeline() != null).isPresent());
        return published && !query(leader, "SELECT txid_current()").isEmpty()
                && streamingThroughSlots(leader).containsAll(others);
    }

    /**
     * Starts {@code patronictl -c <config> switchover --leader <leader> --candidate <candidate>
     * --force} (as root: patronictl only talks to etcd and the REST API); standard output and
     * error go to {@code switchover.log} in the scratch directory.
     */
    public Process startSwitchover(String leader, String candidate) {
        try {
            return new ProcessBuilder("patronictl", "-c", patronictlConfig().toString(), "switchover", "--leader",
                    check(leader), "--candidate", check(candidate), "--force")
                    .directory(tmp.base().toFile()).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(tmp.base().resolve("switchover.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start patronictl", e);
        }
    }

    /** What the patronictl commands printed so far. */
    public String switchoverLog() {
        try {
            Path f = tmp.base().resolve("switchover.log");
            return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private String check(String name) {
        if (!names.contains(name)) {
            throw new IllegalArgumentException("no member " + name + " (members: " + names + ")");
        }
        return name;
    }

    /**
     * Kills every Patroni (SIGKILL, with the {@code runuser} parents), every process working under
     * the scratch directory (postmasters, backends), stops etcd and deletes the directory.
     */
    @Override
    public synchronized void close() {
        for (Process p : agents.values()) {
            p.toHandle().descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
        for (Process p : agents.values()) {
            try {
                p.waitFor(STOP_LIMIT.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        observer.close();
        tmp.close();
        etcd.close();
    }

    /** How the cluster is set up. */
    public static final class Builder {
        private String scope = "patroni";
        private final List<String> names = new ArrayList<>(List.of("node1", "node2", "node3"));
        private final Map<String, String> dcs = new LinkedHashMap<>(Map.of("ttl", "10", "loop_wait", "1",
                "retry_timeout", "3"));

        private Builder() {
        }

        /** The scope (default {@code patroni}). */
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

        /**
         * A {@code bootstrap.dcs} value with a plain scalar value, e.g. {@code dcs("primary_start_timeout", "0")}
         * or {@code dcs("maximum_lag_on_failover", "1048576")}.
         */
        public Builder dcs(String key, String value) {
            dcs.put(key, value);
            return this;
        }

        /** Starts etcd and writes the configuration files; no Patroni runs until {@link PatroniCluster#startAgent}. */
        public PatroniCluster build() {
            return new PatroniCluster(this);
        }
    }
}
