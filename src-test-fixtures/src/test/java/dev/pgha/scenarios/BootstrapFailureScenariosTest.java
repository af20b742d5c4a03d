package dev.pgha.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeOperation.Kind;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.Members;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A bootstrap or clone that goes wrong, as a table (test_ha.py: test_bootstrap_release_initialize_key_on_failure,
 * test_bootstrap_release_initialize_key_on_watchdog_failure, test_bootstrap_from_another_member's failure):
 * Patroni's {@code cancel_initialization()} gives the {@code initialize} key back, releases the
 * leader key, stops and wipes what initdb made; a failed clone wipes the partial copy. Either
 * way the node is left with an empty data directory and the uninitialized role, and the next
 * cycles start over.
 */
class BootstrapFailureScenariosTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # situation                                         | message of the failing cycle                 | initialize key | leader key
            initdb fails                                        | Failed to bootstrap cluster                  | absent         | -
            another member takes the leader key during initdb   | Failed to bootstrap cluster                  | absent         | other
            post_bootstrap fails                                | Failed to bootstrap cluster                  | absent         | -
            the clone from the leader fails                     | failed to bootstrap from leader 'leader'     | the leader's   | leader
            """)
    void failsCleanly(String situation, String message, String initializeKey, String leaderKey) {
        HaScenario ha = HaScenario.create();
        boolean clone = situation.contains("clone");
        if (clone) {
            FakePostgres leader = ha.peer("leader");
            ha.finish(leader.bootstrap());
            ha.given(Clusters.builder().initialize(leader.systemIdentifier()).leader("leader")
                    .member(Members.primary("leader", leader.walPosition().value())).build());
            ha.postgres().failNextClone();
        } else if (situation.startsWith("initdb")) {
            ha.postgres().failNext(Kind.BOOTSTRAP);
        } else if (situation.startsWith("post_bootstrap")) {
            ha.postgres().failNext(Kind.POST_BOOTSTRAP);
        }

        // when it bootstraps (or clones)
        CycleResult first = ha.runCycle();
        assertThat(first.action()).isEqualTo(clone ? CycleAction.CLONE : CycleAction.BOOTSTRAP);
        if (situation.startsWith("another member")) {
            ha.dcs().putLeader("other", Duration.ofSeconds(30));
        }
        // then a following cycle reports the failure
        CycleResult failed = null;
        for (int i = 0; i < 3 && failed == null; i++) {
            CycleResult r = ha.runCycle();
            if (r.action() == CycleAction.FAILED) {
                failed = r;
            }
        }
        assertThat(failed).as("a cycle reports the failure").isNotNull();
        assertThat(failed.message()).isEqualTo(message);

        // and the keys are as the table says: the initialize key given back, the leader key not ours
        assertThat(ha.dcs().leaderName().orElse("-")).isEqualTo(leaderKey);
        switch (initializeKey) {
            case "absent" -> assertThat(ha.dcs().snapshot().initialize()).isNull();
            case "the leader's" -> assertThat(ha.dcs().snapshot().initialize())
                    .isEqualTo(ha.peer("leader").systemIdentifier());
            default -> throw new IllegalArgumentException(initializeKey);
        }
        assertThat(ha.controller().status().role()).isEqualTo(PostgresRole.UNINITIALIZED);
        // and what initdb or the clone made is stopped (immediately) and wiped: the stop's completion
        // wipes it in the next cycle (in which there is nothing left to race for: another cluster's
        // initialize key, nobody to clone from)
        if (ha.controller().status().actionInProgress() != null) {
            assertThat(ha.controller().status().actionInProgress()).isEqualTo("cancel bootstrap");
            assertThat(ha.postgres().lastOperation(Kind.STOP).orElseThrow().description())
                    .isEqualTo("stop(IMMEDIATE, checkpoint=false)");
            ha.dcs().putInitialize(Clusters.SYSTEM_ID);
            ha.dcs().deleteLeader();
            assertThat(ha.runCycle().message()).isEqualTo("waiting for leader to bootstrap");
        }
        assertThat(ha.postgres().isPostmasterRunning()).isFalse();
        assertThat(ha.postgres().dataDirectory()).isEqualTo(DataDirectoryState.EMPTY);
        assertThat(ha.world().violations()).isEmpty();
    }
}
