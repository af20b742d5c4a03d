package dev.pgha.dcs.etcd;

import dev.pgha.HaClock;
import dev.pgha.dcs.DcsClient;
import dev.pgha.testing.DcsClientContractTest;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The DCS contract against a real etcd on real time: each test gets a fresh scope on the shared
 * server; TTLs are 2 s (the server runs with short raft timeouts, so 1-2 s leases work); an
 * unreachable store is a {@link BlackHole} endpoint that accepts connections and never answers.
 *
 * <p>The suite reads with the watch cache off ({@code watchCache(false)}): several of its tests
 * read with one client right after another client wrote and expect the write, which only a
 * linearizable read guarantees (the watch may deliver it a few milliseconds later). The lock,
 * member and watch rules are the same in both modes; {@code EtcdWatchCacheTest} covers the cache.
 */
abstract class EtcdContract extends DcsClientContractTest {

    static final Duration RETRY_TIMEOUT = Duration.ofSeconds(3);

    private String scope;
    private BlackHole blackHole;

    /** The endpoints clients of this suite use. */
    protected abstract List<String> endpoints();

    @Override
    protected void openStore() {
        scope = "contract-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Override
    protected void closeStore() {
        if (blackHole != null) {
            blackHole.close();
            blackHole = null;
        }
    }

    @Override
    protected DcsClient newClient(String member) {
        return EtcdDcsClient.builder().endpoints(endpoints()).scope(scope).member(member)
                .retryTimeout(RETRY_TIMEOUT).watchCache(false).build();
    }

    @Override
    protected DcsClient newUnreachableClient(String member) {
        blackHole = new BlackHole();
        return EtcdDcsClient.builder().endpoints(blackHole.endpoint()).scope(scope).member(member)
                .connectTimeout(Duration.ofMillis(500)).build();
    }

    @Override
    protected HaClock clock() {
        return HaClock.system();
    }

    @Override
    protected void pass(Duration step) {
        try {
            TimeUnit.NANOSECONDS.sleep(step.toNanos());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Override
    protected Duration ttl() {
        return Duration.ofSeconds(2);
    }

    /** etcd's leader checks for expired leases every 500 ms, and the revocation goes through raft. */
    @Override
    protected Duration expiryGrace() {
        return Duration.ofMillis(1500);
    }

    /** Real time: keep clear of scheduling delays around a ttl. */
    @Override
    protected Duration timingMargin() {
        return Duration.ofMillis(500);
    }

    @Override
    protected Duration unreachableRetryTimeout() {
        return Duration.ofMillis(600);
    }

    @Override
    protected Duration timeoutGrace() {
        return Duration.ofMillis(250);
    }
}
