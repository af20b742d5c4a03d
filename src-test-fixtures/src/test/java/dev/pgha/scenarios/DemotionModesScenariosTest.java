package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.cluster.Member;
import dev.pgha.dcs.inmemory.Fault;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeOperation.Kind;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Patroni's {@code demote(mode)} as a table: the four ways a primary gives up its role, what
 * stops PostgreSQL, what happens to the leader key and to the {@code status} key's last
 * position, whether it comes back as a replica, and the callbacks (test_ha.py: test_demote_immediate,
 * test_no_dcs_connection_primary_demote, test_manual_switchover_from_leader,
 * test_failover_immediately_on_zero_primary_start_timeout, test_demote_because_not_having_lock).
 *
 * <ul>
 *   <li>offline: the DCS is unreachable; fast stop, the key is left to expire, it follows nobody;</li>
 *   <li>graceful: a switchover; fast stop after a CHECKPOINT, the shutdown checkpoint's position
 *       goes to {@code status}, then the key is released;</li>
 *   <li>immediate: it fails over from a crash; immediate stop, the key released without a last
 *       position (the checkpoint in pg_control is not one this stop wrote);</li>
 *   <li>immediate-nolock: someone else holds the key; immediate stop, nothing to release.</li>
 * </ul>
 *
 * <p>Every situation starts with postgresql0 leading with the lock, a healthy replica 'other'
 * (its member key ahead of postgresql0, so that postgresql0 does not win a race afterwards), and
 * the {@code status} key at postgresql0's WAL position.
 */
class DemotionModesScenariosTest {

    private static final Duration TTL = Duration.ofSeconds(30);

    @ParameterizedTest(name = "{0} ({1})")
    @CsvSource(delimiter = '|', textBlock = """
            # situation                                   | mode             | stop                            | leader key afterwards | status optime           | afterwards             | callbacks
            the DCS becomes unreachable                   | offline          | stop(FAST, checkpoint=false)    | postgresql0           | unchanged               | stopped                | on_stop demoted
            a switchover to 'other'                       | graceful         | stop(FAST, checkpoint=true)     | -                     | the shutdown checkpoint | replica of nobody yet  | on_stop demoted, on_role_change replica
            a crash, primary_start_timeout 0              | immediate        | stop(IMMEDIATE, checkpoint=false) | -                   | unchanged               | replica of nobody yet  | on_role_change replica
            'other' holds the leader key                  | immediate-nolock | stop(IMMEDIATE, checkpoint=false) | other               | unchanged               | replica of other       | on_stop demoted, on_role_change replica
            """)
    void demotes(String situation, String mode, String stop, String leaderKey, String optime, String afterwards,
                 String callbacks) {
        HaScenario ha = HaScenario.create(b -> situation.contains("primary_start_timeout 0")
                ? b.primaryStartTimeout(Duration.ZERO) : b).runningPrimary();
        long wal = ha.postgres().walPosition().value();
        // 'other' is ahead of anything postgresql0 has (so that, unlocked, postgresql0 does not race again)
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME)
                .member(Members.replica("other", wal + 0x100000)).status(wal).build());
        ha.runCycle();
        ha.events().clear();

        // when the situation arises and the node runs cycles until the demotion is over
        CycleResult r = trigger(ha, situation);
        long optimeBefore = ha.dcs().snapshot().status().optime();
        assertThat(r.action()).isIn(CycleAction.DEMOTE, CycleAction.SWITCHOVER);
        assertThat(ha.postgres().isWritable()).as("writes stop at once").isFalse();
        for (int i = 0; i < 3; i++) {
            ha.peersPublish();
            ha.runCycleAfter(Duration.ofSeconds(1));
        }

        // then
        assertThat(ha.postgres().count(Kind.STOP)).as("stopped once").isEqualTo(1);
        assertThat(ha.postgres().lastOperation(Kind.STOP).orElseThrow().description()).isEqualTo(stop);
        assertThat(ha.dcs().leaderName().orElse("-")).as("leader key").isEqualTo(leaderKey);
        long optimeAfter = ha.dcs().snapshot().status().optime();
        if (optime.equals("unchanged")) {
            assertThat(optimeAfter).as("status optime").isEqualTo(optimeBefore);
        } else {
            assertThat(optimeAfter).as("status optime")
                    .isEqualTo(ha.postgres().controlData().checkpointLocation().value())
                    .isGreaterThan(optimeBefore);
        }
        switch (afterwards) {
            case "stopped" -> assertThat(ha.postgres().isPostmasterRunning()).isFalse();
            case "replica of nobody yet" -> {
                assertThat(ha.postgres().isPostmasterRunning()).isTrue();
                assertThat(ha.postgres().isStandbyConfigured()).isTrue();
                assertThat(ha.postgres().upstream()).isNull();
            }
            case "replica of other" -> {
                assertThat(ha.postgres().isStandbyConfigured()).isTrue();
                assertThat(ha.postgres().upstream()).isEqualTo("other");
            }
            default -> throw new IllegalArgumentException(afterwards);
        }
        assertThat(ha.events().callbacks()).containsExactly(callbacks.split(", "));
        assertThat(ha.postgres().isWritable()).isFalse();
    }

    private static CycleResult trigger(HaScenario ha, String situation) {
        switch (situation) {
            case "the DCS becomes unreachable" -> {
                ha.dcs().fault(NAME, Fault.UNAVAILABLE);
                return ha.runCycle();
            }
            case "a switchover to 'other'" -> {
                ha.given(Clusters.builder().switchover(NAME, "other").build());
                // clients still write after the cycle observed PostgreSQL: the status it writes is older
                // than the shutdown checkpoint
                ha.beforeNextDcsCall("refreshLeader", () -> assertThat(ha.postgres().write(4096)).isTrue());
                CycleResult r = ha.runCycle();
                assertThat(r.message()).isEqualTo("switchover: demoting myself");
                return r;
            }
            case "a crash, primary_start_timeout 0" -> {
                ha.postgres().crash();
                CycleResult r = ha.runCycle();
                assertThat(r.message()).isEqualTo("stopped PostgreSQL to fail over after a crash");
                return r;
            }
            case "'other' holds the leader key" -> {
                ha.dcs().putLeader("other", TTL);
                ha.given(Clusters.builder().member(Members.primary("other", ha.postgres().walPosition().value())).build());
                CycleResult r = ha.runCycle();
                assertThat(r.message()).isEqualTo("demoting self because I do not have the lock and I was a leader");
                return r;
            }
            default -> throw new IllegalArgumentException(situation);
        }
    }
    @Test
    void a_switchover_whose_stop_fails_keeps_the_key_and_does_not_follow() {
        // given the leader with the lock and a healthy replica, a switchover to it, and a stop that fails
        HaScenario ha = HaScenario.create().runningPrimary();
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME)
                .member(Members.replica("other", wal + 0x100000)).status(wal).build());
        ha.runCycle();
        ha.events().clear();
        ha.given(Clusters.builder().switchover(NAME, "other").build());
        ha.postgres().failNext(Kind.STOP);

        // when it demotes itself and the stop fails
        assertThat(ha.runCycle().message()).isEqualTo("switchover: demoting myself");
        ha.runCycle();

        // then it did not hand over: the key is still its own, no on_stop, nothing restarted as a replica
        assertThat(ha.dcs().leaderName()).contains(NAME);
        assertThat(ha.events().callbacks()).doesNotContain("on_stop demoted", "on_role_change replica");
        assertThat(ha.postgres().operations().stream().map(o -> o.kind()).toList()).doesNotContain(Kind.FOLLOW);
        assertThat(ha.controller().status().role()).isNotEqualTo(PostgresRole.REPLICA);
    }

    @Test
    void a_new_replica_hears_on_start_and_a_replica_pointed_at_a_new_leader_hears_nothing() {
        // given an empty data directory and a leader to clone from
        HaScenario ha = HaScenario.create();
        FakePostgres leader = ha.peer("leader");
        ha.finish(leader.bootstrap());
        ha.given(Clusters.builder().initialize(leader.systemIdentifier()).leader("leader")
                .member(Members.primary("leader", leader.walPosition().value())).build());

        // when it is cloned and started as a replica: Patroni's on_start, once, with role replica
        ha.runCycles(4);
        assertThat(ha.postgres().upstream()).isEqualTo("leader");
        assertThat(ha.events().callbacks()).containsExactly("on_start replica");

        // and when the leader key moves to 'other', the running replica is re-pointed without a callback
        FakePostgres other = ha.peer("other");
        ha.finish(other.cloneFrom(Member.named("leader")));
        ha.finish(other.follow(Member.named("leader")));
        leader.crash();
        ha.finish(other.promote());
        ha.dcs().deleteMember("leader");
        ha.dcs().putLeader("other", TTL);
        ha.given(Clusters.builder().member(Members.primary("other", other.walPosition().value(), 2))
                .history(1, other.timelineHistory().get(0).switchLsn(), "other").build());
        ha.events().clear();
        ha.runCycles(3);
        assertThat(ha.postgres().upstream()).isEqualTo("other");
        assertThat(ha.events().callbacks()).isEmpty();
    }
}
