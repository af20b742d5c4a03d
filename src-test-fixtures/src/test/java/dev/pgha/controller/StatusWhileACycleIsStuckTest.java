package dev.pgha.controller;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.ActionResult;
import dev.pgha.ControllerState;
import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.HaConfig;
import dev.pgha.HaController;
import dev.pgha.HaStatus;
import dev.pgha.dcs.inmemory.Fault;
import dev.pgha.dcs.inmemory.InMemoryDcs;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.FakeWorld;
import dev.pgha.testing.ManualClock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link HaController#status()} answers at once while another thread's cycle is stuck on a slow
 * DCS, with the previous cycle's snapshot, and operator actions wait for that cycle (they are
 * serialized with it).
 *
 * <p>The DCS is slowed with {@link Fault#SLOW}: each call of the member first goes through the
 * store's waiter, which here blocks until the test releases it (however long that takes, far past
 * any retry timeout) and then lets the retry timeout pass on the manual clock, after which the call
 * fails with TIMEOUT. The test waits only on conditions with deadlines, never sleeps.
 */
class StatusWhileACycleIsStuckTest {

    /** How long the test waits for a condition before it fails (a deadline, not a timing claim). */
    private static final long DEADLINE_SECONDS = 30;
    /** The bound for status() while a cycle hangs: generous, a lock wait would take seconds. */
    private static final Duration STATUS_BOUND = Duration.ofMillis(50);

    private final ManualClock clock = new ManualClock();
    private final CountDownLatch dcsCallStuck = new CountDownLatch(1);
    private final CountDownLatch releaseDcs = new CountDownLatch(1);
    private final InMemoryDcs dcs = InMemoryDcs.builder().clock(clock).waiter(this::slowDcsCall).build();
    private final FakeWorld world = new FakeWorld(clock);
    private final FakePostgres postgres = world.add("node1", FakeTimings.INSTANT);
    private final HaConfig config = HaConfig.builder().scope("test").name("node1").build();
    private final HaController ha = HaController.builder().config(config).dcs(dcs.client("node1"))
            .postgres(postgres).clock(clock).build();
    private final ExecutorService host = Executors.newSingleThreadExecutor();

    @AfterEach
    void releaseAndStop() {
        releaseDcs.countDown();
        host.shutdownNow();
    }

    /** The store's waiter under {@link Fault#SLOW}: hangs until released, then the retry timeout passes. */
    private void slowDcsCall(Duration retryTimeout) {
        dcsCallStuck.countDown();
        try {
            if (!releaseDcs.await(DEADLINE_SECONDS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never released the slow DCS call");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        clock.advance(retryTimeout);
    }

    @Test
    void statusAnswersAtOnceWithThePreviousCycleWhileACycleIsStuckOnTheDcs() throws Exception {
        // given a single node that leads its new cluster
        CycleResult previous = cycleUntilLeader();
        HaStatus before = ha.status();
        assertThat(before.lastResult()).isEqualTo(previous);
        assertThat(before.lockHeld()).isTrue();

        // when its DCS hangs and the host's thread runs a cycle, which gets stuck in its first DCS call
        dcs.fault("node1", Fault.SLOW);
        Future<CycleResult> stuckCycle = host.submit(ha::runCycle);
        assertThat(dcsCallStuck.await(DEADLINE_SECONDS, TimeUnit.SECONDS)).as("the cycle reached the DCS").isTrue();

        // then status() answers within the bound, with the previous cycle's result
        long start = System.nanoTime();
        HaStatus during = ha.status();
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).as("status() while a cycle is stuck").isLessThan(STATUS_BOUND);
        assertThat(during).isEqualTo(before);
        assertThat(during.lastResult()).isSameAs(previous);
        assertThat(during.state()).isEqualTo(ControllerState.RUNNING);
        assertThat(ha.state()).isEqualTo(ControllerState.RUNNING);
        assertThat(stuckCycle.isDone()).as("the cycle is still stuck").isFalse();

        // and an operator action waits for the stuck cycle: calls are serialized
        AtomicReference<ActionResult> switchover = new AtomicReference<>();
        Thread operator = new Thread(() -> switchover.set(ha.switchover(null, null)), "operator");
        operator.start();
        await("the operator action waits for the cycle", () -> operator.getState() == Thread.State.BLOCKED);
        assertThat(switchover.get()).isNull();
        assertThat(ha.status().lastResult()).isSameAs(previous);

        // and once the lease has run out (the stuck cycle could not renew it), status() says so at once
        clock.advance(config.bootstrapDcs().ttl());
        HaStatus expired = ha.status();
        assertThat(expired.lockHeld()).isFalse();
        assertThat(expired.leaseDeadline()).isNull();
        assertThat(expired.lastResult()).isSameAs(previous);

        // when the DCS call finally fails, the cycle ends (the primary demotes) and its result is published
        releaseDcs.countDown();
        CycleResult after = stuckCycle.get(DEADLINE_SECONDS, TimeUnit.SECONDS);
        assertThat(after.action()).isIn(CycleAction.DEMOTE, CycleAction.DCS_ERROR);
        assertThat(ha.status().lastResult()).isEqualTo(after);

        // and the waiting operator action runs after it (and is refused: the DCS still fails)
        operator.join(TimeUnit.SECONDS.toMillis(DEADLINE_SECONDS));
        assertThat(operator.isAlive()).isFalse();
        assertThat(switchover.get().accepted()).isFalse();
        assertThat(switchover.get().message()).startsWith("switchover is not possible: DCS is not accessible");
    }

    private CycleResult cycleUntilLeader() {
        for (int i = 0; i < 50; i++) {
            world.tick();
            CycleResult r = ha.runCycle();
            if (r.message().equals("no action. I am (node1), the leader with the lock")) {
                return r;
            }
            clock.advance(r.nextCycleIn());
        }
        throw new AssertionError("node1 did not become the leader in 50 cycles: " + ha.status());
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(DEADLINE_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(what + ": not within " + DEADLINE_SECONDS + " s");
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // a polling pause, not a synchronisation
        }
    }
}
