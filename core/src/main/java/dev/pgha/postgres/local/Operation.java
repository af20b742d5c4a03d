package dev.pgha.postgres.local;

import dev.pgha.postgres.StopResult;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A long action of {@link LocalPostgres} as a sequence of phases (launch a child process, wait
 * for the postmaster to accept connections, ...), advanced only by {@link #poll()}: each call
 * begins the next phase or checks the current one, never waiting. When the last phase is done
 * (or one fails, or the operation is cancelled) the {@link Ending} runs once, under the same
 * lock as every other {@link LocalPostgres} call.
 */
final class Operation implements StopOperation {

    private static final Logger log = LoggerFactory.getLogger(Operation.class);

    /** One step of an operation. */
    interface Phase {
        /** Called once, when the phase becomes current (may launch a child process). */
        default void begin() throws Exception {
        }

        /** Checks progress without blocking. */
        Progress poll() throws Exception;

        /** Stops what the phase runs (kills its child process). */
        default void cancel() {
        }
    }

    /** How a phase stands. */
    record Progress(Outcome outcome, String detail) {
        static final Progress RUNNING = new Progress(Outcome.RUNNING, "");

        static Progress done(String detail) {
            return new Progress(Outcome.SUCCEEDED, detail);
        }

        static Progress failed(String detail) {
            return new Progress(Outcome.FAILED, detail);
        }
    }

    /** What to do once the operation ended. */
    @FunctionalInterface
    interface Ending {
        void ended(boolean success, String detail, boolean cancelled);
    }

    private final Object lock;
    private final String member;
    private final String what;
    private final List<Phase> phases = new ArrayList<>();
    private final Ending ending;
    private int index;
    private boolean begun;
    private Outcome outcome = Outcome.RUNNING;
    private String detail = "";
    private StopResult stopResult;
    private boolean signaled;

    /** An operation without phases yet: add them with {@link #then} before the first {@link #poll()}. */
    Operation(Object lock, String member, String what, Ending ending) {
        this.lock = lock;
        this.member = member;
        this.what = what;
        this.ending = ending;
    }

    /** An operation that finished at once (its ending runs now). */
    static Operation finished(Object lock, String member, String what, boolean success, String detail, Ending ending) {
        Operation op = new Operation(lock, member, what, ending);
        op.then(() -> success ? Progress.done(detail) : Progress.failed(detail));
        op.poll();
        return op;
    }

    /** Appends phases. */
    Operation then(Phase... more) {
        phases.addAll(List.of(more));
        return this;
    }

    /** Appends phases. */
    Operation then(List<Phase> more) {
        phases.addAll(more);
        return this;
    }

    String what() {
        return what;
    }

    @Override
    public Outcome poll() {
        synchronized (lock) {
            while (outcome == Outcome.RUNNING) {
                if (index >= phases.size()) {
                    end(Outcome.SUCCEEDED, detail, false);
                    break;
                }
                Phase phase = phases.get(index);
                Progress p;
                try {
                    if (!begun) {
                        begun = true;
                        phase.begin();
                    }
                    p = phase.poll();
                } catch (Exception e) {
                    log.warn("{}: {} failed unexpectedly", member, what, e);
                    p = Progress.failed(e.getMessage() == null ? e.toString() : e.getMessage());
                }
                if (p.outcome() == Outcome.RUNNING) {
                    break;
                }
                if (!p.detail().isEmpty()) {
                    detail = p.detail();
                }
                if (p.outcome() == Outcome.FAILED) {
                    end(Outcome.FAILED, p.detail(), false);
                    break;
                }
                index++;
                begun = false;
            }
            return outcome;
        }
    }

    @Override
    public String detail() {
        synchronized (lock) {
            return detail;
        }
    }

    @Override
    public void cancel() {
        synchronized (lock) {
            if (outcome != Outcome.RUNNING) {
                return;
            }
            if (index < phases.size() && begun) {
                phases.get(index).cancel();
            }
            log.info("{}: {} cancelled", member, what);
            end(Outcome.FAILED, "cancelled", true);
        }
    }

    /** Whether it still runs, without advancing it. */
    boolean isRunning() {
        synchronized (lock) {
            return outcome == Outcome.RUNNING;
        }
    }

    @Override
    public StopResult stopResult() {
        synchronized (lock) {
            if (outcome == Outcome.RUNNING) {
                return StopResult.IN_PROGRESS;
            }
            if (stopResult != null) {
                return stopResult;
            }
            return outcome == Outcome.SUCCEEDED ? StopResult.STOPPED : StopResult.FAILED;
        }
    }

    @Override
    public boolean signaled() {
        synchronized (lock) {
            return signaled;
        }
    }

    void markSignaled() {
        signaled = true;
    }

    void stopResult(StopResult value) {
        stopResult = value;
    }

    private void end(Outcome how, String why, boolean cancelled) {
        outcome = how;
        detail = why;
        if (how == Outcome.SUCCEEDED) {
            log.info("{}: {} finished{}", member, what, why.isEmpty() ? "" : ": " + why);
        } else if (!cancelled) {
            log.warn("{}: {} failed: {}", member, what, why);
        }
        try {
            ending.ended(how == Outcome.SUCCEEDED, why, cancelled);
        } catch (RuntimeException e) {
            log.error("{}: after {}: {}", member, what, e.toString(), e);
        }
    }

    @Override
    public String toString() {
        synchronized (lock) {
            return what + "[" + outcome + (detail.isEmpty() ? "" : ": " + detail) + "]";
        }
    }
}
