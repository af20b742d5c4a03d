package dev.pgha.agent;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.HaController;
import dev.pgha.dcs.DcsClient;
import dev.pgha.postgres.PostgresProcess;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one {@link HaController} the way a host should: {@code runCycle()} on a single-threaded
 * {@link ScheduledExecutorService}, the next cycle {@link CycleResult#nextCycleIn()} later, and
 * earlier when the DCS watch reports a change of the leader or failover key, or when the local
 * PostgreSQL changed: every {@value #PROBE_INTERVAL_MILLIS} ms, between cycles and on the same
 * thread, the loop asks {@link PostgresProcess#changed()} and runs a cycle at once when it says yes
 * (the postmaster died or changed its state, a long action ended). Every cycle's result goes to a
 * consumer (the agent logs it, the demo narrates it).
 *
 * <p>{@link #shutdown(Duration)} is Patroni's graceful shutdown (SIGTERM): {@code close()} on the
 * controller, then cycles until one returns {@link CycleAction#SHUTDOWN}. {@link #halt()} stops
 * running cycles at once, as if the host died.
 */
public final class AgentLoop {

    private static final Logger LOG = LoggerFactory.getLogger(AgentLoop.class);
    /** How often the loop asks the local PostgreSQL whether it changed. */
    static final long PROBE_INTERVAL_MILLIS = 100;

    private final String name;
    private final HaController controller;
    private final DcsClient dcs;
    private final PostgresProcess postgres;
    private final Consumer<CycleResult> onCycle;
    private final ScheduledExecutorService executor;
    private final CountDownLatch shutDown = new CountDownLatch(1);
    private final Runnable cycle = this::cycle;
    private volatile CycleResult last;
    private volatile Consumer<Error> onFatal = e -> { };
    private boolean failed;                       // only touched on the loop thread
    private ScheduledFuture<?> next;              // only touched on the loop thread
    private DcsClient.Subscription watch = DcsClient.Subscription.NONE;

    /**
     * @param name       the member's name (thread name, logs)
     * @param controller the controller to drive
     * @param dcs        its DCS client, watched for wake-ups
     * @param onCycle    receives every cycle's result on the loop thread
     */
    public AgentLoop(String name, HaController controller, DcsClient dcs, Consumer<CycleResult> onCycle) {
        this(name, controller, dcs, null, onCycle);
    }

    /**
     * @param name       the member's name (thread name, logs)
     * @param controller the controller to drive
     * @param dcs        its DCS client, watched for wake-ups
     * @param postgres   its PostgreSQL, asked for changes every {@value #PROBE_INTERVAL_MILLIS} ms;
     *                   null: only the DCS watch wakes the loop
     * @param onCycle    receives every cycle's result on the loop thread
     */
    public AgentLoop(String name, HaController controller, DcsClient dcs, PostgresProcess postgres,
                     Consumer<CycleResult> onCycle) {
        this.name = Objects.requireNonNull(name, "name");
        this.controller = Objects.requireNonNull(controller, "controller");
        this.dcs = Objects.requireNonNull(dcs, "dcs");
        this.postgres = postgres;
        this.onCycle = Objects.requireNonNull(onCycle, "onCycle");
        this.executor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgha-" + name);
            t.setDaemon(true);
            return t;
        });
    }

    /** Runs the first cycle now, subscribes to the DCS watch and starts asking PostgreSQL for changes. */
    public synchronized AgentLoop start() {
        watch = dcs.watch(this::wakeUp);
        submit(cycle);
        if (postgres != null) {
            try {
                executor.scheduleWithFixedDelay(this::probe, PROBE_INTERVAL_MILLIS, PROBE_INTERVAL_MILLIS,
                        TimeUnit.MILLISECONDS);
            } catch (RejectedExecutionException e) {
                // stopped
            }
        }
        return this;
    }

    /**
     * What to do after a cycle threw an {@link Error} (it is logged, and no more cycles run):
     * nothing by default; the agent program halts the JVM, so that its supervisor restarts it.
     */
    public AgentLoop onFatal(Consumer<Error> action) {
        this.onFatal = Objects.requireNonNull(action, "action");
        return this;
    }

    /** The controller driven by this loop. */
    public HaController controller() {
        return controller;
    }

    /** The last cycle's result, or null before the first. */
    public CycleResult lastResult() {
        return last;
    }

    /** Runs a cycle now (a DCS change was reported). */
    public void wakeUp() {
        submit(cycle);
    }

    private void submit(Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            // stopped
        }
    }

    /** On the loop thread, between cycles: a cycle now when the local PostgreSQL changed. */
    private void probe() {
        boolean changed;
        try {
            changed = postgres.changed();
        } catch (RuntimeException e) {
            LOG.warn("[{}] asking PostgreSQL for changes failed", name, e);
            return;
        }
        if (changed) {
            LOG.debug("[{}] PostgreSQL changed: running a cycle now", name);
            cycle();
        }
    }

    private void cycle() {
        if (shutDown.getCount() == 0 || failed) {
            return;
        }
        if (next != null) {
            next.cancel(false);
            next = null;
        }
        CycleResult r;
        try {
            r = controller.runCycle();
        } catch (RuntimeException e) {
            LOG.error("[{}] cycle failed", name, e);
            next = executor.schedule(cycle, 1, TimeUnit.SECONDS);
            return;
        } catch (Error e) {
            // The JVM's state is unknown (out of memory, a class gone from the class path): no more
            // cycles, so the lease runs out and the guard fences a primary; the host decides the rest.
            LOG.error("[{}] cycle failed with a fatal error: no more cycles run", name, e);
            failed = true;
            onFatal.accept(e);
            return;
        }
        last = r;
        try {
            onCycle.accept(r);
        } catch (RuntimeException e) {
            LOG.warn("[{}] cycle consumer failed", name, e);
        }
        if (r.action() == CycleAction.SHUTDOWN) {
            shutDown.countDown();
            return;
        }
        try {
            next = executor.schedule(cycle, r.nextCycleIn().toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // halted meanwhile
        }
    }

    /**
     * Patroni's graceful shutdown: asks the controller to shut down and keeps cycling until it
     * reports {@link CycleAction#SHUTDOWN} (PostgreSQL stopped, leader key released), at most
     * {@code bound}. Then stops the loop.
     *
     * @return whether the shutdown completed within {@code bound}
     */
    public boolean shutdown(Duration bound) {
        if (executor.isShutdown()) {
            return shutDown.getCount() == 0;
        }
        synchronized (this) {
            watch.close();
        }
        submit(controller::close);
        submit(cycle);
        boolean done;
        try {
            done = shutDown.await(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            done = false;
        }
        halt();
        return done;
    }

    /** Stops running cycles at once, leaving PostgreSQL and the DCS keys as they are (a dead host). */
    public void halt() {
        synchronized (this) {
            watch.close();
        }
        executor.shutdownNow();
        try {
            executor.awaitTermination(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return "AgentLoop[" + name + "]";
    }
}
