package dev.pgha.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.cluster.Member;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.StopMode;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Patroni's {@code test_ha.py} situations of a PostgreSQL that is not running or still starting
 * ({@code recover()} for a replica, {@code handle_starting_instance()}), one test each:
 * test_start_as_replica, test_starting_timeout (still starting, timed out without and with a
 * failover candidate, lock lost, no lock) and test_manual_failover_while_starting.
 *
 * <p>Patroni's fixture mocks the state "starting". Here it is either a postmaster the agent finds
 * starting ({@link HaScenario#postmasterStarting()}, e.g. after the agent restarted), or — where
 * pgha gets there itself — the lock holder's own start that outlived {@code primary_start_timeout}.
 * pgha counts the time in a state from its first observation of it.
 */
class StartingInstanceScenariosTest {

    private static final Duration TTL = Duration.ofSeconds(30);
    private static final Duration LOOP_WAIT = Duration.ofSeconds(10);

    /**
     * The lock holder's PostgreSQL (a primary, cleanly stopped) is found starting; "other", a
     * replica at the same position, is in the cluster when {@code withReplica}.
     */
    private static HaScenario lockHolderFoundStarting(boolean withReplica) {
        HaScenario ha = HaScenario.create().runningPrimary();
        long wal = ha.postgres().walPosition().value();
        ha.finish(ha.postgres().stop(StopMode.FAST, true));
        ha.postmasterStarting();
        Clusters.Builder cluster = Clusters.builder().initialize(ha.systemId()).leader(HaScenario.NAME).status(wal);
        if (withReplica) {
            cluster.member(Members.replica("other", wal));
        }
        ha.given(cluster.build());
        return ha;
    }

    /** Runs a cycle every loop_wait until {@code total} has passed, "other" publishing its member key meanwhile. */
    private static CycleResult cyclesFor(HaScenario ha, Duration total, Member other) {
        CycleResult last = null;
        for (Duration t = Duration.ZERO; t.compareTo(total) < 0; t = t.plus(LOOP_WAIT)) {
            ha.clock().advance(LOOP_WAIT);
            if (other != null) {
                ha.dcs().putMember(other, TTL);
            }
            last = ha.runCycle();
        }
        return last;
    }

    @Test
    void test_start_as_replica() {
        // given a replica whose PostgreSQL is stopped, in an unlocked cluster
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.finish(ha.postgres().stop(StopMode.FAST, true));
        ha.given(Clusters.builder().initialize(ha.systemId()).build());

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it starts PostgreSQL as a replica
        assertThat(r.action()).isEqualTo(CycleAction.START);
        assertThat(r.message()).isEqualTo("starting as a secondary");
        assertThat(r.lockHeld()).isFalse();
        assertThat(ha.postgres().isPostmasterRunning()).isTrue();
        assertThat(ha.postgres().isStandbyConfigured()).isTrue();
        assertThat(ha.postgres().isWritable()).isFalse();
    }

    @Test
    void test_starting_timeout() {
        // given the lock holder's PostgreSQL is starting (seen for the first time now)
        HaScenario ha = lockHolderFoundStarting(false);
        assertThat(ha.runCycle().message()).isEqualTo("PostgreSQL is still starting up, 300 seconds until timeout");

        // when it is still starting 30 seconds later (a cycle every loop_wait)
        CycleResult r = cyclesFor(ha, Duration.ofSeconds(30), null);

        // then it keeps the lock and waits
        assertThat(r.action()).isEqualTo(CycleAction.WAIT);
        assertThat(r.message()).isEqualTo("PostgreSQL is still starting up, 270 seconds until timeout");
        assertThat(r.lockHeld()).isTrue();
        assertThat(ha.dcs().leaderName()).contains(HaScenario.NAME);
        assertThat(ha.postgres().state()).isEqualTo(PostgresState.STARTING);
    }

    @Test
    void test_starting_timeout_counts_from_when_starting_was_first_seen() {
        // given the lock holder's PostgreSQL is found starting an hour into the agent's run
        HaScenario ha = lockHolderFoundStarting(false);
        ha.clock().advance(Duration.ofHours(1));
        ha.dcs().putLeader(HaScenario.NAME, TTL); // its key, kept alive meanwhile
        assertThat(ha.runCycle().message()).isEqualTo("PostgreSQL is still starting up, 300 seconds until timeout");

        // when it is still starting 30 seconds later, then the timeout counts from that first sight
        assertThat(cyclesFor(ha, Duration.ofSeconds(30), null).message())
                .isEqualTo("PostgreSQL is still starting up, 270 seconds until timeout");
    }

    @Test
    void test_starting_timeout_failover_not_possible() {
        // given the lock holder's PostgreSQL is starting and nobody else could take over
        HaScenario ha = lockHolderFoundStarting(false);
        ha.runCycle();

        // when it is still starting 350 seconds later
        CycleResult r = cyclesFor(ha, Duration.ofSeconds(350), null);

        // then it keeps waiting with the lock
        assertThat(r.action()).isEqualTo(CycleAction.WAIT);
        assertThat(r.message())
                .isEqualTo("primary start has timed out, but continuing to wait because failover is not possible");
        assertThat(r.lockHeld()).isTrue();
        assertThat(ha.postgres().isPostmasterRunning()).isTrue();
    }

    @Test
    void test_starting_timeout_failover_possible() {
        // given the primary holding the lock, and "other", a healthy replica at its position
        HaScenario ha = HaScenario.create().runningPrimary();
        long wal = ha.postgres().walPosition().value();
        Member other = Members.replica("other", wal);
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(HaScenario.NAME).status(wal).member(other).build());
        assertThat(ha.runCycle().message()).isEqualTo("no action. I am (postgresql0), the leader with the lock");
        // and its PostgreSQL crashed and its restart never completes
        ha.postgres().crash();
        ha.postgres().hangStart();
        assertThat(ha.runCycle().message()).isEqualTo("starting primary after failure");

        // when cycles run until primary_start_timeout (300 s) has passed
        CycleResult r = null;
        for (int i = 0; i < 40; i++) {
            r = cyclesFor(ha, LOOP_WAIT, other);
            if (!r.message().startsWith("updated leader lock during")
                    && !r.message().startsWith("PostgreSQL is still starting up")) {
                break;
            }
        }

        // then it gives up: stops PostgreSQL and releases the key so that "other" can take over
        assertThat(r.action()).isEqualTo(CycleAction.DEMOTE);
        assertThat(r.message()).isEqualTo("stopped PostgreSQL because of startup timeout");
        assertThat(ha.clock().elapsed()).isGreaterThanOrEqualTo(Duration.ofSeconds(300));
        cyclesFor(ha, LOOP_WAIT, other);
        assertThat(ha.dcs().leaderName()).isEmpty();
        assertThat(ha.controller().status().lockHeld()).isFalse();
        assertThat(ha.postgres().isWritable()).isFalse();
        assertThat(ha.world().violations()).isEmpty();
    }

    @Test
    void test_starting_timeout_found_starting_failover_possible() {
        // given the lock holder's PostgreSQL is found starting (not by this agent), and "other" is a
        // healthy replica at its position
        HaScenario ha = lockHolderFoundStarting(true);
        Member other = Members.replica("other", ha.dcs().snapshot().status().optime());
        assertThat(ha.runCycle().message()).isEqualTo("PostgreSQL is still starting up, 300 seconds until timeout");

        // when it is still starting once primary_start_timeout has passed
        CycleResult r = cyclesFor(ha, Duration.ofSeconds(300), other);

        // then it stops PostgreSQL (immediately) and gives the key up so that "other" can take over
        assertThat(r.action()).isEqualTo(CycleAction.DEMOTE);
        assertThat(r.message()).isEqualTo("stopped PostgreSQL because of startup timeout");
        assertThat(ha.postgres().lastOperation(dev.pgha.testing.FakeOperation.Kind.STOP).orElseThrow().description())
                .isEqualTo("stop(IMMEDIATE, checkpoint=false)");
        cyclesFor(ha, LOOP_WAIT, other);
        assertThat(ha.dcs().leaderName()).isEmpty();
        assertThat(ha.postgres().isWritable()).isFalse();
    }

    @Test
    void test_starting_timeout_lost_lock() {
        // given the lock holder's PostgreSQL is starting
        HaScenario ha = lockHolderFoundStarting(false);
        ha.runCycle();
        // and its refresh fails: member "other" took the key meanwhile
        ha.beforeNextDcsCall("refreshLeader", () -> ha.dcs().putLeader("other", TTL));

        // when a cycle runs
        CycleResult r = ha.runCycleAfter(LOOP_WAIT);

        // then it stops PostgreSQL ("Lost lock while starting up. Demoting self.")
        assertThat(r.action()).isEqualTo(CycleAction.DEMOTE);
        assertThat(r.message()).isEqualTo("stopped PostgreSQL while starting up because leader key was lost");
        assertThat(r.lockHeld()).isFalse();
        assertThat(ha.dcs().leaderName()).contains("other");
        ha.runCycle();
        assertThat(ha.postgres().isWritable()).isFalse();
        assertThat(ha.world().violations()).isEmpty();
    }

    @Test
    void test_starting_timeout_without_lock() {
        // given a replica of "leader" that ran one cycle, then its PostgreSQL was stopped and is starting again
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", ha.postgres().walPosition().value())).build());
        ha.runCycle();
        ha.runCycle();
        ha.finish(ha.postgres().stop(StopMode.FAST, false));
        ha.postmasterStarting();

        // when a cycle runs ("Still starting up as a standby.")
        CycleResult r = ha.runCycle();

        // then it just keeps following the leader
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(r.message()).isEqualTo("no action. I am (postgresql0), a secondary, and following a leader (leader)");
        assertThat(r.lockHeld()).isFalse();
        assertThat(ha.postgres().state()).isEqualTo(PostgresState.STARTING);
    }

    @Test
    void test_manual_failover_while_starting() {
        // given the lock holder's PostgreSQL is starting, a healthy replica "other", and a switchover request from it
        HaScenario ha = lockHolderFoundStarting(true);
        ha.given(Clusters.builder().switchover(HaScenario.NAME, null).build());
        int stops = ha.postgres().count(dev.pgha.testing.FakeOperation.Kind.STOP);

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it steps down, with one stop
        assertThat(r.action()).isEqualTo(CycleAction.SWITCHOVER);
        assertThat(r.message()).isEqualTo("switchover: demoting myself");
        assertThat(ha.postgres().count(dev.pgha.testing.FakeOperation.Kind.STOP)).isEqualTo(stops + 1);
        ha.runCycle();
        assertThat(ha.dcs().leaderName()).isEmpty();
        assertThat(ha.controller().status().lockHeld()).isFalse();
        assertThat(ha.postgres().isWritable()).isFalse();
        assertThat(ha.world().violations()).isEmpty();
    }
}
