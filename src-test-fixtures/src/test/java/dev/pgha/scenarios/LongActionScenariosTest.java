package dev.pgha.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.ActionResult;
import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeOperation;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Patroni's {@code test_ha.py} situations about long (async) actions and the operator actions
 * that start them, one test each: test_lost_leader_lock_during_promote, test_reinitialize
 * (refusals, start, already in progress), test_restart (adapted) and test_restart_in_progress.
 *
 * <p>pgha runs long actions as {@code PostgresOperation}s observed on later cycles (there is no
 * executor thread): where an action must still be in progress the fake takes real time
 * ({@link FakeTimings#DEFAULTS}) and the test does not advance the clock. {@code restart()} is
 * therefore always asynchronous: Patroni's synchronous answers ("restarted successfully",
 * "restart failed") become "restart initiated" and the outcome of later cycles.
 */
class LongActionScenariosTest {

    private static final Duration TTL = Duration.ofSeconds(30);

    private static final String LEADER_WITH_LOCK = "no action. I am (postgresql0), the leader with the lock";
    private static final String FOLLOWING_LEADER = "no action. I am (postgresql0), a secondary, and following a leader (leader)";

    /** A replica following "leader", which holds the key; cycles ran until nothing was left to do. */
    private static HaScenario replicaFollowingLeader(FakeTimings timings) {
        return replicaFollowingLeader(timings, false);
    }

    private static HaScenario replicaFollowingLeader(FakeTimings timings, boolean usePgRewind) {
        HaScenario ha = HaScenario.create(b -> b.usePgRewind(usePgRewind), timings).runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", ha.postgres().walPosition().value())).build());
        ha.runCycle(); // the agent's first cycle points primary_conninfo at the leader
        CycleResult settled = ha.runCycleAfter(Duration.ofSeconds(2));
        assertThat(settled.action()).isEqualTo(CycleAction.NONE);
        assertThat(settled.message()).isEqualTo(FOLLOWING_LEADER);
        return ha;
    }

    /** The running primary holding the lock; one cycle has run. */
    private static HaScenario primaryWithLock(FakeTimings timings) {
        HaScenario ha = HaScenario.create(b -> b, timings).runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(HaScenario.NAME).build());
        assertThat(ha.runCycle().message()).isEqualTo(LEADER_WITH_LOCK);
        return ha;
    }

    // ------------------------------------------------------------------ promote

    @Test
    void test_lost_leader_lock_during_promote() {
        // given the healthiest replica of an unlocked cluster took the lock and started promoting (five seconds)
        HaScenario ha = HaScenario.create(b -> b, FakeTimings.DEFAULTS.withPromote(Duration.ofSeconds(5)))
                .runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).build());
        assertThat(ha.runCycle().message()).isEqualTo("promoted self to leader by acquiring session lock");
        // and member "other" holds the leader key now
        ha.dcs().putLeader("other", TTL);

        // when a cycle runs while the promotion is still running
        CycleResult r = ha.runCycle();

        // then the promotion is cancelled and the node stays a replica. pgha announces the new role when
        // the promotion starts (as Patroni does right after pg_ctl promote); a promotion that is cancelled
        // is announced back as replica, so a VIP callback never stays on a read-only node
        assertThat(r.action()).isEqualTo(CycleAction.DEMOTE);
        assertThat(r.message()).isEqualTo("lost leader before promote");
        assertThat(r.lockHeld()).isFalse();
        ha.runCycleAfter(Duration.ofSeconds(10));
        assertThat(ha.postgres().isWritable()).isFalse();
        assertThat(ha.events().callbacks()).containsExactly("on_role_change primary", "on_role_change replica");
        assertThat(ha.dcs().leaderName()).contains("other");
        assertThat(ha.world().violations()).isEmpty();
    }

    // ------------------------------------------------------------------ reinitialize

    @Test
    void test_reinitialize_without_leader() {
        // given a replica in an unlocked cluster
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).build());

        // when the operator asks for a reinitialize
        ActionResult a = ha.controller().reinitialize();

        // then there is nobody to clone from
        assertThat(a.accepted()).isFalse();
        assertThat(a.message()).isEqualTo("Cluster has no leader, can not reinitialize");
        assertThat(ha.postgres().isPostmasterRunning()).isTrue();
    }

    @Test
    void test_reinitialize() {
        // given a replica following the leader
        HaScenario ha = replicaFollowingLeader(FakeTimings.INSTANT);
        String leaderSystemId = ha.peer("leader").systemIdentifier();

        // when the operator asks for a reinitialize
        ActionResult a = ha.controller().reinitialize();

        // then it is started (stop, wipe, clone from the leader), and the replica comes back following the leader
        assertThat(a.accepted()).isTrue();
        assertThat(a.message()).isEqualTo("reinitialize started");
        CycleResult during = ha.runCycle();
        assertThat(during.action()).isEqualTo(CycleAction.IN_PROGRESS);
        assertThat(during.message()).isEqualTo("reinitialize in progress");
        assertThat(ha.postgres().lastOperation(FakeOperation.Kind.CLONE).orElseThrow().description())
                .isEqualTo("cloneFrom(leader)");
        ha.runCycles(3);
        CycleResult r = ha.runCycle();
        assertThat(r.message()).isEqualTo(FOLLOWING_LEADER);
        assertThat(ha.postgres().isPostmasterRunning()).isTrue();
        assertThat(ha.postgres().isWritable()).isFalse();
        assertThat(ha.postgres().upstream()).isEqualTo("leader");
        assertThat(ha.postgres().systemIdentifier()).isEqualTo(leaderSystemId);
        assertThat(ha.world().violations()).isEmpty();
    }

    @Test
    void a_reinitialized_replica_follows_the_leader_at_once_and_gets_no_crash_recovery() {
        // given a replica following the leader, with use_pg_rewind on
        HaScenario ha = replicaFollowingLeader(FakeTimings.INSTANT, true);

        // when the operator asks for a reinitialize and it runs
        assertThat(ha.controller().reinitialize().accepted()).isTrue();
        ha.runCycles(3);

        // then the fresh clone (whose pg_control, copied from the running primary, says "in
        // production") is started following the leader by the reinitialize itself: no single-user
        // crash recovery, which would write a checkpoint the leader's WAL never had
        CycleResult r = ha.runCycle();
        assertThat(r.message()).isEqualTo(FOLLOWING_LEADER);
        assertThat(ha.postgres().count(FakeOperation.Kind.CRASH_RECOVERY)).isZero();
        assertThat(ha.postgres().lastOperation(FakeOperation.Kind.FOLLOW).orElseThrow().description())
                .contains("leader");
        assertThat(ha.postgres().isPostmasterRunning()).isTrue();
        assertThat(ha.postgres().upstream()).isEqualTo("leader");
        assertThat(ha.world().violations()).isEmpty();
    }

    @Test
    void test_reinitialize_already_in_progress() {
        // given a reinitialize has been started
        HaScenario ha = replicaFollowingLeader(FakeTimings.DEFAULTS);
        assertThat(ha.controller().reinitialize().accepted()).isTrue();

        // when the operator asks again
        ActionResult a = ha.controller().reinitialize();

        // then it is refused
        assertThat(a.accepted()).isFalse();
        assertThat(a.message()).isEqualTo("reinitialize already in progress");
    }

    @Test
    void test_reinitialize_as_leader() {
        // given the running primary holding the lock
        HaScenario ha = primaryWithLock(FakeTimings.INSTANT);

        // when the operator asks for a reinitialize
        ActionResult a = ha.controller().reinitialize();

        // then the leader refuses to wipe itself
        assertThat(a.accepted()).isFalse();
        assertThat(a.message()).isEqualTo("I am the leader, can not reinitialize");
        assertThat(ha.postgres().isWritable()).isTrue();
    }

    // ------------------------------------------------------------------ restart

    @Test
    void test_restart() {
        // given a replica following the leader
        HaScenario ha = replicaFollowingLeader(FakeTimings.INSTANT);
        ha.events().clear();

        // when the operator asks for a restart (pgha: asynchronous, Patroni's "restarted successfully"
        // is the outcome of the next cycle)
        ActionResult a = ha.controller().restart();

        // then it is initiated, and the next cycle finds PostgreSQL restarted and still following
        assertThat(a.accepted()).isTrue();
        assertThat(a.message()).isEqualTo("restart initiated");
        CycleResult r = ha.runCycle();
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(r.message()).isEqualTo(FOLLOWING_LEADER);
        assertThat(ha.postgres().count(FakeOperation.Kind.RESTART)).isEqualTo(1);
        assertThat(ha.postgres().isPostmasterRunning()).isTrue();
        assertThat(ha.events().callbacks()).containsExactly("on_restart replica");
    }

    @Test
    void test_restart_failed() {
        // given a replica following the leader, whose next restart fails to start PostgreSQL again
        HaScenario ha = replicaFollowingLeader(FakeTimings.INSTANT);
        ha.postgres().failNext(FakeOperation.Kind.RESTART);

        // when the operator asks for a restart and a cycle runs
        ActionResult a = ha.controller().restart();
        CycleResult r = ha.runCycle();

        // then the failure is reported by the cycle (Patroni: (False, "restart failed") from the call
        // and "failed to start postgres" on the next cycle)
        assertThat(a.accepted()).isTrue();
        assertThat(r.action()).isEqualTo(CycleAction.FAILED);
        assertThat(r.message()).isEqualTo("failed to start postgres");
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();
    }

    @Test
    void test_restart_while_other_action_in_progress() {
        // given a reinitialize is in progress
        HaScenario ha = replicaFollowingLeader(FakeTimings.DEFAULTS);
        assertThat(ha.controller().reinitialize().accepted()).isTrue();

        // when the operator asks for a restart
        ActionResult a = ha.controller().restart();

        // then it is refused
        assertThat(a.accepted()).isFalse();
        assertThat(a.message()).isEqualTo("reinitialize already in progress");
        assertThat(ha.postgres().count(FakeOperation.Kind.RESTART)).isZero();
    }

    // ------------------------------------------------------------------ restart in progress

    @Test
    void test_restart_in_progress() {
        // given a replica in an unlocked cluster whose restart takes two seconds
        HaScenario ha = HaScenario.create(b -> b, FakeTimings.DEFAULTS).runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).build());
        assertThat(ha.controller().restart().accepted()).isTrue();

        // when a cycle runs during the restart
        CycleResult r = ha.runCycle();

        // then it does not race ("not healthy enough for leader race")
        assertThat(r.action()).isEqualTo(CycleAction.IN_PROGRESS);
        assertThat(r.message()).isEqualTo("restart in progress");
        assertThat(r.lockHeld()).isFalse();
        assertThat(ha.dcs().leaderName()).isEmpty();
    }

    @Test
    void test_restart_in_progress_locked_by_other() {
        // given a replica of "leader" whose restart takes two seconds
        HaScenario ha = replicaFollowingLeader(FakeTimings.DEFAULTS);
        assertThat(ha.controller().restart().accepted()).isTrue();

        // when a cycle runs during the restart
        CycleResult r = ha.runCycle();

        // then it waits for it
        assertThat(r.action()).isEqualTo(CycleAction.IN_PROGRESS);
        assertThat(r.message()).isEqualTo("restart in progress");
        assertThat(ha.dcs().leaderName()).contains("leader");
    }

    @Test
    void test_restart_in_progress_with_lock() {
        // given the primary holding the lock, restarting (two seconds)
        HaScenario ha = primaryWithLock(FakeTimings.DEFAULTS);
        assertThat(ha.controller().restart().accepted()).isTrue();

        // when a cycle runs during the restart
        CycleResult r = ha.runCycle();

        // then it keeps the lock
        assertThat(r.action()).isEqualTo(CycleAction.IN_PROGRESS);
        assertThat(r.message()).isEqualTo("updated leader lock during restart");
        assertThat(r.lockHeld()).isTrue();
        assertThat(ha.dcs().leaderName()).contains(HaScenario.NAME);

        // and is the leader again once PostgreSQL is back
        CycleResult after = ha.runCycleAfter(Duration.ofSeconds(3));
        assertThat(after.message()).isEqualTo(LEADER_WITH_LOCK);
        assertThat(ha.postgres().isWritable()).isTrue();
    }

    @Test
    void test_restart_in_progress_lost_lock() {
        // given the primary holding the lock, restarting (two seconds)
        HaScenario ha = primaryWithLock(FakeTimings.DEFAULTS);
        assertThat(ha.controller().restart().accepted()).isTrue();
        // and member "other" has taken the leader key meanwhile
        ha.dcs().putLeader("other", TTL);

        // when a cycle runs during the restart
        CycleResult r = ha.runCycle();

        // then the restart is abandoned and the node demotes: it must not come back as a primary
        assertThat(r.action()).isEqualTo(CycleAction.DEMOTE);
        assertThat(r.message()).isEqualTo("lost leader lock during restart");
        assertThat(r.lockHeld()).isFalse();
        ha.runCycleAfter(Duration.ofSeconds(3));
        ha.runCycleAfter(Duration.ofSeconds(3));
        assertThat(ha.postgres().isWritable()).isFalse();
        assertThat(ha.dcs().leaderName()).contains("other");
        assertThat(ha.world().violations()).isEmpty();
    }
}
