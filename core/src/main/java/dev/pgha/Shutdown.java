package dev.pgha;

import dev.pgha.dcs.DcsException;
import dev.pgha.postgres.PostgresException;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.StopMode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Patroni's graceful shutdown, one step per call: cancel what runs, stop PostgreSQL (fast), and
 * once it is down release the leader key so a replica takes over at once. While PostgreSQL
 * stops the lock is kept (it no longer accepts writes), so replicas receive the shutdown
 * checkpoint before anyone races.
 */
final class Shutdown {

    private static final Logger log = LoggerFactory.getLogger(Shutdown.class);

    private final Node node;
    private final MemberPublisher publisher;
    private boolean requested;
    private boolean done;
    private Step last;

    Shutdown(Node node, MemberPublisher publisher) {
        this.node = node;
        this.publisher = publisher;
    }

    void request() {
        requested = true;
    }

    boolean isRequested() {
        return requested;
    }

    boolean isDone() {
        return done;
    }

    Step step() {
        if (done) {
            return last;
        }
        try {
            if (node.action != null && node.action.kind() != LongAction.Kind.SHUTDOWN) {
                node.cancelAction();
            }
            if (node.action == null) {
                if (node.observe().postmasterRunning()) {
                    return node.start("shutdown", LongAction.Kind.SHUTDOWN, node.postgres.stop(StopMode.FAST, false),
                            (ok, detail) -> stopped(true, ok), Step.of(CycleAction.IN_PROGRESS, "shutdown in progress"));
                }
                return stopped(false, true);
            }
            Step finished = node.pollAction();
            if (finished != null) {
                return finished;
            }
            if (node.lock.isHeld()) {
                node.lock.update();
            }
        } catch (DcsException | PostgresException e) {
            log.warn("{}: during shutdown: {}", node.name, e.getMessage());
        }
        return Step.of(CycleAction.IN_PROGRESS, "shutdown in progress");
    }

    private Step stopped(boolean signaled, boolean ok) {
        done = true;
        if (!ok) {
            log.error("{}: PostgreSQL shutdown failed, leader key not removed.", node.name);
            last = Step.of(CycleAction.SHUTDOWN, "PostgreSQL shutdown failed, leader key not removed.");
            return last;
        }
        if (node.role == PostgresRole.PRIMARY || node.role == PostgresRole.PROMOTED) {
            node.setRole(PostgresRole.DEMOTED);
        }
        if (signaled) {
            node.callback(HaListener.Callback.ON_STOP);
        }
        boolean released = false;
        try {
            released = node.releaseLockWithLastPosition();
            publisher.publish(node.observe());
        } catch (DcsException e) {
            log.warn("{}: could not release the leader key or publish at shutdown: {}", node.name, e.getMessage());
        }
        last = Step.of(CycleAction.SHUTDOWN,
                released ? "shut down: PostgreSQL stopped and leader key released" : "shut down: PostgreSQL stopped");
        return last;
    }
}
