package dev.pgha.agent;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleResult;
import dev.pgha.HaClock;
import dev.pgha.HaConfig;
import dev.pgha.HaController;
import dev.pgha.dcs.inmemory.InMemoryDcs;
import dev.pgha.postgres.PostgresProcess;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.FakeWorld;
import dev.pgha.testing.TempPostgres;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link AgentLoop} runs a cycle as soon as {@link PostgresProcess#changed()} says the local
 * PostgreSQL changed, long before {@code loop_wait} (100 s here) is up. The PostgreSQL is a fake
 * whose {@code changed()} the test controls; the DCS is in memory.
 */
class AgentLoopTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);
    private static final Duration LOOP_WAIT = Duration.ofSeconds(100);

    private final AtomicBoolean pgChanged = new AtomicBoolean();
    private final AtomicInteger changedCalls = new AtomicInteger();
    private final AtomicInteger cycles = new AtomicInteger();
    private AgentLoop loop;

    @AfterEach
    void stop() {
        if (loop != null) {
            loop.halt();
        }
    }

    @Test
    void aChangeOfTheLocalPostgresRunsACycleAtOnce() {
        HaClock clock = HaClock.system();
        FakePostgres fake = new FakeWorld(clock).add("node1", FakeTimings.INSTANT);
        PostgresProcess postgres = withChanged(fake);
        HaConfig config = HaConfig.builder().scope("test").name("node1").loopWait(LOOP_WAIT)
                .ttl(Duration.ofSeconds(300)).retryTimeout(Duration.ofSeconds(10)).build();
        InMemoryDcs dcs = InMemoryDcs.create(clock);
        HaController ha = HaController.builder().config(config).dcs(dcs.client("node1")).postgres(postgres)
                .clock(clock).build();
        loop = new AgentLoop("node1", ha, dcs.client("node1"), postgres, this::counted).start();

        // The new cluster is bootstrapped; then the loop waits for loop_wait, 100 s.
        TempPostgres.until("node1 leads with nothing running", DEADLINE, () -> {
            CycleResult r = loop.lastResult();
            return r != null && r.role() == PostgresRole.PRIMARY && r.lockHeld()
                    && r.nextCycleIn().compareTo(Duration.ofSeconds(10)) > 0;
        });
        TempPostgres.until("the loop asks PostgreSQL for changes between cycles", DEADLINE,
                () -> changedCalls.get() >= 3);
        int before = cycles.get();

        pgChanged.set(true);

        TempPostgres.until("a cycle ran because PostgreSQL changed", DEADLINE, () -> cycles.get() > before);
        assertThat(pgChanged).as("the change was consumed").isFalse();
    }

    @Test
    void aCycleThatThrowsAnErrorStopsTheLoopAndReportsIt() {
        HaClock clock = HaClock.system();
        FakePostgres fake = new FakeWorld(clock).add("node1", FakeTimings.INSTANT);
        PostgresProcess postgres = failingStatus(fake);
        HaConfig config = HaConfig.builder().scope("test").name("node1").loopWait(Duration.ofMillis(100))
                .ttl(Duration.ofSeconds(300)).retryTimeout(Duration.ofSeconds(10)).build();
        InMemoryDcs dcs = InMemoryDcs.create(clock);
        HaController ha = HaController.builder().config(config).dcs(dcs.client("node1")).postgres(postgres)
                .clock(clock).build();
        java.util.concurrent.atomic.AtomicReference<Error> fatal = new java.util.concurrent.atomic.AtomicReference<>();
        loop = new AgentLoop("node1", ha, dcs.client("node1"), postgres, this::counted).onFatal(fatal::set).start();

        // when a cycle meets an Error (here: the PostgreSQL adapter's class is gone from the class path)
        TempPostgres.until("the fatal error is reported", DEADLINE, () -> fatal.get() != null);

        // then it is handed to the host, and no more cycles run
        assertThat(fatal.get()).isInstanceOf(NoClassDefFoundError.class);
        int calls = statusCalls.get();
        TempPostgres.until("the loop asks PostgreSQL for changes a few more times", DEADLINE,
                () -> changedCalls.get() >= 5);
        assertThat(statusCalls.get()).as("no cycle ran after the fatal error").isEqualTo(calls);
    }

    private final AtomicInteger statusCalls = new AtomicInteger();

    /** {@code fake}, except that {@code status()} throws an Error and {@code changed()} always says yes. */
    private PostgresProcess failingStatus(FakePostgres fake) {
        return (PostgresProcess) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {PostgresProcess.class}, (proxy, method, args) -> {
                    if (method.getName().equals("changed") && method.getParameterCount() == 0) {
                        changedCalls.incrementAndGet();
                        return true;
                    }
                    if (method.getName().equals("status") && method.getParameterCount() == 0) {
                        statusCalls.incrementAndGet();
                        throw new NoClassDefFoundError("dev/pgha/postgres/local/Observer");
                    }
                    try {
                        return method.invoke(fake, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    private void counted(CycleResult r) {
        cycles.incrementAndGet();
    }

    /** {@code fake}, except that {@code changed()} reports (once) what the test set. */
    private PostgresProcess withChanged(FakePostgres fake) {
        return (PostgresProcess) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {PostgresProcess.class}, (proxy, method, args) -> {
                    if (method.getName().equals("changed") && method.getParameterCount() == 0) {
                        changedCalls.incrementAndGet();
                        return pgChanged.getAndSet(false);
                    }
                    try {
                        return method.invoke(fake, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
