package dev.pgha.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.cluster.Member;
import dev.pgha.postgres.ReplicationState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Synchronous commit in the fake: acknowledged only once the standbys synchronous_standby_names requires have it. */
class FakeCommitsTest {

    private final Sim sim = new Sim();

    @AfterEach
    void noViolations() {
        assertThat(sim.world.violations()).isEmpty();
    }

    private FakePostgres standbyOf(FakePostgres p, String name) {
        FakePostgres r = sim.world.add(name);
        sim.finish(r.cloneFrom(Member.named(p.name())));
        sim.finish(r.follow(Member.named(p.name())));
        sim.world.tick();
        return r;
    }

    @Test
    void withoutSynchronousStandbyNamesACommitIsAcknowledgedAtOnce() {
        FakePostgres p = sim.primary("p");
        standbyOf(p, "a");
        assertThat(sim.world.commit("p", 100)).isTrue();
        assertThat(sim.world.acknowledgedCommits()).hasSize(1);
        assertThat(sim.world.holds("a", sim.world.acknowledgedCommits().get(0))).isFalse(); // async: not there yet
    }

    @Test
    void firstOneWaitsForTheSyncStandbyAndSyncStateFollowsTheList() {
        FakePostgres p = sim.primary("p");
        standbyOf(p, "a");
        standbyOf(p, "b");
        p.synchronousStandbyNames("FIRST 1 (b,a)");
        assertThat(p.replicationState().standbys()).extracting(ReplicationState.Standby::applicationName,
                ReplicationState.Standby::syncState).containsExactlyInAnyOrder(
                org.assertj.core.groups.Tuple.tuple("a", "potential"), org.assertj.core.groups.Tuple.tuple("b", "sync"));

        sim.world.commit("p", 100);
        assertThat(sim.world.acknowledgedCommits()).isEmpty();
        sim.world.tick();
        assertThat(sim.world.acknowledgedCommits()).singleElement()
                .satisfies(c -> assertThat(sim.world.holds("b", c)).isTrue());
    }

    @Test
    void anyOneCountsEveryListedStandbyAndNoneLeftWaitsUntilTheNamesAreCleared() {
        FakePostgres p = sim.primary("p");
        FakePostgres a = standbyOf(p, "a");
        p.synchronousStandbyNames("ANY 1 (a)");
        assertThat(p.replicationState().standbys()).singleElement()
                .satisfies(s -> assertThat(s.syncState()).isEqualTo("quorum"));
        a.crash();
        sim.world.commit("p", 100);
        sim.world.tick();
        assertThat(sim.world.acknowledgedCommits()).as("nobody to confirm: the commit waits").isEmpty();
        p.synchronousStandbyNames("");
        assertThat(sim.world.acknowledgedCommits()).as("cleared names release it, asynchronous").hasSize(1);
    }

    @Test
    void thePlaceholderWaitsForeverAndACrashedPrimaryNeverAcknowledges() {
        FakePostgres p = sim.primary("p");
        standbyOf(p, "a");
        p.synchronousStandbyNames("FIRST 1 (__patroni_strict_sync_replica_placeholder__)");
        sim.world.commit("p", 100);
        sim.world.tick();
        assertThat(sim.world.acknowledgedCommits()).isEmpty();
        p.crash();
        p.synchronousStandbyNames("");
        sim.world.tick();
        assertThat(sim.world.acknowledgedCommits()).as("its client got an error").isEmpty();
    }

    @Test
    void anAcknowledgedCommitIsOnTheSynchronousStandbyAfterItIsPromoted() {
        FakePostgres p = sim.primary("p");
        FakePostgres a = standbyOf(p, "a");
        p.synchronousStandbyNames("FIRST 1 (a)");
        sim.world.commit("p", 100);
        sim.world.tick();
        FakeCommits.Commit acked = sim.world.acknowledgedCommits().get(0);
        p.crash();
        sim.finish(a.promote());
        assertThat(sim.world.holds("a", acked)).isTrue();
    }
}
