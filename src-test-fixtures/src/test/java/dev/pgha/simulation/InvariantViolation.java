package dev.pgha.simulation;

/** One of the simulation's invariants does not hold; carries which one. */
final class InvariantViolation extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final Invariant invariant;

    InvariantViolation(Invariant invariant, String detail) {
        super(invariant.label() + ": " + detail);
        this.invariant = invariant;
    }

    InvariantViolation(Invariant invariant, String detail, Throwable cause) {
        super(invariant.label() + ": " + detail, cause);
        this.invariant = invariant;
    }

    Invariant invariant() {
        return invariant;
    }

    /** The numbered invariants of the simulation (see {@link Invariants}). */
    enum Invariant {
        SINGLE_PRIMARY("1 one primary, one lock holder"),
        LEASE_FENCING("2 no writes after the lease deadline"),
        POSTGRES_CONTRACT("3 PostgresProcess contract kept"),
        CYCLE_NEVER_FAILS("4 runCycle never throws or reports a bug"),
        CONVERGENCE("5 convergence within the bound"),
        PAUSE("6 in pause, no automatic promotion and no restart of a crashed PostgreSQL"),
        NO_ACKNOWLEDGED_COMMIT_LOST("7 with synchronous_mode_strict, every acknowledged commit is on the primary");

        private final String label;

        Invariant(String label) {
            this.label = label;
        }

        String label() {
            return "invariant " + label;
        }
    }
}
