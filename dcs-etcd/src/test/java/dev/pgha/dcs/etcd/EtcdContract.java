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
 * <p>Clients read from their watch-fed cache, as the adapter does by default: another client's
 * write shows once the watch delivered it ({@link #propagation()}); {@code EtcdWatchCacheTest}
 * covers the cache itself.
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
                .retryTimeout(RETRY_TIMEOUT).build();
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

    /** The watch delivers another client's write within milliseconds; the retry timeout bounds it. */
    @Override
    protected Duration propagation() {
        return RETRY_TIMEOUT;
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
