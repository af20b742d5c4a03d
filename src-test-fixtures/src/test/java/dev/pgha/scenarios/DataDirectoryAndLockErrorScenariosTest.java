package dev.pgha.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.StopMode;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.FakeOperation;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Ports test_ha.py's test_leader_with_not_accessible_data_directory (#110) and the
 * unexpected-exception half of test_acquire_lock (#119): a lock holder whose data directory
 * becomes unreadable stops PostgreSQL before it hands the key over, and a bug in the DCS adapter
 * counts as "lock not obtained".
 */
class DataDirectoryAndLockErrorScenariosTest {

    private static final Duration TTL = Duration.ofSeconds(30);

    @Test
    void test_leader_with_not_accessible_data_directory() {
        // given the running primary with the lock
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(HaScenario.NAME).build());
        assertThat(ha.runCycle().message()).isEqualTo("no action. I am (postgresql0), the leader with the lock");
        // and its data directory becomes unreadable
        ha.postgres().setDataDirectory(DataDirectoryState.INACCESSIBLE, "[Errno 5] Input/output error: '/data'");

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then it releases the key and stops PostgreSQL (immediate)
        assertThat(r.action()).isEqualTo(CycleAction.RELEASE_LOCK);
        assertThat(r.message())
                .isEqualTo("released leader key voluntarily as data dir not accessible and currently leader");
        assertThat(r.role()).isEqualTo(PostgresRole.UNINITIALIZED);
        assertThat(r.lockHeld()).isFalse();
        assertThat(ha.dcs().leaderName()).isEmpty();

        // and the next cycle reports the error
        CycleResult next = ha.runCycle();
        assertThat(next.action()).isEqualTo(CycleAction.FAILED);
        assertThat(next.message()).isEqualTo("data directory is not accessible: [Errno 5] Input/output error: '/data'");
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # situation                                     | data directory | lock held | postmaster | message                                                                       | key afterwards
            the lock holder's data directory is gone, stopped | EMPTY        | true      | false      | released leader key voluntarily as data dir empty and currently leader        | -
            the lock holder's data directory is gone, running | EMPTY        | true      | true       | released leader key voluntarily as data dir empty and currently leader        | -
            a replica's data directory is gone, running      | EMPTY          | false     | true       | stopping PostgreSQL: data dir empty                                           | leader
            a replica's data directory is unreadable, running | INACCESSIBLE  | false     | true       | stopping PostgreSQL: data dir not accessible                                  | leader
            a replica's data directory is unreadable, stopped | INACCESSIBLE  | false     | false      | data directory is not accessible: [Errno 5] Input/output error: '/data'      | leader
            """)
    void test_data_directory_lost(String situation, DataDirectoryState state, boolean lockHeld, boolean postmaster,
                                  String message, String keyAfterwards) {
        // given the leader with the lock, or a replica of 'leader'
        HaScenario ha;
        if (lockHeld) {
            ha = HaScenario.create().runningPrimary();
            ha.given(Clusters.builder().initialize(ha.systemId()).leader(HaScenario.NAME).build());
        } else {
            ha = HaScenario.create().runningReplicaOf("leader");
            ha.given(Clusters.builder().initialize(ha.systemId()).leader("leader")
                    .member(Members.primary("leader", ha.peer("leader").walPosition().value())).build());
        }
        ha.runCycles(2);
        if (!postmaster) {
            ha.finish(ha.postgres().stop(StopMode.FAST, false));
        }
        // and its data directory is lost
        ha.postgres().setDataDirectory(state, "[Errno 5] Input/output error: '/data'");

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then a running postmaster is stopped (immediately) before anything else, and the key given up
        assertThat(r.message()).isEqualTo(message);
        assertThat(r.role()).isEqualTo(PostgresRole.UNINITIALIZED);
        assertThat(r.lockHeld()).isFalse();
        assertThat(ha.dcs().leaderName().orElse("-")).isEqualTo(keyAfterwards);
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();
        if (postmaster) {
            assertThat(ha.postgres().lastOperation(FakeOperation.Kind.STOP).orElseThrow().description())
                    .isEqualTo("stop(IMMEDIATE, checkpoint=false)");
        }
    }

    @Test
    void test_acquire_lock_unexpected_exception() {
        // given the healthiest replica of an unlocked cluster, whose DCS client fails with a bug (not a DCS error)
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).build());
        ha.failNextDcsCall("acquireLeader", new IllegalStateException("bug in the DCS adapter"));

        // when a cycle runs
        CycleResult r = ha.runCycle();

        // then the attempt counts as lost (Patroni: "Unexpected exception raised in acquire_lock. Please
        // report it as a BUG" is logged and acquire_lock returns False)
        assertThat(r.action()).isEqualTo(CycleAction.FOLLOW);
        assertThat(r.message()).isEqualTo("following new leader after trying and failing to obtain lock");
        assertThat(r.lockHeld()).isFalse();
        assertThat(ha.postgres().promoteCount()).isZero();
    }
}
