package dev.pgha.postgres.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.HaClock;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.ReplicationState;
import dev.pgha.postgres.StopMode;
import dev.pgha.postgres.SyncStandbyNames;
import dev.pgha.testing.RecordingListener;
import dev.pgha.testing.TempPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Synchronous replication with real servers: {@code replicationState()} reads what a primary and
 * its streaming replica report, and {@code synchronousStandbyNames(...)} puts the leader's value
 * in force at once (FIRST, ANY, Patroni's strict placeholder that makes commits wait) over the
 * configured parameters, which apply again when the override is removed.
 */
class LocalPostgresSyncReplicationTest {

    private static final Duration SOON = Duration.ofSeconds(30);

    private TempPostgres tmp;

    @BeforeEach
    void setUp() {
        tmp = TempPostgres.create();
    }

    @AfterEach
    void tearDown() {
        tmp.close();
    }

    /** The row of {@code name} in the primary's replication state, if it has one. */
    private static Optional<ReplicationState.Standby> row(LocalPostgres primary, String name) {
        return primary.replicationState().standbys().stream().filter(r -> r.applicationName().equals(name)).findFirst();
    }

    private static void awaitSyncState(LocalPostgres primary, String name, String syncState) {
        TempPostgres.until(name + " is " + syncState + " on " + primary.config().name(), SOON,
                () -> row(primary, name).map(r -> r.syncState().equals(syncState)).orElse(false));
    }

    /** What a new session sees as the server's last configuration load (it inherits the postmaster's). */
    private static String serverConfLoadTime(LocalPostgres pg) throws SQLException {
        return Pg.query(pg, "SELECT pg_conf_load_time()::text").get(0);
    }

    private static String conf(LocalPostgres pg) {
        return Pg.read(pg.config().dataDir().resolve("postgresql.conf"));
    }

    /** Runs {@code sql} on a connection of its own in a thread of its own; the connection closes with it. */
    private static CompletableFuture<Void> inThread(Connection c, String sql) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try (c; Statement st = c.createStatement()) {
                st.execute(sql);
                done.complete(null);
            } catch (Throwable e) {
                done.completeExceptionally(e);
            }
        }, "commit " + sql);
        t.setDaemon(true);
        t.start();
        return done;
    }

    private static int backendPid(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    @Test
    void thePrimaryReportsItsStandbyAndTheLeadersValueIsInForceAtOnceThenTheConfiguredOneAgain() throws Exception {
        // given a primary node1 and node2 streaming from it, no synchronous_standby_names configured
        RecordingListener events = new RecordingListener();
        LocalPostgres node1 = LocalPostgres.create(tmp.node("node1").build(), HaClock.system(), events);
        Pg.ok(node1.bootstrap());
        Pg.ok(node1.postBootstrap());
        Pg.execute(node1, "CREATE TABLE t (id int primary key)");
        LocalPostgres node2 = LocalPostgres.create(tmp.node("node2").build());
        Pg.ok(node2.cloneFrom(Pg.member(node1, "primary")));
        Pg.ok(node2.follow(Pg.member(node1, "primary")));
        TempPostgres.until("node2 streams with a flush position", SOON, () -> row(node1, "node2")
                .map(r -> r.state().equals("streaming") && r.flushLsn() != null).orElse(false));

        // then the primary reports no synchronous standby names, and node2 as an asynchronous standby
        ReplicationState state = node1.replicationState();
        assertThat(state.known()).isTrue();
        assertThat(state.synchronousStandbyNames()).isEmpty();
        assertThat(state.synchronousCommit()).isEqualTo("on");
        assertThat(state.flushLsn()).isGreaterThan(Lsn.ZERO);
        assertThat(state.standbys()).singleElement().satisfies(r -> {
            assertThat(r.applicationName()).isEqualTo("node2");
            assertThat(r.state()).isEqualTo("streaming");
            assertThat(r.syncState()).isEqualTo("async");
            assertThat(r.syncPriority()).isZero();
            assertThat(r.pid()).isPositive();
            assertThat(r.flushLsn()).isGreaterThan(Lsn.ZERO).isLessThanOrEqualTo(node1.replicationState().flushLsn());
            assertThat(r.writeLsn()).isNotNull();
            assertThat(r.replayLsn()).isNotNull();
            assertThat(r.position("on")).isEqualTo(r.flushLsn());
        });

        // when the leader names node2 (FIRST 1)
        events.clear();
        node1.synchronousStandbyNames("FIRST 1 (node2)");

        // then it is in force as soon as the call returns: written, reloaded (on_reload), and shown
        assertThat(node1.replicationState().synchronousStandbyNames()).isEqualTo("FIRST 1 (node2)");
        assertThat(conf(node1)).contains("synchronous_standby_names = 'FIRST 1 (node2)'");
        assertThat(events.callbacks()).containsExactly("on_reload primary");
        awaitSyncState(node1, "node2", "sync");
        assertThat(row(node1, "node2")).hasValueSatisfying(r -> assertThat(r.syncPriority()).isEqualTo(1));
        // and a commit on the primary succeeds (node2 confirms it)
        try (Connection c = Pg.connect(node1)) {
            inThread(c, "INSERT INTO t VALUES (1)").get(SOON.toSeconds(), TimeUnit.SECONDS);
        }

        // when the same value is given again: nothing happens (no reload)
        String loaded = serverConfLoadTime(node1);
        node1.synchronousStandbyNames("FIRST 1 (node2)");
        assertThat(serverConfLoadTime(node1)).isEqualTo(loaded);
        assertThat(events.callbacks()).containsExactly("on_reload primary");

        // when strict mode has nobody to name: Patroni's placeholder
        String strict = SyncStandbyNames.format(Set.of(), 1, false);
        assertThat(strict).contains(SyncStandbyNames.STRICT_PLACEHOLDER);
        node1.synchronousStandbyNames(strict);
        assertThat(node1.replicationState().synchronousStandbyNames()).isEqualTo(strict);
        assertThat(serverConfLoadTime(node1)).isNotEqualTo(loaded);
        awaitSyncState(node1, "node2", "async");

        // then a commit waits for a synchronous standby that does not exist
        Connection writer = Pg.connect(node1);
        int writerPid = backendPid(writer);
        CompletableFuture<Void> insert = inThread(writer, "INSERT INTO t VALUES (2)");
        TempPostgres.until("the insert waits for SyncRep", SOON, () -> {
            try {
                return Pg.query(node1, "SELECT wait_event FROM pg_stat_activity WHERE pid = " + writerPid)
                        .equals(List.of("SyncRep"));
            } catch (SQLException e) {
                return false;
            }
        });
        assertThat(insert).isNotDone();

        // when the override is removed: the configured value (none) applies again and the commit completes
        node1.synchronousStandbyNames(null);
        assertThat(node1.replicationState().synchronousStandbyNames()).isEmpty();
        insert.get(SOON.toSeconds(), TimeUnit.SECONDS);
        assertThat(Pg.query(node1, "SELECT count(*) FROM t")).containsExactly("2");
        assertThat(conf(node1)).doesNotContain("synchronous_standby_names");

        // when the leader names node2 for a quorum (ANY 1)
        node1.synchronousStandbyNames("ANY 1 (node2)");
        assertThat(node1.replicationState().synchronousStandbyNames()).isEqualTo("ANY 1 (node2)");
        awaitSyncState(node1, "node2", "quorum");

        // and the replica: it answers, with no flush position of its own and no standbys
        ReplicationState ofReplica = node2.replicationState();
        assertThat(ofReplica.known()).isTrue();
        assertThat(ofReplica.synchronousStandbyNames()).isEmpty();
        assertThat(ofReplica.flushLsn()).isEqualTo(Lsn.ZERO);
        assertThat(ofReplica.standbys()).isEmpty();

        // and a stopped server cannot be asked
        Pg.ok(node2.stop(StopMode.FAST, false));
        assertThat(node2.replicationState()).isEqualTo(ReplicationState.UNKNOWN);
        assertThat(node2.replicationState().known()).isFalse();
        TempPostgres.until("node1 lost node2", SOON, () -> row(node1, "node2").isEmpty());
        assertThat(node1.replicationState().standbys()).isEmpty();
    }

    @Test
    void theOverrideWinsOverTheConfiguredValueAStoppedServerStartsWithItAndANullGivesTheConfiguredOneBack()
            throws Exception {
        // given a primary whose DCS parameters name a synchronous standby (no standby exists: no commits below)
        RecordingListener events = new RecordingListener();
        LocalPostgres pg = LocalPostgres.create(tmp.node("node1").build(), HaClock.system(), events);
        Pg.ok(pg.bootstrap());
        Pg.ok(pg.postBootstrap());
        pg.applyParameters(Map.of("synchronous_standby_names", "ANY 1 (configured)"));
        TempPostgres.until("the configured value in force", SOON,
                () -> "ANY 1 (configured)".equals(pg.replicationState().synchronousStandbyNames()));

        // when the leader overrides it, and the DCS changes the configured value meanwhile
        pg.synchronousStandbyNames("FIRST 1 (leader)");
        assertThat(pg.replicationState().synchronousStandbyNames()).isEqualTo("FIRST 1 (leader)");
        pg.applyParameters(Map.of("synchronous_standby_names", "ANY 1 (changed)", "work_mem", "8MB"));
        TempPostgres.until("work_mem 8MB", SOON, () -> {
            try {
                return Pg.query(pg, "SHOW work_mem").equals(List.of("8MB"));
            } catch (SQLException e) {
                return false;
            }
        });

        // then the override stays in force
        assertThat(pg.replicationState().synchronousStandbyNames()).isEqualTo("FIRST 1 (leader)");
        assertThat(conf(pg)).contains("synchronous_standby_names = 'FIRST 1 (leader)'").doesNotContain("changed");

        // when the override is removed: the configured value is in force at once
        pg.synchronousStandbyNames(null);
        assertThat(pg.replicationState().synchronousStandbyNames()).isEqualTo("ANY 1 (changed)");

        // when a value PostgreSQL could not parse is given: refused, nothing changes, nothing thrown
        events.clear();
        pg.synchronousStandbyNames("FIRST 1 (");
        assertThat(pg.replicationState().synchronousStandbyNames()).isEqualTo("ANY 1 (changed)");
        assertThat(events.callbacks()).isEmpty();

        // when the server is stopped, the leader's value is given, and the server starts
        Pg.ok(pg.stop(StopMode.FAST, true));
        assertThat(pg.replicationState()).isEqualTo(ReplicationState.UNKNOWN);
        pg.synchronousStandbyNames("FIRST 1 (\"after stop\")");
        assertThat(events.callbacks()).as("nothing to reload").isEmpty();
        Pg.ok(pg.start());

        // then it runs with it
        assertThat(pg.replicationState().synchronousStandbyNames()).isEqualTo("FIRST 1 (\"after stop\")");
    }
}
