package dev.pgha.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.fencing.PostmasterGuard;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.HaScenario;
import java.nio.file.Path;
import java.time.Duration;
import dev.pgha.ActionResult;
import dev.pgha.cluster.Member;
import dev.pgha.testing.Members;
import dev.pgha.testing.SimulatedCluster;
import dev.pgha.testing.SimulatedNode;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Patroni's watchdog in mode {@code required}, pgha's lease guard: test_promote_without_watchdog,
 * test_bootstrap_release_initialize_key_on_watchdog_failure, and the same with a real
 * {@link PostmasterGuard} whose process cannot start; and the member whose required guard cannot be
 * activated ({@code LeaseGuard.canActivate()} false): it publishes {@code watchdog_failed}, takes no
 * part in races, and the others do not count it as a candidate ("Member %s is not watchdog capable",
 * test_manual_switchover_from_leader, test_is_healthiest_node, test__is_healthiest_node).
 */
class WatchdogScenariosTest {

    private static final String NOT_HEALTHIEST = "following a different leader because i am not the healthiest node";
    private static final String LEADER_WITH_LOCK = "no action. I am (postgresql0), the leader with the lock";

    private static long wal(HaScenario ha) {
        return ha.postgres().walPosition().value();
    }

    /** postgresql0 runs as primary, holds the lock, and 'other' is a replica whose required guard cannot be activated. */
    private static HaScenario leaderWithAGuardlessReplica() {
        HaScenario ha = HaScenario.create().runningPrimary();
        long wal = wal(ha);
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(HaScenario.NAME)
                .member(Members.primary(HaScenario.NAME, wal)).status(wal)
                .member(Members.builder("other").role("replica").xlogLocation(wal).timeline(1L)
                        .watchdogFailed(true).build()).build());
        return ha;
    }

    @Test
    void test_promote_without_watchdog_replica() {
        // given the healthiest replica of an unlocked cluster, whose required guard cannot be activated
        HaScenario ha = HaScenario.create().runningReplicaOf("leader").guardActivation(() -> false);
        ha.given(Clusters.builder().initialize(ha.systemId()).build());

        // when it wins the race
        CycleResult r = ha.runCycle();

        // then it does not promote and gives the key back
        assertThat(r.message()).isEqualTo("Not promoting self because watchdog could not be activated");
        assertThat(r.action()).isEqualTo(CycleAction.RELEASE_LOCK);
        assertThat(ha.postgres().status().isRunningPrimary()).isFalse();
        assertThat(ha.dcs().client("x").readCluster().leaderName()).isEmpty();
        assertThat(ha.guardDeadline()).isNull();
    }

    @Test
    void test_promote_without_watchdog_primary() {
        // given a running primary with the lock, whose guard then fails
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(HaScenario.NAME).build());
        assertThat(ha.runCycle().message()).isEqualTo("no action. I am (postgresql0), the leader with the lock");
        ha.guardActivation(() -> false);

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it demotes itself
        assertThat(r.message()).isEqualTo("Demoting self because watchdog could not be activated");
        assertThat(r.action()).isEqualTo(CycleAction.DEMOTE);
    }

    @Test
    void test_bootstrap_release_initialize_key_on_watchdog_failure() {
        // given a node bootstrapping a new cluster, running post_bootstrap with the leader key
        HaScenario ha = HaScenario.create(b -> b, FakeTimings.DEFAULTS);
        assertThat(ha.runCycle().message()).isEqualTo("trying to bootstrap a new cluster");
        assertThat(ha.runCycleAfter(Duration.ofSeconds(4)).message()).isEqualTo("running post_bootstrap");
        // and its guard cannot be activated
        ha.guardActivation(() -> false);

        // when post_bootstrap has finished
        CycleResult r = ha.runCycleAfter(Duration.ofSeconds(1));

        // then the bootstrap is cancelled (Patroni: "Cancelling bootstrap because watchdog activation failed")
        assertThat(r.action()).isEqualTo(CycleAction.FAILED);
        assertThat(r.message()).isEqualTo("Failed to bootstrap cluster");
        assertThat(r.lockHeld()).isFalse();
        assertThat(ha.dcs().snapshot().initialize()).isNull();
        assertThat(ha.dcs().leaderName()).isEmpty();
    }

    @Test
    void requiredGuardThatCannotStartKeepsTheNodeOutOfTheRace() {
        // given a required PostmasterGuard whose bash does not exist, on the healthiest replica of an unlocked cluster
        PostmasterGuard guard = PostmasterGuard.builder().pidFile(Path.of("/nonexistent/postmaster.pid"))
                .bash(Path.of("/nonexistent/bash")).mode(PostmasterGuard.Mode.REQUIRED).build();
        HaScenario ha = HaScenario.create().runningReplicaOf("leader").guard(guard);
        ha.given(Clusters.builder().initialize(ha.systemId()).build());

        // when cycles run, then it never takes the key, and says why in its member key
        for (int i = 0; i < 3; i++) {
            CycleResult r = ha.runCycleAfter(Duration.ofSeconds(10));
            assertThat(r.message()).isEqualTo(NOT_HEALTHIEST);
            assertThat(r.lockHeld()).isFalse();
            assertThat(ha.dcs().leaderName()).isEmpty();
        }
        assertThat(ha.dcs().snapshot().member(HaScenario.NAME).orElseThrow().watchdogFailed()).isTrue();
        assertThat(ha.postgres().status().isRunningPrimary()).isFalse();
        assertThat(ha.postgres().promoteCount()).isZero();
        assertThat(guard.process()).isEmpty();
    }

    @Test
    void automaticGuardThatCannotStartLetsTheNodePromote() {
        PostmasterGuard guard = PostmasterGuard.builder().pidFile(Path.of("/nonexistent/postmaster.pid"))
                .bash(Path.of("/nonexistent/bash")).mode(PostmasterGuard.Mode.AUTOMATIC).build();
        HaScenario ha = HaScenario.create().runningReplicaOf("leader").guardActivation(guard::activate);
        ha.given(Clusters.builder().initialize(ha.systemId()).build());

        assertThat(ha.runCycle().message()).isEqualTo("promoted self to leader by acquiring session lock");
    }

    // ------------------------------------------------------- a member that is not watchdog capable

    @Test
    void test_is_healthiest_node_watchdog_unhealthy() {
        // given the healthiest replica of an unlocked cluster whose required guard cannot be activated
        HaScenario ha = HaScenario.create().runningReplicaOf("leader").guardCapability(() -> false);
        ha.given(Clusters.builder().initialize(ha.systemId()).build());

        // when a cycle runs ("Watchdog device is not usable")
        CycleResult r = ha.runCycle();

        // then it does not even try to take the key
        assertThat(r.message()).isEqualTo(NOT_HEALTHIEST);
        assertThat(r.action()).isEqualTo(CycleAction.FOLLOW);
        assertThat(r.lockHeld()).isFalse();
        assertThat(ha.dcsCalls()).doesNotContain("acquireLeader");
        assertThat(ha.postgres().promoteCount()).isZero();
        // and it publishes why
        assertThat(ha.dcs().snapshot().member(HaScenario.NAME).orElseThrow().watchdogFailed()).isTrue();
    }

    @Test
    void aGuardThatCannotBeActivatedIsRetriedOncePerTtlAndTheNodeRacesOnceItCan() {
        // given a replica of an unlocked cluster whose guard is unusable until its activation succeeds
        boolean[] started = {false};
        HaScenario ha = HaScenario.create().runningReplicaOf("leader")
                .guardCapability(() -> started[0]).guardActivation(() -> false);
        ha.given(Clusters.builder().initialize(ha.systemId()).build());

        // when cycles run every 10 s, activation is retried at once, then only after ttl (30 s)
        assertThat(ha.runCycle().message()).isEqualTo(NOT_HEALTHIEST);
        assertThat(ha.guardActivations()).isEqualTo(1);
        ha.runCycleAfter(Duration.ofSeconds(10));
        ha.runCycleAfter(Duration.ofSeconds(10));
        assertThat(ha.guardActivations()).isEqualTo(1);
        ha.guardActivation(() -> {
            started[0] = true;
            return true;
        });
        assertThat(ha.runCycleAfter(Duration.ofSeconds(10)).message()).isEqualTo(NOT_HEALTHIEST);
        assertThat(ha.guardActivations()).isEqualTo(2);

        // then, the guard now able to run, the next cycle races and promotes, and the flag is gone
        CycleResult r = ha.runCycleAfter(Duration.ofSeconds(10));
        assertThat(r.message()).isEqualTo("promoted self to leader by acquiring session lock");
        assertThat(ha.dcs().snapshot().member(HaScenario.NAME).orElseThrow().watchdogFailed()).isFalse();
    }

    @Test
    void retriesAreSpacedByTtlWhenTheClockIsNotAtZeroAndStartOverOnceTheGuardWorkedAgain() {
        // given a replica of an unlocked cluster an hour into its run, whose guard is unusable and
        // whose activation fails
        boolean[] capable = {false};
        HaScenario ha = HaScenario.create().runningReplicaOf("leader")
                .guardCapability(() -> capable[0]).guardActivation(() -> false);
        ha.given(Clusters.builder().initialize(ha.systemId()).build());
        ha.clock().advance(Duration.ofHours(1));

        // when cycles run every 10 s: one retry at once, the next only a ttl (30 s) later
        ha.runCycle();
        assertThat(ha.guardActivations()).isEqualTo(1);
        ha.runCycleAfter(Duration.ofSeconds(10));
        ha.runCycleAfter(Duration.ofSeconds(10));
        assertThat(ha.guardActivations()).isEqualTo(1);
        ha.runCycleAfter(Duration.ofSeconds(10));
        assertThat(ha.guardActivations()).isEqualTo(2);

        // and once the guard could be activated again and then cannot, it is retried at once
        capable[0] = true;
        ha.runCycleAfter(Duration.ofSeconds(1));
        int before = ha.guardActivations();
        capable[0] = false;
        ha.runCycleAfter(Duration.ofSeconds(1));
        assertThat(ha.guardActivations()).isEqualTo(before + 1);
    }

    @Test
    void aGuardWhoseActivationThrowsCountsAsNotActivated() {
        // given the healthiest replica of an unlocked cluster whose guard throws when activated
        HaScenario ha = HaScenario.create().runningReplicaOf("leader").guardActivation(() -> {
            throw new IllegalStateException("guard process could not be spawned");
        });
        ha.given(Clusters.builder().initialize(ha.systemId()).build());

        // when it wins the race, then it does not promote and gives the key back
        CycleResult r = ha.runCycle();
        assertThat(r.message()).isEqualTo("Not promoting self because watchdog could not be activated");
        assertThat(ha.postgres().status().isRunningPrimary()).isFalse();
        assertThat(ha.dcs().leaderName()).isEmpty();
    }

    @Test
    void test__is_healthiest_node_a_member_that_is_not_watchdog_capable_does_not_veto() {
        // given an unlocked cluster in which 'other' is further ahead but its required guard cannot be activated
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId())
                .member(Members.from(Members.replica("other", wal(ha) + 100)).watchdogFailed(true).build()).build());

        // when a cycle runs, then this node wins, as if 'other' were tagged nofailover
        assertThat(ha.runCycle().message()).isEqualTo("promoted self to leader by acquiring session lock");
    }

    @Test
    void test_manual_switchover_from_leader_other_not_watchdog_capable() {
        // given the leader with the lock, its only replica not watchdog capable, and a switchover
        HaScenario ha = leaderWithAGuardlessReplica();
        ha.given(Clusters.builder().switchover(HaScenario.NAME, null).build());

        // when a cycle runs ("Member other is not watchdog capable")
        CycleResult r = ha.runCycle();

        // then nothing happens and the key is cleaned up
        assertThat(r.action()).isEqualTo(CycleAction.NONE);
        assertThat(r.message()).isEqualTo(LEADER_WITH_LOCK);
        assertThat(ha.dcs().snapshot().failover()).isNull();
        assertThat(ha.postgres().isWritable()).isTrue();
    }

    @Test
    void switchoverAndFailoverRequestsToAMemberThatIsNotWatchdogCapableAreRefused() {
        HaScenario ha = leaderWithAGuardlessReplica();

        ActionResult switchover = ha.controller().switchover("other", null);
        ActionResult failover = ha.controller().failover("other");
        ActionResult toAnyone = ha.controller().switchover(null, null);

        assertThat(switchover.accepted()).isFalse();
        assertThat(switchover.message()).isEqualTo("switchover is not possible: Member other is not watchdog capable");
        assertThat(failover.accepted()).isFalse();
        assertThat(failover.message()).isEqualTo("failover is not possible: Member other is not watchdog capable");
        assertThat(toAnyone.message()).isEqualTo("switchover is not possible: no good candidates have been found");
        assertThat(ha.dcs().snapshot().failover()).isNull();
    }

    @Test
    void test_manual_failover_process_no_leader_candidate_not_watchdog_capable() {
        // given an unlocked cluster and a manual failover to 'other', which is not watchdog capable
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId())
                .member(Members.from(Members.replica("other", wal(ha))).watchdogFailed(true).build())
                .failover(new dev.pgha.cluster.Failover(null, "other", null, 0)).build());

        // when a cycle runs ("manual failover: member other is not watchdog capable"), this node takes over
        assertThat(ha.runCycle().message()).isEqualTo("promoted self to leader by acquiring session lock");
    }

    @Test
    void aManualFailoverToThisNodeIsNotFollowedWhenItsGuardCannotBeActivated() {
        // given an unlocked cluster and a failover request naming this node, whose guard cannot be activated
        HaScenario ha = HaScenario.create().runningReplicaOf("leader").guardCapability(() -> false);
        ha.given(Clusters.builder().initialize(ha.systemId())
                .failover(new dev.pgha.cluster.Failover(null, HaScenario.NAME, null, 0)).build());

        // when a cycle runs, then it does not take the key (Patroni would, then give it back)
        CycleResult r = ha.runCycle();
        assertThat(r.lockHeld()).isFalse();
        assertThat(ha.dcsCalls()).doesNotContain("acquireLeader");
    }

    @Test
    void aNodeWhoseGuardCannotBeActivatedDoesNotBootstrapTheCluster() {
        HaScenario ha = HaScenario.create().guardCapability(() -> false);

        CycleResult r = ha.runCycle();

        assertThat(r.message()).isEqualTo("waiting for leader to bootstrap");
        assertThat(ha.dcs().snapshot().initialize()).isNull();
        assertThat(ha.postgres().dataDirectory()).isEqualTo(dev.pgha.postgres.DataDirectoryState.EMPTY);
    }

    @Test
    void whenTheLeaderDiesTheNodeWithoutAUsableGuardNeverLeadsEvenWhenItIsTheMostAdvanced() {
        // given a converged 3-node cluster in which node2's required guard cannot be activated
        SimulatedCluster sim = SimulatedCluster.builder().nodes("node1", "node2", "node3")
                .config(b -> b.usePgRewind(true)).build();
        sim.node("node2").setGuardUsable(false);
        java.util.Set<String> holders = new java.util.TreeSet<>();
        java.util.List<CycleResult> node2Results = new java.util.ArrayList<>();
        sim.afterEachCycle(n -> {
            sim.leader().ifPresent(holders::add);
            if (n.name().equals("node2")) {
                node2Results.add(n.lastResult());
            }
        });
        assertThat(sim.runUntil(SimulatedCluster::isConverged, Duration.ofMinutes(3))).as(sim.log()).isTrue();
        String leader = sim.leader().orElseThrow();
        assertThat(leader).isNotEqualTo("node2");
        String third = leader.equals("node1") ? "node3" : "node1";
        assertThat(memberKey(sim, "node2").watchdogFailed()).isTrue();
        assertThat(memberKey(sim, third).watchdogFailed()).isFalse();

        // and node2 has received more WAL than the other replica
        sim.node(third).postgres().pauseReplication(true);
        sim.write(1000);
        sim.runFor(Duration.ofSeconds(5));
        assertThat(sim.node("node2").postgres().walPosition())
                .isGreaterThan(sim.node(third).postgres().walPosition());

        // when the leader's PostgreSQL crashes and its agent is gone
        sim.freeze(leader, true);
        sim.crashPostgres(leader);
        sim.node(third).postgres().pauseReplication(false);

        // then the other replica is promoted, and node2 never held the key
        assertThat(sim.runUntil(s -> s.leader().equals(Optional.of(third))
                && s.writablePrimaries().equals(java.util.List.of(third)),
                Duration.ofMinutes(3))).as(sim.log()).isTrue();
        assertThat(holders).doesNotContain("node2");
        assertThat(node2Results).isNotEmpty().noneMatch(CycleResult::lockHeld)
                .noneMatch(r -> r.action() == CycleAction.RELEASE_LOCK || r.action() == CycleAction.ACQUIRED_LOCK);
        assertThat(sim.node("node2").postgres().promoteCount()).isZero();
        assertThat(sim.world().violations()).isEmpty();
    }

    private static Member memberKey(SimulatedCluster sim, String name) {
        return sim.dcs().snapshot().member(name).orElseThrow();
    }
}
