package dev.pgha.postgres.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;

/** The cheap liveness look {@code LocalPostgres.changed()} takes: gone, zombie, and a number that was never ours. */
class ProcessWatchTest {

    @Test
    void aRunningProcessIsAliveUntilItIsKilledAndReaped() throws Exception {
        Process p = new ProcessBuilder("sleep", "60").start();
        try (ProcessWatch watch = ProcessWatch.of(p.pid())) {
            assertThat(watch).isNotNull();
            assertThat(watch.alive()).isTrue();
            assertThat(watch.alive()).as("asked again").isTrue();
            p.destroyForcibly();
            assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();   // reaped by this JVM
            assertThat(watch.alive()).isFalse();
            assertThat(watch.alive()).as("stays gone").isFalse();
        } finally {
            p.destroyForcibly();
        }
    }

    @Test
    void aZombieIsNotAlive() throws Exception {
        // the background sleep's parent becomes the exec'd "sleep 60", which never reaps it
        Process parent = new ProcessBuilder("bash", "-c", "sleep 0.2 & echo $!; exec sleep 60").start();
        try {
            long child = Long.parseLong(new BufferedReader(new InputStreamReader(parent.getInputStream(),
                    StandardCharsets.UTF_8)).readLine().strip());
            ProcessWatch watch = ProcessWatch.of(child);
            assertThat(watch).isNotNull();
            assertThat(within(Duration.ofSeconds(10), () -> !watch.alive())).as("the exited, unreaped child").isTrue();
        } finally {
            parent.destroyForcibly();
        }
    }

    @Test
    void aNumberWithoutAProcessGivesNoWatch() {
        assertThat(ProcessWatch.of(Integer.MAX_VALUE)).isNull();
    }

    private static boolean within(Duration limit, BooleanSupplier condition) {
        long end = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() - end < 0) {
            if (condition.getAsBoolean()) {
                return true;
            }
            LockSupport.parkNanos(5_000_000);   // polled: the condition decides
        }
        return condition.getAsBoolean();
    }
}
