package dev.pgha.dcs.etcd;

import dev.pgha.CycleResult;
import dev.pgha.HaClock;
import dev.pgha.HaConfig;
import dev.pgha.HaController;
import dev.pgha.LeaseGuard;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.dcs.DcsClient;
import dev.pgha.testing.EtcdServer;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.FakeWorld;
import dev.pgha.testing.StreamingStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Three (or more) {@link HaController}s over real etcd, each with its own {@link EtcdDcsClient}
 * and a {@link FakePostgres} in one {@link FakeWorld} on the system clock: a cluster that runs in
 * real time. The test thread is the hosts' scheduler: it runs each node's cycle when its
 * {@link CycleResult#nextCycleIn()} has passed, or at once when the node's DCS watch reports a
 * change, and otherwise waits (woken by the watches). Each node has a fencing guard that crashes
 * its PostgreSQL when its lease deadline passes unrenewed, as a guard process would for a frozen
 * host.
 */
final class RealTimeHaCluster implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(RealTimeHaCluster.class);
    private static final long MAX_WAIT_MILLIS = 50;

    private final FakeWorld world = new FakeWorld(HaClock.system());
    private final Map<String, Node> nodes = new LinkedHashMap<>();
    private final EtcdDcsClient observer;
    private final Object wakeLock = new Object();
    private boolean woken;

    RealTimeHaCluster(EtcdServer etcd, String scope, HaConfig.Builder config, List<String> names) {
        FakeTimings timings = new FakeTimings(ms(200), ms(200), Duration.ZERO, ms(200), ms(500), ms(300), ms(300),
                ms(500), ms(100));
        for (String name : names) {
            HaConfig c = config.scope(scope).name(name).build();
            EtcdDcsClient dcs = EtcdDcsClient.builder().endpoints(etcd.endpoints()).scope(scope).member(name)
                    .retryTimeout(c.bootstrapDcs().retryTimeout()).build();
            nodes.put(name, new Node(name, c, dcs, world.add(name, timings)));
        }
        observer = EtcdDcsClient.builder().endpoints(etcd.endpoints()).scope(scope).member("observer").build();
    }

    /** Runs the hosts' scheduler until {@code condition} holds or {@code limit} passes. */
    boolean runUntil(BooleanSupplier condition, Duration limit) {
        long end = System.nanoTime() + limit.toNanos();
        while (true) {
            enforceGuards();
            world.tick();
            long next = Long.MAX_VALUE;
            for (Node n : nodes.values()) {
                if (n.cycling && System.nanoTime() - n.due >= 0) {
                    n.runCycle();
                    enforceGuards();
                    world.tick();
                }
                if (n.cycling) {
                    next = Math.min(next, n.due);
                }
            }
            if (condition.getAsBoolean()) {
                return true;
            }
            long now = System.nanoTime();
            if (now - end >= 0) {
                return false;
            }
            long waitMillis = Math.max(1, Math.min(MAX_WAIT_MILLIS, (Math.min(next, end) - now) / 1_000_000));
            synchronized (wakeLock) {
                if (!woken) {
                    try {
                        wakeLock.wait(waitMillis);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                }
                woken = false;
            }
        }
    }

    /** The holder of the leader key, as etcd says now. */
    Optional<String> leader() {
        return observer.readCluster().leaderName();
    }

    /** The observer's client (reads the cluster like another tool would). */
    DcsClient observer() {
        return observer;
    }

    /** Names of the nodes whose PostgreSQL accepts writes. */
    List<String> writablePrimaries() {
        return world.writablePrimaries().stream().map(FakePostgres::name).toList();
    }

    /**
     * Whether the cycling nodes form a healthy cluster: the leader key holder is the one writable
     * primary among them, every other cycling node streams from it, and every cycling node has
     * published itself as running, with its WAL position, in its member key.
     */
    boolean isConverged() {
        ClusterView view = observer.readCluster();
        Optional<String> leader = view.leaderName();
        if (leader.isEmpty() || !nodes.get(leader.get()).cycling) {
            return false;
        }
        for (Node n : nodes.values()) {
            Optional<Member> published = view.member(n.name);
            if (n.cycling && (published.isEmpty() || !published.get().isRunning()
                    || published.get().xlogLocation() == null)) {
                return false;
            }
        }
        List<String> writable = new ArrayList<>();
        for (Node n : nodes.values()) {
            if (n.cycling && n.pg.isWritable()) {
                writable.add(n.name);
            }
        }
        if (!writable.equals(List.of(leader.get()))) {
            return false;
        }
        return nodes.values().stream().filter(n -> n.cycling && !n.name.equals(leader.get()))
                .allMatch(n -> leader.get().equals(n.pg.upstream()) && n.pg.streamingStatus() == StreamingStatus.STREAMING);
    }

    /** Stops calling the node's cycles (a frozen host); its PostgreSQL keeps running until fenced. */
    void freeze(String name) {
        nodes.get(name).cycling = false;
        LOG.info("{}: host frozen (no more cycles)", name);
    }

    /** Whether the node's PostgreSQL accepts writes. */
    boolean isWritable(String name) {
        return nodes.get(name).pg.isWritable();
    }

    /** How often the node's guard fenced its PostgreSQL. */
    int fencings(String name) {
        return nodes.get(name).fencings;
    }

    /** The node's last cycle result. */
    CycleResult lastResult(String name) {
        return nodes.get(name).last;
    }

    private void enforceGuards() {
        Instant now = Instant.now();
        for (Node n : nodes.values()) {
            Instant deadline = n.guardDeadline;
            if (deadline != null && !now.isBefore(deadline)) {
                n.guardDeadline = null;
                n.fencings++;
                LOG.info("{}: guard fenced PostgreSQL: lease deadline {} passed unrenewed", n.name, deadline);
                n.pg.crash();
            }
        }
    }

    private void wake(Node n) {
        n.due = System.nanoTime();
        synchronized (wakeLock) {
            woken = true;
            wakeLock.notifyAll();
        }
    }

    @Override
    public void close() {
        for (Node n : nodes.values()) {
            n.subscription.close();
            n.dcs.close();
        }
        observer.close();
    }

    private static Duration ms(long millis) {
        return Duration.ofMillis(millis);
    }

    /** One host: its controller, DCS client, fake PostgreSQL, guard and schedule. */
    private final class Node implements LeaseGuard {
        final String name;
        final EtcdDcsClient dcs;
        final FakePostgres pg;
        final HaController controller;
        final DcsClient.Subscription subscription;
        volatile long due = System.nanoTime();
        volatile boolean cycling = true;
        volatile Instant guardDeadline;
        CycleResult last;
        int fencings;

        Node(String name, HaConfig config, EtcdDcsClient dcs, FakePostgres pg) {
            this.name = name;
            this.dcs = dcs;
            this.pg = pg;
            this.controller = HaController.builder().config(config).dcs(dcs).postgres(pg).leaseGuard(this).build();
            this.subscription = dcs.watch(() -> wake(this));
        }

        void runCycle() {
            last = controller.runCycle();
            due = System.nanoTime() + last.nextCycleIn().toNanos();
            LOG.debug("{}: {}: {}", name, last.action(), last.message());
        }

        @Override
        public void arm(Instant leaseDeadline) {
            guardDeadline = leaseDeadline;
        }

        @Override
        public void disarm() {
            guardDeadline = null;
        }
    }
}
