package dev.pgha;


/**
 * What one decision produced: an action and Patroni's message for it.
 *
 * @param action  the action
 * @param message the message
 */
record Step(CycleAction action, String message) {

    static Step of(CycleAction action, String message) {
        return new Step(action, message);
    }
}
