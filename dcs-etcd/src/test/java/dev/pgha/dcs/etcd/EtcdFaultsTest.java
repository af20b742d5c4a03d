package dev.pgha.dcs.etcd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.cluster.Failover;
import dev.pgha.dcs.DcsException;
import dev.pgha.testing.EtcdServer;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The adapter under etcd member faults with clients that are already connected: a member that
 * hangs (SIGSTOP) and the loss of quorum. No call may outlive the retry timeout, service must come
 * back on its own, and the watch must survive errors jetcd does not recover from.
 */
class EtcdFaultsTest {

    private static final Logger LOG = LoggerFactory.getLogger(EtcdFaultsTest.class);
    private static final Duration RETRY_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration GRACE = Duration.ofMillis(250);
    private static final Duration TTL = Duration.ofSeconds(5);

    private final String scope = "faults-" + UUID.randomUUID().toString().substring(0, 8);

    private EtcdDcsClient client(EtcdServer etcd, String member) {
        return EtcdDcsClient.builder().endpoints(etcd.endpoints()).scope(scope).member(member)
                .retryTimeout(RETRY_TIMEOUT).build();
    }

    @Test
    void aMemberHangingUnderAConnectedClientCostsAtMostTheRetryTimeoutPerCallUntilItIsAvoided() {
        try (EtcdServer etcd = EtcdServer.start(3); EtcdDcsClient c = client(etcd, "node1")) {
            assertThat(c.acquireLeader(TTL)).isTrue();
            for (int i = 0; i < 30; i++) {
                assertThat(c.refreshLeader(TTL)).as("warm-up: every member connected").isTrue();
            }

            etcd.freeze(1);
            long start = System.nanoTime();
            int inARow = 0;
            int failures = 0;
            while (inARow < 30) {
                assertThat(Duration.ofNanos(System.nanoTime() - start)).as("calls keep failing").isLessThan(Duration.ofSeconds(25));
                long t = System.nanoTime();
                try {
                    assertThat(c.refreshLeader(TTL)).as("nobody else can hold the lock").isTrue();
                    inARow++;
                } catch (DcsException e) {
                    failures++;
                    inARow = 0;
                    assertThat(e.reason()).isIn(DcsException.Reason.TIMEOUT, DcsException.Reason.UNAVAILABLE);
                }
                assertThat(Duration.ofNanos(System.nanoTime() - t)).as("one call").isLessThanOrEqualTo(RETRY_TIMEOUT.plus(GRACE));
            }
            LOG.info("member frozen: {} calls failed in time; 30 in a row succeeded {} after the freeze", failures,
                    Duration.ofNanos(System.nanoTime() - start));
        }
    }

    @Test
    void afterQuorumLossCallsFailInTimeAndTheWatchComesBackOnItsOwn() {
        try (EtcdServer etcd = EtcdServer.start(3);
             EtcdDcsClient watcher = client(etcd, "node1");
             EtcdDcsClient writer = client(etcd, "node2")) {
            AtomicInteger changes = new AtomicInteger();
            watcher.watch(changes::incrementAndGet);
            assertThat(writer.acquireLeader(TTL)).isTrue();
            await("the watch reports the new leader key", Duration.ofSeconds(5), () -> changes.get() > 0);

            etcd.kill(1);
            etcd.kill(2);
            for (int i = 0; i < 3; i++) {
                long t = System.nanoTime();
                assertThatThrownBy(() -> writer.refreshLeader(TTL)).isInstanceOf(DcsException.class);
                assertThat(Duration.ofNanos(System.nanoTime() - t)).isLessThanOrEqualTo(RETRY_TIMEOUT.plus(GRACE));
            }
            await("jetcd gives the watch up without a raft leader; the adapter subscribes again",
                    Duration.ofSeconds(15), () -> watcher.watchRestarts() > 0);

            etcd.restart(1);
            etcd.restart(2);
            etcd.awaitHealthy(Duration.ofSeconds(20));
            int seen = changes.get();
            await("a write accepted again", Duration.ofSeconds(10), () -> {
                try {
                    return writer.setFailover(new Failover(null, "node1", null, 0), -1);
                } catch (DcsException e) {
                    return false;
                }
            });
            await("the re-subscribed watch reports the failover key", Duration.ofSeconds(15), () -> changes.get() > seen);
        }
    }

    private static void await(String what, Duration within, BooleanSupplier condition) {
        long end = System.nanoTime() + within.toNanos();
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - end).as(what + " within " + within).isNegative();
            try {
                TimeUnit.MILLISECONDS.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }
}
