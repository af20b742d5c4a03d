package dev.pgha.postgres.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.ActionResult;
import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.HaClock;
import dev.pgha.HaConfig;
import dev.pgha.HaController;
import dev.pgha.HaListener.Callback;
import dev.pgha.cluster.Member;
import dev.pgha.dcs.inmemory.InMemoryDcs;
import dev.pgha.testing.RecordingListener;
import dev.pgha.testing.TempPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HA engine driving one real PostgreSQL through LocalPostgres, on the in-memory DCS and the
 * system clock: bootstrap to "the leader with the lock", a restart, a reload and a graceful
 * shutdown, with Patroni's callback scripts run by ShellCallbacks.
 */
class LocalPostgresEngineTest {

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

    /** Runs cycles (at most 100 ms apart) until one's result satisfies {@code done}; returns the messages seen. */
    private static List<String> cycleUntil(HaController ha, String what, Predicate<CycleResult> done) {
        List<String> messages = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            CycleResult r = ha.runCycle();
            if (messages.isEmpty() || !messages.get(messages.size() - 1).equals(r.message())) {
                messages.add(r.message());
            }
            if (done.test(r)) {
                return messages;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + WAIT + ": " + what + "; messages: " + messages);
            }
            try {
                Thread.sleep(Math.min(100, r.nextCycleIn().toMillis()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private static List<String> lines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void bootstrapsToTheLeaderWithTheLockAndFiresTheCallbacks() throws Exception {
        Path record = tmp.base().resolve("callbacks.txt");
        Path script = tmp.script("cb.sh", "#!/bin/sh\necho \"$@\" >> " + record + "\n");
        LocalPostgresConfig.Builder b = tmp.node("node1");
        for (Callback cb : Callback.values()) {
            b.callback(cb, script.toString());
        }
        RecordingListener host = new RecordingListener();
        LocalPostgres pg = LocalPostgres.create(b.build(), HaClock.system(), host);
        InMemoryDcs store = InMemoryDcs.create(HaClock.system());
        HaController ha = HaController.builder()
                .config(HaConfig.builder().scope("test").name("node1").build())
                .dcs(store.client("node1"))
                .postgres(pg)
                .listener(pg.listener())
                .build();
        String leader = "no action. I am (node1), the leader with the lock";

        List<String> messages = cycleUntil(ha, "bootstrap", r -> r.message().equals(leader));

        assertThat(messages).first().isEqualTo("trying to bootstrap a new cluster");
        assertThat(messages).contains("initialized a new cluster");
        assertThat(pg.status().isRunningPrimary()).isTrue();
        TempPostgres.until("on_start recorded", Duration.ofSeconds(10), () -> lines(record).contains("on_start primary test"));
        Member me = store.snapshot().member("node1").orElseThrow();
        assertThat(me.connUrl()).isEqualTo(pg.connectionUrl());
        assertThat(me.state()).isEqualTo("running");
        assertThat(store.snapshot().initialize()).isEqualTo(pg.status().systemIdentifier());
        assertThat(store.snapshot().toString()).doesNotContain(TempPostgres.SUPERUSER_PASSWORD,
                TempPostgres.REPLICATION_PASSWORD);

        // Restart through the controller: one on_restart, the lock kept throughout.
        long pid = Pg.pid(pg);
        ActionResult restart = ha.restart();
        assertThat(restart.accepted()).as(restart.toString()).isTrue();
        cycleUntil(ha, "restart", r -> {
            assertThat(r.lockHeld()).isTrue();
            return r.message().equals(leader) && lines(record).contains("on_restart primary test");
        });
        assertThat(Pg.pid(pg)).isNotEqualTo(pid);

        // A reload is announced as on_reload, to the scripts and to the host's listener.
        assertThat(pg.reload()).isTrue();
        TempPostgres.until("on_reload recorded", Duration.ofSeconds(10), () -> lines(record).contains("on_reload primary test"));
        assertThat(host.callbacks()).contains("on_start primary", "on_restart primary", "on_reload primary");

        // Graceful shutdown: PostgreSQL stops, on_stop fires, the leader key is released.
        ha.close();
        cycleUntil(ha, "shutdown", r -> r.action() == CycleAction.SHUTDOWN);
        assertThat(pg.status().postmasterRunning()).isFalse();
        assertThat(pg.controlData().clusterState()).isEqualTo("shut down");
        assertThat(store.leaderName()).isEmpty();
        TempPostgres.until("on_stop recorded", Duration.ofSeconds(10),
                () -> lines(record).stream().anyMatch(l -> l.startsWith("on_stop ") && l.endsWith(" test")));
        assertThat(lines(record).stream().filter(l -> l.startsWith("on_start")).count()).isEqualTo(1);
    }

    private static HaController controller(InMemoryDcs store, LocalPostgres pg) {
        HaConfig config = HaConfig.builder().scope("test").name(pg.config().name())
                .ttl(Duration.ofSeconds(6)).loopWait(Duration.ofSeconds(2)).retryTimeout(Duration.ofSeconds(2))
                .usePgRewind(true).build();
        return HaController.builder().config(config).dcs(store.client(pg.config().name())).postgres(pg)
                .listener(pg.listener()).build();
    }

    /** Cycles both controllers (the second may be null: a lost host) until {@code done}. */
    private static void cycleBoth(HaController a, HaController b, String what, java.util.function.BooleanSupplier done) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        List<String> last = new ArrayList<>();
        while (!done.getAsBoolean()) {
            last.clear();
            last.add(a.runCycle().message());
            if (b != null) {
                last.add(b.runCycle().message());
            }
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

    @Test
    void aReplicaClonesFollowsTakesOverAndTheOldPrimaryRejoinsWithPgRewind() throws Exception {
        InMemoryDcs store = InMemoryDcs.create(HaClock.system());
        LocalPostgres pg1 = LocalPostgres.create(tmp.node("node1").build());
        LocalPostgres pg2 = LocalPostgres.create(tmp.node("node2").build());
        HaController ha1 = controller(store, pg1);
        HaController ha2 = controller(store, pg2);

        // node1 bootstraps, node2 clones from it and follows.
        cycleBoth(ha1, ha2, "node1 leads and node2 follows", () ->
                said(ha1, "no action. I am (node1), the leader with the lock")
                        && said(ha2, "no action. I am (node2), a secondary, and following a leader (node1)"));
        Pg.execute(pg1, "CREATE TABLE t (id int primary key, v text)");
        Pg.execute(pg1, "INSERT INTO t VALUES (1, 'replicated')");
        TempPostgres.until("node2 streams the row", WAIT, () -> {
            try {
                return pg2.status().streaming() && Pg.query(pg2, "SELECT v FROM t").contains("replicated");
            } catch (java.sql.SQLException e) {
                return false;
            }
        });

        // node1's host is lost: its agent stops cycling and its PostgreSQL is killed after a last write.
        Pg.execute(pg1, "INSERT INTO t VALUES (2, 'maybe lost')");
        Pg.killMinus9(pg1);
        cycleBoth(ha2, null, "node2 takes over", () ->
                said(ha2, "no action. I am (node2), the leader with the lock"));
        assertThat(pg2.status().isRunningPrimary()).isTrue();
        assertThat(pg2.status().timeline()).isEqualTo(2);
        Pg.execute(pg2, "INSERT INTO t VALUES (3, 'after failover')");

        // node1's host comes back with a new agent: crash recovery, pg_rewind, follow node2.
        LocalPostgres pg1again = LocalPostgres.create(pg1.config());
        HaController ha1again = controller(store, pg1again);
        cycleBoth(ha2, ha1again, "node1 rejoins as a replica of node2", () ->
                said(ha1again, "no action. I am (node1), a secondary, and following a leader (node2)")
                        && pg1again.status().streaming());
        assertThat(pg1again.status().timeline()).isEqualTo(2);
        TempPostgres.until("node1 has node2's row", WAIT, () -> {
            try {
                return Pg.query(pg1again, "SELECT v FROM t WHERE id = 3").contains("after failover");
            } catch (java.sql.SQLException e) {
                return false;
            }
        });
        assertThat(store.leaderName()).contains("node2");

        // Slots: node2, the new leader, keeps node1's slot and node1 streams through it; the slot
        // node1 kept for node2 while it led is gone from the replica (it would hold WAL there).
        TempPostgres.until("node1 streams through its slot on node2", WAIT, () -> {
            try {
                return Pg.query(pg2, "SELECT slot_name || ':' || active FROM pg_replication_slots")
                        .equals(List.of("node1:true"))
                        && Pg.query(pg1again, "SELECT slot_name FROM pg_replication_slots").isEmpty();
            } catch (java.sql.SQLException e) {
                return false;
            }
        });
    }
}
