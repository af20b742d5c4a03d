package dev.pgha;

import java.time.Duration;

/**
 * What one decision produced: an action, Patroni's message for it, and how soon the next cycle
 * must run when that is sooner than {@code loop_wait} (a scheduled switchover due before then).
 *
 * @param action    the action
 * @param message   the message
 * @param wakeUpIn  the longest wait before the next cycle, or null for the usual spacing
 */
record Step(CycleAction action, String message, Duration wakeUpIn) {

    static Step of(CycleAction action, String message) {
        return new Step(action, message, null);
    }

    /** This step, asking for the next cycle within {@code wait} (null: no such limit). */
    Step wakingIn(Duration wait) {
        return wait == null || wakeUpIn != null && wakeUpIn.compareTo(wait) <= 0 ? this
                : new Step(action, message, wait);
    }
}
