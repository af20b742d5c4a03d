package dev.pgha.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import dev.pgha.testing.SimulatedCluster;
import dev.pgha.cluster.ClusterStatus;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Physical member slots (Patroni's {@code slots.py} for member slots, {@code use_slots},
 * {@code member_slots_ttl}): the leader keeps one for each other member and drops those of members
 * gone for the retention; a replica of the leader streams through its own. The leader publishes
 * the slots' positions and the retained member slot names in the {@code status} key (Patroni 4's
 * {@code slots} and {@code retain_slots}), and a new leader keeps the slots named there.
 */
class ReplicationSlotScenariosTest {

    private static final Duration TTL = Duration.ofSeconds(30);

    private static HaScenario leaderWithReplicas(HaScenario ha) {
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(HaScenario.NAME)
                .member(Members.primary(HaScenario.NAME, wal))
                .member(Members.replica("node-2", wal)).member(Members.replica("Node.3", wal)).build());
        return ha;
    }

    /** Cycles every 10 s for {@code duration} while only Node.3's agent keeps publishing. */
    private static void runWithNode3Publishing(HaScenario ha, Duration duration) {
        runWithNode3Publishing(ha, duration, () -> { });
    }

    /** The same, running {@code alsoEachTime} before each cycle. */
    private static void runWithNode3Publishing(HaScenario ha, Duration duration, Runnable alsoEachTime) {
        for (long s = 0; s < duration.toSeconds(); s += 10) {
            ha.dcs().putMember(Members.replica("Node.3", ha.postgres().walPosition().value()), TTL);
            alsoEachTime.run();
            assertThat(ha.runCycleAfter(Duration.ofSeconds(10)).lockHeld()).isTrue();
        }
    }

    @Test
    void leaderCreatesASlotForEveryOtherMember() {
        HaScenario ha = leaderWithReplicas(HaScenario.create().runningPrimary());

        assertThat(ha.runCycle().action()).isEqualTo(CycleAction.NONE);

        assertThat(ha.postgres().slots()).containsExactlyInAnyOrder("node_2", "node_3");
        // and a steady cycle changes nothing
        int syncs = ha.postgres().slotSyncCount();
        ha.runCycle();
        assertThat(ha.postgres().slotSyncCount()).isEqualTo(syncs);
    }

    @Test
    void goneMembersSlotIsDroppedAfterMemberSlotsTtl() {
        HaScenario ha = leaderWithReplicas(HaScenario.create(b -> b.memberSlotsTtl(Duration.ofMinutes(5)))
                .runningPrimary());
        ha.postgres().createSlot("user_backup_slot");
        ha.postgres().createSlot("Not-Ours");
        ha.runCycle();
        assertThat(ha.postgres().slots()).contains("node_2", "node_3");

        // when node-2's member key is gone
        ha.dcs().deleteMember("node-2");
        ha.runCycle();
        // then its slot is kept for member_slots_ttl
        assertThat(ha.postgres().slots()).contains("node_2");
        runWithNode3Publishing(ha, Duration.ofSeconds(290));
        assertThat(ha.postgres().slots()).contains("node_2");

        // and dropped once the retention passed; slots pgha could not have named stay, and so do
        // the other member's
        runWithNode3Publishing(ha, Duration.ofSeconds(20));
        assertThat(ha.postgres().slots()).doesNotContain("node_2").contains("node_3", "Not-Ours");
    }

    @Test
    void aStraySlotFoundLateInTheTermIsDroppedMemberSlotsTtlAfterItWasFirstSeen() {
        // given the leader with member_slots_ttl 5 min, leading for 10 minutes already
        HaScenario ha = leaderWithReplicas(HaScenario.create(b -> b.memberSlotsTtl(Duration.ofMinutes(5)))
                .runningPrimary());
        ha.runCycle();
        runWithPublishing(ha, "node-2", Duration.ofMinutes(10));
        // when a slot named like a member that does not exist appears
        ha.postgres().createSlot("node_9");
        ha.dcs().putMember(Members.replica("node-2", ha.postgres().walPosition().value()), TTL);
        ha.dcs().putMember(Members.replica("Node.3", ha.postgres().walPosition().value()), TTL);
        ha.runCycle();

        // then it is kept for the retention counted from when the leader first saw it
        assertThat(ha.postgres().slots()).contains("node_9");
        runWithPublishing(ha, "node-2", Duration.ofSeconds(290));
        assertThat(ha.postgres().slots()).contains("node_9");
        // and dropped once that passed, the members' slots kept
        runWithPublishing(ha, "node-2", Duration.ofSeconds(20));
        assertThat(ha.postgres().slots()).doesNotContain("node_9").contains("node_2");
    }

    @Test
    void aReplicaWithUseSlotsOffLeavesTheSlotsItHas() {
        // given a replica with slots named after members left from when it led, and use_slots off
        HaScenario ha = HaScenario.create(b -> b.useSlots(false)).runningReplicaOf("leader");
        ha.postgres().createSlot("node_2");
        long wal = ha.peer("leader").walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader").member(Members.primary("leader", wal))
                .member(Members.replica("node-2", wal)).build());

        // when it follows the leader
        ha.runCycles(3);

        // then it leaves them alone (slots are not its business without use_slots)
        assertThat(ha.postgres().upstream()).isEqualTo("leader");
        assertThat(ha.postgres().slots()).contains("node_2");
        assertThat(ha.postgres().slotSyncCount()).isZero();
    }

    @Test
    void withZeroRetentionAGoneMembersSlotIsDroppedAtOnceButIgnoredSlotsStay() {
        HaScenario ha = leaderWithReplicas(HaScenario.create(b -> b.memberSlotsTtl(Duration.ZERO)
                .ignoreSlots(Set.of("keep_me"))).runningPrimary());
        ha.postgres().createSlot("keep_me");
        ha.postgres().createSlot("stale_member");
        ha.runCycle();

        assertThat(ha.postgres().slots()).containsExactlyInAnyOrder("node_2", "node_3", "keep_me");

        ha.dcs().deleteMember("Node.3");
        ha.runCycle();
        assertThat(ha.postgres().slots()).containsExactlyInAnyOrder("node_2", "keep_me");
    }

    @Test
    void aMemberThatComesBackWithinTheRetentionKeepsItsSlot() {
        HaScenario ha = leaderWithReplicas(HaScenario.create(b -> b.memberSlotsTtl(Duration.ofMinutes(1)))
                .runningPrimary());
        ha.runCycle();
        ha.dcs().deleteMember("node-2");
        runWithNode3Publishing(ha, Duration.ofSeconds(50));
        ha.dcs().putMember(Members.replica("node-2", ha.postgres().walPosition().value()), TTL);
        runWithNode3Publishing(ha, Duration.ofSeconds(20));
        ha.dcs().deleteMember("node-2");
        runWithNode3Publishing(ha, Duration.ofSeconds(20));

        // the clock starts again when it is gone again
        assertThat(ha.postgres().slots()).contains("node_2");
    }

    @Test
    void aMemberKeyThatDidNotDecodeGetsNoSlot() {
        // given a leader with two replicas, and a member key no adapter could decode: the adapters
        // read it as a member known only by name (Patroni's empty member data)
        HaScenario ha = leaderWithReplicas(HaScenario.create().runningPrimary());
        ha.dcs().putMember(Member.named("garbage"), TTL);

        // when the leader keeps its slots
        ha.runCycle();
        ha.runCycleAfter(Duration.ofSeconds(10));

        // then nothing holds WAL for that key, and the status key does not retain it either
        assertThat(ha.postgres().slots()).containsExactlyInAnyOrder("node_2", "node_3");
        assertThat(ha.dcs().snapshot().status().retainSlots()).containsExactly("node_2", "node_3", "postgresql0");
    }

    @Test
    void aMemberWhoseNameGivesNoSlotNameGetsNoSlot() {
        // given member keys with data but an empty or blank name (another tool's, or another adapter's)
        HaScenario ha = leaderWithReplicas(HaScenario.create().runningPrimary());
        long wal = ha.postgres().walPosition().value();
        ha.dcs().putMember(Members.replica("", wal), TTL);
        ha.dcs().putMember(Members.replica("  ", wal), TTL);

        ha.runCycle();

        assertThat(ha.postgres().slots()).containsExactlyInAnyOrder("node_2", "node_3");
        assertThat(ha.dcs().snapshot().status().retainSlots()).containsExactly("node_2", "node_3", "postgresql0");
    }

    @Test
    void aMemberWhoseKeyStopsDecodingLosesItsSlotLikeAGoneMember() {
        HaScenario ha = leaderWithReplicas(HaScenario.create(b -> b.memberSlotsTtl(Duration.ofMinutes(1)))
                .runningPrimary());
        ha.runCycle();
        assertThat(ha.postgres().slots()).contains("node_2");

        // when node-2's key holds something that does not decode from now on (written again and
        // again, so the key itself never expires)
        Runnable garbage = () -> ha.dcs().putMember(Member.named("node-2"), TTL);
        garbage.run();
        runWithNode3Publishing(ha, Duration.ofSeconds(50), garbage);
        // then the slot is retained like that of a member that is gone
        assertThat(ha.dcs().snapshot().member("node-2")).contains(Member.named("node-2"));
        assertThat(ha.postgres().slots()).contains("node_2");

        // and dropped once member_slots_ttl has passed
        runWithNode3Publishing(ha, Duration.ofSeconds(20), garbage);
        assertThat(ha.dcs().snapshot().member("node-2")).isPresent();
        assertThat(ha.postgres().slots()).containsExactly("node_3");
    }

    @Test
    void useSlotsFalseKeepsNoSlotsAndStreamsWithout() {
        HaScenario ha = leaderWithReplicas(HaScenario.create(b -> b.useSlots(false)).runningPrimary());
        ha.runCycle();
        assertThat(ha.postgres().slots()).isEmpty();
        assertThat(ha.postgres().slotSyncCount()).isZero();

        HaScenario replica = HaScenario.create(b -> b.useSlots(false)).runningReplicaOf("leader");
        replica.given(Clusters.builder().initialize(replica.systemId()).leader("leader")
                .member(Members.primary("leader", replica.postgres().walPosition().value())).build());
        replica.runCycle();
        assertThat(replica.postgres().upstream()).isEqualTo("leader");
        assertThat(replica.postgres().primarySlotName()).isNull();
    }

    @Test
    void replicaFollowsTheLeaderThroughItsSlot() {
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", ha.postgres().walPosition().value())).build());

        assertThat(ha.runCycle().action()).isEqualTo(CycleAction.FOLLOW);

        assertThat(ha.postgres().upstream()).isEqualTo("leader");
        assertThat(ha.postgres().primarySlotName()).isEqualTo("postgresql0");
        assertThat(ha.runCycle().action()).isEqualTo(CycleAction.NONE);
    }

    @Test
    void aCascadingReplicaStreamsWithoutASlot() {
        HaScenario ha = HaScenario.create(b -> b.tags(MemberTags.DEFAULT.withReplicateFrom("other")))
                .runningReplicaOf("leader");
        var other = ha.peer("other");
        ha.finish(other.cloneFrom(dev.pgha.cluster.Member.named("leader")));
        ha.finish(other.follow(dev.pgha.cluster.Member.named("leader")));
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", wal)).member(Members.replica("other", wal)).build());

        ha.runCycle();

        assertThat(ha.postgres().upstream()).isEqualTo("other");
        assertThat(ha.postgres().primarySlotName()).isNull();
    }

    @Test
    void aNewLeaderCreatesTheSlotsOfTheOthersAfterPromotion() {
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(HaScenario.NAME)
                .member(Members.replica("leader", wal)).member(Members.replica("node3", wal)).build());
        ha.runCycle(); // promote
        ha.runCycle();
        ha.runCycle();

        assertThat(ha.postgres().isWritable()).isTrue();
        assertThat(ha.postgres().slots()).containsExactlyInAnyOrder("leader", "node3");
    }

    @Test
    void clusterUpOnePrimaryTwoReplicasEachStreamingThroughItsSlotAlsoAfterAFailover() {
        SimulatedCluster sim = SimulatedCluster.builder().nodes("node-1", "node-2", "node-3")
                .config(b -> b.usePgRewind(true).primaryStartTimeout(Duration.ZERO)).build();
        assertThat(sim.runUntil(s -> s.isConverged() && everyReplicaStreamsThroughItsSlot(s),
                Duration.ofMinutes(3))).as(sim.log()).isTrue();
        String old = sim.leader().orElseThrow();
        assertThat(sim.world().get(old).slots())
                .containsExactlyInAnyOrderElementsOf(otherSlots(sim, old));

        sim.write(1000);
        sim.runFor(Duration.ofSeconds(5));
        sim.crashPostgres(old);
        assertThat(sim.runUntil(s -> s.isConverged() && !s.leader().orElseThrow().equals(old)
                && everyReplicaStreamsThroughItsSlot(s), Duration.ofMinutes(3))).as(sim.log()).isTrue();
        String leader = sim.leader().orElseThrow();
        assertThat(sim.world().get(leader).slots()).containsExactlyInAnyOrderElementsOf(otherSlots(sim, leader));
        // the former primary, now a replica, no longer holds the slots it kept as leader
        sim.runFor(Duration.ofSeconds(30));
        assertThat(sim.world().get(old).slots()).isEmpty();
        assertThat(sim.world().violations()).isEmpty();
    }

    // ------------------------------------------------------------------ the status key

    @Test
    void leaderPublishesItsSlotPositionsAndRetainedSlotNamesInTheStatusKey() {
        HaScenario ha = leaderWithReplicas(HaScenario.create().runningPrimary());
        long created = ha.postgres().walPosition().value();
        ha.runCycle(); // creates node_2 and node_3

        // when WAL is written and the next cycle refreshes the lock
        ha.world().write(HaScenario.NAME, 1000);
        long wal = ha.postgres().walPosition().value();
        ha.runCycleAfter(Duration.ofSeconds(10));

        // then the status key holds the optime, the slots at their restart_lsn (nobody streams
        // through them here, so they stay where they were created) and its own slot at its position
        ClusterStatus status = ha.dcs().snapshot().status();
        assertThat(status.optime()).isEqualTo(wal);
        assertThat(status.slots()).isEqualTo(Map.of("node_2", created, "node_3", created, "postgresql0", wal));
        assertThat(status.retainSlots()).containsExactly("node_2", "node_3", "postgresql0");
    }

    @Test
    void theStatusKeyIsWrittenOnlyWhenItChanges() {
        HaScenario ha = leaderWithReplicas(HaScenario.create().runningPrimary());
        ha.runCycle();
        ha.runCycleAfter(Duration.ofSeconds(10));
        ClusterStatus settled = ha.dcs().snapshot().status();
        int writes = writes(ha);

        ha.runCycleAfter(Duration.ofSeconds(10));
        ha.runCycleAfter(Duration.ofSeconds(10));
        assertThat(writes(ha)).isEqualTo(writes);
        assertThat(ha.dcs().snapshot().status()).isEqualTo(settled);

        ha.world().write(HaScenario.NAME, 100);
        ha.runCycleAfter(Duration.ofSeconds(10));
        assertThat(writes(ha)).isEqualTo(writes + 1);
    }

    @Test
    void withoutMemberSlotsTtlOrUseSlotsTheStatusKeyHoldsOnlyTheOptime() {
        for (HaScenario ha : List.of(HaScenario.create(b -> b.memberSlotsTtl(Duration.ZERO)),
                HaScenario.create(b -> b.useSlots(false)))) {
            leaderWithReplicas(ha.runningPrimary());
            ha.runCycle();
            ha.world().write(HaScenario.NAME, 100);
            ha.runCycleAfter(Duration.ofSeconds(10));

            assertThat(ha.dcs().snapshot().status())
                    .isEqualTo(new ClusterStatus(ha.postgres().walPosition().value(), Map.of()));
        }
    }

    @Test
    void aGoneMembersSlotNameIsRetainedInTheStatusKeyUntilMemberSlotsTtl() {
        HaScenario ha = leaderWithReplicas(HaScenario.create(b -> b.memberSlotsTtl(Duration.ofMinutes(1)))
                .runningPrimary());
        ha.runCycle();
        ha.dcs().deleteMember("node-2");

        runWithNode3Publishing(ha, Duration.ofSeconds(50));
        assertThat(ha.dcs().snapshot().status().retainSlots()).containsExactly("node_2", "node_3", "postgresql0");

        runWithNode3Publishing(ha, Duration.ofSeconds(20));
        assertThat(ha.dcs().snapshot().status().retainSlots()).containsExactly("node_3", "postgresql0");
        assertThat(ha.dcs().snapshot().status().slots()).doesNotContainKey("node_2");
        assertThat(ha.postgres().slots()).doesNotContain("node_2");
    }

    @Test
    void aNewLeaderKeepsTheSlotsTheLastLeaderRetainedForMemberSlotsTtl() {
        // given an unlocked cluster whose last leader retained the slots of 'leader' (itself), node3,
        // this node and 'away', of which only node3 still publishes a member key
        HaScenario ha = HaScenario.create(b -> b.memberSlotsTtl(Duration.ofMinutes(2))).runningReplicaOf("leader");
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).member(Members.replica("node3", wal)).status(wal)
                .retainSlots("away", "leader", "node3", "postgresql0").build());

        // when this node takes over
        assertThat(ha.runCycle().message()).isEqualTo("promoted self to leader by acquiring session lock");
        runWithPublishing(ha, "node3", Duration.ofSeconds(20));

        // then it keeps (creates) the slots of the members its predecessor retained, not its own
        assertThat(ha.postgres().slots()).containsExactlyInAnyOrder("away", "leader", "node3");
        assertThat(ha.dcs().snapshot().status().retainSlots()).containsExactly("away", "leader", "node3", "postgresql0");

        // and drops those of the absent members member_slots_ttl after it took over
        runWithPublishing(ha, "node3", Duration.ofSeconds(110));
        assertThat(ha.postgres().slots()).containsExactly("node3");
        assertThat(ha.dcs().snapshot().status().retainSlots()).containsExactly("node3", "postgresql0");
    }

    @Test
    void aRestartedAgentThatStillHoldsTheLockKeepsTheRetainedSlotNames() {
        // given a running primary holding the lock whose status key retains 'away' (no member key)
        HaScenario ha = leaderWithReplicas(HaScenario.create().runningPrimary());
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().status(wal).retainSlots("away", "node_2", "node_3", "postgresql0").build());

        // when its (new) agent runs its first cycles
        ha.runCycle();
        ha.runCycleAfter(Duration.ofSeconds(10));

        // then the name stays retained and its slot exists
        assertThat(ha.dcs().snapshot().status().retainSlots()).contains("away");
        assertThat(ha.postgres().slots()).contains("away", "node_2", "node_3");
    }

    @Test
    void slotPositionsFollowTheReplicasAndAbsentMembersSlotsSurviveAFailover() {
        // given a converged 3-node cluster, each replica streaming through its slot
        SimulatedCluster sim = SimulatedCluster.builder().nodes("node1", "node2", "node3")
                .config(b -> b.memberSlotsTtl(Duration.ofMinutes(3))).build();
        assertThat(sim.runUntil(s -> s.isConverged() && everyReplicaStreamsThroughItsSlot(s),
                Duration.ofMinutes(3))).as(sim.log()).isTrue();
        String old = sim.leader().orElseThrow();
        List<String> replicas = sim.nodes().stream().map(n -> n.name()).filter(n -> !n.equals(old)).toList();

        // when WAL is written, the status key follows the replicas' positions
        sim.write(5000);
        sim.runFor(Duration.ofSeconds(25));
        ClusterStatus status = sim.dcs().snapshot().status();
        long primaryWal = sim.node(old).postgres().walPosition().value();
        assertThat(status.optime()).isEqualTo(primaryWal);
        for (String r : replicas) {
            assertThat(status.slots()).containsEntry(r, sim.node(r).postgres().walPosition().value());
            assertThat(sim.node(r).postgres().walPosition().value()).isEqualTo(primaryWal);
        }
        assertThat(status.slots()).containsEntry(old, primaryWal);
        assertThat(status.retainSlots()).containsExactly("node1", "node2", "node3");

        // when one replica's host is gone for good, and then the leader's too
        String gone = replicas.get(1);
        String heir = replicas.get(0);
        sim.freeze(gone, true);
        sim.crashPostgres(gone);
        sim.runFor(Duration.ofSeconds(40)); // its member key expires
        assertThat(sim.dcs().snapshot().member(gone)).isEmpty();
        sim.freeze(old, true);
        sim.crashPostgres(old);

        // then the remaining replica leads and keeps slots for both absent members
        assertThat(sim.runUntil(s -> s.leader().equals(java.util.Optional.of(heir))
                && s.node(heir).postgres().isWritable() && s.node(heir).postgres().slots().size() == 2,
                Duration.ofMinutes(1))).as(sim.log()).isTrue();
        assertThat(sim.node(heir).postgres().slots()).containsExactlyInAnyOrder(old, gone);
        sim.runFor(Duration.ofSeconds(30));
        assertThat(sim.dcs().snapshot().status().retainSlots()).containsExactlyInAnyOrder(old, gone, heir);

        // and drops them member_slots_ttl after it took over
        sim.runFor(Duration.ofMinutes(3));
        assertThat(sim.node(heir).postgres().slots()).isEmpty();
        assertThat(sim.dcs().snapshot().status().retainSlots()).containsExactly(heir);
        assertThat(sim.world().violations()).isEmpty();
    }

    /** Cycles every 10 s for {@code duration} while only {@code member}'s agent keeps publishing. */
    private static void runWithPublishing(HaScenario ha, String member, Duration duration) {
        for (long s = 0; s < duration.toSeconds(); s += 10) {
            ha.dcs().putMember(Members.replica(member, ha.postgres().walPosition().value()), TTL);
            assertThat(ha.runCycleAfter(Duration.ofSeconds(10)).lockHeld()).isTrue();
        }
    }

    private static int writes(HaScenario ha) {
        return (int) ha.dcsCalls().stream().filter("writeStatus"::equals).count();
    }

    private static Set<String> otherSlots(SimulatedCluster sim, String leader) {
        return sim.nodes().stream().map(n -> n.name()).filter(n -> !n.equals(leader))
                .map(dev.pgha.cluster.SlotNames::fromMemberName).collect(java.util.stream.Collectors.toSet());
    }

    private static boolean everyReplicaStreamsThroughItsSlot(SimulatedCluster sim) {
        String leader = sim.leader().orElse(null);
        return leader != null && sim.nodes().stream().map(n -> n.name()).filter(n -> !n.equals(leader))
                .allMatch(n -> sim.world().streamingSlot(n).equals(
                        java.util.Optional.of(dev.pgha.cluster.SlotNames.fromMemberName(n))));
    }
}
