package dev.pgha.postgres.local;

import dev.pgha.HaConfigException;
import dev.pgha.HaListener;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * How {@link LocalPostgres} runs one PostgreSQL server. Immutable; build with {@link #builder()},
 * which validates every field and names the offending one (by its Patroni name where Patroni has
 * one) in a {@link HaConfigException}. The README has the table of fields and defaults.
 *
 * <p>{@link #parameters()} are this member's own {@code postgresql.parameters}. The parameters in
 * force are the DCS's ({@code LocalPostgres.applyParameters}) merged with them as Patroni does
 * ({@link dev.pgha.postgres.PostgresParameters}): the cluster-wide ones replication depends on
 * ({@code wal_level}, {@code max_connections}, {@code max_wal_senders}, {@code wal_keep_size}, ...)
 * come from the DCS only, so setting them here has no effect (a warning says so); for any other
 * parameter this member's value wins. They go into the {@code postgresql.conf} pgha writes, after
 * PostgreSQL checked them. This node's address settings ({@code listen_addresses}, {@code port},
 * {@code unix_socket_directories}, {@code cluster_name}) and the cluster-wide parameters also go on
 * the postgres command line, so a pg_basebackup or pg_rewind that copies another node's
 * configuration files, or an {@code ALTER SYSTEM}, cannot change them.
 *
 * @param binDir          directory of the server binaries; null: {@code pg_config --bindir}, else the
 *                        directory of {@code pg_ctl} on PATH
 * @param dataDir         the data directory (absolute after building)
 * @param workDir         pgha's directory for the password file, the postmaster log and the output
 *                        of every command it runs; default: {@code <dataDir>.pgha} next to the data directory
 * @param passfile        the 0600 password file ({@code PGPASSFILE}); default {@code <workDir>/pgpass}
 * @param listenAddresses {@code listen_addresses} (default {@code 127.0.0.1})
 * @param connectAddress  the host other members connect to, published in {@code conn_url};
 *                        default: {@code listenAddresses} when it is a single address
 * @param port            {@code port} (default 5432)
 * @param socketDirectory {@code unix_socket_directories}; null (default): no Unix socket, TCP only
 * @param scope           the cluster name: {@code cluster_name} and the callbacks' last argument
 * @param name            this member's name: {@code application_name} of its replication connection
 * @param superuser       the superuser pgha connects as (default {@code postgres}, no password)
 * @param replication     the replication role replicas stream as (default {@code replicator}, no password)
 * @param rewind          the role pg_rewind connects as; null (default): the superuser
 * @param parameters      this member's own PostgreSQL parameters (Patroni's local
 *                        {@code postgresql.parameters}), in order
 * @param hbaLines        the {@code pg_hba.conf} lines; empty (default): local peer and loopback
 *                        lines for every role, scram-sha-256 for roles with a password, trust otherwise
 * @param encoding        initdb {@code --encoding} (default UTF8)
 * @param locale          initdb {@code --locale} (default C)
 * @param dataChecksums   initdb {@code --data-checksums} (default false; {@code wal_log_hints} is on anyway)
 * @param initdbArgs      further initdb arguments
 * @param syncToDisk      false adds {@code --no-sync} to initdb, pg_basebackup and pg_rewind (tests only; default true)
 * @param osUser          the OS user to run the server binaries as when the JVM runs as root
 *                        ({@code runuser -u <osUser> --}); null: the JVM's user, which must not be root
 * @param callbacks       Patroni's callback commands, by callback (see {@link ShellCallbacks})
 * @param startTimeout    how long a start may take before its operation fails (Patroni's {@code pg_ctl_timeout}, default 60 s)
 * @param stopTimeout     how long a stop waits before escalating to immediate and then to SIGKILL (default 60 s)
 * @param connectTimeout  connect timeout of pgha's own connections and of replication conninfo (default 3 s)
 */
public record LocalPostgresConfig(Path binDir, Path dataDir, Path workDir, Path passfile, String listenAddresses,
                                  String connectAddress, int port, Path socketDirectory, String scope, String name,
                                  Credentials superuser, Credentials replication, Credentials rewind,
                                  Map<String, String> parameters, List<String> hbaLines, String encoding,
                                  String locale, boolean dataChecksums, List<String> initdbArgs, boolean syncToDisk,
                                  String osUser, Map<HaListener.Callback, String> callbacks, Duration startTimeout,
                                  Duration stopTimeout, Duration connectTimeout) {

    /** Parameters pgha sets from this configuration's fields; setting them in {@link #parameters()} is an error. */
    static final Set<String> ADDRESS_PARAMETERS = Set.of("listen_addresses", "port", "unix_socket_directories",
            "cluster_name", "data_directory", "config_file", "hba_file");
    /** Parameters {@code follow()} writes; setting them in {@link #parameters()} is an error. */
    static final Set<String> RECOVERY_PARAMETERS = Set.of("primary_conninfo", "primary_slot_name",
            "recovery_target_timeline", "standby_mode");


    /** Validates every field; see the class description. */
    public LocalPostgresConfig {
        if (dataDir == null) {
            throw new HaConfigException("postgresql.data_dir", "must be set");
        }
        dataDir = dataDir.toAbsolutePath().normalize();
        if (dataDir.getParent() == null) {
            throw new HaConfigException("postgresql.data_dir", "must not be the root directory");
        }
        binDir = binDir == null ? null : binDir.toAbsolutePath().normalize();
        workDir = workDir == null ? dataDir.resolveSibling(dataDir.getFileName() + ".pgha")
                : workDir.toAbsolutePath().normalize();
        if (workDir.startsWith(dataDir)) {
            throw new HaConfigException("pgha.work_dir", "must be outside the data directory " + dataDir
                    + " (pg_basebackup and pg_rewind copy everything in it)");
        }
        passfile = passfile == null ? workDir.resolve("pgpass") : passfile.toAbsolutePath().normalize();
        if (passfile.startsWith(dataDir)) {
            throw new HaConfigException("postgresql.pgpass", "must be outside the data directory " + dataDir);
        }
        ConfigRules.requireText("postgresql.listen", listenAddresses);
        listenAddresses = listenAddresses.strip();
        if (connectAddress == null || connectAddress.isBlank()) {
            if (listenAddresses.contains(",") || listenAddresses.equals("*") || listenAddresses.equals("0.0.0.0")
                    || listenAddresses.equals("::")) {
                throw new HaConfigException("postgresql.connect_address",
                        "must be set when listen is '" + listenAddresses + "' (other members need one address)");
            }
            connectAddress = listenAddresses;
        }
        connectAddress = connectAddress.strip();
        if (port < 1 || port > 65535) {
            throw new HaConfigException("postgresql.port", "must be between 1 and 65535, was " + port);
        }
        if (socketDirectory != null) {
            socketDirectory = socketDirectory.toAbsolutePath().normalize();
            int length = socketDirectory.toString().length() + ("/.s.PGSQL." + port).length();
            if (length > ConfigRules.MAX_SOCKET_PATH) {
                throw new HaConfigException("postgresql.unix_socket_directories", "gives a socket path of " + length
                        + " bytes, over the limit of " + ConfigRules.MAX_SOCKET_PATH + ": " + socketDirectory);
            }
        }
        ConfigRules.requireSegment("scope", scope);
        ConfigRules.requireSegment("name", name);
        superuser = Objects.requireNonNullElse(superuser, Credentials.withoutPassword("postgres"));
        replication = Objects.requireNonNullElse(replication, Credentials.withoutPassword("replicator"));
        ConfigRules.requireCredentials("postgresql.authentication.superuser", superuser);
        ConfigRules.requireCredentials("postgresql.authentication.replication", replication);
        if (rewind != null) {
            ConfigRules.requireCredentials("postgresql.authentication.rewind", rewind);
        }
        parameters = ConfigRules.validParameters(parameters);
        hbaLines = List.copyOf(Objects.requireNonNullElse(hbaLines, List.of()));
        for (String line : hbaLines) {
            ConfigRules.requireSingleLine("postgresql.pg_hba", line);
        }
        encoding = Objects.requireNonNullElse(encoding, "UTF8");
        locale = Objects.requireNonNullElse(locale, "C");
        ConfigRules.requireText("postgresql.initdb.encoding", encoding);
        ConfigRules.requireText("postgresql.initdb.locale", locale);
        initdbArgs = List.copyOf(Objects.requireNonNullElse(initdbArgs, List.of()));
        if (osUser != null && (osUser.isBlank() || osUser.equals("root"))) {
            throw new HaConfigException("postgresql.os_user", "must name an unprivileged user, was '" + osUser + "'");
        }
        callbacks = ConfigRules.validCallbacks(callbacks);
        startTimeout = ConfigRules.positive("postgresql.pg_ctl_timeout", startTimeout, Duration.ofSeconds(60));
        stopTimeout = ConfigRules.positive("postgresql.stop_timeout", stopTimeout, Duration.ofSeconds(60));
        connectTimeout = ConfigRules.positive("postgresql.connect_timeout", connectTimeout, Duration.ofSeconds(3));
    }

    /** A builder with the defaults; data directory, scope and name must be set. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration's values. */
    public Builder toBuilder() {
        Builder b = new Builder().binDir(binDir).dataDir(dataDir).workDir(workDir).passfile(passfile)
                .listenAddresses(listenAddresses).connectAddress(connectAddress).port(port)
                .socketDirectory(socketDirectory).scope(scope).name(name).superuser(superuser)
                .replication(replication).rewind(rewind).hbaLines(hbaLines).encoding(encoding).locale(locale)
                .dataChecksums(dataChecksums).initdbArgs(initdbArgs).syncToDisk(syncToDisk).osUser(osUser)
                .startTimeout(startTimeout).stopTimeout(stopTimeout).connectTimeout(connectTimeout);
        b.parameters.putAll(parameters);
        b.callbacks.putAll(callbacks);
        return b;
    }

    /** The role pg_rewind connects as: {@link #rewind()} when set, else the superuser. */
    public Credentials rewindCredentials() {
        return rewind != null ? rewind : superuser;
    }

    /** Collects the fields of a {@link LocalPostgresConfig}. */
    public static final class Builder {
        private Path binDir;
        private Path dataDir;
        private Path workDir;
        private Path passfile;
        private String listenAddresses = "127.0.0.1";
        private String connectAddress;
        private int port = 5432;
        private Path socketDirectory;
        private String scope;
        private String name;
        private Credentials superuser;
        private Credentials replication;
        private Credentials rewind;
        private final Map<String, String> parameters = new LinkedHashMap<>();
        private List<String> hbaLines = List.of();
        private String encoding;
        private String locale;
        private boolean dataChecksums;
        private List<String> initdbArgs = List.of();
        private boolean syncToDisk = true;
        private String osUser;
        private final Map<HaListener.Callback, String> callbacks = new EnumMap<>(HaListener.Callback.class);
        private Duration startTimeout;
        private Duration stopTimeout;
        private Duration connectTimeout;

        private Builder() {
        }

        /** Directory of the server binaries (default: {@code pg_config --bindir}, else PATH). */
        public Builder binDir(Path value) {
            this.binDir = value;
            return this;
        }

        /** The data directory (required). */
        public Builder dataDir(Path value) {
            this.dataDir = value;
            return this;
        }

        /** pgha's work directory (default {@code <dataDir>.pgha}). */
        public Builder workDir(Path value) {
            this.workDir = value;
            return this;
        }

        /** The password file (default {@code <workDir>/pgpass}). */
        public Builder passfile(Path value) {
            this.passfile = value;
            return this;
        }

        /** {@code listen_addresses} (default 127.0.0.1). */
        public Builder listenAddresses(String value) {
            this.listenAddresses = value;
            return this;
        }

        /** The address other members connect to (default: the listen address). */
        public Builder connectAddress(String value) {
            this.connectAddress = value;
            return this;
        }

        /** {@code port} (default 5432). */
        public Builder port(int value) {
            this.port = value;
            return this;
        }

        /** {@code unix_socket_directories} (default none: TCP only). */
        public Builder socketDirectory(Path value) {
            this.socketDirectory = value;
            return this;
        }

        /** The cluster name (required). */
        public Builder scope(String value) {
            this.scope = value;
            return this;
        }

        /** This member's name (required). */
        public Builder name(String value) {
            this.name = value;
            return this;
        }

        /** The superuser (default {@code postgres} without password). */
        public Builder superuser(Credentials value) {
            this.superuser = value;
            return this;
        }

        /** The replication role (default {@code replicator} without password). */
        public Builder replication(Credentials value) {
            this.replication = value;
            return this;
        }

        /** The role pg_rewind uses (default: the superuser). */
        public Builder rewind(Credentials value) {
            this.rewind = value;
            return this;
        }

        /** Sets one PostgreSQL parameter. */
        public Builder parameter(String key, String value) {
            this.parameters.put(key, value);
            return this;
        }

        /** Sets PostgreSQL parameters, keeping their order. */
        public Builder parameters(Map<String, String> values) {
            this.parameters.putAll(values);
            return this;
        }

        /** The {@code pg_hba.conf} lines (default: pgha's local and loopback lines). */
        public Builder hbaLines(List<String> value) {
            this.hbaLines = value;
            return this;
        }

        /** initdb {@code --encoding} (default UTF8). */
        public Builder encoding(String value) {
            this.encoding = value;
            return this;
        }

        /** initdb {@code --locale} (default C). */
        public Builder locale(String value) {
            this.locale = value;
            return this;
        }

        /** initdb {@code --data-checksums} (default false). */
        public Builder dataChecksums(boolean value) {
            this.dataChecksums = value;
            return this;
        }

        /** Further initdb arguments. */
        public Builder initdbArgs(List<String> value) {
            this.initdbArgs = value;
            return this;
        }

        /** false: {@code --no-sync} for initdb, pg_basebackup and pg_rewind (tests only; default true). */
        public Builder syncToDisk(boolean value) {
            this.syncToDisk = value;
            return this;
        }

        /** The OS user for the server binaries when the JVM runs as root (default none). */
        public Builder osUser(String value) {
            this.osUser = value;
            return this;
        }

        /** Sets the command of one of Patroni's callbacks. */
        public Builder callback(HaListener.Callback callback, String command) {
            this.callbacks.put(callback, command);
            return this;
        }

        /** How long a start may take (default 60 s). */
        public Builder startTimeout(Duration value) {
            this.startTimeout = value;
            return this;
        }

        /** How long a stop waits before escalating (default 60 s). */
        public Builder stopTimeout(Duration value) {
            this.stopTimeout = value;
            return this;
        }

        /** Connect timeout of pgha's connections (default 3 s). */
        public Builder connectTimeout(Duration value) {
            this.connectTimeout = value;
            return this;
        }

        /**
         * Validates and builds.
         *
         * @throws HaConfigException naming the field and the rule it breaks
         */
        public LocalPostgresConfig build() {
            return new LocalPostgresConfig(binDir, dataDir, workDir, passfile, listenAddresses, connectAddress, port,
                    socketDirectory, scope, name, superuser, replication, rewind, parameters, hbaLines, encoding,
                    locale, dataChecksums, initdbArgs, syncToDisk, osUser, callbacks, startTimeout, stopTimeout,
                    connectTimeout);
        }
    }
}
