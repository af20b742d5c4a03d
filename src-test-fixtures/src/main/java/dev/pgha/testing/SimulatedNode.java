package dev.pgha.testing;

import dev.pgha.ControllerState;
import dev.pgha.CycleResult;
import dev.pgha.HaConfig;
import dev.pgha.HaController;
import dev.pgha.LeaseGuard;
import dev.pgha.dcs.DcsClient;
import dev.pgha.dcs.inmemory.InMemoryDcs;
import java.time.Duration;
import java.time.Instant;

/**
 * One member of a {@link SimulatedCluster}: its controller, its fake PostgreSQL, its fencing guard
 * and when it cycles next. The host (the simulation) can stop it cycling (a frozen JVM) or
 * replace its controller (an agent restart).
 *
 * <p>The guard models a process outside the agent (Patroni's watchdog device, pgha's guard
 * process): it survives an agent restart and keeps the deadline it was last armed with until the
 * new agent re-arms or disarms it.
 */
public final class SimulatedNode {

    private final String name;
    private final HaConfig config;
    private final FakePostgres postgres;
    private final InMemoryDcs dcs;
    private final ManualClock clock;
    private final Guard guard = new Guard();
    private HaController controller;
    private DcsClient.Subscription watch = DcsClient.Subscription.NONE;
    private CycleResult last;
    private FakeOperation orphan;
    private long nextCycleNanos;
    private boolean cycling = true;
    private int cycles;

    SimulatedNode(String name, HaConfig config, FakePostgres postgres, InMemoryDcs dcs, ManualClock clock) {
        this.name = name;
        this.config = config;
        this.postgres = postgres;
        this.dcs = dcs;
        this.clock = clock;
        this.controller = newController();
    }

    private HaController newController() {
        var client = dcs.client(name);
        // Like a host scheduler: a change of the leader or failover key wakes the node at once.
        watch = client.watch(() -> nextCycleNanos = Math.min(nextCycleNanos, clock.nanoTime()));
        return HaController.builder().config(config).dcs(client).postgres(postgres).clock(clock)
                .leaseGuard(guard).build();
    }

    /** The member name. */
    public String name() {
        return name;
    }

    /** Its configuration. */
    public HaConfig config() {
        return config;
    }

    /** Its fake PostgreSQL. */
    public FakePostgres postgres() {
        return postgres;
    }

    /** Its controller (replaced by {@link #restartAgent()}). */
    public HaController controller() {
        return controller;
    }

    /** The result of its last cycle, or null. */
    public CycleResult lastResult() {
        return last;
    }

    /** Cycles run by this node. */
    public int cycles() {
        return cycles;
    }

    /**
     * Whether the host still calls {@code runCycle()} on this node: not while frozen, and not once
     * its controller is {@link ControllerState#CLOSED} (the host stops after the cycle that
     * reported {@code SHUTDOWN}; {@link #restartAgent()} brings a new controller).
     */
    public boolean isCycling() {
        return cycling && controller.state() != ControllerState.CLOSED;
    }

    /** Stops (false) or resumes (true) calling {@code runCycle()}: a frozen or revived host JVM. */
    public void setCycling(boolean value) {
        if (value && !cycling) {
            nextCycleNanos = clock.nanoTime();
        }
        cycling = value;
    }

    /**
     * The agent restarts: a new controller with no memory, over the same PostgreSQL (whose
     * postmaster survives). A long operation the old agent started (a stop, start, promote, ...)
     * runs on to its end, and the new agent begins its first cycle only after it finished, like a
     * service manager that waits for the old processes of the unit before starting it again; so
     * the new agent never finds a second operation running that it did not start. The guard, a
     * separate process, stays armed as it was. A frozen agent that is restarted runs again.
     */
    public void restartAgent() {
        watch.close();
        orphan = postgres.runningOperation().orElse(null);
        controller = newController();
        cycling = true;
        nextCycleNanos = clock.nanoTime();
    }

    /** Whether the agent waits for an operation of its previous incarnation to end before it starts. */
    public boolean isRestarting() {
        if (orphan != null && !orphan.isRunning()) {
            orphan = null;
        }
        return orphan != null;
    }

    /** The lease deadline the guard is armed with, or null when disarmed. */
    public Instant guardDeadline() {
        return guard.deadline;
    }

    /**
     * Makes the guard usable (true, default) or not (false): like a guard in mode {@code required}
     * whose process cannot start, it then answers false to {@code canActivate()} and
     * {@code activate()}, so the node takes no part in leader races.
     */
    public void setGuardUsable(boolean value) {
        guard.usable = value;
    }

    /** Whether the guard's last firing killed a running postmaster (false: it was already down). */
    public boolean guardKilled() {
        return guard.killed;
    }

    /** How often the guard fired (its deadline passed unrenewed), whether or not PostgreSQL still ran. */
    public int fencings() {
        return guard.fired;
    }

    /**
     * The clock's {@code nanoTime()} at which the armed guard fences, or {@link Long#MAX_VALUE}
     * when disarmed.
     */
    long guardDeadlineNanos() {
        Instant deadline = guard.deadline;
        if (deadline == null) {
            return Long.MAX_VALUE;
        }
        return clock.nanoTime() + Duration.between(clock.wallTime(), deadline).toNanos();
    }

    boolean isDue() {
        return isCycling() && clock.nanoTime() - nextCycleNanos >= 0 && !isRestarting();
    }

    long nextCycleNanos() {
        return nextCycleNanos;
    }

    CycleResult runCycle() {
        last = controller.runCycle();
        cycles++;
        nextCycleNanos = clock.nanoTime() + last.nextCycleIn().toNanos();
        return last;
    }

    /** Fences PostgreSQL if the armed lease deadline has passed: the guard process of a frozen host. */
    boolean enforceGuard() {
        Instant deadline = guard.deadline;
        if (deadline != null && !clock.wallTime().isBefore(deadline)) {
            guard.deadline = null;
            guard.fired++;
            guard.killed = postgres.crash();
            return true;
        }
        return false;
    }

    private static final class Guard implements LeaseGuard {
        private Instant deadline;
        private int fired;
        private boolean killed;
        private boolean usable = true;

        @Override
        public boolean activate() {
            return usable;
        }

        @Override
        public boolean canActivate() {
            return usable;
        }

        @Override
        public void arm(Instant leaseDeadline) {
            deadline = leaseDeadline;
        }

        @Override
        public void disarm() {
            deadline = null;
        }
    }
}
