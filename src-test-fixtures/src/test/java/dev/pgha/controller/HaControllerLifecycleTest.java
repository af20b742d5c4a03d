package dev.pgha.controller;

import static dev.pgha.testing.HaScenario.NAME;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.ControllerState;
import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.HaController;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.HaScenario;
import java.time.Duration;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * {@link HaController}'s lifecycle: RUNNING, then SHUTTING_DOWN from {@code close()}, then CLOSED
 * once a cycle reported the shutdown done; what each state allows, and that {@code status()} says
 * which state it is in.
 */
class HaControllerLifecycleTest {

    /** Every operator action, by the name the exceptions use. */
    private static final Map<String, Consumer<HaController>> OPERATOR_ACTIONS = Map.of(
            "switchover()", c -> c.switchover("other", null),
            "failover()", c -> c.failover("other"),
            "restart()", HaController::restart,
            "reinitialize()", HaController::reinitialize);

    /** postgresql0 is the primary holding the lock, with a healthy replica; stops take 1 s. */
    private static HaScenario leaderWithLock() {
        HaScenario ha = HaScenario.create(b -> b, FakeTimings.DEFAULTS).leading("other");
        assertThat(ha.controller().status().lastResult().message())
                .isEqualTo("no action. I am (postgresql0), the leader with the lock");
        return ha;
    }

    @Test
    void aNewControllerIsRunningAndHasNoCycleYet() {
        HaScenario ha = HaScenario.create();

        assertThat(ha.controller().state()).isEqualTo(ControllerState.RUNNING);
        assertThat(ha.controller().status().state()).isEqualTo(ControllerState.RUNNING);
        assertThat(ha.controller().status().lastResult()).isNull();
    }

    @Test
    void closeShutsDownOverTheNextCyclesAndTheCycleThatReportsItClosesTheController() {
        HaScenario ha = leaderWithLock();
        HaController controller = ha.controller();

        controller.close();
        assertThat(controller.state()).isEqualTo(ControllerState.SHUTTING_DOWN);
        assertThat(controller.status().state()).isEqualTo(ControllerState.SHUTTING_DOWN);
        assertOperatorActionsRefused(controller, "SHUTTING_DOWN (close() was called; runCycle() carries out the shutdown)");
        controller.close();
        assertThat(controller.state()).as("a second close() changes nothing").isEqualTo(ControllerState.SHUTTING_DOWN);

        CycleResult stopping = ha.runCycle();
        assertThat(stopping.message()).isEqualTo("shutdown in progress");
        assertThat(controller.state()).isEqualTo(ControllerState.SHUTTING_DOWN);

        CycleResult done = ha.runCycleAfter(Duration.ofSeconds(1));
        assertThat(done.action()).isEqualTo(CycleAction.SHUTDOWN);
        assertThat(controller.state()).isEqualTo(ControllerState.CLOSED);
        assertThat(controller.status().state()).isEqualTo(ControllerState.CLOSED);
        assertThat(controller.status().lastResult()).isEqualTo(done);
        assertThat(controller.status().lockHeld()).isFalse();

        assertThatThrownBy(ha::runCycle).isInstanceOf(IllegalStateException.class)
                .hasMessage("postgresql0: runCycle() is not allowed: the controller is CLOSED (its shutdown is complete)");
        assertOperatorActionsRefused(controller, "CLOSED (its shutdown is complete)");
        controller.close();
        assertThat(controller.state()).isEqualTo(ControllerState.CLOSED);
        assertThat(controller.status().lastResult()).as("nothing ran after the shutdown").isEqualTo(done);
    }

    @Test
    void aShutdownThatCloseCompletesAtOnceIsReportedByTheNextCycle() {
        // given a node whose PostgreSQL is not running (nothing to stop), before its first cycle
        HaScenario ha = HaScenario.create();

        // when it is closed, the shutdown is already done, but the host has not been told yet
        ha.controller().close();
        assertThat(ha.controller().status().lastResult().action()).isEqualTo(CycleAction.SHUTDOWN);
        assertThat(ha.controller().state()).isEqualTo(ControllerState.SHUTTING_DOWN);

        // then the host's next cycle reports it and closes the controller
        CycleResult done = ha.runCycle();
        assertThat(done.action()).isEqualTo(CycleAction.SHUTDOWN);
        assertThat(done.message()).isEqualTo("shut down: PostgreSQL stopped");
        assertThat(ha.controller().state()).isEqualTo(ControllerState.CLOSED);
    }

    @Test
    void operatorActionsAreAllowedWhileRunningAlsoBeforeTheFirstCycle() {
        HaScenario ha = HaScenario.create().runningReplicaOf("leader");
        ha.given(Clusters.builder().initialize(ha.systemId()).build());

        assertThat(ha.controller().restart().accepted()).isTrue();
        assertThat(ha.controller().status().actionInProgress()).as("published at once").isEqualTo("restart");
    }

    private static void assertOperatorActionsRefused(HaController controller, String state) {
        OPERATOR_ACTIONS.forEach((call, action) -> assertThatThrownBy(() -> action.accept(controller))
                .as(call).isInstanceOf(IllegalStateException.class)
                .hasMessage(NAME + ": " + call + " is not allowed: the controller is " + state));
    }
}
