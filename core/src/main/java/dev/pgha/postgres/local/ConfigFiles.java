package dev.pgha.postgres.local;

import dev.pgha.postgres.PostgresParameters;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * The files pgha writes: {@code postgresql.conf} (rewritten at every start, including initdb's
 * settings from {@code postgresql.base.conf}), {@code pg_hba.conf}, the recovery settings of a
 * standby (exactly one {@code primary_conninfo}: stale ones are removed from
 * {@code postgresql.auto.conf}, where {@code pg_basebackup -R} or {@code ALTER SYSTEM} may have
 * put them), and the password file. Also the postgres command-line options.
 */
final class ConfigFiles {

    static final String CONF = "postgresql.conf";
    static final String BASE_CONF = "postgresql.base.conf";
    static final String AUTO_CONF = "postgresql.auto.conf";
    static final String HBA = "pg_hba.conf";
    private static final String HEADER = "# Written by pgha";
    private static final String RECOVERY_HEADER = "# pgha: standby settings";

    private final LocalPostgresConfig config;
    private final Host host;
    private final Parameters parameters;
    private final Parameters.Check check;

    /** The files of a server whose parameters are only the member's own (unchecked), for tests. */
    ConfigFiles(LocalPostgresConfig config, Host host) {
        this(config, host, new Parameters(config.name(), config.parameters()), Parameters.Check.NONE);
    }

    /**
     * @param parameters the server's parameters
     * @param check      asks PostgreSQL whether it accepts them, before they are first written
     */
    ConfigFiles(LocalPostgresConfig config, Host host, Parameters parameters, Parameters.Check check) {
        this.config = config;
        this.host = host;
        this.parameters = parameters;
        this.check = check;
    }

    /** The host pgha connects to for its own connections to this server. */
    String localHost() {
        String first = config.listenAddresses().split(",")[0].strip();
        if (first.equals("*") || first.equals("0.0.0.0") || first.isEmpty()) {
            return "127.0.0.1";
        }
        return first.equals("::") ? "::1" : first;
    }

    /**
     * The {@code -c name=value} settings on the postgres command line: this node's address, then
     * the cluster-wide parameters replication depends on (Patroni's command-line options, which
     * {@code ALTER SYSTEM} cannot override), as the configuration file has them.
     */
    Map<String, String> commandLine() {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("listen_addresses", config.listenAddresses());
        out.put("port", Integer.toString(config.port()));
        out.put("unix_socket_directories", config.socketDirectory() == null ? "" : config.socketDirectory().toString());
        out.put("cluster_name", config.scope());
        Map<String, String> p = parameters.forStart();
        PostgresParameters.CLUSTER_WIDE.forEach((k, v) -> {
            if (!k.equals("wal_keep_size")) {
                out.put(k, p.getOrDefault(k, v));
            }
        });
        return out;
    }

    /** The command-line settings as postgres arguments ({@code -c name=value ...}). */
    List<String> commandLineArgs() {
        List<String> out = new ArrayList<>();
        commandLine().forEach((k, v) -> {
            out.add("-c");
            out.add(k + "=" + v);
        });
        return out;
    }

    /** The same settings as one string for {@code pg_ctl -o}, quoted for the shell pg_ctl hands it to. */
    String commandLineForPgCtl() {
        return commandLine().entrySet().stream().map(e -> "-c " + shellQuote(e.getKey() + "=" + e.getValue()))
                .collect(Collectors.joining(" "));
    }

    /**
     * Writes {@code postgresql.conf}: initdb's file is kept as {@code postgresql.base.conf} and
     * included first; then the parameters in force (the DCS's merged with the member's own, as
     * PostgreSQL accepts them; the cluster-wide ones too, so that a reload that changes them
     * marks a restart pending); then {@code recovery} (standby settings, may be empty).
     */
    void writePostgresqlConf(Path dataDir, Map<String, String> recovery) throws IOException {
        Path conf = dataDir.resolve(CONF);
        Path base = dataDir.resolve(BASE_CONF);
        if (Files.exists(conf) && !Files.exists(base) && !isOurs(conf)) {
            Files.move(conf, base);
        }
        StringBuilder sb = new StringBuilder();
        sb.append(HEADER).append(" for member ").append(config.name()).append(" of cluster ").append(config.scope())
                .append(" at every start; edits are lost.\n")
                .append("# This node's address and the cluster-wide settings are (also) on the postgres command line.\n")
                .append("include_if_exists = '").append(BASE_CONF).append("'\n");
        Map<String, String> params = new TreeMap<>(parameters.forFile(check));
        LocalPostgresConfig.ADDRESS_PARAMETERS.forEach(params::remove);
        params.forEach((k, v) -> sb.append(k).append(" = ").append(confQuote(v)).append('\n'));
        if (!recovery.isEmpty()) {
            sb.append(RECOVERY_HEADER).append('\n');
            recovery.forEach((k, v) -> sb.append(k).append(" = ").append(confQuote(v)).append('\n'));
        }
        host.writePrivate(conf, sb.toString());
    }

    /** The standby settings pgha last wrote into {@code postgresql.conf} (empty if none, or not pgha's file). */
    Map<String, String> readRecovery(Path dataDir) {
        Map<String, String> out = new LinkedHashMap<>();
        Path conf = dataDir.resolve(CONF);
        try {
            if (!Files.exists(conf) || !isOurs(conf)) {
                return out;
            }
            boolean inRecovery = false;
            for (String line : Files.readAllLines(conf, StandardCharsets.UTF_8)) {
                if (line.equals(RECOVERY_HEADER)) {
                    inRecovery = true;
                } else if (inRecovery && line.contains(" = ")) {
                    int eq = line.indexOf(" = ");
                    out.put(line.substring(0, eq), confUnquote(line.substring(eq + 3)));
                }
            }
        } catch (IOException e) {
            return out;
        }
        return out;
    }

    /** Removes recovery settings from {@code postgresql.auto.conf}, so pgha's are the only ones. */
    void sanitizeAutoConf(Path dataDir) throws IOException {
        Path auto = dataDir.resolve(AUTO_CONF);
        if (!Files.exists(auto)) {
            return;
        }
        List<String> lines = Files.readAllLines(auto, StandardCharsets.UTF_8);
        List<String> kept = lines.stream().filter(l -> !isRecoverySetting(l)).toList();
        if (kept.size() != lines.size()) {
            host.writePrivate(auto, kept.isEmpty() ? "" : String.join("\n", kept) + "\n");
        }
    }

    private static boolean isRecoverySetting(String line) {
        String l = line.strip();
        int eq = l.indexOf('=');
        String key = (eq < 0 ? l : l.substring(0, eq)).strip().toLowerCase(java.util.Locale.ROOT);
        return LocalPostgresConfig.RECOVERY_PARAMETERS.contains(key);
    }

    /** Writes {@code pg_hba.conf}: the configured lines, or pgha's local and loopback defaults. */
    void writeHba(Path dataDir) throws IOException {
        List<String> lines = config.hbaLines().isEmpty() ? defaultHba() : config.hbaLines();
        host.writePrivate(dataDir.resolve(HBA), HEADER + " at every start; edits are lost.\n"
                + String.join("\n", lines) + "\n");
    }

    private List<String> defaultHba() {
        String all = config.superuser().hasPassword() ? "scram-sha-256" : "trust";
        String repl = config.replication().hasPassword() ? "scram-sha-256" : "trust";
        String replUser = config.replication().username();
        List<String> out = new ArrayList<>();
        out.add("local   all          all                        peer");
        out.add("host    all          all          127.0.0.1/32  " + all);
        out.add("host    all          all          ::1/128       " + all);
        out.add("host    replication  " + replUser + "  127.0.0.1/32  " + repl);
        out.add("host    replication  " + replUser + "  ::1/128       " + repl);
        return out;
    }

    /** Writes the password file: one {@code *:*:*:user:password} line per role with a password. */
    void writePassfile() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (Credentials c : List.of(config.superuser(), config.replication(), config.rewindCredentials())) {
            if (c.hasPassword()) {
                sb.append("*:*:*:").append(passEscape(c.username())).append(':').append(passEscape(c.password()))
                        .append('\n');
            }
        }
        host.writePrivate(config.passfile(), sb.toString());
    }

    /** A libpq conninfo string from key/value pairs, values quoted as libpq wants. */
    static String conninfo(Map<String, String> values) {
        return values.entrySet().stream().filter(e -> e.getValue() != null)
                .map(e -> e.getKey() + "=" + conninfoQuote(e.getValue())).collect(Collectors.joining(" "));
    }

    /** A conninfo to {@code host:port} as {@code user}, with the password file and pgha's timeouts. */
    Map<String, String> connection(String hostName, int port, String user, String dbname) {
        Map<String, String> out = new LinkedHashMap<>();
        out.put("host", hostName);
        out.put("port", Integer.toString(port));
        out.put("user", user);
        if (dbname != null) {
            out.put("dbname", dbname);
        }
        out.put("passfile", config.passfile().toString());
        out.put("connect_timeout", Long.toString(Math.max(2, config.connectTimeout().toSeconds())));
        return out;
    }

    private boolean isOurs(Path conf) throws IOException {
        try (var lines = Files.lines(conf, StandardCharsets.UTF_8)) {
            return lines.findFirst().map(l -> l.startsWith(HEADER)).orElse(false);
        }
    }

    static String confQuote(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'";
    }

    private static String confUnquote(String quoted) {
        String s = quoted.strip();
        if (s.length() >= 2 && s.startsWith("'") && s.endsWith("'")) {
            s = s.substring(1, s.length() - 1);
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if ((c == '\\' || c == '\'') && i + 1 < s.length() && (c == '\\' || s.charAt(i + 1) == '\'')) {
                out.append(s.charAt(++i));
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static String conninfoQuote(String value) {
        if (!value.isEmpty() && value.chars().noneMatch(c -> c == ' ' || c == '\'' || c == '\\' || c == '=')) {
            return value;
        }
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    static String shellQuote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }

    private static String passEscape(String value) {
        return value.replace("\\", "\\\\").replace(":", "\\:");
    }
}
