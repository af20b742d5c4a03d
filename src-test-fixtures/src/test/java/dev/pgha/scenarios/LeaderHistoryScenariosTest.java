package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.cluster.TimelineHistory;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The leader keeps the {@code history} key (Patroni's {@code update_cluster_history()},
 * test_ha.py's test_update_cluster_history): its own timeline switches, the last one named with
 * the member promoted and when; entries the key already holds for the same switch are kept as
 * they are, another switch for the same timeline is replaced by the leader's own, and nothing is
 * written when nothing changed. It does so also while PostgreSQL is down, so a timeline it
 * created is known before anyone else races.
 */
class LeaderHistoryScenariosTest {

    private static final String LEADER_WITH_LOCK = "no action. I am (postgresql0), the leader with the lock";

    /** postgresql0, a replica of 'leader', won the race and promoted to timeline 2. */
    private static HaScenario promotedToTimeline2() {
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).member(Members.replica("other", 0)).build());
        assertThat(ha.runCycle().message()).isEqualTo("promoted self to leader by acquiring session lock");
        return ha;
    }

    private static TimelineHistory.Entry localSwitch(HaScenario ha) {
        List<TimelineHistory.Entry> local = ha.postgres().timelineHistory();
        assertThat(local).hasSize(1);
        return local.get(0);
    }

    @Test
    void the_new_leader_writes_its_switch_with_its_name_and_the_time() {
        HaScenario ha = promotedToTimeline2();

        // when it runs as the leader on timeline 2
        assertThat(ha.runCycle().message()).isEqualTo(LEADER_WITH_LOCK);

        // then the history key holds its switch from timeline 1, named
        TimelineHistory.Entry local = localSwitch(ha);
        assertThat(ha.dcs().snapshot().history().entries()).containsExactly(new TimelineHistory.Entry(1,
                local.switchLsn(), local.reason(), TimelineHistory.formatTimestamp(ha.clock().wallTime()), NAME));
        assertThat(ha.dcs().snapshot().timeline()).isEqualTo(2);

        // and the next cycles write nothing more
        long writes = count(ha.dcsCalls(), "writeHistory");
        ha.runCycles(2);
        assertThat(count(ha.dcsCalls(), "writeHistory")).isEqualTo(writes).isEqualTo(1L);
    }

    @Test
    void an_entry_for_the_same_switch_is_kept_as_the_key_has_it() {
        HaScenario ha = promotedToTimeline2();
        TimelineHistory.Entry local = localSwitch(ha);
        TimelineHistory.Entry known = new TimelineHistory.Entry(1, local.switchLsn(), "no recovery target specified",
                "2026-01-01T00:00:00Z", "foo");
        ha.dcs().putHistory(new TimelineHistory(List.of(known)));

        ha.runCycles(2);

        assertThat(ha.dcs().snapshot().history().entries()).containsExactly(known);
        assertThat(ha.dcsCalls()).doesNotContain("writeHistory");
    }

    @Test
    void another_switch_for_the_same_timeline_is_replaced_by_the_leaders_own() {
        HaScenario ha = promotedToTimeline2();
        TimelineHistory.Entry local = localSwitch(ha);
        ha.dcs().putHistory(new TimelineHistory(List.of(new TimelineHistory.Entry(1, local.switchLsn() + 8,
                "no recovery target specified", "2026-01-01T00:00:00Z", "foo"))));

        ha.runCycle();

        assertThat(ha.dcs().snapshot().history().entries()).containsExactly(new TimelineHistory.Entry(1,
                local.switchLsn(), local.reason(), TimelineHistory.formatTimestamp(ha.clock().wallTime()), NAME));
    }

    @Test
    void a_leader_on_timeline_1_writes_no_history() {
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).build());

        ha.runCycles(2);

        assertThat(ha.dcsCalls()).doesNotContain("writeHistory");
        assertThat(ha.dcs().snapshot().history().entries()).isEmpty();
    }

    @Test
    void a_leader_on_timeline_1_leaves_a_history_key_it_has_no_switches_for() {
        // given the leader on timeline 1 and a history key that names a switch (another fork's)
        HaScenario ha = HaScenario.create().runningPrimary();
        TimelineHistory foreign = new TimelineHistory(List.of(new TimelineHistory.Entry(1, 0x3000000,
                "no recovery target specified", "2026-01-01T00:00:00Z", "foo")));
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).history(foreign).build());

        ha.runCycles(2);

        // then it neither rewrites nor empties it: it has no lineage of its own to put there
        assertThat(ha.dcsCalls()).doesNotContain("writeHistory");
        assertThat(ha.dcs().snapshot().history()).isEqualTo(foreign);
    }

    @Test
    void the_lock_holder_writes_its_history_while_postgresql_is_down() {
        // given the leader on timeline 2 whose history key got lost, and whose PostgreSQL crashed
        HaScenario ha = promotedToTimeline2();
        assertThat(ha.runCycle().message()).isEqualTo(LEADER_WITH_LOCK);
        ha.dcs().putHistory(TimelineHistory.EMPTY);
        ha.postgres().crash();

        // when the next cycle finds it down
        assertThat(ha.runCycle().message()).isEqualTo("starting primary after failure");

        // then the history key says who created timeline 2 before anyone else could race
        TimelineHistory.Entry local = localSwitch(ha);
        assertThat(ha.dcs().snapshot().history().entries()).singleElement()
                .satisfies(e -> {
                    assertThat(e.timeline()).isEqualTo(1);
                    assertThat(e.switchLsn()).isEqualTo(local.switchLsn());
                    assertThat(e.newLeader()).isEqualTo(NAME);
                });
    }

    private static long count(List<String> calls, String name) {
        return calls.stream().filter(name::equals).count();
    }
}
