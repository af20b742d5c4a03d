package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.HaConfig;
import dev.pgha.HaController;
import dev.pgha.HaListener;
import dev.pgha.HaStatus;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import dev.pgha.dcs.inmemory.Fault;
import dev.pgha.dcs.inmemory.InMemoryDcs;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresState;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.FakeWorld;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.ManualClock;
import dev.pgha.testing.Members;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * What the host hears and sees: the {@link HaListener} events of a node's life (lock acquired
 * and lost, role and PostgreSQL state changes, Patroni's callbacks) in the order they happen,
 * {@code status()}, and when the node asks to be called again ({@code nextCycleIn}). Patroni's
 * callbacks are covered by test_ha.py's test_post_recover and test_promoted_by_acquiring_lock;
 * the typed events and the cycle spacing are pgha's own.
 */
class ListenerAndStatusScenariosTest {

    private static final String LEADER_WITH_LOCK = "no action. I am (postgresql0), the leader with the lock";
    private static final Duration TTL = Duration.ofSeconds(30);

    /** Every cycle's events, then forgets them. */
    private static List<String> eventsOf(HaScenario ha, CycleResult r) {
        List<String> events = ha.events().all();
        ha.events().clear();
        return events;
    }

    @Test
    void a_replica_that_wins_the_race_hears_the_lock_and_its_new_role() {
        // given the healthiest replica of an unlocked cluster
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).member(Members.replica("other", 0)).build());

        // when it wins the race, the lock comes first, then the role and Patroni's on_role_change
        assertThat(eventsOf(ha, ha.runCycle()))
                .containsExactly("lock acquired", "role replica -> promoted", "callback on_role_change primary");
        // and once the promotion finished, the role is primary; nothing else happens while it leads
        assertThat(eventsOf(ha, ha.runCycle())).containsExactly("role promoted -> primary");
        assertThat(eventsOf(ha, ha.runCycle())).isEmpty();
    }

    @Test
    void a_leader_whose_lock_another_member_took_hears_it_lost_and_comes_back_as_replica() {
        // given the leader with the lock
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).build());
        assertThat(ha.runCycle().message()).isEqualTo(LEADER_WITH_LOCK);
        ha.events().clear();
        // and 'other' holds the leader key now (this node's lease ran out unnoticed)
        ha.dcs().putLeader("other", TTL);
        ha.given(Clusters.builder().member(Members.primary("other", ha.postgres().walPosition().value() + 100)).build());

        // when it runs cycles: it hears the loss at once and stops immediately
        CycleResult demote = ha.runCycle();
        assertThat(demote.message()).isEqualTo("demoting self because I do not have the lock and I was a leader");
        assertThat(eventsOf(ha, demote)).containsExactly("lock lost", "state running -> stopped");
        assertThat(ha.postgres().lastOperation(dev.pgha.testing.FakeOperation.Kind.STOP).orElseThrow().description())
                .isEqualTo("stop(IMMEDIATE, checkpoint=false)");
        // then the stop's completion demotes the role (on_stop fires with it) and starts it as a replica
        assertThat(eventsOf(ha, ha.runCycle()))
                .containsExactly("role primary -> demoted", "callback on_stop demoted", "state stopped -> running");
        // and once it follows, the role is replica and on_role_change says so
        assertThat(eventsOf(ha, ha.runCycle())).containsExactly("role demoted -> replica",
                "callback on_role_change replica");
        assertThat(ha.postgres().upstream()).isEqualTo("other");
    }

    @Test
    void a_crashed_replica_restarted_in_place_hears_the_crash_and_on_start() {
        // given a replica following the leader
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", ha.peer("leader").walPosition().value())).build());
        ha.runCycles(2);
        ha.events().clear();
        // and its postmaster dies
        ha.postgres().crash();

        // when the next cycle restarts it, the listener hears the crash and the start
        CycleResult r = ha.runCycle();
        assertThat(r.message()).isEqualTo("starting as a secondary");
        assertThat(eventsOf(ha, r)).containsExactly("state running -> crashed", "state crashed -> running");
        // and on_start once the start completed (its role did not change: no on_role_change)
        assertThat(eventsOf(ha, ha.runCycle())).containsExactly("callback on_start replica");
    }

    @Test
    void a_leader_cut_off_from_the_dcs_hears_the_lock_lost_before_it_stops() {
        // given the leader with the lock
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).build());
        ha.runCycle();
        ha.events().clear();
        ha.dcs().fault(NAME, Fault.UNAVAILABLE);

        // when the DCS is unreachable: the lock counts as lost at once
        assertThat(eventsOf(ha, ha.runCycle())).containsExactly("lock lost");
        // then the stop completes: demoted, on_stop; it is not started again
        assertThat(eventsOf(ha, ha.runCycleAfter(Duration.ofSeconds(10))))
                .containsExactly("role primary -> demoted", "callback on_stop demoted", "state running -> stopped");
        assertThat(eventsOf(ha, ha.runCycleAfter(Duration.ofSeconds(10)))).isEmpty();
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();
    }

    // ------------------------------------------------------------------ a listener of its own

    /** Every call with its raw arguments, nulls included. */
    private static final class RawListener implements HaListener {
        final List<String> calls = new ArrayList<>();
        boolean fail;

        @Override
        public void roleChanged(String member, PostgresRole from, PostgresRole to) {
            calls.add(member + " role " + from + " -> " + to);
            failIfAsked();
        }

        @Override
        public void lockAcquired(String member) {
            calls.add(member + " lock acquired");
            failIfAsked();
        }

        @Override
        public void lockLost(String member) {
            calls.add(member + " lock lost");
            failIfAsked();
        }

        @Override
        public void postgresStateChanged(String member, PostgresState from, PostgresState to) {
            calls.add(member + " state " + from + " -> " + to);
            failIfAsked();
        }

        @Override
        public void callback(String member, Callback callback, PostgresRole role) {
            calls.add(member + " callback " + callback + " " + role);
            failIfAsked();
        }

        private void failIfAsked() {
            if (fail) {
                throw new IllegalStateException("a listener bug");
            }
        }
    }

    /** A controller for 'node1', a replica of 'leader' in an unlocked cluster, with {@code listener}. */
    private static HaController replicaWithListener(ManualClock clock, InMemoryDcs dcs, HaListener listener) {
        FakeWorld world = new FakeWorld(clock);
        FakePostgres leader = world.add("leader", FakeTimings.INSTANT);
        FakePostgres node = world.add("node1", FakeTimings.INSTANT);
        finish(clock, leader.bootstrap());
        finish(clock, node.cloneFrom(Member.named("leader")));
        finish(clock, node.follow(Member.named("leader")));
        world.tick();
        dcs.putInitialize(node.systemIdentifier());
        HaConfig config = HaConfig.builder().scope("test").name("node1").tags(MemberTags.DEFAULT).build();
        return HaController.builder().config(config).dcs(dcs.client("node1")).postgres(node).clock(clock)
                .listener(listener).build();
    }

    private static void finish(ManualClock clock, dev.pgha.postgres.PostgresOperation op) {
        while (op.poll() == dev.pgha.postgres.PostgresOperation.Outcome.RUNNING) {
            clock.advanceSeconds(1);
        }
    }

    @Test
    void the_first_observation_is_no_change_the_listener_only_hears_real_ones() {
        // given a replica's controller, fresh
        ManualClock clock = new ManualClock();
        InMemoryDcs dcs = InMemoryDcs.builder().clock(clock).waiter(clock::advance).build();
        RawListener listener = new RawListener();
        HaController controller = replicaWithListener(clock, dcs, listener);

        // when its first cycle finds PostgreSQL running as a replica and wins the race
        controller.runCycle();

        // then it hears no state change and no role change from "nothing" (only real changes)
        assertThat(listener.calls).containsExactly("node1 lock acquired", "node1 role REPLICA -> PROMOTED",
                "node1 callback ON_ROLE_CHANGE PROMOTED");
    }

    @Test
    void a_listener_that_throws_changes_nothing() {
        // given two identical replicas, one with a listener that throws on every event
        ManualClock clock = new ManualClock();
        InMemoryDcs quietDcs = InMemoryDcs.builder().clock(clock).waiter(clock::advance).build();
        InMemoryDcs noisyDcs = InMemoryDcs.builder().clock(clock).waiter(clock::advance).build();
        RawListener quiet = new RawListener();
        RawListener noisy = new RawListener();
        noisy.fail = true;
        HaController a = replicaWithListener(clock, quietDcs, quiet);
        HaController b = replicaWithListener(clock, noisyDcs, noisy);

        // when both run the same cycles
        for (int i = 0; i < 3; i++) {
            CycleResult ra = a.runCycle();
            CycleResult rb = b.runCycle();
            // then both decide the same: every event was delivered and the exception ignored
            assertThat(rb.action()).isEqualTo(ra.action());
            assertThat(rb.message()).isEqualTo(ra.message());
        }
        assertThat(noisy.calls).isEqualTo(quiet.calls).isNotEmpty();
        assertThat(b.status().role()).isEqualTo(PostgresRole.PRIMARY);
    }

    // ------------------------------------------------------------------ status() and nextCycleIn

    @Test
    void status_before_the_first_cycle_knows_nothing_yet() {
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");

        HaStatus s = ha.controller().status();

        assertThat(s.member()).isEqualTo(NAME);
        assertThat(s.role()).isEqualTo(PostgresRole.UNINITIALIZED);
        assertThat(s.postgresState()).isNull();
        assertThat(s.lockHeld()).isFalse();
        assertThat(s.leaseDeadline()).isNull();
        assertThat(s.leader()).isNull();
        assertThat(s.actionInProgress()).isNull();
        assertThat(s.lastResult()).isNull();
    }

    @Test
    void status_of_a_promoting_leader_names_its_lease_and_action() {
        // given the healthiest replica of an unlocked cluster, whose promotion takes 5 s
        HaScenario ha = HaScenario.create(b -> b, FakeTimings.DEFAULTS.withPromote(Duration.ofSeconds(5)))
                .runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).build());
        Instant start = ha.clock().wallTime();

        // when it wins the race
        CycleResult r = ha.runCycle();

        // then status() says: promoting, holding the lease for ttl
        HaStatus s = ha.controller().status();
        assertThat(s.role()).isEqualTo(PostgresRole.PROMOTED);
        assertThat(s.postgresState()).isEqualTo(PostgresState.RUNNING);
        assertThat(s.lockHeld()).isTrue();
        assertThat(s.leaseDeadline()).isEqualTo(start.plus(TTL));
        assertThat(r.leaseDeadline()).isEqualTo(start.plus(TTL));
        assertThat(r.role()).isEqualTo(PostgresRole.PROMOTED);
        assertThat(s.actionInProgress()).isEqualTo("promote");
        assertThat(s.lastResult()).isEqualTo(r);
        // and while the promotion runs it asks to be called again within a second, not after loop_wait
        assertThat(r.nextCycleIn()).isEqualTo(Duration.ofSeconds(1));

        // and once it is primary: leader named, no action, next cycle after loop_wait
        CycleResult done = ha.runCycleAfter(Duration.ofSeconds(5));
        assertThat(done.message()).isEqualTo(LEADER_WITH_LOCK);
        assertThat(done.nextCycleIn()).isEqualTo(Duration.ofSeconds(10));
        HaStatus after = ha.controller().status();
        assertThat(after.role()).isEqualTo(PostgresRole.PRIMARY);
        assertThat(after.leader()).isEqualTo(NAME);
        assertThat(after.actionInProgress()).isNull();
    }

    @Test
    void with_a_loop_wait_under_a_second_an_action_is_polled_every_loop_wait() {
        // given loop_wait 0.5 s and a promotion that takes 5 s
        HaScenario ha = HaScenario.create(b -> b.ttl(Duration.ofSeconds(3)).loopWait(Duration.ofMillis(500))
                .retryTimeout(Duration.ofSeconds(1)), FakeTimings.DEFAULTS.withPromote(Duration.ofSeconds(5)))
                .runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).build());

        // when it wins the race and promotes, then it asks again after loop_wait, the shorter one
        assertThat(ha.runCycle().nextCycleIn()).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void a_cycle_that_took_longer_than_loop_wait_asks_for_the_next_at_once() {
        // given the leader with the lock, whose member-key write takes 15 s (loop_wait is 10 s)
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).build());
        ha.runCycle();
        ha.beforeNextDcsCall("touchMember", () -> ha.clock().advanceSeconds(15));

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then "Loop time exceeded, rescheduling immediately"
        assertThat(r.message()).isEqualTo(LEADER_WITH_LOCK);
        assertThat(r.nextCycleIn()).isEqualTo(Duration.ZERO);
    }

    @Test
    void a_cycle_that_took_part_of_loop_wait_asks_for_the_rest() {
        // given the leader with the lock, whose member-key write takes 4 s
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).build());
        ha.runCycle();
        ha.beforeNextDcsCall("touchMember", () -> ha.clock().advanceSeconds(4));

        // when a cycle runs, then the next one is due loop_wait after this one began
        assertThat(ha.runCycle().nextCycleIn()).isEqualTo(Duration.ofSeconds(6));
    }
}
