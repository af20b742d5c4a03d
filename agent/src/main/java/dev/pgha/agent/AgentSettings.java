package dev.pgha.agent;

import dev.pgha.ClusterSettings;
import dev.pgha.HaConfig;
import dev.pgha.HaConfigException;
import dev.pgha.HaListener;
import dev.pgha.cluster.MemberTags;
import dev.pgha.fencing.PostmasterGuard;
import dev.pgha.postgres.local.Credentials;
import dev.pgha.postgres.local.LocalPostgresConfig;
import dev.pgha.rest.RestSettings;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The agent's settings, read from a properties file with Patroni's names (see the README's
 * table). Passwords are never values in the file: a key {@code ...password_file} names a file
 * whose first line is the password, a key {@code ...password_env} names an environment variable.
 * Every problem is reported as an {@link AgentSettingsException} naming the key.
 *
 * @param scope         the cluster
 * @param name          this member
 * @param dcsType       {@code etcd} or {@code inmemory}
 * @param etcdHosts     etcd endpoints
 * @param namespace     the DCS namespace
 * @param etcdUser      etcd user, or null
 * @param etcdPassword  etcd password, or null
 * @param ha            the HA settings
 * @param postgres      the PostgreSQL settings
 * @param shutdownTimeout how long a graceful shutdown may take before the agent exits anyway
 * @param watchdogMode  fencing with {@link PostmasterGuard}: off, automatic or required
 * @param safetyMargin  how long before the lease deadline the guard fences
 * @param rest          the REST API's settings ({@code restapi.*}); its {@code api_url} is published
 */
public record AgentSettings(String scope, String name, String dcsType, List<String> etcdHosts, String namespace,
                            String etcdUser, String etcdPassword, HaConfig ha, LocalPostgresConfig postgres,
                            Duration shutdownTimeout, PostmasterGuard.Mode watchdogMode, Duration safetyMargin,
                            RestSettings rest) {

    /** Patroni's {@code bootstrap.dcs}: written to the DCS by the member that bootstraps the cluster. */
    static final String DCS = "bootstrap.dcs.";
    /** Parameters for every member, in the DCS. */
    static final String DCS_PARAMETERS = DCS + "postgresql.parameters.";
    /** This member's own PostgreSQL parameters. */
    static final String LOCAL_PARAMETERS = "postgresql.parameters.";
    /**
     * The settings of {@code bootstrap.dcs}, read as {@code bootstrap.dcs.<name>} or, as before,
     * by the bare name.
     */
    static final List<String> DCS_KEYS = List.of("ttl", "loop_wait", "retry_timeout", "primary_start_timeout",
            "maximum_lag_on_failover", "check_timeline", "postgresql.use_pg_rewind", "postgresql.use_slots",
            "member_slots_ttl", "synchronous_mode", "synchronous_mode_strict", "synchronous_node_count",
            "maximum_lag_on_syncnode");
    private static final List<String> PREFIXES = List.of(LOCAL_PARAMETERS, DCS_PARAMETERS, "tags.");
    /** Every key this file may hold, with its default ("" when none); prefixes end with a dot. */
    static final Map<String, String> KEYS = keys();

    private static Map<String, String> keys() {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("scope", "");
        k.put("name", "");
        k.put("namespace", "/service");
        k.put("dcs.type", "etcd");
        k.put("etcd.hosts", "127.0.0.1:2379");
        k.put("etcd.username", "");
        k.put("etcd.password_file", "");
        k.put("etcd.password_env", "");
        k.put("ttl", "30");
        k.put("loop_wait", "10");
        k.put("retry_timeout", "10");
        k.put("primary_start_timeout", "300");
        k.put("maximum_lag_on_failover", "1048576");
        k.put("check_timeline", "true");
        k.put("shutdown_timeout", "120");
        k.put("watchdog.mode", "automatic");
        k.put("watchdog.safety_margin", "5");
        k.put("postgresql.use_slots", "true");
        k.put("member_slots_ttl", "1800");
        k.put("synchronous_mode", "off");
        k.put("synchronous_mode_strict", "false");
        k.put("synchronous_node_count", "1");
        k.put("maximum_lag_on_syncnode", "-1");
        k.put("postgresql.bin_dir", "");
        k.put("postgresql.data_dir", "");
        k.put("postgresql.work_dir", "");
        k.put("postgresql.listen", "127.0.0.1");
        k.put("postgresql.connect_address", "");
        k.put("postgresql.port", "5432");
        k.put("postgresql.os_user", "");
        k.put("postgresql.use_pg_rewind", "false");
        k.put("postgresql.remove_data_directory_on_rewind_failure", "false");
        k.put("postgresql.remove_data_directory_on_diverged_timelines", "false");
        for (String role : List.of("superuser", "replication", "rewind")) {
            k.put("postgresql.authentication." + role + ".username", "");
            k.put("postgresql.authentication." + role + ".password_file", "");
            k.put("postgresql.authentication." + role + ".password_env", "");
        }
        k.put("postgresql.pg_hba", "");
        k.put("postgresql.pg_ctl_timeout", "60");
        k.put("postgresql.stop_timeout", "60");
        k.put("postgresql.connect_timeout", "3");
        for (HaListener.Callback cb : HaListener.Callback.values()) {
            k.put("postgresql.callbacks." + cb.patroniName(), "");
        }
        k.put("restapi.listen", "127.0.0.1:8008");
        k.put("restapi.connect_address", "");
        k.put("restapi.authentication.username", "");
        k.put("restapi.authentication.password_file", "");
        k.put("restapi.authentication.password_env", "");
        k.put("restapi.certfile", "");
        k.put("restapi.keyfile", "");
        k.put("restapi.keyfile_password_file", "");
        k.put("restapi.keyfile_password_env", "");
        k.put("restapi.cafile", "");
        k.put("restapi.verify_client", "none");
        for (String dcs : DCS_KEYS) {
            k.put(DCS + dcs, k.get(dcs));
        }
        return k;
    }

    /** Reads and validates a properties file. */
    public static AgentSettings load(Path file) {
        return load(file, true);
    }

    /**
     * Reads and validates a properties file; without {@code postgresSecrets} the PostgreSQL
     * passwords are not read (for {@code list}, which only talks to the DCS).
     */
    public static AgentSettings load(Path file, boolean postgresSecrets) {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(r);
        } catch (IOException e) {
            throw new AgentSettingsException("(file)", "cannot read " + file + ": " + e.getMessage());
        }
        return parse(p, System::getenv, postgresSecrets);
    }

    /**
     * Validates properties.
     *
     * @param env the environment, for {@code ..._env} keys
     */
    public static AgentSettings parse(Properties p, Function<String, String> env) {
        return parse(p, env, true);
    }

    private static AgentSettings parse(Properties p, Function<String, String> env, boolean postgresSecrets) {
        Set<String> unknown = new TreeSet<>();
        for (String key : p.stringPropertyNames()) {
            if (!KEYS.containsKey(key) && PREFIXES.stream().noneMatch(key::startsWith)) {
                unknown.add(key);
            }
            if (key.endsWith(".password") || key.equals("password")) {
                throw new AgentSettingsException(key, "passwords are not accepted in the file; use "
                        + key + "_file (a file holding it) or " + key + "_env (an environment variable)");
            }
        }
        if (!unknown.isEmpty()) {
            String key = unknown.iterator().next();
            throw new AgentSettingsException(key, "unknown setting (known: " + String.join(", ", KEYS.keySet())
                    + ", postgresql.parameters.<name>, bootstrap.dcs.postgresql.parameters.<name>, tags.<name>)");
        }
        Values r = new Values(p, env, postgresSecrets);
        String scope = r.required("scope");
        String name = r.required("name");
        String dcsType = r.string("dcs.type").toLowerCase(Locale.ROOT);
        if (!dcsType.equals("etcd") && !dcsType.equals("inmemory")) {
            throw new AgentSettingsException("dcs.type", "must be etcd or inmemory, not '" + dcsType + "'");
        }
        List<String> hosts = Arrays.stream(r.string("etcd.hosts").split(",")).map(String::strip)
                .filter(s -> !s.isEmpty()).toList();
        if (dcsType.equals("etcd") && hosts.isEmpty()) {
            throw new AgentSettingsException("etcd.hosts", "at least one host:port is needed");
        }
        String etcdUser = r.optional("etcd.username");
        String etcdPassword = r.secret("etcd");
        if (etcdPassword != null && etcdUser == null) {
            throw new AgentSettingsException("etcd.username", "required when an etcd password is given");
        }

        RestSettings rest = r.rest();
        HaConfig ha;
        try {
            ha = HaConfig.builder().scope(scope).name(name).apiUrl(rest.apiUrl())
                    .ttl(r.seconds(r.dcs("ttl"))).loopWait(r.seconds(r.dcs("loop_wait")))
                    .retryTimeout(r.seconds(r.dcs("retry_timeout")))
                    .primaryStartTimeout(r.seconds(r.dcs("primary_start_timeout")))
                    .maximumLagOnFailover(r.longValue(r.dcs("maximum_lag_on_failover")))
                    .checkTimeline(r.bool(r.dcs("check_timeline")))
                    .usePgRewind(r.bool(r.dcs("postgresql.use_pg_rewind")))
                    .removeDataDirectoryOnRewindFailure(r.bool("postgresql.remove_data_directory_on_rewind_failure"))
                    .removeDataDirectoryOnDivergedTimelines(
                            r.bool("postgresql.remove_data_directory_on_diverged_timelines"))
                    .tags(r.tags())
                    .useSlots(r.bool(r.dcs("postgresql.use_slots")))
                    .memberSlotsTtl(r.seconds(r.dcs("member_slots_ttl")))
                    .synchronousMode(r.synchronousMode(r.dcs("synchronous_mode")))
                    .synchronousModeStrict(r.bool(r.dcs("synchronous_mode_strict")))
                    .synchronousNodeCount(r.intValue(r.dcs("synchronous_node_count")))
                    .maximumLagOnSyncnode(r.longValue(r.dcs("maximum_lag_on_syncnode")))
                    .postgresqlParameters(r.parameters(DCS_PARAMETERS))
                    .build();
        } catch (HaConfigException e) {
            String key = e.field().startsWith("postgresql.parameters") ? DCS + e.field() : r.dcs(e.field());
            throw new AgentSettingsException(key, e.getMessage(), true);
        }

        LocalPostgresConfig pg;
        try {
            LocalPostgresConfig.Builder b = LocalPostgresConfig.builder().scope(scope).name(name)
                    .dataDir(Path.of(r.required("postgresql.data_dir")))
                    .listenAddresses(r.string("postgresql.listen"))
                    .port(r.intValue("postgresql.port"))
                    .startTimeout(r.seconds("postgresql.pg_ctl_timeout"))
                    .stopTimeout(r.seconds("postgresql.stop_timeout"))
                    .connectTimeout(r.seconds("postgresql.connect_timeout"))
                    .superuser(r.credentials("superuser", "postgres"))
                    .replication(r.credentials("replication", "replicator"));
            if (r.optional("postgresql.authentication.rewind.username") != null) {
                b.rewind(r.credentials("rewind", null));
            }
            r.path("postgresql.bin_dir", b::binDir);
            r.path("postgresql.work_dir", b::workDir);
            String connect = r.optional("postgresql.connect_address");
            if (connect != null) {
                b.connectAddress(connect);
            }
            String osUser = r.optional("postgresql.os_user");
            if (osUser == null && isRoot()) {
                osUser = "postgres";
            }
            if (osUser != null) {
                b.osUser(osUser);
            }
            String hba = r.optional("postgresql.pg_hba");
            if (hba != null) {
                b.hbaLines(Arrays.stream(hba.split(";")).map(String::strip).filter(s -> !s.isEmpty()).toList());
            }
            b.parameters(r.parameters(LOCAL_PARAMETERS));
            for (HaListener.Callback cb : HaListener.Callback.values()) {
                String cmd = r.optional("postgresql.callbacks." + cb.patroniName());
                if (cmd != null) {
                    b.callback(cb, cmd);
                }
            }
            pg = b.build();
        } catch (HaConfigException e) {
            throw new AgentSettingsException(e.field(), e.getMessage(), true);
        } catch (AgentSettingsException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new AgentSettingsException("postgresql", e.getMessage());
        }
        return new AgentSettings(scope, name, dcsType, hosts, r.string("namespace"), etcdUser, etcdPassword, ha, pg,
                r.seconds("shutdown_timeout"), r.watchdogMode(), r.seconds("watchdog.safety_margin"), rest);
    }

    /** Whether the JVM runs as root. */
    static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    @Override
    public String toString() {
        return "AgentSettings[scope=" + scope + ", name=" + name + ", dcs=" + dcsType + " " + etcdHosts + "]";
    }

    /** Typed access to the properties, with the defaults of {@link #KEYS}. */
    private static final class Values {
        private final Properties p;
        private final Function<String, String> env;
        private final boolean postgresSecrets;

        Values(Properties p, Function<String, String> env, boolean postgresSecrets) {
            this.p = p;
            this.env = env;
            this.postgresSecrets = postgresSecrets;
        }

        String string(String key) {
            String v = p.getProperty(key);
            return v == null ? KEYS.getOrDefault(key, "") : v.strip();
        }

        /**
         * The key {@code bootstrap.dcs.<name>} if the file gives it, else the bare {@code name}
         * (given or not: its default then); a setting given both ways is refused.
         */
        String dcs(String name) {
            if (!DCS_KEYS.contains(name)) {
                return name;
            }
            boolean full = p.getProperty(DCS + name) != null;
            if (full && p.getProperty(name) != null) {
                throw new AgentSettingsException(DCS + name, "given twice, also as " + name + "; keep one");
            }
            return full ? DCS + name : name;
        }

        /** The PostgreSQL parameters under {@code prefix}, by name, in name order. */
        Map<String, String> parameters(String prefix) {
            Map<String, String> out = new LinkedHashMap<>();
            for (String key : new TreeSet<>(p.stringPropertyNames())) {
                if (key.startsWith(prefix)) {
                    out.put(key.substring(prefix.length()), p.getProperty(key).strip());
                }
            }
            return out;
        }

        String optional(String key) {
            String v = string(key);
            return v.isEmpty() ? null : v;
        }

        String required(String key) {
            String v = optional(key);
            if (v == null) {
                throw new AgentSettingsException(key, "required");
            }
            return v;
        }

        void path(String key, java.util.function.Consumer<Path> into) {
            String v = optional(key);
            if (v != null) {
                into.accept(Path.of(v));
            }
        }

        long longValue(String key) {
            try {
                return Long.parseLong(string(key));
            } catch (NumberFormatException e) {
                throw new AgentSettingsException(key, "'" + string(key) + "' is not a whole number");
            }
        }

        int intValue(String key) {
            long v = longValue(key);
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw new AgentSettingsException(key, "'" + v + "' is out of range");
            }
            return (int) v;
        }

        Duration seconds(String key) {
            try {
                return Duration.ofSeconds(Long.parseLong(string(key)));
            } catch (NumberFormatException e) {
                throw new AgentSettingsException(key, "'" + string(key) + "' is not a whole number of seconds");
            }
        }

        /** Patroni's words for {@code synchronous_mode}: on/true, off/false, quorum. */
        ClusterSettings.SynchronousMode synchronousMode(String key) {
            String v = string(key).toLowerCase(Locale.ROOT);
            return switch (v) {
                case "true", "on", "yes" -> ClusterSettings.SynchronousMode.ON;
                case "false", "off", "no" -> ClusterSettings.SynchronousMode.OFF;
                case "quorum" -> ClusterSettings.SynchronousMode.QUORUM;
                default -> throw new AgentSettingsException(key, "'" + v + "' is not on, off or quorum");
            };
        }

        boolean bool(String key) {
            String v = string(key).toLowerCase(Locale.ROOT);
            return switch (v) {
                case "true", "on", "yes" -> true;
                case "false", "off", "no" -> false;
                default -> throw new AgentSettingsException(key, "'" + v + "' is not true or false");
            };
        }

        /** The password given by {@code <prefix>.password_file} or {@code <prefix>.password_env}, or null. */
        /** The {@code restapi.*} settings; passwords come from files or the environment, as every other. */
        RestSettings rest() {
            try {
                RestSettings.Builder b = RestSettings.builder().listen(string("restapi.listen"))
                        .connectAddress(optional("restapi.connect_address"))
                        .authentication(optional("restapi.authentication.username"), secret("restapi.authentication"))
                        .keyfilePassword(secret("restapi.keyfile"))
                        .verifyClient(RestSettings.VerifyClient.of(string("restapi.verify_client")));
                path("restapi.certfile", b::certfile);
                path("restapi.keyfile", b::keyfile);
                path("restapi.cafile", b::cafile);
                return b.build();
            } catch (HaConfigException e) {
                throw new AgentSettingsException(e.field(), e.getMessage(), true);
            }
        }

        String secret(String prefix) {
            if (!postgresSecrets && prefix.startsWith("postgresql.")) {
                return null;
            }
            String file = optional(prefix + ".password_file");
            String var = optional(prefix + ".password_env");
            if (file != null && var != null) {
                throw new AgentSettingsException(prefix + ".password_file", "give either it or " + prefix
                        + ".password_env, not both");
            }
            if (file != null) {
                try {
                    List<String> lines = Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
                    if (lines.isEmpty() || lines.get(0).isEmpty()) {
                        throw new AgentSettingsException(prefix + ".password_file", file + " is empty");
                    }
                    return lines.get(0);
                } catch (IOException e) {
                    throw new AgentSettingsException(prefix + ".password_file", "cannot read " + file + ": "
                            + e.getClass().getSimpleName());
                }
            }
            if (var != null) {
                String v = env.apply(var);
                if (v == null || v.isEmpty()) {
                    throw new AgentSettingsException(prefix + ".password_env", "environment variable " + var
                            + " is not set");
                }
                return v;
            }
            return null;
        }

        Credentials credentials(String role, String defaultUser) {
            String prefix = "postgresql.authentication." + role;
            String user = optional(prefix + ".username");
            if (user == null) {
                user = defaultUser;
            }
            String password = secret(prefix);
            return password == null ? Credentials.withoutPassword(user) : Credentials.of(user, password);
        }

        PostmasterGuard.Mode watchdogMode() {
            String v = string("watchdog.mode").toLowerCase(Locale.ROOT);
            return switch (v) {
                case "off", "false" -> PostmasterGuard.Mode.OFF;
                case "automatic" -> PostmasterGuard.Mode.AUTOMATIC;
                case "required" -> PostmasterGuard.Mode.REQUIRED;
                default -> throw new AgentSettingsException("watchdog.mode", "must be off, automatic or required, not '"
                        + v + "'");
            };
        }

        MemberTags tags() {
            MemberTags t = MemberTags.DEFAULT;
            Map<String, String> custom = new LinkedHashMap<>();
            for (String key : new TreeSet<>(p.stringPropertyNames())) {
                if (!key.startsWith("tags.")) {
                    continue;
                }
                String tag = key.substring("tags.".length());
                switch (tag) {
                    case "nofailover" -> t = t.withNoFailover(bool(key));
                    case "failover_priority" -> t = t.withFailoverPriority(intValue(key));
                    case "clonefrom" -> t = t.withCloneFrom(bool(key));
                    case "noloadbalance" -> t = t.withNoLoadBalance(bool(key));
                    case "nosync" -> t = t.withNoSync(bool(key));
                    case "sync_priority" -> t = t.withSyncPriority(intValue(key));
                    case "replicatefrom" -> t = t.withReplicateFrom(string(key));
                    default -> custom.put(tag, string(key));
                }
            }
            return t.withCustom(custom);
        }
    }

    /** A setting that is missing or wrong; {@link #key()} names it. */
    public static final class AgentSettingsException extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final String key;

        /** A problem with {@code key}. */
        public AgentSettingsException(String key, String problem) {
            super("invalid setting " + key + ": " + problem);
            this.key = key;
        }

        AgentSettingsException(String key, String message, boolean asIs) {
            super(message);
            this.key = key;
        }

        /** The offending key. */
        public String key() {
            return key;
        }
    }
}
