package dev.pgha.postgres.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.HaClock;
import dev.pgha.HaConfig;
import dev.pgha.HaController;
import dev.pgha.dcs.inmemory.InMemoryDcs;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.StopMode;
import dev.pgha.testing.TempPostgres;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Member slots on real PostgreSQL, driven by the engine: the leader keeps a physical slot for
 * each other member, the replica (cloned and following through pgha) streams through its own,
 * and the slot of a member that left the cluster is dropped; slots pgha must leave alone stay.
 */
class LocalPostgresSlotsTest {

    private static final Duration WAIT = Duration.ofSeconds(90);

    private TempPostgres tmp;

    @BeforeEach
    void setUp() {
        tmp = TempPostgres.create();
    }

    @AfterEach
    void tearDown() {
        tmp.close();
    }

    private static HaController controller(InMemoryDcs store, LocalPostgres pg) {
        HaConfig config = HaConfig.builder().scope("test").name(pg.config().name())
                .ttl(Duration.ofSeconds(6)).loopWait(Duration.ofSeconds(2)).retryTimeout(Duration.ofSeconds(2))
                .memberSlotsTtl(Duration.ZERO).ignoreSlots(Set.of("keep_me")).build();
        return HaController.builder().config(config).dcs(store.client(pg.config().name())).postgres(pg)
                .listener(pg.listener()).build();
    }

    private static void cycle(List<HaController> nodes, String what, BooleanSupplier done) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<String> last = new ArrayList<>();
        while (!done.getAsBoolean()) {
            last.clear();
            nodes.forEach(n -> last.add(n.runCycle().message()));
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + WAIT + ": " + what + "; last messages: " + last);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static boolean said(HaController ha, String message) {
        return ha.status().lastResult() != null && ha.status().lastResult().message().equals(message);
    }

    private static List<String> query(LocalPostgres pg, String sql) {
        try {
            return Pg.query(pg, sql);
        } catch (SQLException e) {
            return List.of("error: " + e.getMessage());
        }
    }

    @Test
    void theReplicaStreamsThroughItsSlotAndAGoneMembersSlotIsDropped() throws Exception {
        InMemoryDcs store = InMemoryDcs.create(HaClock.system());
        LocalPostgres pg1 = LocalPostgres.create(tmp.node("node1").build());
        LocalPostgres pg2 = LocalPostgres.create(tmp.node("node-2").build());
        LocalPostgres pg3 = LocalPostgres.create(tmp.node("node3").build());
        HaController ha1 = controller(store, pg1);
        HaController ha2 = controller(store, pg2);
        HaController ha3 = controller(store, pg3);

        // node1 bootstraps; node-2 and node3 clone from it and follow through their slots.
        cycle(List.of(ha1, ha2, ha3), "node1 leads, node-2 and node3 stream", () ->
                said(ha1, "no action. I am (node1), the leader with the lock")
                        && said(ha2, "no action. I am (node-2), a secondary, and following a leader (node1)")
                        && said(ha3, "no action. I am (node3), a secondary, and following a leader (node1)")
                        && query(pg1, "SELECT slot_name || ':' || active FROM pg_replication_slots ORDER BY 1")
                                .equals(List.of("node3:true", "node_2:true")));
        assertThat(query(pg1, "SELECT application_name || ':' || state FROM pg_stat_replication ORDER BY 1"))
                .containsExactly("node-2:streaming", "node3:streaming");
        assertThat(query(pg2, "SHOW primary_slot_name")).containsExactly("node_2");
        assertThat(query(pg1, "SELECT slot_type || ':' || (restart_lsn IS NOT NULL) FROM pg_replication_slots"))
                .containsOnly("physical:true");
        // a slot pgha must not touch (ignore_slots)
        Pg.execute(pg1, "SELECT pg_create_physical_replication_slot('keep_me')");

        // node3 leaves the cluster: its agent stops, PostgreSQL stops, its member key is removed.
        TempPostgres.await(pg3.stop(StopMode.FAST, false), WAIT);
        store.deleteMember("node3");
        cycle(List.of(ha1, ha2), "node3's slot is dropped", () ->
                query(pg1, "SELECT slot_name FROM pg_replication_slots ORDER BY 1").equals(List.of("keep_me", "node_2")));

        // node-2 still streams through its slot
        Pg.execute(pg1, "CREATE TABLE t (v text)");
        Pg.execute(pg1, "INSERT INTO t VALUES ('through the slot')");
        TempPostgres.until("node-2 streams the row", WAIT, () -> query(pg2, "SELECT v FROM t")
                .contains("through the slot"));
        assertThat(query(pg1, "SELECT slot_name || ':' || active FROM pg_replication_slots WHERE slot_name = 'node_2'"))
                .containsExactly("node_2:true");

        // the positions the leader publishes: restart_lsn, zero for a slot that reserves no WAL
        java.util.Map<String, Lsn> positions = pg1.replicationSlotPositions();
        assertThat(positions.keySet()).containsExactly("keep_me", "node_2");
        assertThat(positions.get("keep_me")).isEqualTo(Lsn.ZERO);
        Lsn restart = Lsn.parse(query(pg1, "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = 'node_2'")
                .get(0));
        assertThat(positions.get("node_2")).isGreaterThan(Lsn.ZERO).isLessThanOrEqualTo(restart);
        assertThat(pg1.replicationSlots()).isEqualTo(positions.keySet());
        pg3.close();
        pg2.close();
        pg1.close();
    }
}
