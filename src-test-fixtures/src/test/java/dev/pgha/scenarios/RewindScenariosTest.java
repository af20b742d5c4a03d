package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.HaConfig;
import dev.pgha.cluster.Member;
import dev.pgha.postgres.StopMode;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeOperation.Kind;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import dev.pgha.testing.SimulatedCluster;
import dev.pgha.testing.SimulatedNode;
import dev.pgha.testing.StreamingStatus;
import java.time.Duration;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Patroni's {@code test_ha.py} situations about a data directory that diverged from the leader's
 * timeline, ported one test each: test_crash_recovery_before_rewind, test_recover_with_rewind
 * (needed and not needed), test_recover_with_reinitialize, test_follow_triggers_rewind.
 *
 * <p>pgha difference: divergence is decided from the {@code history} key and the leader's member
 * key (timeline) against this node's timeline and position (pg_control when stopped), not from
 * the leader's {@code TIMELINE_HISTORY} over a replication connection. The fakes here really
 * diverge: the leader 'leader' was promoted to timeline 2 at a switch point this node's WAL went past.
 */
class RewindScenariosTest {

    /** Writes the DCS as 'leader' (running primary on timeline 2, promoted at its history's switch) publishes it. */
    private static void givenLeaderOnTimeline2(HaScenario ha, FakePostgres leader) {
        long switchLsn = leader.timelineHistory().get(0).switchLsn();
        long wal = leader.walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", wal, 2)).history(1, switchLsn).status(wal).build());
    }

    /**
     * postgresql0 was the primary; its replica 'leader' was promoted to timeline 2 while postgresql0
     * wrote on past the switch point; then postgresql0 was shut down cleanly (pg_control "shut down").
     */
    private static HaScenario divergedFormerPrimary(UnaryOperator<HaConfig.Builder> settings) {
        HaScenario ha = HaScenario.create(settings).runningPrimary();
        FakePostgres leader = ha.peer("leader");
        ha.finish(leader.cloneFrom(Member.named(NAME)));
        ha.finish(leader.follow(Member.named(NAME)));
        ha.finish(leader.promote());
        assertThat(ha.postgres().write(4096)).isTrue();
        ha.finish(ha.postgres().stop(StopMode.FAST, true));
        givenLeaderOnTimeline2(ha, leader);
        return ha;
    }

    /**
     * postgresql0 and 'leader' were replicas of 'old'; 'leader' lagged behind, postgresql0 received
     * more WAL, then 'old' died and 'leader' was promoted at its lower position: postgresql0's WAL
     * went past the switch point of timeline 2. postgresql0 still runs.
     */
    private static HaScenario divergedReplica(UnaryOperator<HaConfig.Builder> settings) {
        HaScenario ha = HaScenario.create(settings);
        FakePostgres old = ha.peer("old");
        ha.finish(old.bootstrap());
        FakePostgres leader = ha.peer("leader");
        ha.finish(leader.cloneFrom(Member.named("old")));
        ha.finish(leader.follow(Member.named("old")));
        ha.runningReplicaOf("old");
        leader.pauseReplication(true);
        assertThat(old.write(4096)).isTrue();
        ha.world().tick();
        old.crash();
        ha.finish(leader.promote());
        assertThat(ha.postgres().walPosition().value()).isGreaterThan(leader.timelineHistory().get(0).switchLsn());
        givenLeaderOnTimeline2(ha, leader);
        return ha;
    }

    @Test
    void test_crash_recovery_before_rewind() {
        // given a diverged replica whose postmaster died (pg_control "in archive recovery"), pg_rewind usable
        HaScenario ha = divergedReplica(b -> b.usePgRewind(true));
        ha.postgres().crash();

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it first runs crash recovery: pg_rewind needs a cleanly shut down data directory
        assertThat(r.action()).isEqualTo(CycleAction.CRASH_RECOVERY);
        assertThat(r.message()).isEqualTo("doing crash recovery in a single user mode");

        // and once that completed, it rewinds from the leader
        CycleResult next = ha.runCycle();
        assertThat(next.action()).isEqualTo(CycleAction.REWIND);
        assertThat(next.message()).isEqualTo("running pg_rewind from leader");
    }

    @Test
    void test_recover_with_rewind() {
        // given a diverged former primary, shut down, pg_rewind usable
        HaScenario ha = divergedFormerPrimary(b -> b.usePgRewind(true));

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it rewinds from the leader
        assertThat(r.action()).isEqualTo(CycleAction.REWIND);
        assertThat(r.message()).isEqualTo("running pg_rewind from leader");
        assertThat(ha.postgres().count(Kind.REWIND)).isEqualTo(1);

        // and then starts as a replica and follows the leader on timeline 2
        assertThat(ha.runCycle().message()).isEqualTo("starting as a secondary");
        CycleResult following = ha.runCycle();
        assertThat(following.message())
                .isEqualTo("no action. I am (postgresql0), a secondary, and following a leader (leader)");
        assertThat(ha.postgres().timeline()).isEqualTo(2);
        assertThat(ha.postgres().streamingStatus()).isEqualTo(StreamingStatus.STREAMING);
    }

    @Test
    void test_recover_with_rewind_not_needed() {
        // given the former primary was shut down cleanly before 'leader' (its replica, which received the
        // shutdown checkpoint) was promoted: a clean switchover, nothing diverged; pg_rewind usable
        HaScenario ha = HaScenario.create(b -> b.usePgRewind(true)).runningPrimary();
        FakePostgres leader = ha.peer("leader");
        ha.finish(leader.cloneFrom(Member.named(NAME)));
        ha.finish(leader.follow(Member.named(NAME)));
        ha.finish(ha.postgres().stop(StopMode.FAST, true));
        ha.finish(leader.promote());
        givenLeaderOnTimeline2(ha, leader);

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it starts as a replica without rewinding
        assertThat(r.action()).isEqualTo(CycleAction.START);
        assertThat(r.message()).isEqualTo("starting as a secondary");
        // and then follows the leader (the result of follow())
        CycleResult following = ha.runCycle();
        assertThat(following.message())
                .isEqualTo("no action. I am (postgresql0), a secondary, and following a leader (leader)");
        assertThat(ha.postgres().count(Kind.REWIND)).isZero();
        assertThat(ha.postgres().streamingStatus()).isEqualTo(StreamingStatus.STREAMING);
    }

    @Test
    void test_recover_with_reinitialize() {
        // given a diverged former primary, shut down; no pg_rewind but remove_data_directory_on_diverged_timelines
        HaScenario ha = divergedFormerPrimary(b -> b.removeDataDirectoryOnDivergedTimelines(true));
        String systemId = ha.systemId();

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it wipes the data directory and clones it again from the leader
        assertThat(r.action()).isEqualTo(CycleAction.REINITIALIZE);
        assertThat(r.message()).isEqualTo("reinitializing due to diverged timelines");
        assertThat(ha.postgres().count(Kind.CLONE)).isEqualTo(1);

        // and then starts as a replica of the leader on timeline 2
        ha.runCycle();
        assertThat(ha.runCycle().message())
                .isEqualTo("no action. I am (postgresql0), a secondary, and following a leader (leader)");
        assertThat(ha.systemId()).isEqualTo(systemId);
        assertThat(ha.postgres().timeline()).isEqualTo(2);
        assertThat(ha.postgres().streamingStatus()).isEqualTo(StreamingStatus.STREAMING);
        assertThat(ha.postgres().count(Kind.CLONE)).as("the new copy is kept").isEqualTo(1);
    }

    @Test
    void a_successful_rewind_keeps_the_data_directory_even_with_removal_on_failure_configured() {
        // given a diverged former primary, shut down, pg_rewind usable with remove_data_directory_on_rewind_failure
        HaScenario ha = divergedFormerPrimary(b -> b.usePgRewind(true).removeDataDirectoryOnRewindFailure(true));
        assertThat(ha.runCycle().message()).isEqualTo("running pg_rewind from leader");

        // when pg_rewind succeeds, then the data stays and it starts as a replica of the leader
        assertThat(ha.runCycle().message()).isEqualTo("starting as a secondary");
        ha.runCycles(2);
        assertThat(ha.postgres().count(Kind.CLONE)).isZero();
        assertThat(ha.postgres().timeline()).isEqualTo(2);
        assertThat(ha.postgres().streamingStatus()).isEqualTo(StreamingStatus.STREAMING);
    }

    @Test
    void rewind_failure_removes_the_data_directory() {
        // given a diverged former primary, shut down, pg_rewind usable with
        // remove_data_directory_on_rewind_failure, and pg_rewind will fail
        HaScenario ha = divergedFormerPrimary(b -> b.usePgRewind(true).removeDataDirectoryOnRewindFailure(true));
        ha.postgres().failNextRewind();
        assertThat(ha.runCycle().message()).isEqualTo("running pg_rewind from leader");

        // when the next cycle sees pg_rewind failed
        CycleResult r = ha.runCycle();

        // then the data directory was removed (patroni.md §3.8) and it bootstraps again from the leader
        assertThat(r.action()).isEqualTo(CycleAction.CLONE);
        assertThat(r.message()).isEqualTo("trying to bootstrap from leader 'leader'");
        ha.runCycles(4);
        assertThat(ha.postgres().timeline()).isEqualTo(2);
        assertThat(ha.postgres().streamingStatus()).isEqualTo(StreamingStatus.STREAMING);
    }

    @Test
    void a_failed_clone_while_reinitializing_leaves_an_empty_data_directory_to_clone_again() {
        // given a diverged former primary, shut down, remove_data_directory_on_diverged_timelines, and
        // the first base backup will fail
        HaScenario ha = divergedFormerPrimary(b -> b.removeDataDirectoryOnDivergedTimelines(true));
        ha.postgres().failNextClone();
        assertThat(ha.runCycle().message()).isEqualTo("reinitializing due to diverged timelines");

        // when the next cycle sees the clone failed
        CycleResult r = ha.runCycle();

        // then the partial copy is gone and it bootstraps again from the leader, this time successfully
        assertThat(r.message()).isEqualTo("trying to bootstrap from leader 'leader'");
        assertThat(ha.postgres().count(Kind.CLONE)).isEqualTo(2);
        ha.runCycles(4);
        assertThat(ha.postgres().timeline()).isEqualTo(2);
        assertThat(ha.postgres().streamingStatus()).isEqualTo(StreamingStatus.STREAMING);
    }

    @Test
    void a_diverged_replica_whose_stop_fails_is_not_rewound_until_a_stop_works() {
        // given a running diverged replica, pg_rewind usable, already pointed at the leader; its next
        // stop will fail
        HaScenario ha = divergedReplica(b -> b.usePgRewind(true));
        ha.runCycle();
        ha.postgres().failNext(Kind.STOP);

        // when the next cycle wants to rewind and the stop before it fails
        assertThat(ha.runCycle().message()).isEqualTo("running pg_rewind from leader");
        ha.postgres().failNext(Kind.STOP);
        ha.runCycle(); // the failed stop's completion: the repair is tried again, and its stop fails too
        // then pg_rewind never ran on the running server
        assertThat(ha.postgres().operations().stream().map(o -> o.kind()).toList()).doesNotContain(Kind.REWIND);
        assertThat(ha.postgres().isPostmasterRunning()).isTrue();

        // and the repair is still due: the next cycles stop it and rewind
        ha.runCycles(4);
        assertThat(ha.postgres().count(Kind.REWIND)).isEqualTo(1);
        assertThat(ha.postgres().timeline()).isEqualTo(2);
        assertThat(ha.postgres().streamingStatus()).isEqualTo(StreamingStatus.STREAMING);
    }

    @Test
    void the_lock_holder_whose_refresh_fails_while_down_does_not_wait_for_itself() {
        // given the leader with the lock, pg_rewind usable, its PostgreSQL shut down cleanly
        HaScenario ha = HaScenario.create(b -> b.usePgRewind(true)).runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).build());
        ha.runCycle();
        ha.finish(ha.postgres().stop(dev.pgha.postgres.StopMode.FAST, true));
        // and its refresh fails with a bug in the DCS adapter (counts as "not obtained")
        ha.failNextDcsCall("refreshLeader", new IllegalStateException("bug in the DCS adapter"));

        // when a cycle runs, then it starts PostgreSQL as a secondary: the leader key names itself,
        // there is no other leader whose timeline to compare with
        assertThat(ha.runCycle().message()).isEqualTo("starting as a secondary");
    }

    @Test
    void test_follow_triggers_rewind() {
        // given a running replica whose WAL went past the switch point of the leader's timeline 2,
        // pg_rewind usable; the first cycle points it at the new leader (it cannot stream: diverged)
        HaScenario ha = divergedReplica(b -> b.usePgRewind(true));
        ha.runCycle();
        assertThat(ha.postgres().upstream()).isEqualTo("leader");

        // when the next cycle follows the leader whose timeline is ahead of its own
        CycleResult r = ha.runCycle();

        // then it rewinds from the leader: it stops PostgreSQL, and pg_rewind runs as soon as it is down
        assertThat(r.action()).isEqualTo(CycleAction.REWIND);
        assertThat(r.message()).isEqualTo("running pg_rewind from leader");
        ha.runCycle();
        assertThat(ha.postgres().count(Kind.REWIND)).isEqualTo(1);

        // and ends streaming from the leader on timeline 2
        ha.runCycles(4);
        assertThat(ha.postgres().timeline()).isEqualTo(2);
        assertThat(ha.postgres().streamingStatus()).isEqualTo(StreamingStatus.STREAMING);
    }

    @Test
    void a_diverged_former_primary_waits_for_the_new_leaders_checkpoint_before_rewinding() {
        // given a diverged former primary, shut down, pg_rewind usable, and the new leader has not yet
        // run its CHECKPOINT after promote (it publishes checkpoint_after_promote: false)
        HaScenario ha = divergedFormerPrimary(b -> b.usePgRewind(true));
        FakePostgres leader = ha.peer("leader");
        ha.given(Clusters.builder().member(Members.from(Members.primary("leader", leader.walPosition().value(), 2))
                .checkpointAfterPromotePending(true).build()).build());

        // when a cycle runs, then pg_rewind waits (it would rewind to a stale pg_control)
        CycleResult r = ha.runCycle();
        assertThat(r.action()).isEqualTo(CycleAction.WAIT);
        assertThat(r.message()).isEqualTo("waiting for checkpoint on leader before rewind");
        assertThat(ha.postgres().count(Kind.REWIND)).isZero();
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();

        // and once the checkpoint is done it rewinds
        givenLeaderOnTimeline2(ha, leader);
        assertThat(ha.runCycle().message()).isEqualTo("running pg_rewind from leader");
    }

    @Test
    void a_former_primary_waits_stopped_while_the_new_leader_still_promotes() {
        // given a diverged former primary, shut down, pg_rewind usable, and the leader key's holder still
        // publishes itself as a replica (its promotion not finished)
        HaScenario ha = divergedFormerPrimary(b -> b.usePgRewind(true));
        FakePostgres leader = ha.peer("leader");
        ha.given(Clusters.builder().member(Members.replica("leader", leader.walPosition().value(), 1)).build());

        // when a cycle runs, then it neither starts nor rewinds: whether it forked cannot be told yet
        CycleResult r = ha.runCycle();
        assertThat(r.action()).isEqualTo(CycleAction.WAIT);
        assertThat(r.message())
                .isEqualTo("waiting for leader leader to run as primary before checking whether my data diverged");
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();
        assertThat(ha.postgres().operations().stream().map(o -> o.kind()).toList())
                .doesNotContain(Kind.START, Kind.FOLLOW, Kind.REWIND);

        // and once the leader runs as primary on timeline 2 it rewinds from it
        givenLeaderOnTimeline2(ha, leader);
        assertThat(ha.runCycle().message()).isEqualTo("running pg_rewind from leader");
    }

    @Test
    void a_replica_on_a_timeline_number_another_promotion_reused_rewinds() {
        // given 'old' leads and 'a', 'c' and postgresql0 stream from it, all caught up; pg_rewind usable
        HaScenario ha = HaScenario.create(b -> b.usePgRewind(true));
        FakePostgres old = ha.peer("old");
        ha.finish(old.bootstrap());
        FakePostgres a = ha.peer("a");
        FakePostgres c = ha.peer("c");
        for (FakePostgres replica : List.of(a, c)) {
            ha.finish(replica.cloneFrom(Member.named("old")));
            ha.finish(replica.follow(Member.named("old")));
        }
        ha.runningReplicaOf("old");
        assertThat(old.write(4096)).isTrue();
        ha.world().tick();
        // and 'old' died, 'a' was promoted to timeline 2 and leads (nothing in the history key yet)
        old.crash();
        ha.finish(a.promote());
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("a")
                .member(Members.primary("a", a.walPosition().value(), 2)).build());
        // and postgresql0 followed 'a' onto its timeline 2
        ha.runCycles(3);
        assertThat(ha.postgres().timeline()).isEqualTo(2);
        assertThat(ha.postgres().streamingStatus()).isEqualTo(StreamingStatus.STREAMING);

        // when 'a' dies too and 'c', which never followed it, is promoted from timeline 1 at the same
        // position: another "timeline 2", with the same switch point in its .history file
        a.crash();
        ha.finish(c.promote());
        assertThat(c.write(4096)).isTrue();
        assertThat(c.timelineHistory()).isEqualTo(ha.postgres().timelineHistory());
        ha.dcs().deleteMember("a");
        long switchLsn = c.timelineHistory().get(0).switchLsn();
        ha.given(Clusters.builder().leader("c").member(Members.primary("c", c.walPosition().value(), 2))
                .history(1, switchLsn, "c").build());

        // then postgresql0, pointed at 'c' and not streaming, tells the fork by who made its timeline
        // ('a', as it saw it happen) and rewinds from 'c'
        List<String> messages = new java.util.ArrayList<>();
        for (int i = 0; i < 4 && !messages.contains("running pg_rewind from c"); i++) {
            ha.peersPublish();
            messages.add(ha.runCycle().message());
        }
        assertThat(messages).contains("running pg_rewind from c");
        ha.runCycles(4);
        assertThat(ha.postgres().upstream()).isEqualTo("c");
        assertThat(ha.postgres().streamingStatus()).isEqualTo(StreamingStatus.STREAMING);
        assertThat(ha.world().violations()).isEmpty();
    }

    @Test
    void check_rejoin_of_the_former_primary_with_pg_rewind() {
        // given a converged three-node cluster with primary_start_timeout 0 and pg_rewind usable
        SimulatedCluster sim = SimulatedCluster.builder()
                .config(b -> b.usePgRewind(true).primaryStartTimeout(Duration.ZERO)).build();
        assertThat(sim.runUntil(SimulatedCluster::isConverged, Duration.ofMinutes(3))).as(sim.log()).isTrue();
        String old = sim.leader().orElseThrow();
        List<FakePostgres> replicas = sim.nodes().stream().map(SimulatedNode::postgres)
                .filter(pg -> !pg.name().equals(old)).toList();
        // and the primary wrote WAL its replicas never received
        replicas.forEach(pg -> pg.pauseReplication(true));
        assertThat(sim.write(4096)).isTrue();
        sim.runFor(Duration.ofSeconds(2));

        // when its postmaster is killed (the replicas stream again from whoever leads next)
        sim.crashPostgres(old);
        replicas.forEach(pg -> pg.pauseReplication(false));

        // then it fails over at once, and the former primary rewinds and follows the new leader
        boolean rejoined = sim.runUntil(s -> s.isConverged() && !s.leader().orElseThrow().equals(old),
                Duration.ofMinutes(3));
        assertThat(rejoined).as(sim.log()).isTrue();
        assertThat(sim.log()).contains(old + ": DEMOTE: stopped PostgreSQL to fail over after a crash");
        assertThat(sim.log()).contains(old + ": REWIND: running pg_rewind from " + sim.leader().orElseThrow());
        assertThat(sim.world().get(old).upstream()).isEqualTo(sim.leader().orElseThrow());
        assertThat(sim.world().violations()).isEmpty();
    }
}
