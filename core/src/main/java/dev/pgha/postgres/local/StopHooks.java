package dev.pgha.postgres.local;

import dev.pgha.postgres.Lsn;

/**
 * The hooks of Patroni's {@code Postgresql.stop()}, called from the thread that polls the stop
 * (the host's cycle thread), so they must return quickly.
 *
 * <ul>
 *   <li>{@link #beforeShutdown()}: after the CHECKPOINT, right before the stop signal.</li>
 *   <li>{@link #onSafepoint()}: once no user backend is left (no client can get a commit after
 *       this point); called at least once per stop, also when no postmaster ran.</li>
 *   <li>{@link #onShutdown(Lsn, Lsn)}: modes smart and fast only, once {@code pg_controldata}
 *       reads "shut down": the shutdown checkpoint's location and the location of the WAL record
 *       before it.</li>
 * </ul>
 */
public interface StopHooks {

    /** No hooks. */
    StopHooks NONE = new StopHooks() { };

    /** Right before the stop signal is sent. */
    default void beforeShutdown() {
    }

    /** No user backend is left. */
    default void onSafepoint() {
    }

    /**
     * The cluster reads "shut down".
     *
     * @param checkpoint the shutdown checkpoint record ("Latest checkpoint location")
     * @param previous   the record before it (from {@code pg_waldump}; the checkpoint itself when
     *                   it cannot be read)
     */
    default void onShutdown(Lsn checkpoint, Lsn previous) {
    }
}
