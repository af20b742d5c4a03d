package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.StopMode;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeOperation.Kind;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Patroni's {@code test_ha.py} situations where PostgreSQL is found not running ({@code recover()},
 * {@code post_recover()}), ported one test each: test_recover_replica_failed,
 * test_recover_former_primary, test_start_primary_after_failure (with recovery.feature's "timeline
 * is not incremented when primary is started after crash"), test_crash_recovery (both halves),
 * test_post_recover, test_failover_immediately_on_zero_primary_start_timeout,
 * test_demote_immediate; and the branches of {@code recover()} from the seed note: crash recovery
 * only when the cluster is unlocked or pg_rewind is usable, "starting as a secondary".
 *
 * <p>pgha differences that matter here: long actions are {@code PostgresOperation}s whose
 * completion takes effect at the start of the next cycle (so "starting ..." is one cycle and its
 * outcome the next); a member is reachable while its member key exists.
 */
class RecoveryScenariosTest {

    /** postgresql0 runs as the primary and holds the leader lock; {@code others} are healthy replicas. */
    private static HaScenario leaderWithLock(HaScenario ha, String... others) {
        ha.runningPrimary();
        long wal = ha.postgres().walPosition().value();
        Clusters.Builder cluster = Clusters.builder().initialize(ha.systemId()).leader(NAME)
                .member(Members.primary(NAME, wal)).status(wal);
        for (String other : others) {
            cluster.member(Members.replica(other, wal));
        }
        ha.given(cluster.build());
        assertThat(ha.runCycle().message()).isEqualTo("no action. I am (postgresql0), the leader with the lock");
        return ha;
    }

    @Test
    void test_recover_replica_failed() {
        // given a replica whose postmaster died (pg_control "in archive recovery"), the cluster unlocked
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).build());
        ha.postgres().crash();
        // and starting it again will fail
        ha.postgres().failNext(Kind.FOLLOW);

        // when a cycle runs, then it starts PostgreSQL as a replica
        CycleResult r = ha.runCycle();
        assertThat(r.action()).isEqualTo(CycleAction.START);
        assertThat(r.message()).isEqualTo("starting as a secondary");

        // when the next cycle sees the start failed, then it says so
        CycleResult next = ha.runCycle();
        assertThat(next.action()).isEqualTo(CycleAction.FAILED);
        assertThat(next.message()).isEqualTo("failed to start postgres");
        assertThat(next.lockHeld()).isFalse();
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();
    }

    @Test
    void test_recover_former_primary() {
        // given a former primary, shut down cleanly (pg_control "shut down"), that still holds the lock
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.finish(ha.postgres().stop(StopMode.FAST, true));
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).build());

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it starts PostgreSQL read-only, keeping the lock
        assertThat(r.action()).isEqualTo(CycleAction.START);
        assertThat(r.message()).isEqualTo("starting as readonly because i had the session lock");
        assertThat(r.role()).isEqualTo(PostgresRole.DEMOTED);
        assertThat(r.lockHeld()).isTrue();
        assertThat(ha.postgres().isStandbyConfigured()).isTrue();
        assertThat(ha.postgres().upstream()).isNull();

        // and once it is up, a later cycle promotes it again (patroni.md §2.7 note)
        CycleResult promoted = ha.runCycle();
        assertThat(promoted.action()).isEqualTo(CycleAction.PROMOTE);
        assertThat(promoted.message()).isEqualTo("promoted self to leader because I had the session lock");
        ha.runCycle();
        assertThat(ha.postgres().isWritable()).isTrue();
    }

    @Test
    void test_start_primary_after_failure() {
        // given the primary holding the lock, on timeline 1
        HaScenario ha = leaderWithLock(HaScenario.create());
        long timeline = ha.postgres().timeline();
        // and its postmaster was killed (pg_control "in production", state "crashed")
        ha.postgres().crash();

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it starts PostgreSQL as primary again, keeping the lock
        assertThat(r.action()).isEqualTo(CycleAction.START);
        assertThat(r.message()).isEqualTo("starting primary after failure");
        assertThat(r.role()).isEqualTo(PostgresRole.PRIMARY);
        assertThat(r.lockHeld()).isTrue();

        // and the next cycle finds it the leader again, writable, on the same timeline
        // (recovery.feature: "check that timeline is not incremented when primary is started after crash")
        CycleResult next = ha.runCycle();
        assertThat(next.action()).isEqualTo(CycleAction.NONE);
        assertThat(next.message()).isEqualTo("no action. I am (postgresql0), the leader with the lock");
        assertThat(ha.postgres().isWritable()).isTrue();
        assertThat(ha.postgres().timeline()).isEqualTo(timeline);
        assertThat(ha.postgres().promoteCount()).isZero();
        assertThat(ha.events().callbacks()).last().isEqualTo("on_start primary");
    }

    @Test
    void test_crash_recovery() {
        // given the lock holder's postmaster was killed (pg_control "in production") and its agent
        // restarted too, so it does not know it ran a primary (Patroni's fixture: role replica);
        // pg_rewind is usable
        HaScenario ha = leaderWithLock(HaScenario.create(b -> b.usePgRewind(true)));
        ha.postgres().crash();
        ha.restartAgent();

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it runs single-user crash recovery, keeping the lock
        assertThat(r.action()).isEqualTo(CycleAction.CRASH_RECOVERY);
        assertThat(r.message()).isEqualTo("doing crash recovery in a single user mode");
        assertThat(r.lockHeld()).isTrue();
        assertThat(ha.postgres().count(Kind.CRASH_RECOVERY)).isEqualTo(1);

        // and once recovered (pg_control "shut down") it starts read-only with its lock
        CycleResult next = ha.runCycle();
        assertThat(next.message()).isEqualTo("starting as readonly because i had the session lock");
    }

    @Test
    void test_crash_recovery_terminated_because_of_startup_timeout() {
        // given the lock holder is doing crash recovery that will take 10 minutes,
        // and a healthy replica could take over
        HaScenario ha = leaderWithLock(HaScenario.create(b -> b.usePgRewind(true), FakeTimings.DEFAULTS), "other");
        ha.postgres().crash();
        ha.restartAgent();
        ha.postgres().slowNext(Kind.CRASH_RECOVERY, Duration.ofMinutes(10));
        assertThat(ha.runCycle().message()).isEqualTo("doing crash recovery in a single user mode");

        // when it has run for primary_start_timeout (300 s), the node cycling meanwhile
        CycleResult meanwhile = ha.cycleFor(Duration.ofSeconds(301));

        // then up to then it only kept its lock
        assertThat(meanwhile.action()).isEqualTo(CycleAction.IN_PROGRESS);
        assertThat(meanwhile.message())
                .isEqualTo("updated leader lock during doing crash recovery in a single user mode");

        // and when a cycle runs past the timeout, it stops trying and demotes
        CycleResult r = ha.runCycle();
        assertThat(r.action()).isEqualTo(CycleAction.DEMOTE);
        assertThat(r.message()).isEqualTo("terminated crash recovery because of startup timeout");

        // and once the (immediate) stop completed, the next cycle has released the lock
        ha.runCycle();
        assertThat(ha.dcs().leaderName()).isEmpty();
    }

    @Test
    void test_crash_recovery_past_startup_timeout_but_failover_not_possible() {
        // given the lock holder is doing crash recovery that will take 10 minutes, and no other member
        // could take over
        HaScenario ha = leaderWithLock(HaScenario.create(b -> b.usePgRewind(true), FakeTimings.DEFAULTS));
        ha.postgres().crash();
        ha.restartAgent();
        ha.postgres().slowNext(Kind.CRASH_RECOVERY, Duration.ofMinutes(10));
        assertThat(ha.runCycle().message()).isEqualTo("doing crash recovery in a single user mode");

        // when it has run for longer than primary_start_timeout (300 s) and a cycle runs
        ha.cycleFor(Duration.ofSeconds(301));
        CycleResult r = ha.runCycle();

        // then it lets crash recovery go on, keeping the lock (patroni.md §2.4)
        assertThat(r.action()).isEqualTo(CycleAction.IN_PROGRESS);
        assertThat(r.message()).isEqualTo("updated leader lock during doing crash recovery in a single user mode");
        assertThat(ha.dcs().leaderName()).contains(NAME);
        assertThat(ha.postgres().runningOperation()).isPresent();
    }

    @Test
    void test_post_recover() {
        // given the primary holding the lock crashed, and starting it again will fail
        HaScenario ha = leaderWithLock(HaScenario.create(), "other");
        ha.postgres().crash();
        ha.postgres().failNextStart();
        assertThat(ha.runCycle().message()).isEqualTo("starting primary after failure");

        // when the next cycle finds PostgreSQL still not running
        CycleResult r = ha.runCycle();

        // then it gives up the lock and the primary role
        assertThat(r.action()).isEqualTo(CycleAction.FAILED);
        assertThat(r.message()).isEqualTo("removed leader key after trying and failing to start postgres");
        assertThat(r.role()).isEqualTo(PostgresRole.DEMOTED);
        assertThat(r.lockHeld()).isFalse();
        assertThat(ha.dcs().leaderName()).isEmpty();
        // recovery.feature: "check crashed primary demotes after failed attempt to start"
        assertThat(ha.events().callbacks()).containsOnlyOnce("on_role_change demoted");
    }

    @Test
    void test_post_recover_readonly_start_failed() {
        // given a former primary (shut down cleanly) that still holds the lock is started read-only,
        // and that start will fail
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.finish(ha.postgres().stop(StopMode.FAST, true));
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).build());
        ha.postgres().failNext(Kind.FOLLOW);
        assertThat(ha.runCycle().message()).isEqualTo("starting as readonly because i had the session lock");

        // when the next cycle finds PostgreSQL still not running
        CycleResult r = ha.runCycle();

        // then it removes the leader key; its role was not primary, so no on_role_change
        assertThat(r.action()).isEqualTo(CycleAction.FAILED);
        assertThat(r.message()).isEqualTo("removed leader key after trying and failing to start postgres");
        assertThat(ha.dcs().leaderName()).isEmpty();
        assertThat(ha.events().callbacks()).doesNotContain("on_role_change demoted");
    }

    @Test
    void test_post_recover_without_lock() {
        // given a replica of 'leader' whose postmaster died, and starting it again will fail
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", ha.peer("leader").walPosition())).build());
        ha.postgres().crash();
        ha.postgres().failNext(Kind.FOLLOW);
        assertThat(ha.runCycle().message()).isEqualTo("starting as a secondary");

        // when the next cycle finds PostgreSQL still not running
        CycleResult r = ha.runCycle();

        // then it reports the failure and leaves the leader key alone
        assertThat(r.action()).isEqualTo(CycleAction.FAILED);
        assertThat(r.message()).isEqualTo("failed to start postgres");
        assertThat(ha.dcs().leaderName()).contains("leader");
        assertThat(ha.events().callbacks()).doesNotContain("on_role_change demoted");
    }

    @Test
    void test_post_recover_running() {
        // given a replica of 'leader' whose postmaster died and was started again
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", ha.peer("leader").walPosition())).build());
        ha.postgres().crash();
        assertThat(ha.runCycle().message()).isEqualTo("starting as a secondary");

        // when the next cycle finds it running, then it goes on as usual: following the leader
        CycleResult r = ha.runCycle();
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(r.message()).isEqualTo("no action. I am (postgresql0), a secondary, and following a leader (leader)");
        assertThat(ha.postgres().upstream()).isEqualTo("leader");
    }

    @Test
    void test_failover_immediately_on_zero_primary_start_timeout() {
        // given primary_start_timeout 0, the lock holder with a healthy replica 'other'
        HaScenario ha = leaderWithLock(HaScenario.create(b -> b.primaryStartTimeout(Duration.ZERO)), "other");
        // and its postmaster was killed
        ha.postgres().crash();

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it does not restart it but stops (demotes) to let 'other' take over
        assertThat(r.action()).isEqualTo(CycleAction.DEMOTE);
        assertThat(r.message()).isEqualTo("stopped PostgreSQL to fail over after a crash");
        assertThat(ha.postgres().count(Kind.STOP)).isEqualTo(1);
        assertThat(ha.postgres().startCount()).isZero();

        // and once the stop completed, the next cycle has released the lock
        ha.runCycle();
        assertThat(ha.dcs().leaderName()).isEmpty();
    }

    @Test
    void test_failover_immediately_on_zero_primary_start_timeout_without_candidate() {
        // given primary_start_timeout 0 but no other member that could take over
        HaScenario ha = leaderWithLock(HaScenario.create(b -> b.primaryStartTimeout(Duration.ZERO)));
        ha.postgres().crash();

        // when a cycle runs: no failover is possible, so the timeout is void (Patroni: timeout = None);
        // pg_control says "in production" but the cluster is locked and pg_rewind is off: no crash recovery
        CycleResult r = ha.runCycle();

        // then it keeps the lock and restarts read-only
        assertThat(r.action()).isEqualTo(CycleAction.START);
        assertThat(r.message()).isEqualTo("starting as readonly because i had the session lock");
        assertThat(r.lockHeld()).isTrue();
    }

    @Test
    void a_primary_recovered_in_single_user_mode_fails_over_without_publishing_that_checkpoint() {
        // given primary_start_timeout 0 and pg_rewind on, the lock holder whose replica 'other' is
        // still starting (its member key does not say running yet) when the postmaster is killed
        HaScenario ha = leaderWithLock(HaScenario.create(b -> b.primaryStartTimeout(Duration.ZERO)
                .usePgRewind(true)));
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().member(Members.stopped("other", "replica")).build());
        ha.postgres().crash();

        // when a cycle runs, no failover is possible: it recovers in single-user mode, whose
        // shutdown (archive_mode on) switches to a new WAL segment before its checkpoint
        assertThat(ha.runCycle().message()).isEqualTo("doing crash recovery in a single user mode");
        // and meanwhile 'other' streams and has received everything the primary wrote
        ha.given(Clusters.builder().member(Members.replica("other", wal)).build());

        // then the next cycles fail over: stop (nothing runs) and release the lock
        assertThat(ha.runCycle().message()).isEqualTo("stopped PostgreSQL to fail over after a crash");
        ha.runCycle();
        assertThat(ha.dcs().leaderName()).isEmpty();
        // and the status key does not carry the single-user checkpoint, 16 MB on: 'other' is not
        // "behind" and may take over
        assertThat(ha.postgres().controlData().checkpointLocation().value()).isGreaterThan(wal + 1_048_576);
        assertThat(ha.dcs().snapshot().status().optime()).isEqualTo(wal);
    }

    @Test
    void test_demote_immediate() {
        // given the lock holder demoted immediately after a crash (primary_start_timeout 0)
        HaScenario ha = leaderWithLock(HaScenario.create(b -> b.primaryStartTimeout(Duration.ZERO)), "other");
        ha.postgres().crash();
        assertThat(ha.runCycle().message()).isEqualTo("stopped PostgreSQL to fail over after a crash");

        // when the next cycle sees the stop completed
        CycleResult r = ha.runCycle();

        // then the lock is released and, there being no leader, PostgreSQL starts as a replica of nobody
        assertThat(ha.dcs().leaderName()).isEmpty();
        assertThat(r.lockHeld()).isFalse();
        assertThat(r.action()).isEqualTo(CycleAction.IN_PROGRESS);
        assertThat(r.message()).isEqualTo("starting after demotion in progress");
        assertThat(ha.postgres().isStandbyConfigured()).isTrue();
        assertThat(ha.postgres().upstream()).isNull();

        // and when 'other' has won the race meanwhile, the next cycle finds PostgreSQL up as a replica
        // (on_role_change replica) and points it at the new leader
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().leader("other").member(Members.primary("other", wal)).build());
        CycleResult after = ha.runCycle();
        assertThat(after.role()).isEqualTo(PostgresRole.REPLICA);
        assertThat(after.message()).isEqualTo("no action. I am (postgresql0), a secondary, and following a leader (other)");
        assertThat(ha.events().callbacks()).contains("on_role_change replica");
        // and no on_stop: there was no postmaster to signal (Patroni's stop() "not signaled")
        assertThat(ha.events().callbacks()).doesNotContain("on_stop demoted");
    }

    @Test
    void recover_crash_recovery_when_cluster_unlocked() {
        // given a primary whose postmaster was killed (pg_control "in production") while its agent was
        // down, the cluster unlocked, pg_rewind off
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).build());
        ha.postgres().crash();

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it runs single-user crash recovery first (the cluster is unlocked)
        assertThat(r.action()).isEqualTo(CycleAction.CRASH_RECOVERY);
        assertThat(r.message()).isEqualTo("doing crash recovery in a single user mode");
    }

    @Test
    void recover_no_crash_recovery_when_locked_by_another_and_pg_rewind_off() {
        // given a former primary whose postmaster was killed, another member holds the lock,
        // and pg_rewind is not usable
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", 0x9000000)).build());
        ha.postgres().crash();

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it does not run crash recovery but starts as a replica of the leader
        assertThat(r.action()).isEqualTo(CycleAction.START);
        assertThat(r.message()).isEqualTo("starting as a secondary");
        assertThat(ha.postgres().count(Kind.CRASH_RECOVERY)).isZero();
        assertThat(ha.postgres().upstream()).isEqualTo("leader");
    }

    @Test
    void recover_crash_recovery_when_locked_by_another_and_pg_rewind_usable() {
        // given the same, but pg_rewind is usable (it needs a cleanly shut down data directory)
        HaScenario ha = HaScenario.create(b -> b.usePgRewind(true)).runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", 0x9000000)).build());
        ha.postgres().crash();

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it runs single-user crash recovery first
        assertThat(r.action()).isEqualTo(CycleAction.CRASH_RECOVERY);
        assertThat(r.message()).isEqualTo("doing crash recovery in a single user mode");
    }

    @Test
    void recover_starting_as_a_secondary() {
        // given a replica of the leader whose postmaster was killed
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", ha.peer("leader").walPosition())).build());
        ha.postgres().crash();

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it starts PostgreSQL as a replica of the leader
        assertThat(r.action()).isEqualTo(CycleAction.START);
        assertThat(r.message()).isEqualTo("starting as a secondary");
        assertThat(r.lockHeld()).isFalse();
        ha.runCycle();
        assertThat(ha.postgres().upstream()).isEqualTo("leader");
        assertThat(ha.postgres().streamingStatus().name()).isEqualTo("STREAMING");
    }
}
