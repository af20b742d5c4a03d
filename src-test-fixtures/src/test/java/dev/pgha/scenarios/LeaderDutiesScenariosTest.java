package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.dcs.inmemory.Fault;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeOperation.Kind;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The lock holder's duties around promotion and its own long actions (Patroni's
 * {@code process_unhealthy_cluster()}, {@code enforce_primary_role()},
 * {@code handle_long_action_in_progress()}; test_ha.py: test_promoted_by_acquiring_lock,
 * test_lost_leader_lock_during_promote, test_starting_timeout), and pgha's one-cycle pause before
 * the first race after DCS trouble.
 */
class LeaderDutiesScenariosTest {

    private static final Duration TTL = Duration.ofSeconds(30);
    private static final String PROMOTED = "promoted self to leader by acquiring session lock";

    @Test
    void a_promotion_that_fails_announces_the_replica_role_again() {
        // given the healthiest replica of an unlocked cluster, whose promotion will fail
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).member(Members.replica("other", 0)).build());
        ha.postgres().failNextPromote();

        // when it wins the race and the promotion fails
        assertThat(ha.runCycle().message()).isEqualTo(PROMOTED);
        ha.runCycle();

        // then, like Patroni after a failed pg_ctl promote, on_role_change says replica again (still
        // holding the lock, it then tries to promote once more)
        assertThat(ha.events().callbacks()).startsWith("on_role_change primary", "on_role_change replica");
        assertThat(ha.events().all()).contains("role promoted -> replica");
        // and the second attempt, the lock still held, makes it the primary
        ha.runCycle();
        assertThat(ha.postgres().promoteCount()).isEqualTo(2);
        assertThat(ha.postgres().isWritable()).isTrue();
        assertThat(ha.controller().status().role()).isEqualTo(PostgresRole.PRIMARY);
    }

    @Test
    void a_node_that_takes_the_lock_writes_the_status_key_only_once_it_runs_as_primary() {
        // given the healthiest replica of an unlocked cluster, whose promotion takes 5 s
        HaScenario ha = HaScenario.create(b -> b, FakeTimings.DEFAULTS.withPromote(Duration.ofSeconds(5)))
                .runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).build());

        // when it wins the race and promotes: no status key (its position is a replica's)
        assertThat(ha.runCycle().message()).isEqualTo(PROMOTED);
        ha.runCycleAfter(Duration.ofSeconds(1));
        assertThat(ha.dcsCalls()).doesNotContain("writeStatus");

        // then, running as primary, it publishes its position
        ha.runCycleAfter(Duration.ofSeconds(5));
        assertThat(ha.dcsCalls()).contains("writeStatus");
        assertThat(ha.dcs().snapshot().status().optime()).isEqualTo(ha.postgres().walPosition().value());
    }

    @Test
    void a_promotion_interrupted_by_losing_the_lock_is_cancelled_and_never_completes() {
        // given the healthiest replica of an unlocked cluster, whose promotion takes 5 s
        HaScenario ha = HaScenario.create(b -> b, FakeTimings.DEFAULTS.withPromote(Duration.ofSeconds(5)))
                .runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).build());
        assertThat(ha.runCycle().message()).isEqualTo(PROMOTED);

        // when 'other' holds the key at the next cycle
        ha.dcs().putLeader("other", TTL);
        ha.given(Clusters.builder().member(Members.primary("other", ha.postgres().walPosition().value() + 100)).build());
        CycleResult r = ha.runCycleAfter(Duration.ofSeconds(1));

        // then the promotion is cancelled (Patroni: "lost leader before promote") and never takes effect
        assertThat(r.action()).isEqualTo(CycleAction.DEMOTE);
        assertThat(r.message()).isEqualTo("lost leader before promote");
        assertThat(ha.events().callbacks()).containsExactly("on_role_change primary", "on_role_change replica");
        ha.peersPublish();
        ha.runCycleAfter(Duration.ofSeconds(10));
        assertThat(ha.postgres().isWritable()).isFalse();
        assertThat(ha.controller().status().role()).isNotEqualTo(PostgresRole.PRIMARY);
        assertThat(ha.world().violations()).isEmpty();
    }

    @Test
    void its_own_start_past_primary_start_timeout_waits_when_nobody_can_take_over() {
        // given the primary holding the lock, alone, whose restart after a crash never completes
        HaScenario ha = HaScenario.create().runningPrimary();
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).status(wal).build());
        ha.runCycle();
        ha.postgres().crash();
        ha.postgres().hangStart();
        assertThat(ha.runCycle().message()).isEqualTo("starting primary after failure");

        // when primary_start_timeout (300 s) has passed
        CycleResult r = ha.cycleFor(Duration.ofSeconds(301));

        // then it keeps the lock and waits, there being no one to fail over to
        assertThat(r.action()).isEqualTo(CycleAction.WAIT);
        assertThat(r.message())
                .isEqualTo("primary start has timed out, but continuing to wait because failover is not possible");
        assertThat(r.lockHeld()).isTrue();
        assertThat(ha.postgres().count(Kind.STOP)).isZero();
    }

    @Test
    void after_dcs_trouble_the_first_cycle_lets_members_publish_before_racing() {
        // given the healthiest replica of a cluster whose leader key is gone, just after the DCS was
        // unreachable for it for a cycle
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", ha.peer("leader").walPosition().value())).build());
        ha.runCycles(2);
        ha.dcs().fault(NAME, Fault.UNAVAILABLE);
        assertThat(ha.runCycle().message()).isEqualTo("DCS is not accessible");
        ha.dcs().fault(NAME, Fault.NONE);
        ha.dcs().deleteLeader();
        ha.dcs().deleteMember("leader");

        // when the DCS answers again: one cycle without racing
        CycleResult wait = ha.runCycle();
        assertThat(wait.message())
                .isEqualTo("waiting one cycle for members to publish their WAL positions before the leader race");
        assertThat(ha.dcs().leaderName()).isEmpty();

        // then the next cycle races
        assertThat(ha.runCycle().message()).isEqualTo(PROMOTED);
    }
}
