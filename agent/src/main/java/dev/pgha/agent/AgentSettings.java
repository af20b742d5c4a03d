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
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * The agent's settings, read from a Patroni-style {@code patroni.yml} (a file named
 * {@code *.yml} or {@code *.yaml}, see {@link PatroniYaml}) or a properties file, both with
 * Patroni's names: the YAML mapping is flattened into the dotted keys of the properties
 * ({@code bootstrap: {dcs: {ttl: 30}}} is {@code bootstrap.dcs.ttl=30}), so both formats hold the
 * same settings (see the README's table). Patroni's {@code PATRONI_*} environment variables
 * override the file ({@link PatroniEnvironment}).
 *
 * <p>Passwords: a key {@code X.password_file} names a file whose first line is the password, a
 * key {@code X.password_env} an environment variable; a YAML file (as Patroni's) and the
 * environment may also give {@code X.password} itself, a properties file may not. They end up in
 * {@link LocalPostgresConfig}, {@link RestSettings} and the etcd client only, never in
 * {@link #toString()}, a log line or the DCS.
 *
 * <p>Keys pgha does not know: a key of Patroni's that only shapes what pgha does differently
 * anyway (logging, patronictl's own settings, a watchdog device, ...; {@link #IGNORED}) is ignored
 * and reported once in {@link #warnings()}; every other key is refused, naming it, whether it is
 * a Patroni feature pgha lacks ({@link #UNSUPPORTED}: {@code standby_cluster}, another DCS, ...)
 * or a typo. Every problem is reported as an {@link AgentSettingsException} naming the key (and,
 * for a YAML file, its line; for the environment, the variable).
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
 * @param etcdTls       etcd's TLS files ({@code etcd3.cacert}, {@code cert}, {@code key})
 * @param warnings      the keys given that pgha ignores, one line each with the reason (logged at start)
 */
public record AgentSettings(String scope, String name, String dcsType, List<String> etcdHosts, String namespace,
                            String etcdUser, String etcdPassword, HaConfig ha, LocalPostgresConfig postgres,
                            Duration shutdownTimeout, PostmasterGuard.Mode watchdogMode, Duration safetyMargin,
                            RestSettings rest, EtcdTls etcdTls, List<String> warnings) {

    /** Copies the lists. */
    public AgentSettings {
        etcdHosts = List.copyOf(etcdHosts);
        warnings = List.copyOf(warnings);
    }

    /**
     * etcd's TLS files, each null when not given.
     *
     * @param caCert     the CA that signed the etcd servers' certificates ({@code etcd3.cacert})
     * @param clientCert this member's client certificate ({@code etcd3.cert})
     * @param clientKey  its PKCS#8 private key ({@code etcd3.key})
     */
    public record EtcdTls(Path caCert, Path clientCert, Path clientKey) {
        /** Whether any is given. */
        public boolean enabled() {
            return caCert != null || clientCert != null;
        }
    }

    /**
     * Patroni keys pgha ignores, reported once as a warning: they only shape what pgha does its
     * own way (logging, tools, file locations, a watchdog device), never which member leads,
     * what it replicates or who may connect. By key, by section (ending with a dot) or by prefix
     * (ending with {@code *}); see {@link #rule}.
     */
    static final Map<String, String> IGNORED = ignored();
    /**
     * Patroni keys pgha refuses: features it lacks whose absence would change what the cluster
     * does (a standby cluster would run as a primary, another DCS would not be used, users or
     * scripts would not exist). Written as {@link #IGNORED}.
     */
    static final Map<String, String> UNSUPPORTED = unsupported();

    private static Map<String, String> ignored() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("log.", "pgha logs through slf4j-simple on stdout (see the README: org.slf4j.simpleLogger.* properties)");
        m.put("ctl.", "settings of patronictl, not of the agent");
        m.put("postgresql.pgpass", "pgha writes its own 0600 password file in postgresql.work_dir");
        m.put("postgresql.config_dir", "pgha keeps PostgreSQL's configuration in the data directory");
        m.put("postgresql.proxy_address", "published for connection poolers only; pgha does not publish it");
        m.put("postgresql.use_unix_socket", "pgha connects over TCP");
        m.put("postgresql.use_unix_socket_repl", "pgha replicates over TCP");
        m.put("restapi.http_extra_headers", "the REST API sends no extra headers");
        m.put("restapi.https_extra_headers", "the REST API sends no extra headers");
        m.put("watchdog.device", "pgha fences with PostmasterGuard, not a watchdog device");
        m.put("watchdog.driver", "pgha fences with PostmasterGuard, not a watchdog device");
        m.put("bootstrap.dcs.max_timelines_history", "pgha keeps the history key as Patroni's default does");
        m.put("etcd.use_proxies", "pgha connects to the hosts given");
        return m;
    }

    private static Map<String, String> unsupported() {
        Map<String, String> m = new LinkedHashMap<>();
        String standby = "standby clusters are not supported: this cluster would elect its own primary";
        m.put("standby_cluster.", standby);
        m.put("bootstrap.dcs.standby_cluster.", standby);
        m.put("citus.", "Citus clusters are not supported: the members would not register in their groups");
        for (String dcs : List.of("zookeeper", "exhibitor", "consul", "kubernetes", "raft")) {
            m.put(dcs + ".", "pgha talks to etcd (v3) only: etcd3.hosts, or dcs.type=inmemory for a single member");
        }
        m.put("bootstrap.users.", "pgha creates no users at bootstrap: create them with post_bootstrap SQL of your own");
        m.put("bootstrap.method", "pgha bootstraps with initdb only");
        m.put("bootstrap.post_bootstrap", "pgha runs no post_bootstrap script");
        m.put("bootstrap.post_init", "pgha runs no post_init script");
        m.put("bootstrap.dcs.slots.", "permanent replication slots are not supported");
        m.put("bootstrap.dcs.failsafe_mode", "failsafe_mode is not supported: a primary demotes when the DCS is gone");
        m.put("bootstrap.dcs.postgresql.recovery_conf.", "recovery_conf is not supported");
        m.put("postgresql.recovery_conf.", "recovery_conf is not supported");
        m.put("postgresql.create_replica_methods", "replicas are always cloned with pg_basebackup");
        m.put("postgresql.basebackup", "pg_basebackup options are not supported");
        m.put("postgresql.custom_conf", "a custom postgresql.conf is not supported");
        m.put("postgresql.pg_ident", "pg_ident.conf is not managed by pgha");
        m.put("postgresql.pre_promote", "pre_promote scripts are not supported");
        m.put("postgresql.before_stop", "before_stop scripts are not supported");
        for (String role : List.of("superuser", "replication", "rewind")) {
            m.put("postgresql.authentication." + role + ".ssl*", "TLS options of PostgreSQL connections are not supported");
            m.put("postgresql.authentication." + role + ".gssencmode", "GSS options of PostgreSQL connections are not supported");
            m.put("postgresql.authentication." + role + ".channel_binding", "channel_binding is not supported");
        }
        m.put("restapi.allowlist", "the REST API has no allowlist: restrict access with restapi.authentication");
        m.put("restapi.ciphers", "the REST API uses the JVM's default TLS ciphers");
        m.put("restapi.request_queue_size", "not supported");
        m.put("etcd.srv", "DNS SRV discovery is not supported: give etcd3.hosts");
        m.put("etcd.url", "give etcd3.hosts");
        m.put("etcd.proxy", "give etcd3.hosts");
        m.put("etcd.port", "give the port in etcd3.hosts");
        return m;
    }

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
    /**
     * The passwords a YAML file or the environment may give inline, as Patroni's
     * {@code patroni.yml} does; each also as {@code <key>_file} and {@code <key>_env}.
     */
    static final List<String> PASSWORDS = List.of("etcd.password", "restapi.authentication.password",
            "restapi.keyfile_password", "postgresql.authentication.superuser.password",
            "postgresql.authentication.replication.password", "postgresql.authentication.rewind.password");
    /** Settings in whole seconds. */
    private static final Set<String> SECONDS = Set.of("ttl", "loop_wait", "retry_timeout", "primary_start_timeout",
            "member_slots_ttl", "shutdown_timeout", "watchdog.safety_margin", "postgresql.pg_ctl_timeout",
            "postgresql.stop_timeout", "postgresql.connect_timeout");
    /** Every key this file may hold, with its default ("" when none); prefixes end with a dot. */
    static final Map<String, String> KEYS = keys();

    private static Map<String, String> keys() {
        Map<String, String> k = new LinkedHashMap<>();
        k.put("scope", "");
        k.put("name", "");
        k.put("namespace", "/service");
        k.put("dcs.type", "etcd");
        k.put("etcd.hosts", "127.0.0.1:2379");
        k.put("etcd.host", "");
        k.put("etcd.protocol", "http");
        k.put("etcd.cacert", "");
        k.put("etcd.cert", "");
        k.put("etcd.key", "");
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
        k.put("bootstrap.pg_hba", "");
        k.put("bootstrap.initdb", "");
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

    /**
     * Reads and validates a settings file: {@code *.yml} or {@code *.yaml} as Patroni's YAML, any
     * other as properties; {@code PATRONI_*} variables of the process's environment override it.
     */
    public static AgentSettings load(Path file) {
        return load(file, true);
    }

    /**
     * Reads and validates a settings file (see {@link #load(Path)}); without
     * {@code postgresSecrets} the PostgreSQL passwords are not read (for {@code list}, which only
     * talks to the DCS).
     */
    public static AgentSettings load(Path file, boolean postgresSecrets) {
        return load(file, System.getenv(), postgresSecrets);
    }

    /**
     * Reads and validates a settings file with {@code env} as the environment: the
     * {@code PATRONI_*} overrides and the variables {@code ..._env} keys name.
     */
    public static AgentSettings load(Path file, Map<String, String> env, boolean postgresSecrets) {
        Raw raw = raw(file, env);
        return parse(raw.values(), raw.origins(), env::get, postgresSecrets, raw.inlinePasswords());
    }

    /**
     * The superuser's password as the settings file (and the {@code PATRONI_*} environment)
     * gives it, read apart from every other setting; null when none is given or it cannot be read.
     */
    public static String superuserPassword(Path file, Map<String, String> env) {
        try {
            Raw raw = raw(file, env);
            Properties p = new Properties();
            raw.values().forEach((k, v) -> {
                if (v != null) {
                    p.setProperty(k, v);
                }
            });
            String key = "postgresql.authentication.superuser.password";
            if (p.getProperty(key) != null && !raw.inlinePasswords().test(key)) {
                return null;
            }
            return new Values(p, env::get, true).secret(key);
        } catch (RuntimeException e) {
            return null;
        }
    }

    /**
     * A file's settings before validation, the environment's applied.
     *
     * @param values          by dotted key
     * @param origins         where each came from (a line, a variable), for the messages
     * @param inlinePasswords which keys may hold a password itself
     */
    private record Raw(Map<String, String> values, Map<String, String> origins, Predicate<String> inlinePasswords) {
    }

    private static Raw raw(Path file, Map<String, String> env) {
        Map<String, String> values = new LinkedHashMap<>();
        Map<String, String> origins = new LinkedHashMap<>();
        boolean yaml = isYaml(file);
        if (yaml) {
            PatroniYaml.Flat flat = PatroniYaml.read(file);
            values.putAll(flat.values());
            flat.lines().forEach((k, line) -> origins.put(k, file + " line " + line));
        } else {
            Properties p = new Properties();
            try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
                p.load(r);
            } catch (IOException e) {
                throw new AgentSettingsException("(file)", "cannot read " + file + ": " + e.getMessage());
            }
            for (String k : new TreeSet<>(p.stringPropertyNames())) {
                values.put(k, p.getProperty(k));
            }
        }
        Map<String, String> merged = aliases(values, origins);
        Map<String, PatroniEnvironment.Override> overrides = PatroniEnvironment.settings(env);
        Map<String, String> fromEnv = new LinkedHashMap<>();
        Map<String, String> envOrigins = new LinkedHashMap<>();
        overrides.forEach((k, o) -> {
            fromEnv.put(k, o.value());
            envOrigins.put(k, "environment variable " + o.variable());
        });
        Map<String, String> envValues = aliases(fromEnv, envOrigins);
        if (envValues.containsKey("etcd.host") || envValues.containsKey("etcd.hosts")) {
            merged.remove("etcd.host");
            merged.remove("etcd.hosts");
        }
        envValues.forEach((k, v) -> {
            merged.put(k, v);
            origins.put(k, envOrigins.get(k));
        });
        Set<String> envKeys = envValues.keySet();
        return new Raw(merged, origins, k -> yaml || envKeys.contains(k));
    }

    /** Whether the file is read as YAML: its name ends with {@code .yml} or {@code .yaml}. */
    public static boolean isYaml(Path file) {
        String n = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return n.endsWith(".yml") || n.endsWith(".yaml");
    }

    /**
     * Validates properties (no {@code PATRONI_*} overrides).
     *
     * @param env the environment, for {@code ..._env} keys
     */
    public static AgentSettings parse(Properties p, Function<String, String> env) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String k : new TreeSet<>(p.stringPropertyNames())) {
            values.put(k, p.getProperty(k));
        }
        Map<String, String> origins = new LinkedHashMap<>();
        return parse(aliases(values, origins), origins, env, true, k -> false);
    }

    /**
     * Reads Patroni's YAML text as the agent's settings (no {@code PATRONI_*} overrides).
     *
     * @param env the environment, for {@code ..._env} keys
     */
    public static AgentSettings parseYaml(String yaml, Function<String, String> env) {
        PatroniYaml.Flat flat;
        try {
            flat = PatroniYaml.read(new java.io.StringReader(yaml));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> origins = new LinkedHashMap<>();
        flat.lines().forEach((k, line) -> origins.put(k, "line " + line));
        Map<String, String> values = aliases(new LinkedHashMap<>(flat.values()), origins);
        return parse(values, origins, env, true, k -> true);
    }

    /**
     * Patroni's {@code etcd3.*} (and {@code etcd.*}) both as pgha's {@code etcd.*}; a key given
     * both ways is refused.
     */
    /** Marks, among the origins, that the settings named etcd {@code etcd3.*}: errors then use that name. */
    private static final String ETCD3_GIVEN = "\u0000etcd3";

    private static Map<String, String> aliases(Map<String, String> values, Map<String, String> origins) {
        Map<String, String> out = new LinkedHashMap<>();
        values.forEach((k, v) -> {
            String key = k.startsWith("etcd3.") ? "etcd." + k.substring("etcd3.".length()) : k;
            if (out.containsKey(key)) {
                throw new AgentSettingsException(k, "given twice, also as " + key + "; keep one");
            }
            out.put(key, v);
            if (!key.equals(k)) {
                origins.put(ETCD3_GIVEN, "");
                if (origins.containsKey(k)) {
                    origins.put(key, origins.get(k));
                }
            }
        });
        return out;
    }

    /** Whether {@code key} takes a single value (so a YAML mapping under it is a wrong type). */
    static boolean isSingleValue(String key) {
        String k = key.startsWith("etcd3.") ? "etcd." + key.substring("etcd3.".length()) : key;
        return KEYS.containsKey(k) || PASSWORDS.contains(k)
                || PREFIXES.stream().anyMatch(pre -> k.startsWith(pre) && k.length() > pre.length());
    }

    /** Whether {@code key} is a section of settings (so a single value under it is a wrong type). */
    static boolean isSection(String key) {
        String k = (key.equals("etcd3") ? "etcd" : key.startsWith("etcd3.") ? "etcd." + key.substring(6) : key) + ".";
        return KEYS.keySet().stream().anyMatch(x -> x.startsWith(k)) || PREFIXES.stream().anyMatch(p -> p.startsWith(k))
                || PASSWORDS.stream().anyMatch(x -> x.startsWith(k));
    }

    /** What a key takes, for the messages about wrong types. */
    static String expected(String key) {
        String k = key.startsWith("bootstrap.dcs.") && DCS_KEYS.contains(key.substring(DCS.length()))
                ? key.substring(DCS.length()) : key;
        if (SECONDS.contains(k)) {
            return "a whole number of seconds";
        }
        String d = KEYS.getOrDefault(k, "");
        if (d.equals("true") || d.equals("false") || k.startsWith("tags.no") || k.equals("tags.clonefrom")) {
            return "true or false";
        }
        if (d.matches("-?\\d+")) {
            return "a whole number";
        }
        return "a single value";
    }

    /**
     * The rule of {@code rules} that covers {@code key}, or null: a rule {@code x.} covers the
     * section {@code x}, a rule {@code x*} every key starting with {@code x}, any other rule
     * {@code x} the key {@code x}, what is under it and {@code x_...}.
     */
    private static Map.Entry<String, String> rule(Map<String, String> rules, String key) {
        for (Map.Entry<String, String> e : rules.entrySet()) {
            String r = e.getKey();
            boolean match;
            if (r.endsWith(".")) {   // a section: the key itself or anything under it
                match = key.startsWith(r) || key.equals(r.substring(0, r.length() - 1));
            } else if (r.endsWith("*")) {   // any key starting so
                match = key.startsWith(r.substring(0, r.length() - 1));
            } else {   // the key, what is under it, and its _suffixed relatives (allowlist_include_members)
                match = key.equals(r) || key.startsWith(r + ".") || key.startsWith(r + "_");
            }
            if (match) {
                return e;
            }
        }
        return null;
    }

    /** The name to report for {@code key} under {@code rule}: a section's name, else the key. */
    private static String ruleName(String rule, String key) {
        return rule.endsWith(".") ? rule.substring(0, rule.length() - 1) : key;
    }

    private static AgentSettings parse(Map<String, String> given, Map<String, String> origins,
                                       Function<String, String> env, boolean postgresSecrets,
                                       Predicate<String> inlinePasswords) {
        try {
            return parse(given, env, postgresSecrets, inlinePasswords);
        } catch (AgentSettingsException e) {
            String key = e.key();
            String message = e.getMessage();
            if (key.startsWith("etcd.") && origins.containsKey(ETCD3_GIVEN)) {   // as the user wrote it
                key = "etcd3." + key.substring("etcd.".length());
                message = message.replaceAll("(?<![\\w./-])etcd\\.(?=[a-z])", "etcd3.");
            }
            String origin = origins.get(e.key());
            if (origin != null && !message.contains(" line ")) {
                message = message + " (" + origin + ")";
            }
            if (key.equals(e.key()) && message.equals(e.getMessage())) {
                throw e;
            }
            throw new AgentSettingsException(key, message, true);
        }
    }

    private static AgentSettings parse(Map<String, String> given, Function<String, String> env,
                                       boolean postgresSecrets, Predicate<String> inlinePasswords) {
        Properties p = new Properties();
        given.forEach((k, v) -> {
            if (v != null) {
                p.setProperty(k, v);
            }
        });
        Set<String> unknown = new TreeSet<>();
        List<String> warnings = new ArrayList<>();
        Set<String> warned = new TreeSet<>();
        for (String key : given.keySet()) {
            if ((PASSWORDS.contains(key) || key.endsWith(".password")) && !inlinePasswords.test(key)) {
                throw new AgentSettingsException(key, "passwords are not accepted in the file; use "
                        + key + "_file (a file holding it) or " + key + "_env (an environment variable)");
            }
            if (KEYS.containsKey(key) || PASSWORDS.contains(key) || PREFIXES.stream().anyMatch(key::startsWith)) {
                continue;
            }
            Map.Entry<String, String> refused = rule(UNSUPPORTED, key);
            if (refused != null) {
                throw new AgentSettingsException(ruleName(refused.getKey(), key), "not supported by pgha: "
                        + refused.getValue());
            }
            Map.Entry<String, String> ignored = rule(IGNORED, key);
            if (ignored != null) {
                String name = ruleName(ignored.getKey(), key);
                if (warned.add(name)) {
                    warnings.add("ignoring setting " + name + ": " + ignored.getValue());
                }
                p.remove(key);
                continue;
            }
            unknown.add(key);
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
        List<String> hosts = r.etcdHosts(dcsType);
        EtcdTls tls = new EtcdTls(r.optionalPath("etcd.cacert"), r.optionalPath("etcd.cert"), r.optionalPath("etcd.key"));
        if ((tls.clientCert() == null) != (tls.clientKey() == null)) {
            throw new AgentSettingsException(tls.clientCert() == null ? "etcd.cert" : "etcd.key",
                    "etcd.cert and etcd.key go together");
        }
        String etcdUser = r.optional("etcd.username");
        String etcdPassword = r.secret("etcd.password");
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
                    .listenAddresses(r.listen().host())
                    .port(r.listen().port())
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
            String connect = r.connectAddress(r.listen().port());
            if (connect != null) {
                b.connectAddress(connect);
            }
            r.initdb(b);
            String osUser = r.optional("postgresql.os_user");
            if (osUser == null && isRoot()) {
                osUser = "postgres";
            }
            if (osUser != null) {
                b.osUser(osUser);
            }
            String hba = r.optional("postgresql.pg_hba") != null ? r.optional("postgresql.pg_hba")
                    : r.optional("bootstrap.pg_hba");
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
                r.seconds("shutdown_timeout"), r.watchdogMode(), r.seconds("watchdog.safety_margin"), rest, tls, warnings);
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

        /** The {@code restapi.*} settings; passwords come from files or the environment, as every other. */
        RestSettings rest() {
            try {
                RestSettings.Builder b = RestSettings.builder().listen(string("restapi.listen"))
                        .connectAddress(optional("restapi.connect_address"))
                        .authentication(optional("restapi.authentication.username"), secret("restapi.authentication.password"))
                        .keyfilePassword(secret("restapi.keyfile_password"))
                        .verifyClient(RestSettings.VerifyClient.of(string("restapi.verify_client")));
                path("restapi.certfile", b::certfile);
                path("restapi.keyfile", b::keyfile);
                path("restapi.cafile", b::cafile);
                return b.build();
            } catch (HaConfigException e) {
                throw new AgentSettingsException(e.field(), e.getMessage(), true);
            }
        }

        /**
         * The password {@code key} gives inline (YAML, environment), or {@code key_file} names
         * (its first line), or {@code key_env} names (an environment variable); null when none.
         */
        String secret(String key) {
            if (!postgresSecrets && key.startsWith("postgresql.")) {
                return null;
            }
            String inline = optional(key);
            String file = optional(key + "_file");
            String var = optional(key + "_env");
            int given = (inline != null ? 1 : 0) + (file != null ? 1 : 0) + (var != null ? 1 : 0);
            if (given > 1) {
                throw new AgentSettingsException(inline != null ? key : key + "_file", "give one of " + key + ", "
                        + key + "_file and " + key + "_env, not several");
            }
            if (inline != null) {
                return inline;
            }
            if (file != null) {
                try {
                    List<String> lines = Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
                    if (lines.isEmpty() || lines.get(0).isEmpty()) {
                        throw new AgentSettingsException(key + "_file", file + " is empty");
                    }
                    return lines.get(0);
                } catch (IOException e) {
                    throw new AgentSettingsException(key + "_file", "cannot read " + file + ": "
                            + e.getClass().getSimpleName());
                }
            }
            if (var != null) {
                String v = env.apply(var);
                if (v == null || v.isEmpty()) {
                    throw new AgentSettingsException(key + "_env", "environment variable " + var
                            + " is not set");
                }
                return v;
            }
            return null;
        }

        Path optionalPath(String key) {
            String v = optional(key);
            return v == null ? null : Path.of(v);
        }

        /**
         * The etcd endpoints: {@code etcd.hosts} (comma-separated) or Patroni's single
         * {@code etcd.host}; with {@code etcd.protocol=https} (or TLS files) a bare
         * {@code host:port} becomes {@code https://host:port}.
         */
        List<String> etcdHosts(String dcsType) {
            String list = p.getProperty("etcd.hosts");
            String one = optional("etcd.host");
            if (list != null && one != null) {
                throw new AgentSettingsException("etcd.host", "give either it or etcd.hosts, not both");
            }
            String key = one != null ? "etcd.host" : "etcd.hosts";
            String protocol = string("etcd.protocol").toLowerCase(Locale.ROOT);
            if (!protocol.equals("http") && !protocol.equals("https")) {
                throw new AgentSettingsException("etcd.protocol", "must be http or https, not '" + protocol + "'");
            }
            boolean https = protocol.equals("https") || optional("etcd.cacert") != null;
            List<String> hosts = Arrays.stream((one != null ? one : string("etcd.hosts")).split(",")).map(String::strip)
                    .filter(s -> !s.isEmpty()).map(h -> h.contains("://") || !https ? h : "https://" + h).toList();
            if (dcsType.equals("etcd") && hosts.isEmpty()) {
                throw new AgentSettingsException(key, "at least one host:port is needed");
            }
            return hosts;
        }

        /**
         * {@code postgresql.listen}: addresses, or Patroni's {@code addresses:port}; the port
         * then is the one of {@code postgresql.port} too (given both, they must agree).
         */
        HostPort listen() {
            String value = string("postgresql.listen");
            HostPort hp = HostPort.split(value);
            if (hp.port() < 0 && value.indexOf(':') >= 0 && value.indexOf(':') == value.lastIndexOf(':')) {
                throw new AgentSettingsException("postgresql.listen", "'" + value
                        + "' is neither addresses nor addresses:port");
            }
            boolean portGiven = p.getProperty("postgresql.port") != null;
            if (hp.port() < 0) {
                return new HostPort(hp.host(), intValue("postgresql.port"));
            }
            if (portGiven && intValue("postgresql.port") != hp.port()) {
                throw new AgentSettingsException("postgresql.port", "'" + string("postgresql.port")
                        + "' differs from the port of postgresql.listen (" + hp.port() + ")");
            }
            return hp;
        }

        /** {@code postgresql.connect_address}: a host, or Patroni's {@code host:port} with the listen port. */
        String connectAddress(int port) {
            String v = optional("postgresql.connect_address");
            if (v == null) {
                return null;
            }
            HostPort hp = HostPort.split(v);
            if (hp.port() >= 0 && hp.port() != port) {
                throw new AgentSettingsException("postgresql.connect_address", "port " + hp.port()
                        + " differs from the port PostgreSQL listens on (" + port + "); pgha publishes that one");
            }
            return hp.host();
        }

        /**
         * Patroni's {@code bootstrap.initdb}: items {@code name} or {@code name=value}
         * ({@code encoding}, {@code locale}, {@code data-checksums}; others as
         * {@code --name[=value]}).
         */
        void initdb(LocalPostgresConfig.Builder b) {
            String v = optional("bootstrap.initdb");
            if (v == null) {
                return;
            }
            List<String> args = new ArrayList<>();
            for (String item : v.split(",")) {
                String it = item.strip();
                if (it.isEmpty()) {
                    continue;
                }
                int eq = it.indexOf('=');
                String option = (eq < 0 ? it : it.substring(0, eq)).strip();
                String value = eq < 0 ? null : it.substring(eq + 1).strip();
                if (option.startsWith("--")) {
                    option = option.substring(2);
                }
                switch (option) {
                    case "encoding" -> b.encoding(requireValue(option, value));
                    case "locale" -> b.locale(requireValue(option, value));
                    case "data-checksums" -> b.dataChecksums(true);
                    case "pgdata", "D", "username", "U", "pwfile", "auth", "auth-host", "auth-local", "waldir",
                         "no-sync", "sync-only" -> throw new AgentSettingsException("bootstrap.initdb",
                            "option " + option + " is set by pgha");
                    default -> args.add("--" + option + (value == null ? "" : "=" + value));
                }
            }
            b.initdbArgs(args);
        }

        private static String requireValue(String option, String value) {
            if (value == null || value.isEmpty()) {
                throw new AgentSettingsException("bootstrap.initdb", "option " + option + " needs a value");
            }
            return value;
        }

        Credentials credentials(String role, String defaultUser) {
            String prefix = "postgresql.authentication." + role;
            String user = optional(prefix + ".username");
            if (user == null) {
                user = defaultUser;
            }
            String password = secret(prefix + ".password");
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

    /**
     * An address and a port, as Patroni writes {@code listen}: the port is what follows the
     * last colon when the rest holds no colon of its own ({@code [::1]:5432} in brackets).
     *
     * @param host the address(es)
     * @param port the port, or -1 when none is given
     */
    record HostPort(String host, int port) {
        static HostPort split(String value) {
            int colon = value.lastIndexOf(':');
            if (colon < 0) {
                return new HostPort(value, -1);
            }
            String host = value.substring(0, colon);
            String port = value.substring(colon + 1);
            if (port.isEmpty() || !port.chars().allMatch(Character::isDigit) || host.contains(":") && !host.endsWith("]")) {
                return new HostPort(value, -1);
            }
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            try {
                return new HostPort(host, Integer.parseInt(port));
            } catch (NumberFormatException e) {
                return new HostPort(value, -1);
            }
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
