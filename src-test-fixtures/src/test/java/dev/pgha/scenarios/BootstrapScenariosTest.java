package dev.pgha.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.cluster.Member;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeOperation;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Patroni's {@code test_ha.py} situations of an empty or unusable data directory
 * ({@code bootstrap()}, {@code post_bootstrap()}, {@code clone()}, step 11 of
 * {@code _run_cycle()}), one test each: test_bootstrap_from_another_member,
 * test_bootstrap_waiting_for_leader, test_bootstrap_not_running_concurrently,
 * test_bootstrap_initialize_lock_failed, test_bootstrap_initialized_new_cluster,
 * and test_bootstrap_release_initialize_key_on_failure.
 *
 * <p>Deliberate differences: the bootstrap winner takes the leader key as soon as its new primary
 * runs (before post_bootstrap), so initdb and the start are one long action and Patroni's
 * "waiting for end of recovery after bootstrap" is "bootstrap in progress"; where Patroni exits
 * ({@code PatroniFatalException}) pgha returns {@link CycleAction#FAILED}. Not ported:
 * test_bootstrap_without_leader (pgha has no replica-creation method that works without a leader).
 */
class BootstrapScenariosTest {

    /** A running primary "leader" and its running replica "other" tagged clonefrom, as peers; returns their sysid. */
    private static String leaderAndCloneSource(HaScenario ha) {
        FakePostgres leader = ha.peer("leader");
        ha.finish(leader.bootstrap());
        FakePostgres other = ha.peer("other");
        ha.finish(other.cloneFrom(Member.named("leader")));
        ha.finish(other.follow(Member.named("leader")));
        long wal = leader.walPosition().value();
        ha.given(Clusters.builder().initialize(leader.systemIdentifier()).leader("leader")
                .member(Members.primary("leader", wal))
                .member(Members.from(Members.replica("other", wal)).cloneFrom(true).build()).build());
        return leader.systemIdentifier();
    }

    @Test
    void test_bootstrap_from_another_member() {
        // given an empty data directory, a leader, and a running replica "other" tagged clonefrom
        HaScenario ha = HaScenario.create();
        String sysid = leaderAndCloneSource(ha);

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it takes its base backup from "other"
        assertThat(r.action()).isEqualTo(CycleAction.CLONE);
        assertThat(r.message()).isEqualTo("trying to bootstrap from replica 'other'");
        assertThat(ha.postgres().lastOperation(FakeOperation.Kind.CLONE).orElseThrow().description())
                .isEqualTo("cloneFrom(other)");

        // and once cloned it runs as a replica of the leader's cluster, following the leader
        ha.runCycles(3);
        assertThat(ha.postgres().systemIdentifier()).isEqualTo(sysid);
        assertThat(ha.postgres().isPostmasterRunning()).isTrue();
        assertThat(ha.postgres().isWritable()).isFalse();
        assertThat(ha.postgres().upstream()).isEqualTo("leader");
        assertThat(ha.world().violations()).isEmpty();
    }

    @Test
    void test_bootstrap_waiting_for_leader() {
        // given an empty data directory and an initialized cluster without a leader
        HaScenario ha = HaScenario.create();
        ha.given(Clusters.builder().initialized().build());

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then there is nothing to clone from yet
        assertThat(r.action()).isEqualTo(CycleAction.WAIT);
        assertThat(r.message()).isEqualTo("waiting for leader to bootstrap");
        assertThat(ha.postgres().dataDirectory()).isEqualTo(DataDirectoryState.EMPTY);
        assertThat(ha.postgres().operations()).isEmpty();
    }

    @Test
    void test_bootstrap_not_running_concurrently() {
        // given an empty data directory while another member is bootstrapping (initialize key "")
        HaScenario ha = HaScenario.create();
        ha.given(Clusters.builder().initialize("").build());

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it waits for that bootstrap instead of starting its own
        assertThat(r.action()).isEqualTo(CycleAction.WAIT);
        assertThat(r.message()).isEqualTo("waiting for leader to bootstrap");
        assertThat(ha.postgres().count(FakeOperation.Kind.BOOTSTRAP)).isZero();
        assertThat(ha.dcs().snapshot().initialize()).isEmpty();
    }

    @Test
    void a_new_member_waits_while_the_leader_still_runs_post_bootstrap() {
        // given an empty data directory; the bootstrapping member already holds the leader key (its
        // primary runs) but post_bootstrap is not done: the initialize key is still ""
        HaScenario ha = HaScenario.create();
        FakePostgres leader = ha.peer("leader");
        ha.finish(leader.bootstrap());
        ha.given(Clusters.builder().initialize("").leader("leader")
                .member(Members.primary("leader", leader.walPosition().value())).build());

        // when a cycle runs, then it does not clone yet (the replication role may not exist yet)
        CycleResult r = ha.runCycle();
        assertThat(r.action()).isEqualTo(CycleAction.WAIT);
        assertThat(r.message()).isEqualTo("waiting for leader to bootstrap");
        assertThat(ha.postgres().count(FakeOperation.Kind.CLONE)).isZero();

        // and once the initialize key holds the system identifier, it clones
        ha.dcs().putInitialize(leader.systemIdentifier());
        assertThat(ha.runCycle().message()).isEqualTo("trying to bootstrap from leader 'leader'");
    }

    @Test
    void a_cloned_member_starts_streaming_from_the_leader_as_part_of_the_clone() {
        // given an empty data directory and a leader
        HaScenario ha = HaScenario.create();
        FakePostgres leader = ha.peer("leader");
        ha.finish(leader.bootstrap());
        ha.given(Clusters.builder().initialize(leader.systemIdentifier()).leader("leader")
                .member(Members.primary("leader", leader.walPosition().value())).build());
        assertThat(ha.runCycle().message()).isEqualTo("trying to bootstrap from leader 'leader'");

        // when the clone completed: it is started as the leader's replica right away, not "recovered"
        List<String> messages = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            messages.add(ha.runCycle().message());
        }
        assertThat(messages).doesNotContain("starting as a secondary")
                .last().isEqualTo("no action. I am (postgresql0), a secondary, and following a leader (leader)");
        assertThat(ha.events().all()).contains("role uninitialized -> replica");
        assertThat(ha.postgres().upstream()).isEqualTo("leader");
    }

    @Test
    void test_bootstrap_initialize_lock_failed() {
        // given an empty data directory and an empty DCS
        HaScenario ha = HaScenario.create();
        // and another member wins the initialize race between this node's read and its attempt
        ha.beforeNextDcsCall("initialize", () -> ha.dcs().putInitialize(""));

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it does not bootstrap
        assertThat(r.action()).isEqualTo(CycleAction.WAIT);
        assertThat(r.message()).isEqualTo("failed to acquire initialize lock");
        assertThat(ha.postgres().count(FakeOperation.Kind.BOOTSTRAP)).isZero();
        assertThat(ha.postgres().dataDirectory()).isEqualTo(DataDirectoryState.EMPTY);
    }

    @Test
    void test_bootstrap_initialized_new_cluster() {
        // given an empty data directory, an empty DCS, and initdb taking 3 s, the start 1 s, post_bootstrap 1 s
        HaScenario ha = HaScenario.create(b -> b, FakeTimings.DEFAULTS);

        // when cycles run, then: it wins the initialize race and runs initdb
        CycleResult r = ha.runCycle();
        assertThat(r.action()).isEqualTo(CycleAction.BOOTSTRAP);
        assertThat(r.message()).isEqualTo("trying to bootstrap a new cluster");
        assertThat(ha.dcs().snapshot().initialize()).isEmpty();
        assertThat(r.lockHeld()).isFalse();

        // then waits for initdb and the start (Patroni: "waiting for end of recovery after bootstrap")
        r = ha.runCycle();
        assertThat(r.action()).isEqualTo(CycleAction.IN_PROGRESS);
        assertThat(r.message()).isEqualTo("bootstrap in progress");
        assertThat(ha.dcs().leaderName()).isEmpty();

        // then, its primary running, takes the leader key and runs post_bootstrap
        r = ha.runCycleAfter(Duration.ofSeconds(4));
        assertThat(r.action()).isEqualTo(CycleAction.BOOTSTRAP);
        assertThat(r.message()).isEqualTo("running post_bootstrap");
        assertThat(r.lockHeld()).isTrue();
        assertThat(ha.dcs().leaderName()).contains(HaScenario.NAME);

        // then has initialized the cluster: initialize holds the system ID, config is written, on_start fired
        r = ha.runCycleAfter(Duration.ofSeconds(1));
        assertThat(r.action()).isEqualTo(CycleAction.BOOTSTRAP);
        assertThat(r.message()).isEqualTo("initialized a new cluster");
        assertThat(r.lockHeld()).isTrue();
        assertThat(r.role()).isEqualTo(PostgresRole.PRIMARY);
        assertThat(ha.dcs().snapshot().initialize()).isEqualTo(ha.systemId());
        assertThat(ha.dcs().snapshot().config().data()).isNotEmpty();
        assertThat(ha.events().callbacks()).containsExactly("on_start primary");
        assertThat(ha.postgres().isWritable()).isTrue();

        // and is the leader from then on
        assertThat(ha.runCycleAfter(Duration.ofSeconds(10)).message())
                .isEqualTo("no action. I am (postgresql0), the leader with the lock");
    }

    @Test
    void test_bootstrap_release_initialize_key_on_failure() {
        // given a node bootstrapping a new cluster (initdb 3 s, start 1 s)
        HaScenario ha = HaScenario.create(b -> b, FakeTimings.DEFAULTS);
        assertThat(ha.runCycle().message()).isEqualTo("trying to bootstrap a new cluster");
        // and its new PostgreSQL dies while starting after initdb
        ha.clock().advance(Duration.ofMillis(3500));
        assertThat(ha.postgres().crash()).isTrue();

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then the bootstrap is cancelled: the initialize key is given back and the data directory
        // removed (Patroni: "Failed to bootstrap cluster" as a fatal error; pgha does not exit)
        assertThat(r.action()).isEqualTo(CycleAction.FAILED);
        assertThat(r.message()).isEqualTo("Failed to bootstrap cluster");
        assertThat(r.lockHeld()).isFalse();
        assertThat(ha.dcs().snapshot().initialize()).isNull();
        assertThat(ha.dcs().leaderName()).isEmpty();
        assertThat(ha.postgres().dataDirectory()).isEqualTo(DataDirectoryState.EMPTY);
    }
}
