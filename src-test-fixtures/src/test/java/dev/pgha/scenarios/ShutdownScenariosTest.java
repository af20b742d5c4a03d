package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.ControllerState;
import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.postgres.PostgresState;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeOperation.Kind;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import dev.pgha.testing.SimulatedCluster;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Patroni's graceful shutdown ({@code Ha.shutdown()} on SIGTERM), ported from test_ha.py's
 * test_shutdown: the leader stops PostgreSQL, writes its last position to the {@code status} key
 * and deletes the leader key only once it is down (so a replica lagging more than
 * {@code maximum_lag_on_failover} does not take over afterwards).
 *
 * <p>pgha difference: there is no process to exit and no blocking stop. {@code HaController.close()}
 * begins the shutdown and the host keeps running cycles until one returns
 * {@link CycleAction#SHUTDOWN}, which leaves the controller closed; the key is released only after
 * PostgreSQL stopped (never early from an {@code on_shutdown} hook), with pgha's own messages
 * ("shutdown in progress", "shut down: ...").
 */
class ShutdownScenariosTest {

    /** postgresql0 is the primary holding the lock, with a healthy replica; stops take 1 s. */
    private static HaScenario leaderWithLock() {
        HaScenario ha = HaScenario.create(b -> b, FakeTimings.DEFAULTS).leading("other");
        assertThat(ha.controller().status().lastResult().message())
                .isEqualTo("no action. I am (postgresql0), the leader with the lock");
        return ha;
    }

    @Test
    void test_shutdown() {
        // given the leader with the lock
        HaScenario ha = leaderWithLock();

        // when the controller is closed and a cycle runs while PostgreSQL stops
        ha.controller().close();
        CycleResult stopping = ha.runCycle();

        // then the shutdown is in progress: PostgreSQL takes no writes, but the key is still held
        assertThat(stopping.action()).isEqualTo(CycleAction.IN_PROGRESS);
        assertThat(stopping.message()).isEqualTo("shutdown in progress");
        assertThat(stopping.nextCycleIn()).as("polled within a second").isEqualTo(Duration.ofSeconds(1));
        assertThat(ha.postgres().isWritable()).isFalse();
        assertThat(ha.postgres().state()).isEqualTo(PostgresState.STOPPING);
        assertThat(ha.dcs().leaderName()).contains(NAME);

        // and when a cycle runs after PostgreSQL stopped (fast, no CHECKPOINT first)
        CycleResult done = ha.runCycleAfter(Duration.ofSeconds(1));

        // then the key is released and the shutdown is done
        assertThat(done.action()).isEqualTo(CycleAction.SHUTDOWN);
        assertThat(done.message()).isEqualTo("shut down: PostgreSQL stopped and leader key released");
        assertThat(done.lockHeld()).isFalse();
        assertThat(ha.dcs().leaderName()).isEmpty();
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();
        assertThat(ha.postgres().lastOperation(Kind.STOP).orElseThrow().description())
                .isEqualTo("stop(FAST, checkpoint=false)");
        assertThat(ha.events().callbacks()).last().isEqualTo("on_stop demoted");
        assertThat(ha.controller().status().role()).isEqualTo(dev.pgha.postgres.PostgresRole.DEMOTED);
        // and its member key says PostgreSQL stopped (published once more at the end)
        assertThat(ha.dcsClient().readCluster().member(NAME).orElseThrow().state()).isEqualTo("stopped");
        // and a host that calls anyway is not asked to come back sooner than loop_wait
        assertThat(done.nextCycleIn()).isEqualTo(Duration.ofSeconds(10));
        // and the controller is closed: a further cycle is refused, nothing is started again
        assertThat(ha.controller().state()).isEqualTo(ControllerState.CLOSED);
        assertThatThrownBy(ha::runCycle).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("runCycle() is not allowed: the controller is CLOSED");
        assertThat(ha.postgres().startCount()).isZero();
    }

    @Test
    void test_shutdown_slow_stop_keeps_the_lock() {
        // given the leader with the lock, whose PostgreSQL will take 60 s (twice the ttl) to stop
        HaScenario ha = leaderWithLock();
        ha.postgres().slowNext(Kind.STOP, Duration.ofSeconds(60));

        // when the controller is closed and the node cycles for 59 s
        ha.controller().close();
        CycleResult meanwhile = ha.cycleFor(Duration.ofSeconds(59));

        // then it still holds the key (refreshed while stopping), so nobody races before the stop ends
        assertThat(meanwhile.message()).isEqualTo("shutdown in progress");
        assertThat(ha.dcs().leaderName()).contains(NAME);

        // and once PostgreSQL stopped, the key is released
        CycleResult done = ha.runCycleAfter(Duration.ofSeconds(1));
        assertThat(done.action()).isEqualTo(CycleAction.SHUTDOWN);
        assertThat(done.message()).isEqualTo("shut down: PostgreSQL stopped and leader key released");
        assertThat(ha.dcs().leaderName()).isEmpty();
    }

    @Test
    void test_shutdown_as_replica() {
        // given a replica following the leader
        HaScenario ha = HaScenario.create(b -> b, FakeTimings.DEFAULTS).runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", ha.peer("leader").walPosition())).build());
        ha.runCycles(3);

        // when the controller is closed and cycles run until PostgreSQL stopped
        ha.controller().close();
        ha.runCycle();
        CycleResult done = ha.runCycleAfter(Duration.ofSeconds(1));

        // then it is shut down, and the leader key was not touched
        assertThat(done.action()).isEqualTo(CycleAction.SHUTDOWN);
        assertThat(done.message()).isEqualTo("shut down: PostgreSQL stopped");
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();
        assertThat(ha.dcs().leaderName()).contains("leader");
        // and it stays a replica: on_stop says so, no role change
        assertThat(ha.events().callbacks()).last().isEqualTo("on_stop replica");
        assertThat(ha.controller().status().role()).isEqualTo(dev.pgha.postgres.PostgresRole.REPLICA);
    }

    @Test
    void test_shutdown_stop_failed() {
        // given the leader with the lock, whose PostgreSQL will fail to stop
        HaScenario ha = leaderWithLock();
        ha.postgres().failNext(Kind.STOP);

        // when the controller is closed and cycles run until the stop has failed
        ha.controller().close();
        ha.runCycle();
        CycleResult done = ha.runCycleAfter(Duration.ofSeconds(1));

        // then the shutdown ends without releasing the key (Patroni: "PostgreSQL shutdown failed, leader
        // key not removed."): PostgreSQL may still run, so nobody else may take over before the key expires
        assertThat(done.action()).isEqualTo(CycleAction.SHUTDOWN);
        assertThat(done.message()).isEqualTo("PostgreSQL shutdown failed, leader key not removed.");
        assertThat(ha.dcs().leaderName()).contains(NAME);
        assertThat(ha.postgres().isPostmasterRunning()).isTrue();
    }

    @Test
    void test_shutdown_during_a_long_action() {
        // given the leader's postmaster was killed and is being started again (slowly)
        HaScenario ha = leaderWithLock();
        ha.postgres().crash();
        ha.postgres().slowStart(Duration.ofSeconds(60));
        assertThat(ha.runCycle().message()).isEqualTo("starting primary after failure");

        // when the controller is closed and the node cycles until it is shut down
        ha.controller().close();
        CycleResult done = ha.cycleFor(Duration.ofSeconds(10));

        // then the start was cancelled (Patroni: _async_executor.cancel()), PostgreSQL is down and the key released
        assertThat(done.action()).isEqualTo(CycleAction.SHUTDOWN);
        assertThat(done.message()).isEqualTo("shut down: PostgreSQL stopped and leader key released");
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();
        assertThat(ha.dcs().leaderName()).isEmpty();
        assertThat(ha.world().violations()).isEmpty();
    }

    @Test
    void test_shutdown_writes_the_last_position_to_status() {
        // given the leader with the lock published optime W in the status key, and a replica 'other' at W
        HaScenario ha = HaScenario.create(b -> b, FakeTimings.DEFAULTS).runningPrimary();
        long w = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).member(Members.primary(NAME, w))
                .member(Members.replica("other", w)).status(w).build());
        ha.runCycle();
        assertThat(ha.dcs().snapshot().status().optime()).isEqualTo(w);
        // and then it wrote 2 MiB more, which 'other' has not received
        assertThat(ha.postgres().write(2 * 1024 * 1024)).isTrue();

        // when it shuts down
        ha.controller().close();
        CycleResult done = ha.cycleFor(Duration.ofSeconds(5));
        assertThat(done.action()).isEqualTo(CycleAction.SHUTDOWN);

        // then, releasing the key, it wrote its last position to the status key (Patroni: delete_leader
        // with the shutdown checkpoint's prev LSN, or write_leader_optime in on_shutdown), so the race
        // that follows sees 'other' lagging more than maximum_lag_on_failover (1 MiB)
        assertThat(ha.dcs().leaderName()).isEmpty();
        assertThat(ha.dcs().snapshot().status().optime() - w).isGreaterThan(1024 * 1024);
    }

    @Test
    void shutdown_of_the_leader_does_not_promote_a_replica_lagging_more_than_maximum_lag() {
        // given a converged two-node cluster whose replica stopped receiving WAL
        SimulatedCluster sim = SimulatedCluster.builder().nodes(2).build();
        assertThat(sim.runUntil(SimulatedCluster::isConverged, Duration.ofMinutes(3))).as(sim.log()).isTrue();
        String leader = sim.leader().orElseThrow();
        String replica = sim.nodes().stream().map(n -> n.name()).filter(n -> !n.equals(leader)).findFirst().orElseThrow();
        sim.world().get(replica).pauseReplication(true);
        sim.runFor(Duration.ofSeconds(10));
        // and right after its last cycle the leader wrote 2 MiB (more than maximum_lag_on_failover)
        sim.runUntil(s -> s.node(leader).lastResult() != null
                && s.node(leader).lastResult().message().startsWith("no action"), Duration.ofSeconds(11));
        assertThat(sim.write(2 * 1024 * 1024)).isTrue();

        // when the leader shuts down gracefully, and the replica races afterwards
        sim.node(leader).controller().close();
        sim.runFor(Duration.ofSeconds(60));

        // then the replica does not take over: it would lose 2 MiB (Patroni: the shutdown wrote the final
        // optime to /status, so "My wal position exceeds maximum replication lag")
        assertThat(sim.leader()).as(sim.log()).isEmpty();
        assertThat(sim.writablePrimaries()).as(sim.log()).isEmpty();
    }
}
