package dev.pgha;

import dev.pgha.cluster.ClusterView;
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
 *
 * <p>In maintenance mode ({@code pause}) nothing is stopped and the key is left to expire, as in
 * Patroni; the lease guard is disarmed then, so that PostgreSQL outlives the agent. That is the
 * only place pause disarms it: while the agent runs, the guard stays armed in pause too, so that a
 * leader whose agent freezes or loses the DCS during the pause is still fenced at its lease
 * deadline and a resume can never find two writable primaries (Patroni disables its watchdog for
 * the whole pause).
 */
final class Shutdown {

    private static final Logger log = LoggerFactory.getLogger(Shutdown.class);

    private final Node node;
    private final MemberPublisher publisher;
    private final SyncRelease syncRelease;

    Shutdown(Node node, MemberPublisher publisher, SyncRelease syncRelease) {
        this.node = node;
        this.publisher = publisher;
        this.syncRelease = syncRelease;
    }

    /** Asks for the shutdown; the state remembers it. */
    static void request(Cycle c) {
        c.state = c.state.withShutdown(Progress.REQUESTED);
    }

    static boolean isRequested(NodeState s) {
        return s.shutdown() != null;
    }

    static boolean isDone(NodeState s) {
        return s.shutdown() != null && s.shutdown().result() != null;
    }

    /**
     * How far the shutdown got, carried in the node's {@link NodeState} (null there: not requested).
     *
     * @param result the step that ended it, or null while it runs
     */
    record Progress(Step result) {
        static final Progress REQUESTED = new Progress(null);
    }

    Step step(Cycle c) {
        if (isDone(c.state)) {
            return c.state.shutdown().result();
        }
        if (c.state.settings().pause() && c.state.action() == null) {
            // Maintenance mode: the operator owns PostgreSQL and stops the agent on purpose (to
            // upgrade it, say): PostgreSQL keeps running unfenced and the key expires by itself.
            node.lock.disarmGuard();
            log.info("{}: Leader key is not deleted and Postgresql is not stopped due paused state", node.name);
            return done(c, Step.of(CycleAction.SHUTDOWN,
                    "shut down: Leader key is not deleted and Postgresql is not stopped due paused state"));
        }
        try {
            LongAction running = c.state.action();
            if (running != null && running.kind() != LongAction.Kind.SHUTDOWN) {
                node.cancelAction(c);
            }
            if (c.state.action() == null) {
                if (node.observe(c).postmasterRunning()) {
                    return syncRelease.start(c, "shutdown", LongAction.Kind.SHUTDOWN,
                            () -> node.postgres.stop(StopMode.FAST, false),
                            (later, ok, detail) -> stopped(later, true, ok),
                            Step.of(CycleAction.IN_PROGRESS, "shutdown in progress"));
                }
                return stopped(c, false, true);
            }
            if (SyncRelease.isAwaiting(c.state)) {
                ClusterView view;
                try {
                    view = node.readCluster(c);
                } catch (DcsException e) {
                    view = null;
                }
                syncRelease.check(c, view);
            }
            Step finished = node.pollAction(c);
            if (finished != null) {
                return finished;
            }
            if (node.lock.isHeld(c.state)) {
                node.lock.update(c);
            }
        } catch (DcsException | PostgresException e) {
            log.warn("{}: during shutdown: {}", node.name, e.getMessage());
        }
        return Step.of(CycleAction.IN_PROGRESS, "shutdown in progress");
    }

    private Step stopped(Cycle c, boolean signaled, boolean ok) {
        if (!ok) {
            log.error("{}: PostgreSQL shutdown failed, leader key not removed.", node.name);
            return done(c, Step.of(CycleAction.SHUTDOWN, "PostgreSQL shutdown failed, leader key not removed."));
        }
        c.state = c.state.withShutdown(new Progress(Step.of(CycleAction.SHUTDOWN, "shut down: PostgreSQL stopped")));
        PostgresRole role = c.state.role();
        if (role == PostgresRole.PRIMARY || role == PostgresRole.PROMOTED) {
            node.setRole(c, PostgresRole.DEMOTED);
        }
        if (signaled) {
            node.callback(c, HaListener.Callback.ON_STOP);
        }
        boolean released = false;
        try {
            released = node.releaseLockWithLastPosition(c);
            publisher.publish(c, node.observe(c));
        } catch (DcsException e) {
            log.warn("{}: could not release the leader key or publish at shutdown: {}", node.name, e.getMessage());
        }
        return done(c, Step.of(CycleAction.SHUTDOWN,
                released ? "shut down: PostgreSQL stopped and leader key released" : "shut down: PostgreSQL stopped"));
    }

    private static Step done(Cycle c, Step result) {
        c.state = c.state.withShutdown(new Progress(result));
        return result;
    }
}
