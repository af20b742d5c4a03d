package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.ClusterSettings;
import dev.pgha.ClusterSettings.SynchronousMode;
import dev.pgha.CycleResult;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.SyncState;
import dev.pgha.postgres.SyncStandbyNames;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The leader's side of synchronous replication: Patroni's test_ha.py situations
 * test_enable_synchronous_mode, test_inconsistent_synchronous_state,
 * test__process_multisync_replication, test__process_quorum_replication,
 * test__process_multisync_prepromote and test__process_quorum_prepromote, ported on a fake
 * primary whose standbys really stream from it ({@code pg_stat_replication} as PostgreSQL fills
 * it).
 *
 * <p>The order they all check: a standby enters the {@code sync} key only once PostgreSQL reports
 * it synchronous, and leaves {@code synchronous_standby_names} only after it left the key.
 */
class SynchronousModeLeaderScenariosTest {

    private static final String PLACEHOLDER = "FIRST 1 (" + SyncStandbyNames.STRICT_PLACEHOLDER + ")";

    private static HaScenario leader(SynchronousMode mode, boolean strict) {
        HaScenario ha = HaScenario.create(b -> b.bootstrapDcs(ClusterSettings.builder().synchronousMode(mode)
                .synchronousModeStrict(strict).build())).runningPrimary();
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).member(Members.primary(NAME, wal))
                .status(wal).build());
        return ha;
    }

    /** A peer cloned from the node under test, streaming from it, publishing a running member key. */
    private static FakePostgres streamingStandby(HaScenario ha, String name) {
        FakePostgres p = ha.peer(name);
        ha.finish(p.cloneFrom(Member.named(NAME)));
        ha.finish(p.follow(Member.named(NAME)));
        ha.world().tick();
        ha.given(Clusters.builder().member(Members.replica(name, p.walPosition().value())).build());
        return p;
    }

    private static SyncState syncKey(HaScenario ha) {
        return ha.dcs().snapshot().sync();
    }

    private static String ssn(HaScenario ha) {
        return ha.postgres().synchronousStandbyNamesInForce();
    }

    // ------------------------------------------------------------------ test_enable_synchronous_mode

    @Test
    void test_enable_synchronous_mode_writes_the_key_naming_the_leader_alone() {
        // given a leader in synchronous mode and no sync key
        HaScenario ha = leader(SynchronousMode.ON, false);

        // when a cycle runs, then the key names it with no standby ("Enabled synchronous replication")
        CycleResult r = ha.runCycle();
        assertThat(r.lockHeld()).isTrue();
        assertThat(syncKey(ha)).isEqualTo(new SyncState(NAME, Set.of(), 0, syncKey(ha).version()));
    }

    @Test
    void test_enable_synchronous_mode_write_fails_and_the_next_cycle_tries_again() {
        // given a leader in synchronous mode, and the first write of the sync key fails in the DCS
        HaScenario ha = leader(SynchronousMode.ON, false);
        ha.failNextDcsCall("writeSync");

        // when a cycle runs
        CycleResult failed = ha.runCycle();

        // then it stays the leader: the key's write is retried on the next cycle, nothing is demoted
        assertThat(failed.lockHeld()).isTrue();
        assertThat(ha.postgres().isWritable()).isTrue();
        assertThat(syncKey(ha)).isNull();
        ha.runCycle();
        assertThat(syncKey(ha).leader()).isEqualTo(NAME);
    }

    // ------------------------------------------------------------------ test__process_multisync_replication

    @Test
    void test__process_multisync_replication_a_standby_is_published_once_postgresql_reports_it_sync() {
        // given a leader in synchronous mode whose key names it alone, and a standby 'a' streaming from it
        HaScenario ha = leader(SynchronousMode.ON, false);
        ha.runCycle();
        streamingStandby(ha, "a");

        // when a cycle runs
        ha.runCycle();

        // then PostgreSQL waits for 'a', reports it sync, and only then the key names it
        assertThat(ssn(ha)).isEqualTo("FIRST 1 (a)");
        assertThat(ha.postgres().replicationState().standbys()).singleElement()
                .satisfies(s -> assertThat(s.syncState()).isEqualTo("sync"));
        assertThat(syncKey(ha).syncStandbys()).containsExactly("a");

        // and a steady cycle changes nothing
        int changes = ha.postgres().synchronousStandbyNamesChanges();
        long version = syncKey(ha).version();
        ha.runCycle();
        assertThat(ha.postgres().synchronousStandbyNamesChanges()).isEqualTo(changes);
        assertThat(syncKey(ha).version()).isEqualTo(version);
    }

    @Test
    void test__process_multisync_replication_swapping_standbys_shrinks_the_key_before_the_names_change() {
        // given 'a' is the synchronous standby, and 'b' streams too
        HaScenario ha = leader(SynchronousMode.ON, false);
        ha.runCycle();
        FakePostgres a = streamingStandby(ha, "a");
        ha.runCycle();
        streamingStandby(ha, "b");
        ha.runCycle();
        assertThat(syncKey(ha).syncStandbys()).containsExactly("a");

        // when 'a' crashes
        a.crash();
        ha.dcs().deleteMember("a");
        ha.runCycle();

        // then first the key stops naming 'a', while PostgreSQL still waits for it
        assertThat(syncKey(ha).syncStandbys()).isEmpty();
        assertThat(ssn(ha)).isEqualTo("FIRST 1 (a)");

        // and next PostgreSQL waits for 'b', and the key names 'b' once it is reported sync
        ha.runCycle();
        assertThat(ssn(ha)).isEqualTo("FIRST 1 (b)");
        assertThat(syncKey(ha).syncStandbys()).containsExactly("b");
    }

    @Test
    void test__process_multisync_replication_two_synchronous_standbys() {
        // given synchronous_node_count 2 and two standbys
        HaScenario ha = HaScenario.create(b -> b.bootstrapDcs(ClusterSettings.builder()
                .synchronousMode(SynchronousMode.ON).synchronousNodeCount(2).build())).runningPrimary();
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).member(Members.primary(NAME, wal))
                .status(wal).build());
        ha.runCycle();
        streamingStandby(ha, "a");
        streamingStandby(ha, "b");

        // when a cycle runs, then both are synchronous
        ha.runCycle();
        assertThat(ssn(ha)).isEqualTo("FIRST 2 (a,b)");
        assertThat(syncKey(ha).syncStandbys()).containsExactlyInAnyOrder("a", "b");
    }

    @Test
    void test__process_multisync_replication_strict_with_nobody_commits_wait_on_the_placeholder() {
        // given a leader alone in strict synchronous mode
        HaScenario ha = leader(SynchronousMode.ON, true);
        ha.runCycle();

        // when a cycle runs, then PostgreSQL waits for a standby that does not exist
        ha.runCycle();
        assertThat(ssn(ha)).isEqualTo(PLACEHOLDER);
        assertThat(syncKey(ha).syncStandbys()).isEmpty();
    }

    @Test
    void test__process_multisync_replication_strict_keeps_the_lost_standby_named() {
        // given 'a' is the synchronous standby in strict mode
        HaScenario ha = leader(SynchronousMode.ON, true);
        ha.runCycle();
        FakePostgres a = streamingStandby(ha, "a");
        ha.runCycle();
        assertThat(syncKey(ha).syncStandbys()).containsExactly("a");

        // when 'a' is lost, then commits keep waiting for it and the key keeps naming it
        a.crash();
        ha.dcs().deleteMember("a");
        ha.runCycle();
        ha.runCycle();
        assertThat(ssn(ha)).isEqualTo("FIRST 1 (a)");
        assertThat(syncKey(ha).syncStandbys()).containsExactly("a");
    }

    @Test
    void test__process_multisync_replication_not_strict_turns_asynchronous_when_nobody_streams() {
        HaScenario ha = leader(SynchronousMode.ON, false);
        ha.runCycle();
        FakePostgres a = streamingStandby(ha, "a");
        ha.runCycle();
        a.crash();
        ha.dcs().deleteMember("a");
        ha.runCycle(); // the key drops 'a'
        ha.runCycle(); // then the names
        assertThat(syncKey(ha).syncStandbys()).isEmpty();
        assertThat(ssn(ha)).isEmpty();
    }

    @Test
    void test__process_multisync_replication_sync_mode_off_deletes_the_key_and_restores_the_users_value() {
        // given a leader with a synchronous standby, and the user's own synchronous_standby_names parameter
        HaScenario ha = leader(SynchronousMode.ON, false);
        ha.runCycle();
        streamingStandby(ha, "a");
        ha.runCycle();
        assertThat(syncKey(ha)).isNotNull();

        // when synchronous_mode is switched off
        ha.editConfig(Map.of("synchronous_mode", false));
        ha.editParameters(Map.of("synchronous_standby_names", "SOME_SSN"));
        ha.runCycle();

        // then the key goes and the user's value applies
        assertThat(syncKey(ha)).isNull();
        assertThat(ssn(ha)).isEqualTo("SOME_SSN");
    }

    // ------------------------------------------------------------------ test_inconsistent_synchronous_state

    @Test
    void test_inconsistent_synchronous_state_a_key_of_another_leader_is_rewritten() {
        HaScenario ha = leader(SynchronousMode.ON, false);
        ha.given(Clusters.builder().sync("other", "a").build());
        ha.runCycle();
        assertThat(syncKey(ha).leader()).isEqualTo(NAME);
        assertThat(syncKey(ha).syncStandbys()).isEmpty();
    }

    @Test
    void test_inconsistent_synchronous_state_a_key_naming_a_standby_postgresql_does_not_wait_for() {
        // given the key names 'a', streaming, but synchronous_standby_names does not list it
        HaScenario ha = leader(SynchronousMode.ON, false);
        ha.runCycle();
        streamingStandby(ha, "a");
        ha.dcs().putSync(new SyncState(NAME, Set.of("a"), 0, 0));

        // when cycles run, then the key first stops naming 'a', then names it once PostgreSQL waits for it
        ha.runCycle();
        assertThat(syncKey(ha).syncStandbys()).isEmpty();
        ha.runCycle();
        assertThat(ssn(ha)).isEqualTo("FIRST 1 (a)");
        assertThat(syncKey(ha).syncStandbys()).containsExactly("a");
    }

    // ------------------------------------------------------------------ prepromote

    @Test
    void test__process_multisync_prepromote_strict_waits_for_the_old_leader_and_standbys() {
        // given postgresql0 streams from 'leader' in strict mode; the key names 'leader', postgresql0 and 'b'
        HaScenario ha = HaScenario.create(b -> b.bootstrapDcs(ClusterSettings.builder()
                .synchronousMode(SynchronousMode.ON).synchronousModeStrict(true).build())).runningReplicaOf("leader");
        ha.peer("leader").crash();
        ha.given(Clusters.builder().initialize(ha.systemId()).status(ha.postgres().walPosition().value())
                .sync(new SyncState("leader", Set.of(NAME, "b"), 0, 1)).build());

        // when it takes over
        CycleResult r = ha.runCycle();

        // then it names itself leader of the key, keeping the others, and PostgreSQL waits for all of them
        assertThat(r.message()).isEqualTo("promoted self to leader by acquiring session lock");
        assertThat(syncKey(ha).leader()).isEqualTo(NAME);
        assertThat(syncKey(ha).syncStandbys()).containsExactlyInAnyOrder("leader", "b");
        assertThat(ssn(ha)).isEqualTo("FIRST 2 (b,leader)");
    }

    @Test
    void test__process_multisync_prepromote_not_strict_starts_asynchronous() {
        HaScenario ha = HaScenario.create(b -> b.bootstrapDcs(ClusterSettings.builder()
                .synchronousMode(SynchronousMode.ON).build())).runningReplicaOf("leader");
        ha.peer("leader").crash();
        ha.given(Clusters.builder().initialize(ha.systemId()).status(ha.postgres().walPosition().value())
                .sync("leader", NAME).build());
        ha.runCycle();
        assertThat(syncKey(ha)).isEqualTo(new SyncState(NAME, Set.of(), 0, syncKey(ha).version()));
        assertThat(ssn(ha)).isEmpty();
    }

    @Test
    void test__process_quorum_prepromote_sets_any_n_of_the_old_voters_without_writing_the_key() {
        // given quorum mode; the key: leader 'leader', voters postgresql0 and 'b', quorum 1
        HaScenario ha = HaScenario.create(b -> b.bootstrapDcs(ClusterSettings.builder()
                .synchronousMode(SynchronousMode.QUORUM).build())).runningReplicaOf("leader");
        ha.peer("leader").crash();
        ha.given(Clusters.builder().initialize(ha.systemId()).status(ha.postgres().walPosition().value())
                .sync(new SyncState("leader", Set.of(NAME, "b"), 1, 1)).build());
        // and b published its position after it saw no leader key
        ha.given(Clusters.builder().member(Members.from(Members.replica("b", ha.postgres().walPosition().value()))
                .quorumVote(syncKey(ha).version()).build()).build());

        // when it takes over (with b's vote)
        CycleResult r = ha.runCycle();

        // then PostgreSQL waits for one of the others, and the key is not written before the promotion
        assertThat(r.message()).isEqualTo("promoted self to leader by acquiring session lock");
        assertThat(ssn(ha)).isEqualTo("ANY 1 (b,leader)");
        assertThat(syncKey(ha).leader()).isEqualTo("leader");
    }

    // ------------------------------------------------------------------ test__process_quorum_replication

    @Test
    void test__process_quorum_replication_two_standbys_one_confirms_each_commit() {
        // given a leader in quorum mode (synchronous_node_count 1) and two standbys streaming
        HaScenario ha = leader(SynchronousMode.QUORUM, false);
        ha.runCycle();
        streamingStandby(ha, "a");
        streamingStandby(ha, "b");

        // when cycles run
        for (int i = 0; i < 5; i++) {
            ha.runCycle();
        }

        // then PostgreSQL waits for any one of them, and the key makes both voters with a quorum of 1
        assertThat(ssn(ha)).isEqualTo("ANY 1 (a,b)");
        assertThat(syncKey(ha).syncStandbys()).containsExactlyInAnyOrder("a", "b");
        assertThat(syncKey(ha).quorum()).isEqualTo(1);
    }

    @Test
    void test__process_quorum_replication_strict_with_nobody_commits_wait() {
        HaScenario ha = leader(SynchronousMode.QUORUM, true);
        ha.runCycle();
        ha.runCycle();
        assertThat(ssn(ha)).isEqualTo("ANY 1 (" + SyncStandbyNames.STRICT_PLACEHOLDER + ")");
    }
}
