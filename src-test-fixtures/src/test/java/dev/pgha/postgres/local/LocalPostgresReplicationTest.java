package dev.pgha.postgres.local;

import static dev.pgha.postgres.PostgresState.CREATING_REPLICA;
import static dev.pgha.postgres.PostgresState.RUNNING;
import static dev.pgha.postgres.PostgresState.STARTING;
import static dev.pgha.postgres.PostgresState.STOPPED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.cluster.TimelineHistory;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;
import dev.pgha.postgres.StopMode;
import dev.pgha.testing.TempPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Replication with real servers: a replica cloned from a primary streams; after promoting it and
 * a diverging write on the old primary, pg_rewind brings the old primary back as a streaming
 * replica of the new one; when rewind is impossible, remove + clone (reinitialize) does it.
 */
class LocalPostgresReplicationTest {

    private static final Duration STREAMING = Duration.ofSeconds(30);

    private TempPostgres tmp;

    @BeforeEach
    void setUp() {
        tmp = TempPostgres.create();
    }

    @AfterEach
    void tearDown() {
        tmp.close();
    }

    private static void awaitStreaming(LocalPostgres replica, LocalPostgres primary) {
        TempPostgres.until(replica.config().name() + " streams from " + primary.config().name(), STREAMING, () -> {
            PostgresStatus st = replica.status();
            return st.state() == RUNNING && st.inRecovery() && st.streaming();
        });
        TempPostgres.until(primary.config().name() + " lists " + replica.config().name() + " as streaming", STREAMING,
                () -> {
                    try {
                        return Pg.query(primary, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'")
                                .contains(replica.config().name());
                    } catch (java.sql.SQLException e) {
                        return false;
                    }
                });
    }

    private static void awaitRow(LocalPostgres pg, String sql, String expected) {
        TempPostgres.until(sql + " = " + expected + " on " + pg.config().name(), STREAMING, () -> {
            try {
                return Pg.query(pg, sql).contains(expected);
            } catch (java.sql.SQLException e) {
                return false;
            }
        });
    }

    /** Every primary_conninfo line in postgresql.conf and postgresql.auto.conf. */
    private static List<String> primaryConninfoLines(LocalPostgres pg) throws Exception {
        Path data = pg.config().dataDir();
        return java.util.stream.Stream.of("postgresql.conf", "postgresql.auto.conf").map(data::resolve)
                .filter(Files::exists).flatMap(f -> Pg.read(f).lines())
                .filter(l -> l.strip().startsWith("primary_conninfo")).toList();
    }

    @Test
    void cloneStreamsThenPromoteAndRewindBringTheOldPrimaryBackAsAReplica() throws Exception {
        LocalPostgres node1 = Pg.primary(tmp, "node1");
        Pg.execute(node1, "CREATE TABLE t (id int primary key, v text)");
        Pg.execute(node1, "INSERT INTO t VALUES (1, 'before clone')");

        // Clone and follow: a streaming replica named node2.
        LocalPostgres node2 = LocalPostgres.create(tmp.node("node2").build());
        PostgresOperation clone = node2.cloneFrom(Pg.member(node1, "primary"));
        assertThat(node2.status().state()).isEqualTo(CREATING_REPLICA);
        Pg.ok(clone);
        assertThat(node2.status().state()).isEqualTo(STOPPED);
        assertThat(node2.status().dataDirectory()).isEqualTo(DataDirectoryState.INITIALIZED);
        Pg.ok(node2.follow(Pg.member(node1, "primary")));
        assertThat(node2.stateHistory()).containsExactly(STOPPED, CREATING_REPLICA, STOPPED, STARTING, RUNNING);
        awaitStreaming(node2, node1);
        assertThat(node2.config().dataDir().resolve("standby.signal")).exists();
        List<String> conninfo = primaryConninfoLines(node2);
        assertThat(conninfo).hasSize(1);
        assertThat(conninfo.get(0)).contains("application_name=node2", "port=" + node1.config().port(), "passfile=")
                .doesNotContain(TempPostgres.REPLICATION_PASSWORD);
        Pg.execute(node1, "INSERT INTO t VALUES (2, 'streamed')");
        awaitRow(node2, "SELECT v FROM t WHERE id = 2", "streamed");
        assertThat(Pg.commandLine(Pg.pid(node2))).contains("port=" + node2.config().port());

        // Promote node2: timeline 2, and the CHECKPOINT made pg_control show it (pg_rewind needs that).
        long sysid = Long.parseLong(node1.status().systemIdentifier());
        Pg.ok(node2.promote());
        PostgresStatus promoted = node2.status();
        assertThat(promoted.isRunningPrimary()).isTrue();
        assertThat(promoted.timeline()).isEqualTo(2);
        assertThat(node2.controlData().checkpointTimeline()).isEqualTo(2);
        assertThat(Long.parseLong(promoted.systemIdentifier())).isEqualTo(sysid);
        List<TimelineHistory.Entry> history = node2.timelineHistory();
        assertThat(history).hasSize(1);
        assertThat(history.get(0).timeline()).isEqualTo(1);
        assertThat(node2.config().dataDir().resolve("standby.signal")).doesNotExist();
        Pg.execute(node2, "INSERT INTO t VALUES (3, 'new timeline')");

        // The old primary accepts a write the new one never sees: its data diverged.
        Pg.execute(node1, "INSERT INTO t VALUES (4, 'diverged')");
        Pg.ok(node1.stop(StopMode.FAST, true));

        // pg_rewind from node2, then follow node2: node1 streams on timeline 2 without the diverged row.
        Pg.ok(node1.rewind(Pg.member(node2, "primary")));
        assertThat(node1.lastRewind()).hasValueSatisfying(r -> {
            assertThat(r.success()).isTrue();
            assertThat(r.source()).isEqualTo("node2");
        });
        Pg.ok(node1.follow(Pg.member(node2, "primary")));
        awaitStreaming(node1, node2);
        assertThat(node1.status().timeline()).isEqualTo(2);
        awaitRow(node1, "SELECT v FROM t WHERE id = 3", "new timeline");
        assertThat(Pg.query(node1, "SELECT count(*) FROM t WHERE id = 4")).containsExactly("0");
        assertThat(primaryConninfoLines(node1)).hasSize(1).allMatch(l -> l.contains("port=" + node2.config().port()));
        assertThat(Pg.commandLine(Pg.pid(node1))).as("rewind copied node2's files, the port stays node1's")
                .contains("port=" + node1.config().port());
        assertThat(node1.timelineHistory()).hasSize(1);

        // A running standby re-pointed at another upstream reloads (no restart) and fires on_reload.
        long pid = Pg.pid(node1);
        PostgresOperation noChange = node1.follow(Pg.member(node2, "primary"));
        assertThat(noChange.poll()).isEqualTo(PostgresOperation.Outcome.SUCCEEDED);
        assertThat(noChange.detail()).isEqualTo("already following");
        Pg.ok(node1.follow(null));
        assertThat(Pg.pid(node1)).isEqualTo(pid);
        assertThat(primaryConninfoLines(node1)).isEmpty();
    }

    @Test
    void aStandbyThatFollowedAPromotionKeepsReportingTheNewTimelineWhenItsWalReceiverStops() throws Exception {
        // given node1 primary with two streaming replicas node2 and node3, all on timeline 1
        LocalPostgres node1 = Pg.primary(tmp, "node1");
        Pg.execute(node1, "CREATE TABLE t (id int primary key)");
        LocalPostgres node2 = LocalPostgres.create(tmp.node("node2").build());
        LocalPostgres node3 = LocalPostgres.create(tmp.node("node3").build());
        for (LocalPostgres r : List.of(node2, node3)) {
            Pg.ok(r.cloneFrom(Pg.member(node1, "primary")));
            Pg.ok(r.follow(Pg.member(node1, "primary")));
            awaitStreaming(r, node1);
        }
        // when node2 is promoted and node3 streams from it: node3 switches to timeline 2 by
        // replaying WAL, with no restartpoint yet (pg_control still says timeline 1)
        Pg.ok(node1.stop(StopMode.FAST, true));
        Pg.ok(node2.promote());
        Pg.execute(node2, "INSERT INTO t VALUES (1)");
        Pg.ok(node3.follow(Pg.member(node2, "primary")));
        awaitRow(node3, "SELECT count(*) FROM t", "1");
        assertThat(node3.status().timeline()).isEqualTo(2);
        assertThat(node3.controlData().checkpointTimeline()).isEqualTo(1);

        // and its WAL receiver stops (the new primary is gone)
        Pg.ok(node3.follow(null));
        TempPostgres.until("node3's WAL receiver stopped", STREAMING, () -> !node3.status().streaming());

        // then it still reports timeline 2, the timeline of the WAL it replayed
        assertThat(node3.status().timeline()).isEqualTo(2);
    }

    @Test
    void aCrashedFormerPrimaryIsRewoundAfterSingleUserCrashRecovery() throws Exception {
        LocalPostgres node1 = Pg.primary(tmp, "node1");
        Pg.execute(node1, "CREATE TABLE t (id int primary key)");
        LocalPostgres node2 = LocalPostgres.create(tmp.node("node2").build());
        Pg.ok(node2.cloneFrom(Pg.member(node1, "primary")));
        Pg.ok(node2.follow(Pg.member(node1, "primary")));
        awaitStreaming(node2, node1);

        Pg.ok(node2.promote());
        Pg.execute(node1, "INSERT INTO t VALUES (99)");
        Pg.killMinus9(node1);
        assertThat(node1.status().state()).isEqualTo(PostgresState.CRASHED);
        assertThat(node1.controlData().needsCrashRecovery()).isTrue();

        Pg.ok(node1.rewind(Pg.member(node2, "primary")));

        assertThat(node1.config().workDir().resolve("single-user.log")).exists();
        Pg.ok(node1.follow(Pg.member(node2, "primary")));
        awaitStreaming(node1, node2);
        assertThat(Pg.query(node1, "SELECT count(*) FROM t")).containsExactly("0");
    }

    @Test
    void whenRewindIsImpossibleReinitializeDoesIt() throws Exception {
        LocalPostgres node1 = Pg.primary(tmp, "node1");
        Pg.execute(node1, "CREATE TABLE t AS SELECT 'from node1' AS v");
        // node3 is a cluster of its own: pg_rewind cannot bring it to node1's history.
        LocalPostgres node3 = Pg.primary(tmp, "node3");
        String otherSystem = node3.status().systemIdentifier();
        Pg.ok(node3.stop(StopMode.FAST, true));

        PostgresOperation rewind = Pg.failed(node3.rewind(Pg.member(node1, "primary")));
        assertThat(rewind.detail()).contains("pg_rewind failed");
        assertThat(node3.lastRewind()).hasValueSatisfying(r -> assertThat(r.success()).isFalse());
        assertThat(node3.controlData().systemIdentifier()).as("a failed rewind deletes nothing").isEqualTo(otherSystem);

        node3.removeDataDirectory();
        assertThat(node3.status().dataDirectory()).isEqualTo(DataDirectoryState.EMPTY);
        assertThat(node3.config().dataDir()).isDirectory();
        Pg.ok(node3.cloneFrom(Pg.member(node1, "primary")));
        Pg.ok(node3.follow(Pg.member(node1, "primary")));

        awaitStreaming(node3, node1);
        assertThat(node3.status().systemIdentifier()).isEqualTo(node1.status().systemIdentifier());
        assertThat(Pg.query(node3, "SELECT v FROM t")).containsExactly("from node1");
    }
}
