package dev.pgha.postgres.local;

import dev.pgha.postgres.Lsn;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * pgha's own connection to the local server, for quick questions only: one status query per
 * observation (and the replication state's, {@link ReplicationQuery}), {@code pg_reload_conf()},
 * and the roles of post-bootstrap. Short connect and
 * socket timeouts bound every call; a broken connection is dropped and opened again next time.
 * Long statements (CHECKPOINT) run as {@code psql} child processes instead.
 */
final class Sql implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Sql.class);
    private static final org.postgresql.Driver DRIVER = new org.postgresql.Driver();

    /**
     * One status query's answer; {@code confLoadTime} is {@code pg_conf_load_time()} of pgha's
     * session (it changes once the session has processed a reload) and {@code pendingRestart}
     * whether {@code pg_settings} has a setting waiting for a restart (recovery settings aside).
     */
    record Observation(boolean inRecovery, Lsn flush, Lsn receive, Lsn replay, String systemIdentifier,
                       long timeline, boolean streaming, String confLoadTime, boolean pendingRestart,
                       int serverVersion, java.time.Instant postmasterStartTime) {
    }

    /** One row of {@code pg_settings}: the value in force in its unit, its type and context. */
    record Setting(String name, String setting, String unit, String vartype, String context) {
    }

    private static final String STATUS = """
            SELECT pg_is_in_recovery(),
                   CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_flush_lsn()::text END,
                   pg_last_wal_receive_lsn()::text,
                   pg_last_wal_replay_lsn()::text,
                   (SELECT system_identifier::text FROM pg_control_system()),
                   CASE WHEN pg_is_in_recovery()
                        THEN (SELECT NULLIF(received_tli, 0) FROM pg_stat_wal_receiver LIMIT 1)
                        ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END,
                   COALESCE((SELECT status = 'streaming' FROM pg_stat_wal_receiver LIMIT 1), false),
                   (SELECT timeline_id FROM pg_control_checkpoint()),
                   pg_conf_load_time()::text,
                   EXISTS (SELECT 1 FROM pg_catalog.pg_settings WHERE pending_restart AND name NOT IN (%s)),
                   current_setting('server_version_num')::int,
                   pg_postmaster_start_time()
            """.formatted(dev.pgha.postgres.PostgresParameters.RECOVERY.stream().sorted().map(n -> "'" + n + "'")
            .collect(java.util.stream.Collectors.joining(", ")));

    private final LocalPostgresConfig config;
    private final String url;
    private Connection connection;
    private PreparedStatement statusQuery;   // on connection; null until the first observe()
    private String lastError;
    private boolean paused;
    private Lsn replayTimelineAt;
    private long replayTimeline;

    Sql(LocalPostgresConfig config, String localHost) {
        this.config = config;
        String h = localHost.contains(":") ? "[" + localHost + "]" : localHost;
        this.url = "jdbc:postgresql://" + h + ":" + config.port() + "/postgres";
    }

    /** Opens a new connection as the superuser (the caller closes it). */
    Connection open() throws SQLException {
        Properties p = superuserProperties();
        p.setProperty("tcpKeepAlive", "true");
        Connection c = DRIVER.connect(url, p);
        if (c == null) {
            throw new SQLException("the PostgreSQL driver does not accept " + url);
        }
        return c;
    }

    /** pgha's connection settings: the superuser, short timeouts, application name "pgha". */
    private Properties superuserProperties() {
        Properties p = new Properties();
        p.setProperty("user", config.superuser().username());
        if (config.superuser().hasPassword()) {
            p.setProperty("password", config.superuser().password());
        }
        long connect = Math.max(1, config.connectTimeout().toSeconds());
        p.setProperty("connectTimeout", Long.toString(connect));
        p.setProperty("socketTimeout", Long.toString(Math.max(5, 2 * connect)));
        p.setProperty("ApplicationName", "pgha");
        p.setProperty("assumeMinServerVersion", "15");
        return p;
    }

    /**
     * Closes the connection and opens none until {@link #resume()}: a smart shutdown waits for
     * every client, pgha's own connection included.
     */
    void pause() {
        paused = true;
        close();
    }

    /** Lets {@link #observe()} connect again. */
    void resume() {
        paused = false;
    }

    /**
     * pgha's kept session (the connection of {@link #observe()}), opened if needed; null while
     * paused. A caller whose statement failed drops it with {@link #close()}.
     */
    Connection session() throws SQLException {
        if (paused) {
            return null;
        }
        if (connection == null) {
            connection = open();
        }
        return connection;
    }

    /** Asks the server how it stands; null when it cannot be reached or asked (or while paused). */
    Observation observe() {
        if (paused) {
            return null;
        }
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                if (connection == null) {
                    connection = open();
                }
                if (statusQuery == null) {
                    statusQuery = connection.prepareStatement(STATUS);   // parsed once, prepared by the server after a few runs
                }
                try (ResultSet rs = statusQuery.executeQuery()) {
                    rs.next();
                    boolean inRecovery = rs.getBoolean(1);
                    Lsn replay = lsn(rs.getString(4));
                    long timeline = rs.getLong(6);
                    if (rs.wasNull()) {
                        timeline = replayTimeline(replay, rs.getLong(8));
                    }
                    return new Observation(inRecovery, lsn(rs.getString(2)), lsn(rs.getString(3)), replay,
                            rs.getString(5), timeline, rs.getBoolean(7), rs.getString(9), rs.getBoolean(10),
                            rs.getInt(11), rs.getObject(12, java.time.OffsetDateTime.class).toInstant());
                }
            } catch (SQLException e) {
                log.debug("{}: status query failed: {}", config.name(), e.getMessage());
                lastError = e.getMessage();
                close();
                if (attempt == 0 && "57P01".equals(e.getSQLState())) {
                    continue; // terminated by a restart since the last query: one fresh connection
                }
                return null;
            }
        }
        return null;
    }

    /**
     * A standby's timeline while no WAL receiver runs: the timeline of the WAL it replayed, which
     * {@code IDENTIFY_SYSTEM} on a replication connection reports (as Patroni asks it).
     * pg_control's checkpoint timeline lags behind after a timeline switch until the next
     * restartpoint, and a standby that followed a promotion would look as if still on the old
     * timeline: behind the cluster, or diverged past the switch point. Asked again only when the
     * replay position moved; {@code fallback} (the checkpoint's timeline) when it cannot be asked.
     */
    private long replayTimeline(Lsn replay, long fallback) {
        if (replay != null && replay.equals(replayTimelineAt) && replayTimeline > 0) {
            return replayTimeline;
        }
        Properties p = superuserProperties();
        p.setProperty("replication", "database");
        p.setProperty("preferQueryMode", "simple");
        try (Connection c = DRIVER.connect(url, p); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("IDENTIFY_SYSTEM")) {
            rs.next();
            replayTimeline = rs.getLong(2);
            replayTimelineAt = replay;
            return replayTimeline;
        } catch (SQLException | RuntimeException e) {
            log.debug("{}: IDENTIFY_SYSTEM failed, using the checkpoint's timeline {}: {}", config.name(), fallback,
                    e.getMessage());
            return fallback;
        }
    }

    /** The message of the last failed status query, or null. */
    String lastError() {
        return lastError;
    }

    /** {@code SELECT pg_reload_conf()}; false when the server could not be asked. */
    boolean reloadConf() {
        try (Connection c = open(); Statement st = c.createStatement()) {
            st.execute("SELECT pg_reload_conf()");
            return true;
        } catch (SQLException e) {
            log.warn("{}: pg_reload_conf() failed: {}", config.name(), e.getMessage());
            return false;
        }
    }

    /**
     * The {@code pg_settings} rows of {@code names} (lower case) that the server knows; empty
     * when it cannot be asked.
     */
    Map<String, Setting> settings(Set<String> names) {
        Map<String, Setting> out = new TreeMap<>();
        if (paused || names.isEmpty()) {
            return out;
        }
        try (Connection c = open(); PreparedStatement ps = c.prepareStatement("SELECT name, setting, unit, vartype,"
                + " context FROM pg_catalog.pg_settings WHERE pg_catalog.lower(name) = ANY(?)")) {
            ps.setArray(1, c.createArrayOf("text", names.toArray()));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Setting st = new Setting(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5));
                    out.put(st.name().toLowerCase(java.util.Locale.ROOT), st);
                }
            }
        } catch (SQLException e) {
            log.warn("{}: reading pg_settings failed: {}", config.name(), e.getMessage());
        }
        return out;
    }

    /**
     * Post-bootstrap: the replication role (LOGIN REPLICATION) and the rewind role (with the
     * function grants pg_rewind needs) exist with their passwords. Passwords are sent as SCRAM
     * verifiers computed here, so the server never sees (or logs) them in clear text.
     */
    void createRoles() throws SQLException {
        try (Connection c = open(); Statement st = c.createStatement()) {
            st.execute("SET log_statement = 'none'");
            st.execute("SET log_min_duration_statement = -1");
            String superuser = config.superuser().username();
            if (config.superuser().hasPassword()) {
                setPassword(c, config.superuser());
            }
            if (!config.replication().username().equals(superuser)) {
                ensureRole(c, config.replication(), "LOGIN REPLICATION");
            }
            Credentials rewind = config.rewind();
            if (rewind != null && !rewind.username().equals(superuser)) {
                ensureRole(c, rewind, "LOGIN");
                String r = ident(rewind.username());
                for (String fn : List.of("pg_ls_dir(text, boolean, boolean)", "pg_stat_file(text, boolean)",
                        "pg_read_binary_file(text)", "pg_read_binary_file(text, bigint, bigint, boolean)")) {
                    st.execute("GRANT EXECUTE ON FUNCTION pg_catalog." + fn + " TO " + r);
                }
            }
        }
    }

    private void ensureRole(Connection c, Credentials role, String options) throws SQLException {
        boolean exists;
        try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_roles WHERE rolname = ?")) {
            ps.setString(1, role.username());
            try (ResultSet rs = ps.executeQuery()) {
                exists = rs.next();
            }
        }
        try (Statement st = c.createStatement()) {
            st.execute((exists ? "ALTER" : "CREATE") + " ROLE " + ident(role.username()) + " WITH " + options);
        }
        log.info("{}: role {} {}", config.name(), role.username(), exists ? "updated" : "created");
        if (role.hasPassword()) {
            setPassword(c, role);
        }
    }

    private static void setPassword(Connection c, Credentials role) throws SQLException {
        c.unwrap(PGConnection.class).alterUserPassword(role.username(), role.password().toCharArray(), "scram-sha-256");
    }

    /** Names of the physical, non-temporary replication slots; empty when the server cannot be asked. */
    Set<String> physicalSlots() {
        return new TreeSet<>(physicalSlotPositions().keySet());
    }

    /**
     * The physical, non-temporary replication slots with their {@code restart_lsn} (zero when
     * null); empty when the server cannot be asked.
     */
    Map<String, Lsn> physicalSlotPositions() {
        try {
            Connection c = session();
            if (c == null) {
                return Map.of();
            }
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT slot_name, COALESCE(pg_catalog.pg_wal_lsn_diff(restart_lsn, '0/0')::bigint, 0)"
                            + " FROM pg_catalog.pg_replication_slots WHERE slot_type = 'physical' AND NOT temporary")) {
                Map<String, Lsn> out = new TreeMap<>();
                while (rs.next()) {
                    out.put(rs.getString(1), new Lsn(rs.getLong(2)));
                }
                return out;
            }
        } catch (SQLException e) {
            log.warn("{}: reading pg_replication_slots failed: {}", config.name(), e.getMessage());
            close();
            return Map.of();
        }
    }

    /**
     * Creates the missing physical slots of {@code create} (reserving WAL at once) and drops the
     * physical, inactive slots of {@code drop}; false when any statement failed.
     */
    boolean syncPhysicalSlots(Set<String> create, Set<String> drop) {
        if (paused || (create.isEmpty() && drop.isEmpty())) {
            return !paused;
        }
        boolean ok = true;
        try (Connection c = open()) {
            for (String slot : create) {
                ok &= slotStatement(c, "SELECT pg_catalog.pg_create_physical_replication_slot(?, true) WHERE NOT EXISTS"
                        + " (SELECT 1 FROM pg_catalog.pg_replication_slots WHERE slot_name = ?)", slot, "create");
            }
            for (String slot : drop) {
                ok &= slotStatement(c, "SELECT pg_catalog.pg_drop_replication_slot(?) WHERE EXISTS (SELECT 1 FROM"
                        + " pg_catalog.pg_replication_slots WHERE slot_name = ? AND slot_type = 'physical' AND NOT active)",
                        slot, "drop");
            }
        } catch (SQLException e) {
            log.warn("{}: replication slots: cannot connect: {}", config.name(), e.getMessage());
            return false;
        }
        return ok;
    }

    private boolean slotStatement(Connection c, String sql, String slot, String verb) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, slot);
            ps.setString(2, slot);
            ps.execute();
            log.info("{}: replication slot {}: {}", config.name(), slot, verb);
            return true;
        } catch (SQLException e) {
            log.warn("{}: could not {} replication slot {}: {}", config.name(), verb, slot, e.getMessage());
            return false;
        }
    }

    static String ident(String name) {
        return "\"" + name.replace("\"", "\"\"") + "\"";
    }

    private static Lsn lsn(String text) {
        return text == null ? null : Lsn.parse(text);
    }

    /** Drops the cached connection. */
    @Override
    public void close() {
        statusQuery = null;   // closed with its connection
        if (connection != null) {
            try {
                connection.close();
            } catch (SQLException e) {
                log.debug("{}: closing the status connection: {}", config.name(), e.getMessage());
            }
            connection = null;
        }
    }
}
