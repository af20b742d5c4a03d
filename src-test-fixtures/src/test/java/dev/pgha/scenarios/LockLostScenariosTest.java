package dev.pgha.scenarios;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeOperation.Kind;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The leader loses its key while a long action runs (Patroni's
 * {@code handle_long_action_in_progress()}, test_ha.py's test_lost_leader_lock_during_promote),
 * and "when in doubt, demote" after an unexpected failure while the lease has run out.
 *
 * <p>While PostgreSQL may accept writes (it runs as primary, or is being started or restarted as
 * one) losing the key stops it at once; during single-user crash recovery nothing accepts writes,
 * so recovery is let finish (the next cycle repairs the data directory instead of starting it
 * diverged) and only the role drops to demoted.
 */
class LockLostScenariosTest {

    private static final Duration TTL = Duration.ofSeconds(30);

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # action in progress when 'other' takes the key  | message                                                           | stops PostgreSQL | role afterwards
            single-user crash recovery                       | lost leader lock during doing crash recovery in a single user mode | false            | DEMOTED
            starting the primary again after a crash         | lost leader lock during starting primary after failure           | true             | PRIMARY
            a restart                                        | lost leader lock during restart                                  | true             | PRIMARY
            """)
    void theLockHolderLosesItsKeyDuringAnAction(String action, String message, boolean stops, PostgresRole role) {
        boolean crashRecovery = action.contains("crash recovery");
        // primary_start_timeout 0 and nobody to fail over to: the crashed lock holder recovers in place
        HaScenario ha = HaScenario.create(b -> crashRecovery ? b.usePgRewind(true).primaryStartTimeout(Duration.ZERO) : b,
                FakeTimings.DEFAULTS).runningPrimary();
        long wal = ha.postgres().walPosition().value();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).member(Members.primary(NAME, wal))
                .status(wal).build());
        ha.runCycles(2);
        switch (action) {
            case "single-user crash recovery" -> {
                ha.postgres().crash();
                ha.postgres().slowNext(Kind.CRASH_RECOVERY, Duration.ofMinutes(1));
                assertThat(ha.runCycle().message()).isEqualTo("doing crash recovery in a single user mode");
            }
            case "starting the primary again after a crash" -> {
                ha.postgres().crash();
                ha.postgres().slowStart(Duration.ofMinutes(1));
                assertThat(ha.runCycle().message()).isEqualTo("starting primary after failure");
            }
            case "a restart" -> {
                ha.postgres().slowNext(Kind.RESTART, Duration.ofMinutes(1));
                assertThat(ha.controller().restart().accepted()).isTrue();
                ha.runCycle();
            }
            default -> throw new IllegalArgumentException(action);
        }
        assertThat(ha.controller().status().actionInProgress()).isNotNull();
        int stopsBefore = ha.postgres().count(Kind.STOP);
        ha.events().clear();

        // when 'other' holds the key at the next cycle
        ha.dcs().putLeader("other", TTL);
        ha.given(Clusters.builder().member(Members.primary("other", wal + 0x100000)).build());
        CycleResult r = ha.runCycle();

        // then
        assertThat(r.action()).isEqualTo(CycleAction.DEMOTE);
        assertThat(r.message()).isEqualTo(message);
        assertThat(r.lockHeld()).isFalse();
        assertThat(ha.events().all()).contains("lock lost");
        assertThat(ha.postgres().count(Kind.STOP) - stopsBefore).as("immediate stops").isEqualTo(stops ? 1 : 0);
        if (stops) {
            assertThat(ha.postgres().lastOperation(Kind.STOP).orElseThrow().description())
                    .isEqualTo("stop(IMMEDIATE, checkpoint=false)");
            assertThat(ha.controller().status().actionInProgress()).isEqualTo("demote");
        } else {
            assertThat(ha.controller().status().actionInProgress())
                    .isEqualTo("doing crash recovery in a single user mode");
            assertThat(ha.events().all()).contains("role primary -> demoted");
        }
        assertThat(ha.controller().status().role()).isEqualTo(role);
        assertThat(ha.postgres().isWritable()).isFalse();
    }

    @Test
    void an_unexpected_failure_after_the_lease_ran_out_demotes_keeping_the_guard_armed() {
        // given the leader with the lock, whose host stalled past the lease deadline
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).build());
        ha.runCycle();
        assertThat(ha.guardDeadline()).isNotNull();
        ha.clock().advance(TTL.plusSeconds(1));
        ha.events().clear();
        // and its next cycle fails unexpectedly (a bug in the DCS adapter)
        ha.failNextDcsCall("readCluster", new IllegalStateException("bug in the DCS adapter"));

        // when that cycle runs
        CycleResult r = ha.runCycle();

        // then, a primary without a valid lease, it demotes at once
        assertThat(r.action()).isEqualTo(CycleAction.DEMOTE);
        assertThat(r.message())
                .isEqualTo("demoted self because of an unexpected error while running as primary without a valid lease");
        assertThat(ha.postgres().isWritable()).isFalse();
        assertThat(ha.postgres().lastOperation(Kind.STOP).orElseThrow().description())
                .isEqualTo("stop(IMMEDIATE, checkpoint=false)");
        // and it stopped counting the lock as held, but left the guard armed in case the stop stalls
        assertThat(ha.events().all()).containsExactly("lock lost", "state running -> stopped");
        assertThat(ha.guardDeadline()).isNotNull();
    }

    @Test
    void an_unexpected_failure_within_the_lease_changes_nothing() {
        // given the leader with the lock, its lease valid
        HaScenario ha = HaScenario.create().runningPrimary();
        ha.given(Clusters.builder().initialize(ha.systemId()).leader(NAME).build());
        ha.runCycle();
        ha.failNextDcsCall("readCluster", new IllegalStateException("bug in the DCS adapter"));

        // when a cycle fails unexpectedly
        CycleResult r = ha.runCycle();

        // then it reports Patroni's "please report it as a BUG" and keeps leading
        assertThat(r.action()).isEqualTo(CycleAction.FAILED);
        assertThat(r.message()).isEqualTo("Unexpected exception raised, please report it as a BUG");
        assertThat(ha.postgres().isWritable()).isTrue();
        assertThat(ha.postgres().count(Kind.STOP)).isZero();
        assertThat(ha.runCycle().message()).isEqualTo("no action. I am (postgresql0), the leader with the lock");
    }
}
