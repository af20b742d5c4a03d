package dev.pgha.postgres.local;

import static dev.pgha.postgres.PostgresState.CRASHED;
import static dev.pgha.postgres.PostgresState.RESTART_FAILED;
import static dev.pgha.postgres.PostgresState.RUNNING;
import static dev.pgha.postgres.PostgresState.STARTING;
import static dev.pgha.postgres.PostgresState.STOPPED;
import static dev.pgha.postgres.PostgresState.STOP_FAILED;

import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@link LocalPostgres#status()} reports: the data directory, the postmaster (from
 * {@code postmaster.pid}) and one status query. Between actions the lifecycle state follows what
 * is seen: a postmaster found while stopped is adopted (STARTING, then RUNNING once it accepts
 * connections), and one that disappeared while running or starting is CRASHED.
 */
final class Observer {

    private static final Logger log = LoggerFactory.getLogger(Observer.class);

    private final Server s;
    private DataDirectory.Inspection lastInspection;

    Observer(Server s) {
        this.s = s;
    }

    /**
     * Observes the server; without an action running ({@code busy} false) the state first follows
     * what is seen.
     */
    PostgresStatus observe(boolean busy) {
        Optional<Postmaster.Found> pm = s.postmaster();
        // a running postmaster's data directory stays initialized: looked at again once it stops
        DataDirectory.Inspection dir = pm.isPresent() && lastInspection != null
                && lastInspection.state() == DataDirectoryState.INITIALIZED ? lastInspection : s.data.inspect();
        lastInspection = dir;
        Sql.Observation o = pm.isPresent() ? s.sql.observe() : null;
        if (pm.isEmpty()) {
            s.sql.close();
        }
        if (!busy) {
            reconcile(pm, o);
        }
        boolean accepting = o != null && s.state() == RUNNING;
        boolean recovery = o != null ? o.inRecovery()
                : dir.state() == DataDirectoryState.INITIALIZED && s.data.isStandby();
        Lsn wal = !accepting ? Lsn.ZERO : o.inRecovery() ? maxOf(o.receive(), o.replay()) : o.flush();
        return new PostgresStatus(s.state(), pm.isPresent(), accepting, recovery, accepting ? o.timeline() : 0,
                wal, accepting ? o.receive() : null, accepting ? o.replay() : null, accepting && o.streaming(),
                o != null ? o.systemIdentifier() : null, dir.state(), dir.error(),
                accepting && s.params.pendingRestart(o.confLoadTime(), o.pendingRestart()),
                accepting ? o.serverVersion() : 0, accepting ? o.postmasterStartTime() : null);
    }

    /** Without an action running, the state follows what is observed: adoption, readiness, crashes. */
    private void reconcile(Optional<Postmaster.Found> pm, Sql.Observation o) {
        PostgresState st = s.state();
        boolean alive = pm.isPresent();
        boolean accepting = o != null;
        switch (st) {
            case RUNNING -> {
                if (!alive) {
                    crashed();
                } else if (!accepting && "starting".equals(pm.get().status())) {
                    s.move(STARTING);
                }
            }
            case STARTING -> {
                if (!alive) {
                    crashed();
                } else if (accepting) {
                    s.move(RUNNING);
                }
            }
            case STOPPING -> s.move(alive ? STOP_FAILED : STOPPED);
            case RESTARTING -> s.move(alive ? RESTART_FAILED : STOPPED);
            case INITIALIZING_NEW_CLUSTER, CREATING_REPLICA, STOP_FAILED -> {
                if (!alive) {
                    s.move(STOPPED);
                }
            }
            default -> { }
        }
        if (alive && !s.state().isUp()) {
            if (s.state() == STOPPED) {
                log.info("{}: adopting the running postmaster (pid {})", s.name, pm.get().pid());
            }
            if (accepting && s.state().canTransitionTo(RUNNING)) {
                s.move(RUNNING);
            } else if (s.state() != STOP_FAILED) {
                s.begin(STARTING);
                if (accepting) {
                    s.move(RUNNING);
                }
            }
        }
    }

    private void crashed() {
        log.warn("{}: the postmaster is gone: PostgreSQL crashed", s.name);
        s.move(CRASHED);
        s.sql.close();
    }

    private static Lsn maxOf(Lsn a, Lsn b) {
        if (a == null) {
            return b == null ? Lsn.ZERO : b;
        }
        return b == null ? a : Lsn.max(a, b);
    }
}
