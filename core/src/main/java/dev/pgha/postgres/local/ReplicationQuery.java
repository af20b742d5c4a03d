package dev.pgha.postgres.local;

import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.ReplicationState;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synchronous replication as the server sees it, on pgha's kept session ({@link Sql#session()}):
 * the replication state from one statement, and the wait until that session sees a reload (so
 * that the next replication state shows a {@code synchronous_standby_names} just written).
 */
final class ReplicationQuery {

    private static final Logger log = LoggerFactory.getLogger(ReplicationQuery.class);
    /** How long {@link #awaitReload} polls at most, by the server's clock, and how many times. */
    private static final long RELOAD_WAIT_NANOS = 2_000_000_000L;
    private static final int RELOAD_POLLS = 20_000;

    /**
     * The settings and the flush position once (the FROM subquery, volatile, is not flattened),
     * joined to every walsender's row: one row with NULL standby columns when there is none. A
     * standby in recovery has no flush position of its own (NULL).
     */
    static final String QUERY = """
            SELECT server.ssn, server.commit, server.flush,
                   r.pid, COALESCE(r.application_name, ''), r.state, r.sync_state, r.sync_priority,
                   r.write_lsn::text, r.flush_lsn::text, r.replay_lsn::text
              FROM (SELECT pg_catalog.current_setting('synchronous_standby_names') AS ssn,
                           pg_catalog.current_setting('synchronous_commit') AS commit,
                           CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL
                                ELSE pg_catalog.pg_current_wal_flush_lsn()::text END AS flush) AS server
              LEFT JOIN pg_catalog.pg_stat_replication AS r ON true
             ORDER BY r.pid
            """;

    private final Server s;

    ReplicationQuery(Server s) {
        this.s = s;
    }

    /** The replication state; {@link ReplicationState#UNKNOWN} when the server cannot be asked. */
    ReplicationState state() {
        for (int attempt = 0; attempt < 2; attempt++) {
            try {
                Connection c = s.running() ? s.sql.session() : null;
                if (c == null) {
                    return ReplicationState.UNKNOWN; // not running, or paused (a smart shutdown waits for every client)
                }
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(QUERY)) {
                    return read(rs);
                }
            } catch (SQLException e) {
                s.sql.close();
                if (attempt == 0 && "57P01".equals(e.getSQLState())) {
                    continue; // terminated by a restart since the last query: one fresh connection
                }
                log.debug("{}: replication state query failed: {}", s.name, e.getMessage());
                return ReplicationState.UNKNOWN;
            } catch (RuntimeException e) {
                log.warn("{}: unexpected answer to the replication state query: {}", s.name, e.toString());
                return ReplicationState.UNKNOWN;
            }
        }
        return ReplicationState.UNKNOWN;
    }

    private static ReplicationState read(ResultSet rs) throws SQLException {
        String names = null;
        String commit = null;
        Lsn flush = Lsn.ZERO;
        List<ReplicationState.Standby> standbys = new ArrayList<>();
        while (rs.next()) {
            names = rs.getString(1);
            commit = rs.getString(2);
            flush = Objects.requireNonNullElse(lsn(rs.getString(3)), Lsn.ZERO);
            int pid = rs.getInt(4);
            if (!rs.wasNull()) {
                standbys.add(new ReplicationState.Standby(pid, rs.getString(5), rs.getString(6), rs.getString(7),
                        rs.getInt(8), lsn(rs.getString(9)), lsn(rs.getString(10)), lsn(rs.getString(11))));
            }
        }
        return names == null ? ReplicationState.UNKNOWN : new ReplicationState(names, commit, flush, standbys);
    }

    /**
     * Polls {@code pg_conf_load_time()} of pgha's session until it differs from {@code since}
     * (the session processed the reload asked for, and its next query sees the new values). A
     * backend handles the postmaster's SIGHUP before its next command, within a millisecond or two
     * of {@code pg_reload_conf()}: the polls run back to back (the core never sleeps), up to
     * {@value #RELOAD_POLLS} of them and for {@value #RELOAD_WAIT_NANOS} ns of the server's clock.
     *
     * @return whether the reload was seen
     */
    boolean awaitReload(String since) {
        long start = s.now();
        try {
            Connection c = s.sql.session();
            if (c == null) {
                return false;
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT pg_catalog.pg_conf_load_time()::text")) {
                for (int poll = 1; poll <= RELOAD_POLLS; poll++) {
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next() && !Objects.equals(since, rs.getString(1))) {
                            log.debug("{}: the reload was visible after {} poll(s), {} µs", s.name, poll,
                                    (s.now() - start) / 1000);
                            return true;
                        }
                    }
                    if (s.now() - start >= RELOAD_WAIT_NANOS) {
                        break;
                    }
                }
            }
        } catch (SQLException e) {
            log.warn("{}: waiting for the reload failed: {}", s.name, e.getMessage());
            s.sql.close();
            return false;
        }
        log.warn("{}: the reload was not visible to pgha's session after {} ms", s.name, (s.now() - start) / 1_000_000);
        return false;
    }

    private static Lsn lsn(String text) {
        return text == null ? null : Lsn.parse(text);
    }
}
