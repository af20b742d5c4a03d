package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.MemberTags;
import dev.pgha.dcs.DcsException;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Maintenance mode ({@code pause: true} in the {@code config} key, Patroni's docs/pause.rst):
 * Patroni's pause situations of test_ha.py, ported one test each, and what pause promises beyond
 * them (the lease guard disarmed, the member key's {@code pause} flag, a crashed primary left alone).
 *
 * <p>pgha difference: a member is reachable while its member key exists (Patroni asks its REST API).
 */
class PauseScenariosTest {

    private static final String LEADER_WITH_LOCK = "no action. I am (postgresql0), the leader with the lock";

    /** postgresql0 leads with replica 'b'; then the operator pauses the cluster. */
    private static HaScenario pausedLeader() {
        HaScenario ha = HaScenario.create().leading("b");
        ha.editConfig(Map.of("pause", true));
        return ha;
    }

    /** postgresql0 runs as primary in a paused, initialized cluster whose leader key has expired. */
    private static HaScenario pausedPrimaryWithoutLock(Failover request) {
        HaScenario ha = HaScenario.create().runningPrimary();
        long wal = ha.postgres().walPosition().value();
        Clusters.Builder view = Clusters.builder().initialize(ha.systemId()).paused(true)
                .member(Members.primary(NAME, wal)).member(Members.replica("other", wal)).status(wal);
        if (request != null) {
            view.failover(request);
        }
        ha.given(view.build());
        return ha;
    }

    @Test
    void test_after_pause() {
        // given the leader with the lock, in pause
        HaScenario ha = pausedLeader();

        // when a cycle runs, then it keeps the lock and says so with Patroni's prefix
        CycleResult paused = ha.runCycle();
        assertThat(paused.message()).isEqualTo("PAUSE: " + LEADER_WITH_LOCK);
        assertThat(paused.lockHeld()).isTrue();

        // and when the operator resumes, the prefix goes away
        ha.editConfig(Map.of("pause", false));
        assertThat(ha.runCycle().message()).isEqualTo(LEADER_WITH_LOCK);
    }

    @Test
    void pause_keeps_the_lease_guard_armed_while_the_agent_runs() {
        // given the leader with the lock: its lease guard is armed
        HaScenario ha = HaScenario.create().leading("b");
        assertThat(ha.guardDeadline()).isNotNull();

        // when the cluster is paused, then the lock is refreshed and the guard re-armed with it, so
        // that a leader whose agent freezes during the pause is still fenced (Patroni disables its
        // watchdog here; pgha does not, so that a resume never finds two writable primaries)
        ha.editConfig(Map.of("pause", true));
        java.time.Instant before = ha.guardDeadline();
        CycleResult r = ha.runCycleAfter(Duration.ofSeconds(1));
        assertThat(r.lockHeld()).isTrue();
        assertThat(ha.guardDeadline()).isAfter(before);

        // and when the agent is stopped in pause, then PostgreSQL keeps running, unfenced, and the
        // key is left to expire
        ha.controller().close();
        CycleResult last = ha.runCycle();
        assertThat(last.action()).isEqualTo(CycleAction.SHUTDOWN);
        assertThat(ha.guardDeadline()).isNull();
        assertThat(ha.postgres().isWritable()).isTrue();
        assertThat(ha.dcs().snapshot().leaderName()).contains(NAME);
    }

    @Test
    void paused_member_publishes_pause_in_its_key() {
        HaScenario ha = pausedLeader();
        ha.runCycle();
        assertThat(ha.dcs().snapshot().member(NAME).orElseThrow().pause()).isTrue();
        ha.editConfig(Map.of("pause", false));
        ha.runCycle();
        assertThat(ha.dcs().snapshot().member(NAME).orElseThrow().pause()).isFalse();
    }

    @Test
    void test_process_healthy_cluster_in_pause() {
        // given the lock holder whose PostgreSQL runs as a replica, in pause
        HaScenario ha = HaScenario.create().runningReplicaOf("other");
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).paused(true).leader(NAME)
                .member(Members.replica(NAME, wal)).member(Members.primary("other", wal)).build());

        // when a cycle runs, then it gives the key up rather than promote
        CycleResult r = ha.runCycle();
        assertThat(r.message()).isEqualTo("PAUSE: removed leader lock because postgres is not running as primary");
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
        assertThat(ha.postgres().isWritable()).isFalse();

        // given the same, with a manual failover naming it: it waits for its promotion instead
        ha.given(Clusters.builder().leader(NAME).failover(new Failover(null, NAME, null, 0)).build());
        assertThat(ha.runCycle().message()).isEqualTo("PAUSE: waiting to become primary after promote...");
        assertThat(ha.dcs().snapshot().leaderName()).contains(NAME);
    }

    @Test
    void test_postgres_unhealthy_in_pause() {
        // given a stopped replica of a paused cluster led by 'leader'
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).paused(true).leader("leader")
                .member(Members.primary("leader", wal)).member(Members.replica(NAME, wal)).build());
        ha.postgres().crash();

        // when a cycle runs, then PostgreSQL is not started
        assertThat(ha.runCycle().message()).isEqualTo("PAUSE: postgres is not running");
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();

        // given it holds the lock instead, then it removes the key and still does not start it
        ha.dcs().putLeader(NAME, Duration.ofSeconds(30));
        assertThat(ha.runCycle().message()).isEqualTo("PAUSE: removed leader lock because postgres is not running");
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();
    }

    @Test
    void crashed_primary_in_pause_is_neither_restarted_nor_failed_over() {
        // given the leader with the lock and replica 'b', in pause
        HaScenario ha = pausedLeader();
        ha.runCycle();

        // when its postmaster dies
        int starts = ha.postgres().startCount();
        ha.postgres().crash();

        // then it is not restarted; the key is given up, and nothing else is started
        CycleResult r = ha.runCycle();
        assertThat(r.message()).isEqualTo("PAUSE: removed leader lock because postgres is not running");
        for (int i = 0; i < 5; i++) {
            r = ha.runCycleAfter(Duration.ofSeconds(10));
            assertThat(r.message()).isEqualTo("PAUSE: postgres is not running");
        }
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();
        assertThat(ha.postgres().startCount()).isEqualTo(starts);

        // and after the operator resumes, the node recovers by itself
        ha.editConfig(Map.of("pause", false));
        ha.cycleFor(Duration.ofSeconds(60));
        assertThat(ha.postgres().isPostmasterRunning()).isTrue();
    }

    @Test
    void test_no_etcd_connection_in_pause() {
        // given the leader with the lock, in pause
        HaScenario ha = pausedLeader();
        ha.runCycle();

        // when the DCS cannot be read
        ha.failNextDcsCall("readCluster", new DcsException(DcsException.Reason.UNAVAILABLE, "Etcd is not responding properly"));
        CycleResult r = ha.runCycle();

        // then it says so and PostgreSQL keeps running as primary
        assertThat(r.message()).isEqualTo("PAUSE: DCS is not accessible");
        assertThat(ha.postgres().isWritable()).isTrue();
    }

    @Test
    void test_follow_in_pause() {
        // given postgresql0 runs as primary while 'leader' holds the lock, in pause
        HaScenario ha = HaScenario.create().runningPrimary();
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).paused(true).leader("leader")
                .member(Members.primary(NAME, wal)).build());

        // when a cycle runs, then it is not demoted
        assertThat(ha.runCycle().message()).isEqualTo("PAUSE: continue to run as primary without lock");
        assertThat(ha.postgres().isWritable()).isTrue();
        assertThat(ha.controller().status().role()).isEqualTo(PostgresRole.PRIMARY);
    }

    @Test
    void test_follow_in_pause_as_replica_with_nobody_to_follow() {
        // given a replica of a paused cluster without a leader
        HaScenario ha = HaScenario.create().runningReplicaOf("gone");
        long wal = ha.postgres().walPosition().value();
        ha.peer("gone").crash();
        ha.given(Clusters.builder().initialize(ha.systemId()).paused(true)
                .member(Members.replica(NAME, wal)).build());

        // when a cycle runs, then nothing is done
        assertThat(ha.runCycle().message()).isEqualTo("PAUSE: no action. I am (postgresql0)");
        assertThat(ha.controller().status().role()).isEqualTo(PostgresRole.REPLICA);
    }

    @Test
    void test_failed_to_update_lock_in_pause() {
        // given the leader with the lock, in pause
        HaScenario ha = pausedLeader();
        ha.runCycle();

        // when refreshing the lock fails
        ha.failNextDcsCall("refreshLeader", new DcsException(DcsException.Reason.UNAVAILABLE, "refresh failed"));
        ha.beforeNextDcsCall("refreshLeader", () -> { });
        CycleResult r = ha.runCycle();

        // then it keeps running as primary
        assertThat(r.message()).isIn("PAUSE: DCS is not accessible",
                "PAUSE: continue to run as primary after failing to update leader lock in DCS");
        assertThat(ha.postgres().isWritable()).isTrue();
    }

    @Test
    void test_failed_to_update_lock_in_pause_when_refused() {
        // given the leader with the lock, in pause, and the key taken over behind its back
        HaScenario ha = pausedLeader();
        ha.runCycle();
        ha.beforeNextDcsCall("refreshLeader", () -> ha.dcs().putLeader("b", Duration.ofSeconds(30)));

        // when the refresh is refused
        CycleResult r = ha.runCycle();

        // then it keeps running as primary, as Patroni does in pause
        assertThat(r.message()).isEqualTo("PAUSE: continue to run as primary after failing to update leader lock in DCS");
        assertThat(ha.postgres().isWritable()).isTrue();
    }

    @Test
    void test_empty_directory_in_pause() {
        // given an empty data directory in a paused cluster led by 'leader'
        HaScenario ha = HaScenario.create();
        ha.finish(ha.peer("leader").bootstrap());
        ha.given(Clusters.builder().initialize(ha.peer("leader").systemIdentifier()).paused(true).leader("leader")
                .member(Members.primary("leader", 100)).build());

        // when a cycle runs, then nothing is cloned
        CycleResult r = ha.runCycle();
        assertThat(r.message()).isEqualTo("PAUSE: running with empty data directory");
        assertThat(ha.controller().status().role()).isEqualTo(PostgresRole.UNINITIALIZED);
        assertThat(ha.postgres().dataDirectory()).isEqualTo(DataDirectoryState.EMPTY);
        assertThat(ha.postgres().runningOperation()).isEmpty();
    }

    @Test
    void test_sysid_no_match_in_pause() {
        // given postgresql0 runs as primary, with a system ID other than the cluster's, in pause
        HaScenario ha = HaScenario.create().runningPrimary();
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(Clusters.SYSTEM_ID).paused(true)
                .member(Members.primary(NAME, wal)).build());
        assertThat(ha.systemId()).isNotEqualTo(Clusters.SYSTEM_ID);

        // when a cycle runs, then it neither takes the lock nor stops
        assertThat(ha.runCycle().message()).isEqualTo("PAUSE: continue to run as primary without lock");
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
        assertThat(ha.postgres().isWritable()).isTrue();

        // given it holds the lock, then it gives the key up
        ha.dcs().putLeader(NAME, Duration.ofSeconds(30));
        assertThat(ha.runCycle().message()).isEqualTo("PAUSE: released leader key voluntarily due to the system ID mismatch");
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
    }

    @Test
    void test_manual_failover_from_leader_in_pause() {
        // given the leader with the lock and a healthy replica 'b', in pause
        HaScenario ha = pausedLeader();

        // when a scheduled switchover is due, then nothing happens: scheduled actions wait for the end of the pause
        ha.given(Clusters.builder().scheduledSwitchover(NAME, "b",
                dev.pgha.cluster.TimelineHistory.formatTimestamp(ha.clock().wallTime())).build());
        assertThat(ha.runCycle().message()).isEqualTo("PAUSE: " + LEADER_WITH_LOCK);
        assertThat(ha.postgres().isWritable()).isTrue();

        // when a manual failover to 'b' is requested, then it demotes itself
        ha.dcs().putFailover(new Failover(null, "b", null, 0));
        CycleResult r = ha.runCycle();
        assertThat(r.message()).isEqualTo("PAUSE: manual failover: demoting myself");
        assertThat(r.action()).isEqualTo(CycleAction.SWITCHOVER);
    }

    @Test
    void test_manual_failover_from_leader_in_pause_not_allowed_to_promote() {
        // given a member tagged nofailover holds the lock, in pause, and a failover to 'b' is requested
        HaScenario ha = HaScenario.create(b -> b.tags(MemberTags.DEFAULT.withNoFailover(true))).leading("b");
        ha.editConfig(Map.of("pause", true));
        ha.dcs().putFailover(new Failover(null, "b", null, 0));

        // when a cycle runs, then it still hands over: the request is the operator's
        assertThat(ha.runCycle().message()).isEqualTo("PAUSE: manual failover: demoting myself");
    }

    @Test
    void test_manual_switchover_from_leader_in_pause() {
        // given the leader with the lock, in pause, and a switchover without a candidate
        HaScenario ha = pausedLeader();
        ha.given(Clusters.builder().switchover(NAME, null).build());

        // when a cycle runs, then nothing happens: in pause only a named candidate can take over
        // ("Switchover is possible only to a specific candidate in a paused state"), and the
        // request is cleaned up
        CycleResult r = ha.runCycle();
        assertThat(r.message()).isEqualTo("PAUSE: " + LEADER_WITH_LOCK);
        assertThat(ha.dcs().snapshot().failover()).isNull();
        assertThat(ha.postgres().isWritable()).isTrue();
    }

    @Test
    void test_manual_failover_process_no_leader_in_pause() {
        // given postgresql0 runs as primary, unlocked, in pause, and a failover to 'other' is requested
        HaScenario ha = pausedPrimaryWithoutLock(new Failover(null, "other", null, 0));

        // when a cycle runs, then it neither takes the lock nor stops: 'other' is the one to take over
        assertThat(ha.runCycle().message()).isEqualTo("PAUSE: continue to run as primary without lock");
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
        assertThat(ha.postgres().isWritable()).isTrue();
    }

    @Test
    void test_manual_switchover_process_no_leader_in_pause() {
        // given postgresql0 runs as primary, unlocked, in pause, and a switchover without a candidate
        HaScenario ha = pausedPrimaryWithoutLock(new Failover("leader", null, null, 0));
        assertThat(ha.runCycle().message()).isEqualTo("PAUSE: continue to run as primary without lock");

        // when the switchover names a candidate that is not running
        ha.given(Clusters.builder().failover(new Failover("leader", "blabla", null, 0)).build());
        CycleResult r = ha.runCycle();

        // then the primary removes the request ("switchover: removing failover key because failover
        // candidate is not running") and takes the lock
        assertThat(r.message()).isEqualTo("PAUSE: acquired session lock as a leader");
        assertThat(ha.dcs().snapshot().failover()).isNull();
        assertThat(ha.dcs().snapshot().leaderName()).contains(NAME);
    }

    @Test
    void test_manual_switchover_process_no_leader_in_pause_to_me() {
        // given postgresql0 is a replica of a paused cluster whose leader is gone, and a switchover to it
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        long wal = ha.postgres().walPosition().value();
        ha.peer("leader").crash();
        ha.given(Clusters.builder().initialize(ha.systemId()).paused(true).member(Members.replica(NAME, wal))
                .failover(new Failover("leader", NAME, null, 0)).status(wal).build());

        // when a cycle runs, then it takes the lock and promotes itself
        CycleResult r = ha.runCycle();
        assertThat(r.message()).isEqualTo("PAUSE: promoted self to leader by acquiring session lock");
        assertThat(ha.dcs().snapshot().leaderName()).contains(NAME);
        // and Patroni keeps the candidate in the key while paused
        assertThat(ha.dcs().snapshot().failover()).isNotNull();
        assertThat(ha.dcs().snapshot().failover().candidate()).isEqualTo(NAME);
    }

    @Test
    void replica_in_pause_does_not_race_for_an_expired_lock() {
        // given a healthy replica of a paused cluster whose leader key expired
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        long wal = ha.postgres().walPosition().value();
        ha.peer("leader").crash();
        ha.given(Clusters.builder().initialize(ha.systemId()).paused(true).member(Members.replica(NAME, wal))
                .status(wal).build());

        // when cycles run, then it never takes the lock and is not promoted
        for (int i = 0; i < 5; i++) {
            CycleResult r = ha.runCycleAfter(Duration.ofSeconds(10));
            assertThat(r.lockHeld()).isFalse();
        }
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
        assertThat(ha.postgres().promoteCount()).isZero();
    }
}
