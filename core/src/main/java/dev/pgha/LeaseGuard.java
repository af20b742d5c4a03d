package dev.pgha;

import java.time.Instant;

/**
 * Fencing: something outside the host's cycle thread that stops the local primary when its lease
 * runs out unrenewed (the host JVM froze or died). Patroni uses a watchdog device; pgha's
 * implementations run a guard process. The engine arms the guard after every successful lease
 * renewal while PostgreSQL may accept writes, and disarms it when it stops being leader.
 *
 * <p>Before it acts as primary (promoting, or staying primary) the engine also asks
 * {@link #activate()}: a guard that is required but cannot work makes the node refuse to promote
 * ("Not promoting self because watchdog could not be activated") or demote itself ("Demoting self
 * because watchdog could not be activated"), like Patroni's watchdog in mode {@code required}.
 *
 * <p>On every cycle the engine also asks {@link #canActivate()}, a cheap check that starts
 * nothing: while it answers false the node takes no part in the leader race (nor in the race for
 * the {@code initialize} key) and publishes {@code watchdog_failed: true} in its member key, so the
 * other members do not count it as a failover candidate ("Member ... is not watchdog capable").
 *
 * @see dev.pgha.fencing.PostmasterGuard
 */
public interface LeaseGuard {

    /** A guard that does nothing (no fencing beyond the engine's own demotion). */
    LeaseGuard NONE = new LeaseGuard() {
        @Override
        public void arm(Instant leaseDeadline) {
        }

        @Override
        public void disarm() {
        }
    };

    /** (Re)arms the guard: unless armed again before {@code leaseDeadline}, stop the local primary then. */
    void arm(Instant leaseDeadline);

    /** Disarms the guard: this node no longer holds a lease. */
    void disarm();

    /**
     * Makes the guard ready to protect this node (starting whatever it runs, if needed) and tells
     * whether the node may act as primary. Called by the engine on every cycle in which it holds the
     * lock, before it promotes or stays primary, and to retry while {@link #canActivate()} answers
     * false; it must be cheap and must not block.
     *
     * @return false only when fencing is required and the guard cannot provide it; the engine then
     *     refuses to promote, or demotes. The default (and {@link #NONE}) always returns true.
     */
    default boolean activate() {
        return true;
    }

    /**
     * Whether {@link #activate()} could succeed now, judged without starting anything (Patroni's
     * {@code watchdog.is_healthy}). Called by the engine on every cycle, leader or not, before it
     * decides whether to race for the leader key; it must be cheap, must not block and should have
     * no side effects.
     *
     * <p>While it answers false the engine does not race and publishes {@code watchdog_failed}; it
     * calls {@link #activate()} about once per {@code ttl} to try again (a guard whose start failed
     * may recover that way), and its next cycle asks this method again.
     *
     * @return false only when fencing is required and known not to work; the default (and
     *     {@link #NONE}) always returns true
     */
    default boolean canActivate() {
        return true;
    }
}
