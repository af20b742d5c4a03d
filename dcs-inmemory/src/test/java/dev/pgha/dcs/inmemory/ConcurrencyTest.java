package dev.pgha.dcs.inmemory;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ConcurrencyTest {

    private static final Duration TTL = Duration.ofSeconds(30);
    private static final int THREADS = 16;

    private final TestClock clock = new TestClock();
    private final InMemoryDcs dcs = InMemoryDcs.create(clock);
    private final ExecutorService pool = Executors.newFixedThreadPool(THREADS);

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    @Test
    void exactlyOneOfManyConcurrentAcquirersWins() throws Exception {
        for (int round = 0; round < 50; round++) {
            List<Boolean> results = race(i -> {
                String name = "node" + i;
                return dcs.client(name).acquireLeader(TTL);
            });

            assertThat(results).filteredOn(Boolean::booleanValue).hasSize(1);
            String winner = "node" + results.indexOf(true);
            assertThat(dcs.leaderName()).contains(winner);
            assertThat(dcs.client(winner).releaseLeader()).isTrue();
        }
    }

    @Test
    void exactlyOneConcurrentRefreshOfAnExpiredKeyWins() throws Exception {
        dcs.client("node0").acquireLeader(TTL);
        clock.advance(TTL);

        List<Boolean> results = race(i -> {
            String name = "node" + i;
            return i % 2 == 0 ? dcs.client(name).refreshLeader(TTL) : dcs.client(name).acquireLeader(TTL);
        });

        assertThat(results).filteredOn(Boolean::booleanValue).hasSize(1);
        assertThat(dcs.leaderName()).contains("node" + results.indexOf(true));
    }

    @Test
    void exactlyOneConcurrentInitializeWins() throws Exception {
        List<Boolean> results = race(i -> dcs.client("node" + i).initialize(""));

        assertThat(results).filteredOn(Boolean::booleanValue).hasSize(1);
    }

    @Test
    void concurrentWritesReadsAndWatchesStayConsistent() throws Exception {
        AtomicInteger wakeUps = new AtomicInteger();
        dcs.client("observer").watch(wakeUps::incrementAndGet);

        List<Boolean> results = race(i -> {
            String name = "node" + i;
            InMemoryDcsClient client = dcs.client(name);
            for (int n = 0; n < 200; n++) {
                client.touchMember(KeysTest.member(name, "running"), TTL);
                if (client.acquireLeader(TTL)) {
                    client.readCluster();
                    client.releaseLeader();
                }
                assertThat(client.readCluster().member(name)).isPresent();
            }
            return true;
        });

        assertThat(results).containsOnly(true);
        assertThat(dcs.snapshot().members()).hasSize(THREADS);
        assertThat(dcs.leaderName()).isEmpty();
        assertThat(wakeUps.get()).isPositive().isEven();
    }

    private interface Task {
        boolean run(int index) throws Exception;
    }

    /** Runs the task on every thread at once (released together by a latch) and collects the results. */
    private List<Boolean> race(Task task) throws Exception {
        CountDownLatch ready = new CountDownLatch(THREADS);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> futures = new ArrayList<>();
        for (int i = 0; i < THREADS; i++) {
            int index = i;
            Callable<Boolean> call = () -> {
                ready.countDown();
                go.await();
                return task.run(index);
            };
            futures.add(pool.submit(call));
        }
        ready.await();
        go.countDown();
        List<Boolean> results = new ArrayList<>();
        for (Future<Boolean> f : futures) {
            results.add(f.get());
        }
        return results;
    }
}
