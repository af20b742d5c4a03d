package dev.pgha;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The explicit lifecycle table of {@link ControllerState} and what each state allows. */
class ControllerStateTest {

    @Test
    void theOnlyWayIsRunningThenShuttingDownThenClosed() {
        List<String> legal = Arrays.stream(ControllerState.values())
                .flatMap(from -> Arrays.stream(ControllerState.values()).filter(from::canTransitionTo)
                        .map(to -> from + " -> " + to))
                .toList();

        assertThat(legal).containsExactly("RUNNING -> SHUTTING_DOWN", "SHUTTING_DOWN -> CLOSED");
    }

    @ParameterizedTest
    @EnumSource(ControllerState.class)
    void anIllegalTransitionThrowsNamingBothStates(ControllerState from) {
        for (ControllerState to : ControllerState.values()) {
            if (from.canTransitionTo(to)) {
                assertThat(from.transitionTo(to)).isSameAs(to);
            } else {
                assertThatThrownBy(() -> from.transitionTo(to)).isInstanceOf(IllegalStateException.class)
                        .hasMessage("illegal controller state transition " + from + " -> " + to);
            }
        }
    }

    @Test
    void cyclesRunUntilClosedAndOperatorActionsOnlyWhileRunning() {
        assertThat(ControllerState.RUNNING.allowsCycles()).isTrue();
        assertThat(ControllerState.SHUTTING_DOWN.allowsCycles()).isTrue();
        assertThat(ControllerState.CLOSED.allowsCycles()).isFalse();

        assertThat(ControllerState.RUNNING.allowsOperatorActions()).isTrue();
        assertThat(ControllerState.SHUTTING_DOWN.allowsOperatorActions()).isFalse();
        assertThat(ControllerState.CLOSED.allowsOperatorActions()).isFalse();
    }
}
