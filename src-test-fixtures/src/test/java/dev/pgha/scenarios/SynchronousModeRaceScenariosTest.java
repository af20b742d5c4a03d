package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.ClusterSettings;
import dev.pgha.ClusterSettings.SynchronousMode;
import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.HaConfig;
import dev.pgha.cluster.MemberTags;
import dev.pgha.cluster.SyncState;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Who may take over in {@code synchronous_mode}: Patroni's test_ha.py situations about the race and
 * manual requests with a {@code sync} key, ported one test each — test_unhealthy_sync_mode,
 * test_sync_replication_become_primary, test_manual_failover_process_no_leader_in_synchronous_mode,
 * test_manual_switchover_process_no_leader_in_synchronous_mode,
 * test_manual_failover_from_leader_in_synchronous_mode,
 * test_manual_switchover_from_leader_in_synchronous_mode — and a {@code sync} key another tool
 * wrote that cannot be used.
 *
 * <p>The rule behind all of them: a standby the {@code sync} key does not name may lack commits the
 * primary acknowledged, so only the key's leader and its standbys race; a manual failover (not a
 * switchover) may still name an asynchronous standby, since the operator asked for it.
 */
class SynchronousModeRaceScenariosTest {

    private static final String NOT_HEALTHIEST = "following a different leader because i am not the healthiest node";
    private static final String PROMOTED = "promoted self to leader by acquiring session lock";

    private static UnaryOperator<HaConfig.Builder> syncMode() {
        return b -> b.bootstrapDcs(ClusterSettings.builder().synchronousMode(SynchronousMode.ON).build());
    }

    /** postgresql0 streams from 'leader', whose keys are gone: the cluster is unlocked. */
    private static HaScenario replicaInUnlockedCluster() {
        HaScenario ha = HaScenario.create(syncMode()).runningReplicaOf("leader");
        ha.peer("leader").crash();
        ha.given(Clusters.builder().initialize(ha.systemId()).status(wal(ha)).build());
        return ha;
    }

    /** postgresql0 runs as primary in synchronous mode, holds the lock, and the sync key names it. */
    private static HaScenario leaderWithLock() {
        HaScenario ha = HaScenario.create(syncMode()).runningPrimary();
        long wal = wal(ha);
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).member(Members.primary(NAME, wal))
                .status(wal).build());
        return ha;
    }

    private static long wal(HaScenario ha) {
        return ha.postgres().walPosition().value();
    }

    private static SyncState syncKey(HaScenario ha) {
        return ha.dcs().snapshot().sync();
    }

    // -------------------------------------------------------------------------- the race

    @Test
    void test_unhealthy_sync_mode_a_standby_the_sync_key_does_not_name_never_races() {
        // given an unlocked cluster in synchronous mode whose sync key names 'leader' and 'other2'
        HaScenario ha = replicaInUnlockedCluster();
        ha.given(Clusters.builder().member(Members.replica("other2", wal(ha))).sync("leader", "other2").build());

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then postgresql0 does not race: it follows, and the sync key stays as it was
        assertThat(r.action()).isEqualTo(CycleAction.FOLLOW);
        assertThat(r.message()).isEqualTo(NOT_HEALTHIEST);
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
        assertThat(syncKey(ha).syncStandbys()).containsExactly("other2");
    }

    @Test
    void test_unhealthy_sync_mode_the_synchronous_standby_takes_over_and_names_itself_in_the_key() {
        // given an unlocked cluster in synchronous mode whose sync key names 'leader' and postgresql0
        HaScenario ha = replicaInUnlockedCluster();
        ha.given(Clusters.builder().sync("leader", NAME).build());

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it takes the lock and promotes, after writing itself into the sync key with no standby
        assertThat(r.action()).isEqualTo(CycleAction.PROMOTE);
        assertThat(r.message()).isEqualTo(PROMOTED);
        assertThat(syncKey(ha).leader()).isEqualTo(NAME);
        assertThat(syncKey(ha).syncStandbys()).isEmpty();
    }

    @Test
    void test_sync_replication_become_primary_waits_when_the_sync_key_changed_meanwhile() {
        // given an unlocked cluster in synchronous mode whose sync key names postgresql0
        HaScenario ha = replicaInUnlockedCluster();
        ha.given(Clusters.builder().sync("leader", NAME).build());
        // and somebody writes the sync key between this node's read and its write
        ha.beforeNextDcsCall("writeSync", () -> ha.dcs().putSync(new SyncState("leader", Set.of("x"), 0, 0)));

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it holds the lock but does not promote yet
        assertThat(r.message())
                .isEqualTo("Postponing promotion because synchronous replication state was updated by somebody else");
        assertThat(ha.postgres().isWritable()).isFalse();
        assertThat(syncKey(ha).leader()).isEqualTo("leader");

        // and on the next cycle, with the key read again, it promotes
        CycleResult next = ha.runCycle();
        assertThat(next.message()).isEqualTo("promoted self to leader because I had the session lock");
        assertThat(syncKey(ha).leader()).isEqualTo(NAME);
    }

    // ---------------------------------------------------------------- quorum votes

    /**
     * postgresql0 streams from 'leader', whose keys are gone, in quorum mode; the sync key makes
     * postgresql0 and 'b' the voters with a quorum of 1, so postgresql0 needs b's vote.
     */
    private static HaScenario quorumReplicaInUnlockedCluster() {
        HaScenario ha = HaScenario.create(b -> b.bootstrapDcs(ClusterSettings.builder()
                .synchronousMode(SynchronousMode.QUORUM).build())).runningReplicaOf("leader");
        ha.peer("leader").crash();
        ha.given(Clusters.builder().initialize(ha.systemId()).status(wal(ha))
                .sync(new SyncState("leader", Set.of(NAME, "b"), 1, 0)).build());
        return ha;
    }

    /** Voter 'b' at postgresql0's position, publishing {@code quorum_vote} (null: none). */
    private static HaScenario voterPublishes(HaScenario ha, Long quorumVote) {
        return ha.given(Clusters.builder()
                .member(Members.from(Members.replica("b", wal(ha))).quorumVote(quorumVote).build()).build());
    }

    @Test
    void quorum_a_voter_that_read_its_position_with_no_leader_key_votes() {
        // given voter b published its position after it saw no leader key, under the sync key in place
        HaScenario ha = quorumReplicaInUnlockedCluster();
        voterPublishes(ha, syncKey(ha).version());

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then b's vote makes the quorum: postgresql0 takes over
        assertThat(r.message()).isEqualTo(PROMOTED);
        assertThat(ha.dcs().snapshot().leaderName()).contains(NAME);
    }

    @Test
    void quorum_a_voter_whose_position_was_published_while_the_leader_ran_gives_no_vote() {
        // given voter b's key still holds the position it published while the leader ran (its agent
        // froze, say; its PostgreSQL may have acknowledged commits since)
        HaScenario ha = quorumReplicaInUnlockedCluster();
        voterPublishes(ha, null);

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then postgresql0 does not take over
        assertThat(r.message()).isEqualTo(NOT_HEALTHIEST);
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();

        // when b's agent publishes its position again, now with no leader key
        voterPublishes(ha, syncKey(ha).version());

        // then postgresql0 takes over
        assertThat(ha.runCycle().message()).isEqualTo(PROMOTED);
    }

    @Test
    void quorum_a_vote_published_under_another_sync_key_does_not_count() {
        // given voter b published a vote under an earlier sync key (an earlier leaderless spell)
        HaScenario ha = quorumReplicaInUnlockedCluster();
        long earlier = syncKey(ha).version();
        ha.dcs().putSync(new SyncState("leader", Set.of(NAME, "b"), 1, 0));
        assertThat(syncKey(ha).version()).isNotEqualTo(earlier);
        voterPublishes(ha, earlier);

        // when a cycle runs, then postgresql0 does not take over
        assertThat(ha.runCycle().message()).isEqualTo(NOT_HEALTHIEST);
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
    }

    @Test
    void an_unusable_sync_key_keeps_the_last_one_read_and_a_standby_it_did_not_name_never_races() {
        // given postgresql0 follows a leader in synchronous mode, and the sync key names 'leader' and 'other2'
        HaScenario ha = HaScenario.create(syncMode()).runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader").member(Members.primary("leader", wal(ha)))
                .member(Members.replica("other2", wal(ha))).status(wal(ha)).sync("leader", "other2").build());
        assertThat(ha.runCycle().lockHeld()).isFalse();

        // when the leader is lost and another tool leaves a sync key that names no leader
        ha.peer("leader").crash();
        ha.dcs().deleteLeader();
        ha.dcs().deleteMember("leader");
        ha.dcs().putSync(new SyncState(null, Set.of(NAME), 0, 0));
        CycleResult r = ha.runCycle();

        // then it decides by the key it read before (the log says so): it is not synchronous, so it does not race
        assertThat(r.message()).isEqualTo(NOT_HEALTHIEST);
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
    }

    @Test
    void an_unusable_sync_key_with_none_read_before_stops_everyone_from_racing() {
        // given an unlocked cluster in synchronous mode, seen for the first time, whose sync key names no leader
        HaScenario ha = replicaInUnlockedCluster();
        ha.dcs().putSync(new SyncState(null, Set.of(), 0, 0));

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then nobody can tell who has every acknowledged commit (the log says so): it does not race
        assertThat(r.message()).isEqualTo(NOT_HEALTHIEST);
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();

        // and once a leader wrote a usable key naming it, it may
        ha.dcs().putSync(new SyncState("leader", Set.of(NAME), 0, 0));
        assertThat(ha.runCycle().message()).isEqualTo(PROMOTED);
    }

    // ------------------------------------------------ test_manual_failover_process_no_leader_in_synchronous_mode

    @Test
    void test_manual_failover_process_no_leader_in_synchronous_mode_not_synchronous_and_candidate_unavailable() {
        // given an unlocked cluster whose sync key names 'leader' and 'other2', and a manual failover to the
        // absent 'other'
        HaScenario ha = replicaInUnlockedCluster();
        ha.given(Clusters.builder().member(Members.replica("other2", wal(ha))).sync("leader", "other2")
                .manualFailover("other").build());

        // when a cycle runs, then postgresql0, not synchronous, does not take over for anybody
        CycleResult r = ha.runCycle();
        assertThat(r.message()).isEqualTo(NOT_HEALTHIEST);
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
    }

    @Test
    void test_manual_failover_process_no_leader_in_synchronous_mode_synchronous_and_candidate_may_not_promote() {
        // given the sync key names postgresql0, and a manual failover to 'other', tagged nofailover
        HaScenario ha = replicaInUnlockedCluster();
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha), MemberTags.DEFAULT.withNoFailover(true)))
                .sync("leader", NAME).manualFailover("other").build());

        // when a cycle runs, then postgresql0 takes over in its place
        CycleResult r = ha.runCycle();
        assertThat(r.message()).isEqualTo(PROMOTED);
    }

    @Test
    void test_manual_failover_process_no_leader_in_synchronous_mode_to_me_although_not_synchronous() {
        // given the sync key names 'leader' and 'other', and a manual failover to postgresql0
        HaScenario ha = replicaInUnlockedCluster();
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha))).sync("leader", "other")
                .manualFailover(NAME).build());

        // when a cycle runs, then the operator's choice stands: it takes over
        CycleResult r = ha.runCycle();
        assertThat(r.message()).isEqualTo(PROMOTED);
        assertThat(syncKey(ha).leader()).isEqualTo(NAME);
    }

    // ---------------------------------------------- test_manual_switchover_process_no_leader_in_synchronous_mode

    @Test
    void test_manual_switchover_process_no_leader_in_synchronous_mode_to_another() {
        // given a switchover from 'leader' to the healthy 'other', and the sync key names 'leader' and 'other'
        HaScenario ha = replicaInUnlockedCluster();
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha))).sync("leader", "other")
                .switchover("leader", "other").build());

        // when a cycle runs, then postgresql0 leaves it to 'other'
        assertThat(ha.runCycle().message()).isEqualTo(NOT_HEALTHIEST);
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
    }

    @Test
    void test_manual_switchover_process_no_leader_in_synchronous_mode_to_me_but_not_synchronous() {
        // given a switchover from 'leader' to postgresql0, which the sync key does not name
        HaScenario ha = replicaInUnlockedCluster();
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha))).sync("leader", "other")
                .switchover("leader", NAME).build());

        // when a cycle runs, then a switchover never goes to an asynchronous standby
        assertThat(ha.runCycle().message()).isEqualTo(NOT_HEALTHIEST);
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
    }

    @Test
    void test_manual_switchover_process_no_leader_in_synchronous_mode_to_anybody_but_not_synchronous() {
        // given a switchover from 'leader' to no one in particular, and postgresql0 is not synchronous
        HaScenario ha = replicaInUnlockedCluster();
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha))).sync("leader", "other")
                .switchover("leader", null).build());

        // when a cycle runs, then it does not race
        assertThat(ha.runCycle().message()).isEqualTo(NOT_HEALTHIEST);
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
    }

    @Test
    void test_manual_switchover_process_no_leader_in_synchronous_mode_only_synchronous_node_but_nofailover() {
        // given postgresql0, tagged nofailover, is the only standby the sync key names
        HaScenario ha = HaScenario.create(b -> syncMode().apply(b)
                .tags(MemberTags.DEFAULT.withNoFailover(true))).runningReplicaOf("leader");
        ha.peer("leader").crash();
        ha.given(Clusters.builder().initialize(ha.systemId()).status(wal(ha)).sync("leader", NAME)
                .switchover("leader", null).build());

        // when a cycle runs, then it may not promote
        assertThat(ha.runCycle().message()).isEqualTo("following a different leader because I am not allowed to promote");
        assertThat(ha.dcs().snapshot().leaderName()).isEmpty();
    }

    // --------------------------------------------------- test_manual_failover/switchover_from_leader_in_synchronous_mode

    @Test
    void test_manual_failover_from_leader_in_synchronous_mode_to_an_asynchronous_standby_is_allowed() {
        // given the leader, whose sync key names 'a', and a manual failover to the asynchronous 'b'
        HaScenario ha = leaderWithLock();
        ha.given(Clusters.builder().member(Members.replica("a", wal(ha))).member(Members.replica("b", wal(ha)))
                .sync(NAME, "a").manualFailover("b").build());

        // when a cycle runs, then the operator's choice is honoured
        CycleResult r = ha.runCycle();
        assertThat(r.action()).isEqualTo(CycleAction.SWITCHOVER);
        assertThat(r.message()).isEqualTo("manual failover: demoting myself");
    }

    @Test
    void test_manual_switchover_from_leader_in_synchronous_mode_to_an_asynchronous_standby_is_refused() {
        // given the leader, whose sync key names 'b' only, and a switchover to 'a'
        HaScenario ha = leaderWithLock();
        ha.given(Clusters.builder().member(Members.replica("a", wal(ha))).member(Members.replica("b", wal(ha)))
                .sync(NAME, "b").switchover(NAME, "a").build());

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it stays primary (the log says "Switchover candidate=a does not match with sync_standbys=b")
        // and cleans up the request
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(ha.controller().status().lockHeld()).isTrue();
        assertThat(ha.postgres().isWritable()).isTrue();
        assertThat(ha.dcs().snapshot().failover()).isNull();
    }

    @Test
    void test_manual_switchover_from_leader_in_synchronous_mode_to_the_synchronous_standby() {
        // given the leader, whose sync key names the healthy 'a', and a switchover to 'a'
        HaScenario ha = leaderWithLock();
        ha.given(Clusters.builder().member(Members.replica("a", wal(ha))).sync(NAME, "a").switchover(NAME, "a").build());

        // when a cycle runs, then it demotes itself for 'a'
        CycleResult r = ha.runCycle();
        assertThat(r.action()).isEqualTo(CycleAction.SWITCHOVER);
        assertThat(r.message()).isEqualTo("switchover: demoting myself");
    }

    @Test
    void test_manual_switchover_from_leader_in_synchronous_mode_to_a_synchronous_standby_that_may_not_promote() {
        // given the leader, whose sync key names 'a', tagged nofailover, and a switchover to 'a'
        HaScenario ha = leaderWithLock();
        ha.given(Clusters.builder().member(Members.replica("a", wal(ha), MemberTags.DEFAULT.withNoFailover(true)))
                .sync(NAME, "a").switchover(NAME, "a").build());

        // when a cycle runs, then it stays primary
        CycleResult r = ha.runCycle();
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(ha.postgres().isWritable()).isTrue();
        assertThat(ha.dcs().snapshot().failover()).isNull();
    }
}
