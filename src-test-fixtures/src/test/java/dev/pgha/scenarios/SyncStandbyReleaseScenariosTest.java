package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.ActionResult;
import dev.pgha.ClusterSettings;
import dev.pgha.ClusterSettings.SynchronousMode;
import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.HaConfig;
import dev.pgha.cluster.MemberTags;
import dev.pgha.cluster.SyncState;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeOperation.Kind;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Duration;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * A synchronous standby that is about to stop PostgreSQL asks the primary to pick another one
 * first (Patroni's while_not_sync_standby), ported from test_ha.py's
 * test_disable_sync_when_restarting: it publishes {@code nosync} and holds its restart (or
 * shutdown) back until the {@code sync} key no longer names it, {@code 2 × loop_wait} at the most;
 * when the DCS cannot be read or its member key cannot be written it goes ahead at once.
 *
 * <p>pgha difference: nothing sleeps. The restart is accepted at once and is the action in
 * progress ("restart in progress") while later cycles look at the {@code sync} key.
 */
class SyncStandbyReleaseScenariosTest {

    private static final Duration LOOP_WAIT = Duration.ofSeconds(10);

    /** Synchronous mode; a leader key that outlives every test (the peer 'leader' does not refresh it). */
    private static UnaryOperator<HaConfig.Builder> syncMode(MemberTags tags) {
        return b -> b.tags(tags).bootstrapDcs(ClusterSettings.builder().synchronousMode(SynchronousMode.ON)
                .loopWait(LOOP_WAIT).ttl(Duration.ofSeconds(120)).build());
    }

    /** postgresql0 streams from 'leader' in synchronous mode; the sync key names it 'leader''s standby. */
    private static HaScenario synchronousStandby(MemberTags tags) {
        HaScenario ha = HaScenario.create(syncMode(tags)).runningReplicaOf("leader");
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader").member(Members.primary("leader", wal))
                .member(Members.replica("other", wal)).status(wal).sync("leader", NAME).build());
        ha.cycleFor(Duration.ofSeconds(5));
        assertThat(ha.controller().status().actionInProgress()).as("streams from 'leader', nothing in progress").isNull();
        return ha;
    }

    private static HaScenario synchronousStandby() {
        return synchronousStandby(MemberTags.DEFAULT);
    }

    private static MemberTags publishedTags(HaScenario ha) {
        return ha.dcs().snapshot().member(NAME).orElseThrow().tags();
    }

    private static int restarts(HaScenario ha) {
        return ha.postgres().count(Kind.RESTART);
    }

    /** The primary has dropped postgresql0 and picked 'other'. */
    private static void primaryReleases(HaScenario ha) {
        ha.dcs().putSync(new SyncState("leader", Set.of("other"), 0, ha.dcs().snapshot().sync().version()));
    }

    @Test
    void test_disable_sync_when_restarting_the_standby_publishes_nosync_and_restarts_once_released() {
        // given postgresql0 is the synchronous standby
        HaScenario ha = synchronousStandby();
        int before = restarts(ha);

        // when a restart is requested
        ActionResult r = ha.controller().restart();

        // then it is accepted, and the member key says nosync with sync priority 0 at once
        assertThat(r.accepted()).as(r.message()).isTrue();
        assertThat(r.message()).isEqualTo("restart initiated");
        assertThat(publishedTags(ha).noSync()).isTrue();
        assertThat(publishedTags(ha).syncPriority()).isZero();
        assertThat(publishedTags(ha).canSync()).isFalse();
        // and while the sync key still names it, PostgreSQL is not restarted and keeps running
        CycleResult waiting = ha.runCycleAfter(Duration.ofSeconds(2));
        assertThat(waiting.action()).isEqualTo(CycleAction.IN_PROGRESS);
        assertThat(waiting.message()).isEqualTo("restart in progress");
        assertThat(ha.controller().status().actionInProgress()).isEqualTo("restart");
        assertThat(restarts(ha)).isEqualTo(before);
        assertThat(ha.postgres().isPostmasterRunning()).isTrue();

        // when the primary drops it from the sync key
        primaryReleases(ha);
        ha.runCycleAfter(Duration.ofSeconds(1));

        // then the restart runs, and once it is done the member key no longer says nosync
        assertThat(restarts(ha)).isEqualTo(before + 1);
        ha.cycleFor(Duration.ofSeconds(30));
        assertThat(ha.controller().status().actionInProgress()).isNull();
        assertThat(ha.postgres().isPostmasterRunning()).isTrue();
        assertThat(publishedTags(ha).noSync()).isFalse();
        assertThat(publishedTags(ha).syncPriority()).isEqualTo(1);
    }

    @Test
    void test_disable_sync_when_restarting_a_primary_that_does_not_release_it_delays_the_restart_by_two_loops_at_most() {
        // given postgresql0 is the synchronous standby of a primary that never picks another one
        HaScenario ha = synchronousStandby();
        int before = restarts(ha);

        // when a restart is requested and 15 s pass
        assertThat(ha.controller().restart().accepted()).isTrue();
        ha.cycleFor(Duration.ofSeconds(15));

        // then it still waits
        assertThat(restarts(ha)).isEqualTo(before);

        // and once 2 × loop_wait (20 s) have passed, it restarts anyway
        ha.cycleFor(Duration.ofSeconds(6));
        assertThat(restarts(ha)).isEqualTo(before + 1);
    }

    @Test
    void test_disable_sync_when_restarting_the_restart_goes_ahead_when_the_cluster_cannot_be_read() {
        // given postgresql0 is the synchronous standby, waiting to be released for a restart
        HaScenario ha = synchronousStandby();
        int before = restarts(ha);
        assertThat(ha.controller().restart().accepted()).isTrue();
        assertThat(restarts(ha)).isEqualTo(before);

        // when the next cycle cannot read the DCS
        ha.failNextDcsCall("readCluster");
        ha.runCycleAfter(Duration.ofSeconds(1));

        // then the restart starts without waiting further
        assertThat(restarts(ha)).isEqualTo(before + 1);
    }

    @Test
    void test_disable_sync_when_restarting_the_restart_goes_ahead_at_once_when_the_member_key_cannot_be_written() {
        // given postgresql0 is the synchronous standby, and its member key cannot be written
        HaScenario ha = synchronousStandby();
        int before = restarts(ha);
        ha.failNextDcsCall("touchMember");

        // when a restart is requested
        assertThat(ha.controller().restart().accepted()).isTrue();

        // then it restarts at once, without looking at the cluster again
        assertThat(restarts(ha)).isEqualTo(before + 1);
    }

    @Test
    void a_standby_the_sync_key_does_not_name_restarts_at_once() {
        // given postgresql0 streams in synchronous mode, and the primary's synchronous standby is 'other'
        HaScenario ha = synchronousStandby();
        primaryReleases(ha);
        ha.runCycleAfter(Duration.ofSeconds(1));
        int before = restarts(ha);

        // when a restart is requested, then it restarts at once (with nosync published meanwhile)
        assertThat(ha.controller().restart().accepted()).isTrue();
        assertThat(restarts(ha)).isEqualTo(before + 1);
        assertThat(publishedTags(ha).noSync()).isTrue();
    }

    @Test
    void a_standby_tagged_nosync_or_asynchronous_replication_restarts_at_once() {
        // given a standby tagged nosync that a sync key still names (another tool wrote it)
        HaScenario tagged = synchronousStandby(MemberTags.DEFAULT.withNoSync(true));
        int before = restarts(tagged);
        assertThat(tagged.controller().restart().accepted()).isTrue();
        assertThat(restarts(tagged)).isEqualTo(before + 1);

        // given a standby in asynchronous replication, whatever the sync key says
        HaScenario async = HaScenario.create().runningReplicaOf("leader");
        long wal = async.postgres().walPosition().value();
        async.given(Clusters.builder().initialize(async.systemId()).leader("leader")
                .member(Members.primary("leader", wal)).status(wal).sync("leader", NAME).build());
        async.cycleFor(Duration.ofSeconds(30));
        int asyncBefore = restarts(async);
        assertThat(async.controller().restart().accepted()).isTrue();
        assertThat(restarts(async)).isEqualTo(asyncBefore + 1);
        assertThat(publishedTags(async).noSync()).isFalse();
    }

    @Test
    void a_synchronous_standby_shutting_down_waits_for_the_release_then_stops() {
        // given postgresql0 is the synchronous standby
        HaScenario ha = synchronousStandby();

        // when the agent is shut down
        ha.controller().close();
        CycleResult first = ha.runCycleAfter(Duration.ofSeconds(1));

        // then it publishes nosync and PostgreSQL keeps running while the sync key names it
        assertThat(first.message()).isEqualTo("shutdown in progress");
        assertThat(publishedTags(ha).noSync()).isTrue();
        assertThat(ha.runCycleAfter(Duration.ofSeconds(1)).message()).isEqualTo("shutdown in progress");
        assertThat(ha.postgres().isPostmasterRunning()).isTrue();

        // when the primary releases it, then PostgreSQL stops and the shutdown completes
        primaryReleases(ha);
        CycleResult last = ha.cycleFor(Duration.ofSeconds(30));
        assertThat(last.action()).isEqualTo(CycleAction.SHUTDOWN);
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();
    }
}
