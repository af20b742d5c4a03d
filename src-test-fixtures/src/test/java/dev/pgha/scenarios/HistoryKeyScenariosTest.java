package dev.pgha.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The {@code history} key the lock holder writes after a promotion (Patroni's
 * {@code update_cluster_history}): one entry per timeline switch, with the promotion's time in
 * Patroni's format ({@code 2023-05-04T10:11:12.123456+00:00}) and the new leader.
 */
class HistoryKeyScenariosTest {

    private static HaScenario promotedReplica() {
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).member(Members.replica("other", 0)).build());
        assertThat(ha.runCycle().action()).isEqualTo(CycleAction.PROMOTE);
        return ha;
    }

    @Test
    void theNewLeaderWritesThePromotionsTimeAsPatroniDoes() {
        HaScenario ha = promotedReplica();
        ha.clock().setWallTime(Instant.parse("2026-11-21T13:20:37.104383917Z"));

        ha.runCycle();

        List<TimelineHistory.Entry> entries = ha.dcs().snapshot().history().entries();
        assertThat(entries).hasSize(1);
        assertThat(entries.get(0).timeline()).isEqualTo(1);
        assertThat(entries.get(0).newLeader()).isEqualTo(HaScenario.NAME);
        assertThat(entries.get(0).timestamp()).as("Python's isoformat(): microseconds and +00:00, no Z")
                .isEqualTo("2026-11-21T13:20:37.104383+00:00");
    }

    @Test
    void onAWholeSecondTheFractionIsLeftOutAsPythonDoes() {
        HaScenario ha = promotedReplica();
        ha.clock().setWallTime(Instant.parse("2026-11-21T13:20:37Z"));

        ha.runCycle();

        assertThat(ha.dcs().snapshot().history().entries()).singleElement()
                .extracting(TimelineHistory.Entry::timestamp).isEqualTo("2026-11-21T13:20:37+00:00");
    }

    @Test
    void aSwitchAlreadyInTheKeyKeepsItsTimestampInEitherForm() {
        // given a new leader on timeline 2 whose history key holds its switch as earlier pgha
        // builds wrote it: nanoseconds and a Z
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).member(Members.replica("other", 0)).build());
        ha.runCycle();
        ha.runCycle();
        TimelineHistory.Entry mine = ha.dcs().snapshot().history().entries().get(0);
        TimelineHistory stored = new TimelineHistory(List.of(new TimelineHistory.Entry(mine.timeline(),
                mine.switchLsn(), mine.reason(), "2026-11-21T13:20:37.104383917Z", "node9")));
        ha.dcs().putHistory(stored);
        ha.clock().advanceSeconds(10);

        // when the leader runs its cycles
        ha.runCycle();
        ha.runCycle();

        // then it reads the Z form as a valid timestamp and keeps the entry as stored
        TimelineHistory now = ha.dcs().snapshot().history();
        assertThat(now).isEqualTo(stored);
        assertThat(now.entries().get(0).time().orElseThrow().toInstant())
                .isEqualTo(Instant.parse("2026-11-21T13:20:37.104383917Z"));
        assertThat(now.clusterTimeline()).isEqualTo(2);
    }
}
