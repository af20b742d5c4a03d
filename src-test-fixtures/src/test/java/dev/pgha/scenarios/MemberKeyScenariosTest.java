package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.cluster.Member;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.PostgresStatus;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.util.function.Function;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What a node publishes about itself in {@code members/<name>} after a cycle (Patroni's
 * {@code touch_member()}, test_ha.py's test_touch_member): its state and role, its WAL positions
 * while PostgreSQL accepts connections (and the replica's receive/replay positions and
 * replication state), its timeline when known, its tags, and {@code watchdog_failed} when its
 * fencing guard cannot be activated. The other members read exactly this in the leader race.
 *
 * <p>Cells: {@code wal}, {@code receive}, {@code replay} stand for the values PostgreSQL reports
 * in that situation, {@code -} for absent.
 */
class MemberKeyScenariosTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # situation                                    | state    | role          | xlog | receive | replay | replication state   | timeline | watchdog_failed
            the leader, running as primary                 | running  | primary       | wal  | -       | -      | -                   | 1        | false
            a replica streaming from the leader            | running  | replica       | wal  | receive | replay | streaming           | 1        | false
            a replica whose leader is gone                 | running  | replica       | wal  | receive | replay | in archive recovery | 1        | false
            a replica whose restart failed                 | start failed | replica   | -    | -       | -      | -                   | -        | false
            a new member without data, waiting for a leader | stopped | uninitialized | -    | -       | -      | -                   | -        | false
            a replica whose fencing guard cannot work      | running  | replica       | wal  | receive | replay | streaming           | 1        | true
            a first cycle that failed before any decision  | running  | uninitialized | wal  | receive | replay | streaming           | 1        | false
            """)
    void publishes(String situation, String state, String role, String xlog, String receive, String replay,
                   String replicationState, String timeline, boolean watchdogFailed) {
        HaScenario ha = arrange(situation);

        Member m = ha.dcsClient().readCluster().member(NAME).orElseThrow();

        // what PostgreSQL reported when the key was written (the cycle is over, nothing moved since)
        PostgresStatus pg = ha.postgres().status();
        Function<String, Long> value = cell -> switch (cell) {
            case "-" -> null;
            case "wal" -> pg.walPosition().value();
            case "receive" -> lsn(pg.receiveLsn());
            case "replay" -> lsn(pg.replayLsn());
            default -> throw new IllegalArgumentException(cell);
        };
        assertThat(m.state()).as("state").isEqualTo(state);
        assertThat(m.role()).as("role").isEqualTo(role);
        assertThat(m.xlogLocation()).as("xlog_location").isEqualTo(value.apply(xlog));
        assertThat(m.receiveLsn()).as("receive_lsn").isEqualTo(value.apply(receive));
        assertThat(m.replayLsn()).as("replay_lsn").isEqualTo(value.apply(replay));
        assertThat(m.replicationState()).as("replication_state").isEqualTo(dash(replicationState));
        assertThat(m.timeline()).as("timeline").isEqualTo(dash(timeline) == null ? null : Long.valueOf(timeline));
        assertThat(m.watchdogFailed()).as("watchdog_failed").isEqualTo(watchdogFailed);
        assertThat(m.tags()).isEqualTo(ha.config().tags());
        assertThat(m.connUrl()).isEqualTo(ha.postgres().connectionUrl());
        assertThat(m.version()).startsWith("pgha-");
        if (xlog.equals("wal")) {
            assertThat(m.xlogLocation()).as("a real position").isPositive();
        }
    }

    private static HaScenario arrange(String situation) {
        switch (situation) {
            case "the leader, running as primary" -> {
                HaScenario ha = HaScenario.create().runningPrimary();
                ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).build());
                ha.runCycle();
                return ha;
            }
            case "a replica streaming from the leader", "a replica whose fencing guard cannot work" -> {
                HaScenario ha = HaScenario.create().runningReplicaOf("leader");
                if (situation.contains("guard")) {
                    ha.guardCapability(() -> false);
                }
                ha.given(leaderKeys(ha));
                ha.runCycles(2);
                return ha;
            }
            case "a replica whose leader is gone" -> {
                HaScenario ha = HaScenario.create().runningReplicaOf("leader");
                ha.given(leaderKeys(ha));
                ha.runCycles(2);
                ha.peer("leader").crash();
                ha.runCycle();
                return ha;
            }
            case "a replica whose restart failed" -> {
                HaScenario ha = HaScenario.create().runningReplicaOf("leader");
                ha.given(leaderKeys(ha));
                ha.runCycles(2);
                ha.postgres().crash();
                ha.postgres().failNext(dev.pgha.testing.FakeOperation.Kind.FOLLOW); // a replica starts through follow()
                ha.runCycle(); // "starting as a secondary"
                ha.runCycle(); // the start failed
                return ha;
            }
            case "a new member without data, waiting for a leader" -> {
                HaScenario ha = HaScenario.create();
                ha.given(Clusters.builder().initialize(Clusters.SYSTEM_ID).build());
                ha.runCycle();
                return ha;
            }
            case "a first cycle that failed before any decision" -> {
                HaScenario ha = HaScenario.create().runningReplicaOf("leader");
                ha.given(leaderKeys(ha));
                ha.failNextDcsCall("readCluster", new IllegalStateException("bug in the DCS adapter"));
                ha.runCycle();
                return ha;
            }
            default -> throw new IllegalArgumentException(situation);
        }
    }

    private static dev.pgha.cluster.ClusterView leaderKeys(HaScenario ha) {
        return Clusters.builder().initialize(ha.systemId()).leader("leader")
                .member(Members.primary("leader", ha.peer("leader").walPosition().value())).build();
    }

    private static Long lsn(Lsn lsn) {
        return lsn == null ? null : lsn.value();
    }

    private static String dash(String cell) {
        return cell.equals("-") ? null : cell;
    }
}
