package dev.pgha;

import java.time.Duration;

/**
 * Patroni's start timeout of the lock holder ({@code handle_starting_instance()}, and the same
 * rule while a start runs as a long action): PostgreSQL may take {@code primary_start_timeout}
 * (the one in force, as the {@code config} key says now) to come up; past it the node fails over
 * if it can, and keeps waiting if it cannot.
 */
final class StartTimeout {

    private final Demotion demotion;

    StartTimeout(Demotion demotion) {
        this.demotion = demotion;
    }

    /** How long the current start may take: the restart request's timeout, else {@code primary_start_timeout}. */
    static Duration limit(NodeState s) {
        return s.startTimeout() != null ? s.startTimeout() : s.settings().primaryStartTimeout();
    }

    /**
     * The rule once the start has taken {@code elapsed}.
     *
     * @return null while within the timeout; past it, the demotion or the step that keeps waiting
     */
    Step check(Cycle c, Duration elapsed) {
        if (elapsed.compareTo(limit(c.state)) < 0 || c.state.settings().pause()) {
            return null;
        }
        if (c.state.election().isFailoverPossible(c.cluster, 0, null, "failover")) {
            return demotion.demote(c, Demotion.Mode.IMMEDIATE,
                    Step.of(CycleAction.DEMOTE, "stopped PostgreSQL because of startup timeout"));
        }
        return Step.of(CycleAction.WAIT,
                "primary start has timed out, but continuing to wait because failover is not possible");
    }
}
