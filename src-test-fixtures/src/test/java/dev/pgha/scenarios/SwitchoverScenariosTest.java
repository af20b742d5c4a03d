package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.ActionResult;
import dev.pgha.ClusterAdmin;
import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.HaConfig;
import dev.pgha.cluster.Failover;
import dev.pgha.postgres.StopMode;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeOperation.Kind;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import dev.pgha.testing.SimulatedCluster;
import dev.pgha.testing.SimulatedNode;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Patroni's switchover situations (the {@code failover} key naming the leader), ported one test
 * each: test_manual_switchover_from_leader (each case that applies without watchdog),
 * test_scheduled_switchover_from_leader (each schedule case), test_manual_switchover_process_no_leader;
 * the checks {@code HaController.switchover(...)} makes like Patroni's {@code POST /switchover}
 * (test_api.py's test_do_POST_switchover, patroni_api.feature); and the whole handover between the
 * leader side and the candidate side, in a three-node {@link SimulatedCluster}
 * (patroni_api.feature "check the scheduled switchover").
 *
 * <p>pgha differences: a member is reachable while its member key exists; a switchover that is due
 * within {@code loop_wait} is not slept for inside the cycle: the cycle asks to run again when it is
 * due ({@code nextCycleIn}).
 */
class SwitchoverScenariosTest {

    private static final String LEADER_WITH_LOCK = "no action. I am (postgresql0), the leader with the lock";

    /** postgresql0 runs as primary on timeline 1, holds the lock, and 'other' is a healthy replica. */
    private static HaScenario leaderWithLock(UnaryOperator<HaConfig.Builder> settings) {
        HaScenario ha = HaScenario.create(settings).runningPrimary();
        long wal = wal(ha);
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).member(Members.primary(NAME, wal))
                .status(wal).build());
        return ha;
    }

    private static long wal(HaScenario ha) {
        return ha.postgres().walPosition().value();
    }

    private static Failover failoverKey(HaScenario ha) {
        return ha.dcs().snapshot().failover();
    }

    private static String iso(Instant t) {
        return DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(t.atOffset(ZoneOffset.UTC));
    }

    // ---------------------------------------------------------------- test_manual_switchover_from_leader

    @Test
    void test_manual_switchover_from_leader_leader_name_does_not_match() {
        // given the leader with the lock, a healthy replica, and a switchover from 'blabla'
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha))).switchover("blabla", null).build());

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then nothing happens ("leader name does not match: blabla != postgresql0"), key cleaned up
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(r.message()).isEqualTo(LEADER_WITH_LOCK);
        assertThat(failoverKey(ha)).isNull();
        assertThat(ha.postgres().isWritable()).isTrue();
    }

    @Test
    void test_manual_switchover_from_leader() {
        // given the leader with the lock, a healthy replica, and a switchover from it to no one in particular
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha))).switchover(NAME, null).build());

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it demotes itself gracefully: it stops taking writes at once
        assertThat(r.action()).isEqualTo(CycleAction.SWITCHOVER);
        assertThat(r.message()).isEqualTo("switchover: demoting myself");
        assertThat(ha.postgres().isWritable()).isFalse();
        assertThat(ha.dcs().leaderName()).contains(NAME);

        // and once stopped, the next cycle has released the lock (and fired on_stop); the key stays for the race
        ha.runCycle();
        assertThat(ha.dcs().leaderName()).isEmpty();
        assertThat(failoverKey(ha)).isNotNull();
        assertThat(ha.events().callbacks()).contains("on_stop demoted");
    }

    @Test
    void test_manual_switchover_from_leader_while_stopping() {
        // given the leader demotes itself for a switchover, and its PostgreSQL takes 20 s to stop
        HaScenario ha = HaScenario.create(b -> b, FakeTimings.DEFAULTS).runningPrimary();
        long wal = wal(ha);
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).member(Members.primary(NAME, wal))
                .status(wal).member(Members.replica("other", wal)).switchover(NAME, null).build());
        ha.postgres().slowNext(Kind.STOP, Duration.ofSeconds(20));
        assertThat(ha.runCycle().message()).isEqualTo("switchover: demoting myself");

        // when cycles run while it stops
        CycleResult r = ha.cycleFor(Duration.ofSeconds(19));

        // then the lock holder keeps refreshing its lock: nobody may race before the shutdown checkpoint is out
        assertThat(r.action()).isEqualTo(CycleAction.IN_PROGRESS);
        assertThat(r.message()).isEqualTo("updated leader lock during switchover: demote");
        assertThat(ha.dcs().leaderName()).contains(NAME);
        // and once stopped, the lock is released
        ha.runCycleAfter(Duration.ofSeconds(1));
        assertThat(ha.dcs().leaderName()).isEmpty();
    }

    @Test
    void test_manual_switchover_from_leader_others_nofailover() {
        // given the leader with the lock, its only replica nofailover, and a switchover
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.from(Members.replica("other", wal(ha))).noFailover(true).build())
                .switchover(NAME, null).build());

        // when a cycle runs ("Member other is not allowed to promote")
        CycleResult r = ha.runCycle();

        // then nothing happens and the key is cleaned up
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(r.message()).isEqualTo(LEADER_WITH_LOCK);
        assertThat(failoverKey(ha)).isNull();
        assertThat(ha.postgres().isWritable()).isTrue();
    }

    @Test
    void test_manual_switchover_from_leader_other_on_older_timeline() {
        // given check_timeline, the leader promoted to timeline 2, its replica still on timeline 1, a switchover
        HaScenario ha = HaScenario.create(b -> b.checkTimeline(true)).runningReplicaOf("old");
        ha.peer("old").crash();
        ha.finish(ha.postgres().promote());
        long wal = wal(ha);
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).member(Members.primary(NAME, wal, 2))
                .history(1, ha.postgres().timelineHistory().get(0).switchLsn()).status(wal)
                .member(Members.replica("other", wal, 1)).switchover(NAME, null).build());

        // when a cycle runs ("Timeline 1 of member other is behind the cluster timeline 2")
        CycleResult r = ha.runCycle();

        // then nothing happens and the key is cleaned up
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(r.message()).isEqualTo(LEADER_WITH_LOCK);
        assertThat(failoverKey(ha)).isNull();
    }

    @Test
    void test_manual_switchover_from_leader_other_lagging() {
        // given maximum_lag_on_failover 5, the only replica 9 bytes behind, and a switchover
        HaScenario ha = leaderWithLock(b -> b.maximumLagOnFailover(5));
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha) - 9)).switchover(NAME, null).build());

        // when a cycle runs ("Member other exceeds maximum replication lag")
        CycleResult r = ha.runCycle();

        // then nothing happens and the key is cleaned up
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(r.message()).isEqualTo(LEADER_WITH_LOCK);
        assertThat(failoverKey(ha)).isNull();
    }

    // ---------------------------------------------------------------- test_scheduled_switchover_from_leader

    @Test
    void test_scheduled_switchover_from_leader_naive_scheduled_at() {
        // given a switchover scheduled at a time without a zone offset
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha)))
                .scheduledSwitchover(NAME, null, "2016-10-27T12:00:00").build());

        // when a cycle runs ("Incorrect value of scheduled_at")
        CycleResult r = ha.runCycle();

        // then nothing happens and the key is cleaned up
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(r.message()).isEqualTo(LEADER_WITH_LOCK);
        assertThat(failoverKey(ha)).isNull();
    }

    @Test
    void test_scheduled_switchover_from_leader_due() {
        // given a switchover scheduled for now
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha)))
                .scheduledSwitchover(NAME, null, iso(ha.clock().wallTime())).build());

        // when a cycle runs ("Manual scheduled switchover at ...")
        CycleResult r = ha.runCycle();

        // then it demotes itself
        assertThat(r.action()).isEqualTo(CycleAction.SWITCHOVER);
        assertThat(r.message()).isEqualTo("switchover: demoting myself");
    }

    @Test
    void test_scheduled_switchover_from_leader_in_30_seconds() {
        // given a switchover scheduled 30 s from now
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha)))
                .scheduledSwitchover(NAME, null, iso(ha.clock().wallTime().plusSeconds(30))).build());

        // when a cycle runs ("Awaiting switchover at ... (in 30 seconds)")
        CycleResult r = ha.runCycle();

        // then nothing happens yet and the key stays
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(r.message()).isEqualTo(LEADER_WITH_LOCK);
        assertThat(failoverKey(ha)).isNotNull();

        // and when the node has cycled until the scheduled time, then it demotes itself
        ha.cycleFor(Duration.ofSeconds(30));
        CycleResult due = ha.runCycle();
        assertThat(due.action()).isEqualTo(CycleAction.SWITCHOVER);
        assertThat(due.message()).isEqualTo("switchover: demoting myself");
    }

    @Test
    void test_scheduled_switchover_from_leader_due_within_loop_wait() {
        // given a switchover scheduled 5 s from now (within loop_wait)
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha)))
                .scheduledSwitchover(NAME, null, iso(ha.clock().wallTime().plusSeconds(5))).build());

        // when a cycle runs: Patroni sleeps the 5 s inside the cycle; pgha never sleeps, it asks the
        // host to run the next cycle when the switchover is due
        CycleResult r = ha.runCycle();
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(r.message()).isEqualTo(LEADER_WITH_LOCK);
        assertThat(r.nextCycleIn()).isEqualTo(Duration.ofSeconds(5));

        // then the cycle at that time demotes ("Manual scheduled switchover at ...")
        CycleResult due = ha.runCycleAfter(r.nextCycleIn());
        assertThat(due.action()).isEqualTo(CycleAction.SWITCHOVER);
        assertThat(due.message()).isEqualTo("switchover: demoting myself");
    }

    @Test
    void test_scheduled_switchover_from_leader_stale() {
        // given a switchover scheduled 570 s ago (more than 1.5 * loop_wait late)
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha)))
                .scheduledSwitchover(NAME, null, iso(ha.clock().wallTime().minusSeconds(570))).build());

        // when a cycle runs ("Found a stale switchover value, cleaning up")
        CycleResult r = ha.runCycle();

        // then nothing happens and the key is cleaned up
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(r.message()).isEqualTo(LEADER_WITH_LOCK);
        assertThat(failoverKey(ha)).isNull();
        assertThat(ha.postgres().isWritable()).isTrue();
    }

    @ParameterizedTest(name = "scheduled {0} s ago: {1}")
    @CsvSource(delimiter = '|', value = {
            // 1.5 * loop_wait (10 s) late is still on time; later than that is stale
            "15 | switchover: demoting myself",
            "16 | " + LEADER_WITH_LOCK,
    })
    void test_scheduled_switchover_from_leader_late(long secondsLate, String message) {
        // given a switchover scheduled that many seconds ago
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha)))
                .scheduledSwitchover(NAME, null, iso(ha.clock().wallTime().minusSeconds(secondsLate))).build());

        // when a cycle runs, then it is carried out, or cleaned up as stale
        assertThat(ha.runCycle().message()).isEqualTo(message);
        if (message.equals(LEADER_WITH_LOCK)) {
            assertThat(failoverKey(ha)).isNull();
            assertThat(ha.postgres().isWritable()).isTrue();
        } else {
            assertThat(ha.postgres().isWritable()).isFalse();
        }
    }

    // ---------------------------------------------------------------- test_manual_switchover_process_no_leader

    /**
     * postgresql0 was the leader and demoted itself for a switchover: its PostgreSQL was shut down
     * cleanly and runs again as a replica of nobody; the lock is released; the key names it as leader.
     */
    private static HaScenario demotedForSwitchover(String candidate) {
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.finish(ha.postgres().stop(StopMode.FAST, true));
        ha.finish(ha.postgres().follow(null));
        ha.given(Clusters.builder().initialize(ha.systemId()).status(wal(ha)).switchover(NAME, candidate).build());
        return ha;
    }

    @Test
    void test_manual_switchover_process_no_leader() {
        // given postgresql0 demoted itself for a switchover to no one in particular, and 'other' is healthy
        HaScenario ha = demotedForSwitchover(null);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha))).build());

        // when a cycle runs (failover to someone else is possible)
        CycleResult r = ha.runCycle();

        // then it does not race
        assertThat(r.action()).isEqualTo(CycleAction.FOLLOW);
        assertThat(r.message()).isEqualTo("following a different leader because i am not the healthiest node");
        assertThat(ha.dcs().leaderName()).isEmpty();
    }

    @Test
    void test_manual_switchover_process_no_leader_others_unreachable() {
        // given postgresql0 demoted itself for a switchover, and no other member has a member key
        HaScenario ha = demotedForSwitchover(null);

        // when a cycle runs ("Member other is not reachable": it is the only healthy node)
        CycleResult r = ha.runCycle();

        // then it takes the lock back
        assertThat(r.action()).isEqualTo(CycleAction.PROMOTE);
        assertThat(r.message()).isEqualTo("promoted self to leader by acquiring session lock");
        assertThat(r.lockHeld()).isTrue();
        assertThat(failoverKey(ha)).isNull();
    }

    @Test
    void test_manual_switchover_process_no_leader_to_me() {
        // the candidate side of a handover: given 'leader' released the lock for a switchover to
        // postgresql0, a running replica
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).status(wal(ha))
                .member(Members.replica("leader", wal(ha))).switchover("leader", NAME).build());

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it takes the lock, cleans up the failover key and promotes
        assertThat(r.action()).isEqualTo(CycleAction.PROMOTE);
        assertThat(r.message()).isEqualTo("promoted self to leader by acquiring session lock");
        assertThat(ha.dcs().leaderName()).contains(NAME);
        assertThat(failoverKey(ha)).isNull();
        assertThat(ha.events().callbacks()).contains("on_role_change primary");
        ha.runCycle();
        assertThat(ha.postgres().isWritable()).isTrue();
    }

    // ---------------------------------------------------------------- HaController.switchover(...)

    @Test
    void test_do_POST_switchover_accepted() {
        // given the leader with the lock and a healthy replica 'other'
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha))).build());

        // when a switchover to 'other' is requested
        ActionResult result = ha.controller().switchover("other", null);

        // then it is accepted and written to the failover key naming the leader and the candidate
        assertThat(result.accepted()).isTrue();
        assertThat(result.message()).isEqualTo("switchover requested");
        assertThat(failoverKey(ha).leader()).isEqualTo(NAME);
        assertThat(failoverKey(ha).candidate()).isEqualTo("other");
        // and the leader's next cycle acts on it
        assertThat(ha.runCycle().message()).isEqualTo("switchover: demoting myself");
    }

    @Test
    void a_scheduled_switchover_is_written_in_patronis_time_format() {
        // given the leader with the lock and a healthy replica 'other'
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha))).build());

        // when a switchover is scheduled an hour from now
        java.time.Instant at = ha.clock().wallTime().plusSeconds(3600).plusNanos(250_000_000);
        ActionResult result = ha.controller().switchover("other", at);

        // then scheduled_at reads as Python's isoformat() writes it: +00:00, not Z
        assertThat(result.accepted()).isTrue();
        assertThat(failoverKey(ha).scheduledAt()).endsWith(".250000+00:00").doesNotContain("Z");
        assertThat(failoverKey(ha).scheduledTime()).hasValueSatisfying(
                when -> assertThat(when.toInstant()).isEqualTo(at));
    }

    @Test
    void a_tool_outside_the_cluster_requests_a_switchover_with_the_same_checks() {
        // given the leader with the lock, a healthy replica 'other' and a nofailover replica 'keeper'
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha)))
                .member(Members.from(Members.replica("keeper", wal(ha))).noFailover(true).build()).build());
        ClusterAdmin admin = ClusterAdmin.of(ha.config(), ha.dcs().client("patronictl"), ha.clock());

        // when a tool names a leader that does not lead, or a candidate that may not be promoted
        ActionResult wrongLeader = admin.switchover("other", "keeper", null);
        ActionResult noFailover = admin.switchover(NAME, "keeper", null);

        // then both are refused with the reason, and nothing is written
        assertThat(wrongLeader.accepted()).isFalse();
        assertThat(wrongLeader.message())
                .isEqualTo("switchover is not possible: member other is not the leader (" + NAME + " is)");
        assertThat(noFailover.accepted()).isFalse();
        assertThat(noFailover.message()).isEqualTo("switchover is not possible: Member keeper is not allowed to promote");
        assertThat(failoverKey(ha)).isNull();

        // when it asks for a switchover from the leader to 'other'
        ActionResult accepted = admin.switchover(NAME, "other", null);

        // then the key names both and the leader's next cycle acts on it
        assertThat(accepted.accepted()).as(accepted.message()).isTrue();
        assertThat(failoverKey(ha).leader()).isEqualTo(NAME);
        assertThat(failoverKey(ha).candidate()).isEqualTo("other");
        assertThat(ha.runCycle().message()).isEqualTo("switchover: demoting myself");
    }

    @Test
    void test_do_POST_switchover_candidate_missing() {
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha))).build());

        ActionResult result = ha.controller().switchover("blabla", null);

        assertThat(result.accepted()).isFalse();
        assertThat(result.message()).isEqualTo("switchover is not possible: member blabla does not exist");
        assertThat(failoverKey(ha)).isNull();
    }

    @Test
    void test_do_POST_switchover_candidate_nofailover() {
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.from(Members.replica("other", wal(ha))).noFailover(true).build())
                .build());

        ActionResult result = ha.controller().switchover("other", null);

        assertThat(result.accepted()).isFalse();
        assertThat(result.message()).isEqualTo("switchover is not possible: Member other is not allowed to promote");
        assertThat(failoverKey(ha)).isNull();
    }

    @Test
    void test_do_POST_switchover_candidate_stopped() {
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.stopped("other", "replica")).build());

        ActionResult result = ha.controller().switchover("other", null);

        assertThat(result.accepted()).isFalse();
        assertThat(result.message()).isEqualTo("switchover is not possible: Member other is not running as a replica");
        assertThat(failoverKey(ha)).isNull();
    }

    @Test
    void test_do_POST_switchover_candidate_lagging() {
        HaScenario ha = leaderWithLock(b -> b.maximumLagOnFailover(5));
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha) - 9)).build());

        ActionResult result = ha.controller().switchover("other", null);

        assertThat(result.accepted()).isFalse();
        assertThat(result.message())
                .isEqualTo("switchover is not possible: Member other exceeds maximum replication lag");
        assertThat(failoverKey(ha)).isNull();
    }

    @Test
    void test_do_POST_switchover_scheduled_in_the_past() {
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.replica("other", wal(ha))).build());

        ActionResult result = ha.controller().switchover("other", ha.clock().wallTime().minusSeconds(60));

        assertThat(result.accepted()).isFalse();
        assertThat(result.message()).isEqualTo("Can't schedule switchover in the past");
        assertThat(failoverKey(ha)).isNull();
    }

    @Test
    void test_do_POST_switchover_no_good_candidates() {
        // given the leader's only replica is stopped
        HaScenario ha = leaderWithLock(b -> b);
        ha.given(Clusters.builder().member(Members.stopped("other", "replica")).build());

        // when a switchover to whoever is best is requested, then it is refused
        ActionResult result = ha.controller().switchover(null, null);

        assertThat(result.accepted()).isFalse();
        assertThat(result.message()).isEqualTo("switchover is not possible: no good candidates have been found");
        assertThat(failoverKey(ha)).isNull();
    }

    @Test
    void check_API_requests_on_a_stand_alone_server_switchover() {
        // patroni_api.feature "check API requests on a stand-alone server": given the leader is the only member
        HaScenario ha = leaderWithLock(b -> b);
        ha.runCycle();

        // when a switchover is requested, then it is refused with Patroni's reason
        ActionResult result = ha.controller().switchover(null, null);

        assertThat(result.accepted()).isFalse();
        assertThat(result.message())
                .isEqualTo("switchover is not possible: cluster does not have members except leader");
        assertThat(failoverKey(ha)).isNull();
    }

    // ---------------------------------------------------------------- the whole handover

    private static SimulatedCluster convergedCluster() {
        SimulatedCluster sim = SimulatedCluster.builder().build();
        assertThat(sim.runUntil(SimulatedCluster::isConverged, Duration.ofMinutes(3))).as(sim.log()).isTrue();
        return sim;
    }

    private static String aReplicaOf(SimulatedCluster sim, String leader) {
        return sim.nodes().stream().map(SimulatedNode::name).filter(n -> !n.equals(leader)).findFirst().orElseThrow();
    }

    @Test
    void switchover_hands_over_from_the_leader_to_the_candidate() {
        // given a converged three-node cluster that has written some WAL
        SimulatedCluster sim = convergedCluster();
        String old = sim.leader().orElseThrow();
        String candidate = aReplicaOf(sim, old);
        assertThat(sim.write(4096)).isTrue();
        sim.runFor(Duration.ofSeconds(1));
        long written = sim.world().get(old).walPosition().value();

        // when a switchover to the candidate is requested
        ActionResult request = sim.node(old).controller().switchover(candidate, null);
        assertThat(request.accepted()).as(request.message()).isTrue();

        // then the leader demotes, the candidate takes the lock, and the cluster converges on it
        boolean handedOver = sim.runUntil(s -> s.isConverged() && s.leader().orElseThrow().equals(candidate),
                Duration.ofMinutes(2));
        assertThat(handedOver).as(sim.log()).isTrue();
        assertThat(sim.log()).contains(old + ": SWITCHOVER: switchover: demoting myself");
        assertThat(sim.log()).contains(candidate + ": PROMOTE: promoted self to leader by acquiring session lock");
        // and the failover key is cleaned up, the old leader streams from the candidate, nothing was lost
        assertThat(sim.dcs().snapshot().failover()).isNull();
        assertThat(sim.world().get(old).upstream()).isEqualTo(candidate);
        assertThat(sim.world().get(candidate).walPosition().value()).isGreaterThanOrEqualTo(written);
        assertThat(sim.world().violations()).isEmpty();
    }

    @Test
    void check_the_scheduled_switchover() {
        // given a converged three-node cluster
        SimulatedCluster sim = convergedCluster();
        String old = sim.leader().orElseThrow();
        String candidate = aReplicaOf(sim, old);

        // when a switchover to the candidate is scheduled in 10 seconds
        ActionResult request = sim.node(old).controller().switchover(candidate, sim.now().plusSeconds(10));
        assertThat(request.accepted()).as(request.message()).isTrue();

        // then nothing changes before that time
        sim.runFor(Duration.ofSeconds(9));
        assertThat(sim.leader()).contains(old);
        assertThat(sim.writablePrimaries()).containsExactly(old);
        // and the candidate is the leader and primary within 20 seconds, the old leader its replica
        boolean handedOver = sim.runUntil(s -> s.isConverged() && s.leader().orElseThrow().equals(candidate),
                Duration.ofSeconds(20));
        assertThat(handedOver).as(sim.log()).isTrue();
        assertThat(sim.world().violations()).isEmpty();
    }

    @Test
    void manual_failover_hands_over_from_the_leader_to_the_candidate() {
        // given a converged three-node cluster
        SimulatedCluster sim = convergedCluster();
        String old = sim.leader().orElseThrow();
        String candidate = aReplicaOf(sim, old);

        // when a manual failover to the candidate is requested (patronictl failover --candidate)
        ActionResult request = sim.node(candidate).controller().failover(candidate);
        assertThat(request.accepted()).as(request.message()).isTrue();

        // then the leader demotes and the candidate takes over; the key is cleaned up
        boolean handedOver = sim.runUntil(s -> s.isConverged() && s.leader().orElseThrow().equals(candidate),
                Duration.ofMinutes(2));
        assertThat(handedOver).as(sim.log()).isTrue();
        assertThat(sim.log()).contains(old + ": SWITCHOVER: manual failover: demoting myself");
        assertThat(sim.dcs().snapshot().failover()).isNull();
        assertThat(sim.world().violations()).isEmpty();
    }
}
