package dev.pgha;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A step's wake-up: only a due scheduled request shortens the next wait, and no step forgets one. */
class StepTest {

    @Test
    void aStepWakesAtTheUsualSpacingUnlessAsked() {
        Step s = Step.of(CycleAction.NONE, "no action");
        assertThat(s.wakeUpIn()).isNull();
        assertThat(s.wakingIn(null)).isEqualTo(s);
        assertThat(s.wakingIn(Duration.ofSeconds(3)).wakeUpIn()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void noWakeUpKeepsTheOneAskedBefore() {
        Step due = Step.of(CycleAction.NONE, "no action").wakingIn(Duration.ofSeconds(2));
        assertThat(due.wakingIn(null).wakeUpIn()).isEqualTo(Duration.ofSeconds(2));
        assertThat(due.wakingIn(null).message()).isEqualTo("no action");
    }
}
