package dev.pgha.testing;

import dev.pgha.CycleAction;
import dev.pgha.CycleResult;
import dev.pgha.HaConfig;
import dev.pgha.HaController;
import dev.pgha.LeaseGuard;
import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.MemberTags;
import dev.pgha.dcs.DcsClient;
import dev.pgha.dcs.DcsException;
import dev.pgha.dcs.inmemory.InMemoryDcs;
import dev.pgha.dcs.inmemory.InMemoryDcsClient;
import dev.pgha.postgres.PostgresOperation;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * One node under test, the way Patroni's {@code test_ha.py} sees it: a real {@link HaController}
 * over a {@link FakePostgres} and an {@link InMemoryDcs}, on a {@link ManualClock}. The rest of
 * the cluster is arranged directly: its DCS keys with {@link #given(ClusterView)} (built with
 * {@link Clusters} and {@link Members}), its servers as {@link #peer peers} in the same
 * {@link FakeWorld} (so clone and rewind have a source). Then {@link #runCycle()} and assert on
 * the result.
 *
 * <pre>{@code
 * HaScenario ha = HaScenario.create();              // node "postgresql0", Patroni's test settings
 * ha.runningReplicaOf("leader");                     // given a replica of a running primary
 * ha.given(Clusters.builder().initialize(ha.systemId()).member(Members.replica("other", 0)).build());
 * assertThat(ha.runCycle().message()).isEqualTo("promoted self to leader by acquiring session lock");
 * }</pre>
 */
public final class HaScenario {

    /** The node under test's name, as in Patroni's tests. */
    public static final String NAME = "postgresql0";

    private final ManualClock clock = new ManualClock();
    private final InMemoryDcs dcs;
    private final FakeWorld world;
    private final FakePostgres postgres;
    private final HaConfig config;
    private final RecordingListener listener = new RecordingListener();
    private final Map<String, Member> peers = new LinkedHashMap<>();
    private Instant guardDeadline;
    private java.util.function.BooleanSupplier guardActivation = () -> true;
    private java.util.function.BooleanSupplier guardCapability = () -> true;
    private int guardActivations;
    private HaController controller;
    private final Map<String, Deque<Runnable>> beforeDcsCalls = new LinkedHashMap<>();
    private final List<String> dcsCalls = new ArrayList<>();
    private InMemoryDcsClient dcsClient;

    private HaScenario(UnaryOperator<HaConfig.Builder> settings, FakeTimings timings) {
        this.dcs = InMemoryDcs.builder().clock(clock).waiter(clock::advance).build();
        this.world = new FakeWorld(clock);
        this.postgres = world.add(NAME, timings);
        this.config = settings.apply(HaConfig.builder().scope("test").name(NAME)
                .tags(MemberTags.DEFAULT)).build();
        this.controller = newController();
    }

    /** Patroni's test settings: ttl 30 s, loop_wait 10 s, retry_timeout 10 s, instant fake actions. */
    public static HaScenario create() {
        return create(b -> b);
    }

    /** Patroni's test settings adjusted by {@code settings}; instant fake actions. */
    public static HaScenario create(UnaryOperator<HaConfig.Builder> settings) {
        return create(settings, FakeTimings.INSTANT);
    }

    /** With the given fake timings (use them for actions that must stay in progress). */
    public static HaScenario create(UnaryOperator<HaConfig.Builder> settings, FakeTimings timings) {
        return new HaScenario(settings, timings);
    }

    private HaController newController() {
        LeaseGuard guard = new LeaseGuard() {
            @Override
            public void arm(Instant deadline) {
                guardDeadline = deadline;
            }

            @Override
            public void disarm() {
                guardDeadline = null;
            }

            @Override
            public boolean activate() {
                guardActivations++;
                return guardActivation.getAsBoolean();
            }

            @Override
            public boolean canActivate() {
                return guardCapability.getAsBoolean();
            }
        };
        dcsClient = dcs.client(NAME);
        return HaController.builder().config(config).dcs(intercepted(dcsClient)).postgres(postgres)
                .clock(clock).listener(listener).leaseGuard(guard).build();
    }

    /** The node's DCS client, with the hooks of {@link #beforeNextDcsCall} run before the named calls. */
    private DcsClient intercepted(DcsClient client) {
        return (DcsClient) Proxy.newProxyInstance(DcsClient.class.getClassLoader(), new Class<?>[] {DcsClient.class},
                (proxy, method, args) -> {
                    if (method.getDeclaringClass() == Object.class) {
                        return method.getName().equals("equals") ? proxy == args[0]
                                : method.getName().equals("hashCode") ? System.identityHashCode(proxy)
                                : "HaScenario.dcs(" + client + ")";
                    }
                    dcsCalls.add(method.getName());
                    Deque<Runnable> hooks = beforeDcsCalls.get(method.getName());
                    Runnable hook = hooks == null ? null : hooks.poll();
                    if (hook != null) {
                        hook.run();
                    }
                    try {
                        return method.invoke(client, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }

    // ---------------------------------------------------------------- the parts

    /**
     * What the node's lease guard answers to {@link LeaseGuard#activate()} (default true); false
     * acts like a guard in mode {@code required} whose process cannot start. Arming and disarming
     * are still recorded ({@link #guardDeadline()}).
     */
    public HaScenario guardActivation(java.util.function.BooleanSupplier value) {
        this.guardActivation = Objects.requireNonNull(value, "value");
        return this;
    }

    /**
     * What the node's lease guard answers to {@link LeaseGuard#canActivate()} (default true); false
     * acts like a guard in mode {@code required} known not to work: the node does not race and
     * publishes {@code watchdog_failed}.
     */
    public HaScenario guardCapability(java.util.function.BooleanSupplier value) {
        this.guardCapability = Objects.requireNonNull(value, "value");
        return this;
    }

    /** Uses {@code guard}'s {@code activate()} and {@code canActivate()} (arming is still only recorded). */
    public HaScenario guard(LeaseGuard guard) {
        return guardActivation(guard::activate).guardCapability(guard::canActivate);
    }

    /** How often the engine called the guard's {@code activate()}. */
    public int guardActivations() {
        return guardActivations;
    }

    /** The controller under test. */
    public HaController controller() {
        return controller;
    }

    /** The node's configuration. */
    public HaConfig config() {
        return config;
    }

    /** The node's fake PostgreSQL. */
    public FakePostgres postgres() {
        return postgres;
    }

    /** The shared DCS. */
    public InMemoryDcs dcs() {
        return dcs;
    }

    /** The clock. */
    public ManualClock clock() {
        return clock;
    }

    /** The fake machines. */
    public FakeWorld world() {
        return world;
    }

    /** Events the controller delivered, in order, as text. */
    public RecordingListener events() {
        return listener;
    }

    /** The deadline the lease guard is armed with, or null when disarmed. */
    public Instant guardDeadline() {
        return guardDeadline;
    }

    /** The node under test's system identifier (null before its data directory exists). */
    public String systemId() {
        return postgres.systemIdentifier();
    }

    /** A peer server in the same world, created on first use (stopped, empty data directory). */
    public FakePostgres peer(String name) {
        return world.find(name).orElseGet(() -> world.add(name, FakeTimings.INSTANT));
    }

    // ---------------------------------------------------------------- given

    /** Writes every key of {@code view} into the DCS (members and leader with the node's ttl). */
    public HaScenario given(ClusterView view) {
        Duration ttl = config.bootstrapDcs().ttl();
        if (view.initialize() != null) {
            dcs.putInitialize(view.initialize());
        }
        if (!view.config().data().isEmpty()) {
            dcs.putConfig(view.config());
        }
        view.leaderName().ifPresent(l -> dcs.putLeader(l, ttl));
        if (!view.status().equals(dev.pgha.cluster.ClusterStatus.EMPTY)) {
            dcs.putStatus(view.status());
        }
        for (Member m : view.members()) {
            dcs.putMember(m, ttl);
            if (!m.name().equals(NAME)) {
                peers.put(m.name(), m);
            }
        }
        if (view.failover() != null) {
            dcs.putFailover(view.failover());
        }
        if (view.sync() != null) {
            dcs.putSync(view.sync());
        }
        if (!view.history().entries().isEmpty()) {
            dcs.putHistory(view.history());
        }
        return this;
    }

    /**
     * The node under test leads: a running primary holding the lock of an initialized cluster whose
     * {@code config} key is its {@code bootstrap.dcs}, as the bootstrap winner writes it, with
     * healthy replicas named {@code replicas} at its WAL position (also the {@code status} key's);
     * one cycle has run, and it reported "the leader with the lock".
     */
    public HaScenario leading(String... replicas) {
        runningPrimary();
        long wal = postgres.walPosition().value();
        Clusters.Builder view = Clusters.builder().initialize(systemId()).leader(NAME)
                .member(Members.primary(NAME, wal)).status(wal).config(config.bootstrapDcs().toConfig());
        for (String replica : replicas) {
            view.member(Members.replica(replica, wal));
        }
        given(view.build());
        CycleResult first = runCycle();
        if (!first.lockHeld() || !first.message().equals("no action. I am (" + NAME + "), the leader with the lock")) {
            throw new IllegalStateException("the node under test is not the leader with the lock: " + first.message());
        }
        return this;
    }

    /**
     * Another tool changes the {@code config} key, as {@code patronictl edit-config -s key=value}
     * does: the top-level settings given replace those of the key, the rest stays.
     */
    public HaScenario editConfig(Map<String, Object> settings) {
        Map<String, Object> data = new LinkedHashMap<>(dcs.snapshot().config().data());
        data.putAll(settings);
        dcs.putConfig(new ClusterConfig(data, 0));
        return this;
    }

    /**
     * Another tool changes PostgreSQL parameters in the {@code config} key, as
     * {@code patronictl edit-config -p name=value} does.
     */
    public HaScenario editParameters(Map<String, Object> parameters) {
        Map<String, Object> data = new LinkedHashMap<>(dcs.snapshot().config().data());
        Map<String, Object> pg = new LinkedHashMap<>(section(data.get("postgresql")));
        Map<String, Object> params = new LinkedHashMap<>(section(pg.get("parameters")));
        params.putAll(parameters);
        pg.put("parameters", params);
        data.put("postgresql", pg);
        dcs.putConfig(new ClusterConfig(data, 0));
        return this;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> section(Object value) {
        return value instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    }

    /** The node under test runs as a primary of a new cluster (bootstrapped by the fake directly). */
    public HaScenario runningPrimary() {
        finish(postgres.bootstrap());
        return this;
    }

    /**
     * A peer {@code leader} runs as primary and the node under test runs as its streaming replica
     * (cloned from it).
     */
    public HaScenario runningReplicaOf(String leader) {
        FakePostgres primary = peer(leader);
        if (!primary.isWritable()) {
            finish(primary.bootstrap());
        }
        finish(postgres.cloneFrom(Member.named(leader)));
        finish(postgres.follow(Member.named(leader)));
        world.tick();
        return this;
    }

    /** Runs an operation of a fake to its end (advancing the clock in one-second steps, at most an hour). */
    public PostgresOperation.Outcome finish(PostgresOperation op) {
        for (int i = 0; i < 3600; i++) {
            PostgresOperation.Outcome outcome = op.poll();
            if (outcome != PostgresOperation.Outcome.RUNNING) {
                world.tick();
                return outcome;
            }
            clock.advanceSeconds(1);
        }
        throw new IllegalStateException("operation still running after an hour: " + op);
    }

    /**
     * Runs {@code action} once, just before the node's next call of the {@link DcsClient} method
     * {@code method} (e.g. {@code "acquireLeader"}, {@code "refreshLeader"}, {@code "initialize"},
     * {@code "touchMember"}): stages what another member does between this node's read of the
     * cluster and its write. Several hooks for one method run on successive calls.
     */
    public HaScenario beforeNextDcsCall(String method, Runnable action) {
        beforeDcsCalls.computeIfAbsent(requireDcsMethod(method), k -> new ArrayDeque<>()).add(action);
        return this;
    }

    /** The node's next call of the {@link DcsClient} method {@code method} throws {@code failure}. */
    public HaScenario failNextDcsCall(String method, RuntimeException failure) {
        return beforeNextDcsCall(method, () -> {
            throw failure;
        });
    }

    /** The node's next call of the {@link DcsClient} method {@code method} fails as an unreachable DCS would. */
    public HaScenario failNextDcsCall(String method) {
        return failNextDcsCall(method, new DcsException(DcsException.Reason.UNAVAILABLE,
                NAME + ": " + method + ": DCS unreachable (scripted by the test)"));
    }

    /** The node's own DCS client (the one behind the controller's interceptor). */
    public InMemoryDcsClient dcsClient() {
        return dcsClient;
    }

    /** The names of the {@link DcsClient} methods the node called so far, in order. */
    public List<String> dcsCalls() {
        return List.copyOf(dcsCalls);
    }

    private static String requireDcsMethod(String method) {
        for (var m : DcsClient.class.getMethods()) {
            if (m.getName().equals(method)) {
                return method;
            }
        }
        throw new IllegalArgumentException("DcsClient has no method " + method);
    }

    /**
     * The node's stopped PostgreSQL has been started by someone else (as when the agent comes up
     * and finds a postmaster still starting, Patroni's state "starting"): it has a postmaster,
     * reports {@code STARTING} and does not accept connections until it is stopped or crashes.
     * No operation of the fake runs, so the engine may stop, restart or reconfigure it.
     */
    public HaScenario postmasterStarting() {
        if (postgres.isPostmasterRunning()) {
            throw new IllegalStateException("PostgreSQL already runs: " + postgres);
        }
        postgres.hangStart();
        PostgresOperation start = postgres.start();
        if (start.poll() != PostgresOperation.Outcome.RUNNING) {
            throw new IllegalStateException("could not begin a start: " + start);
        }
        postgres.current = null; // the start was not the agent's: nothing tracks it, it just never completes
        return this;
    }

    // ---------------------------------------------------------------- when

    /** Runs one cycle of the node under test (after letting replication catch up). */
    public CycleResult runCycle() {
        world.tick();
        return controller.runCycle();
    }

    /**
     * The peers' agents publish again: every member key arranged with {@link #given} for another
     * node is written once more with a fresh ttl (its last given value).
     */
    public HaScenario peersPublish() {
        peers.values().forEach(m -> dcs.putMember(m, config.bootstrapDcs().ttl()));
        return this;
    }

    /**
     * Lets {@code duration} pass the way a host runs the node: a cycle, then its
     * {@code nextCycleIn} (at least a millisecond), and so on, while the peers keep publishing
     * their member keys ({@link #peersPublish()} before each cycle). Ends with the clock
     * {@code duration} later, or as soon as a cycle returns {@link CycleAction#SHUTDOWN} (the host
     * stops calling then).
     *
     * @return the last result, or null when none ran
     */
    public CycleResult cycleFor(Duration duration) {
        long end = clock.nanoTime() + duration.toNanos();
        CycleResult last = null;
        while (clock.nanoTime() - end < 0) {
            peersPublish();
            last = runCycle();
            if (last.action() == CycleAction.SHUTDOWN) {
                return last;
            }
            long step = Math.max(last.nextCycleIn().toNanos(), Duration.ofMillis(1).toNanos());
            clock.advance(Duration.ofNanos(Math.min(step, end - clock.nanoTime())));
        }
        return last;
    }

    /** Advances the clock, then runs one cycle. */
    public CycleResult runCycleAfter(Duration wait) {
        clock.advance(wait);
        return runCycle();
    }

    /** Runs cycles, advancing the clock by each result's {@code nextCycleIn}, until {@code n} have run; returns the last. */
    public CycleResult runCycles(int n) {
        CycleResult last = null;
        for (int i = 0; i < n; i++) {
            last = runCycle();
            clock.advance(last.nextCycleIn());
        }
        return Objects.requireNonNull(last);
    }

    /** The agent restarts: a new controller with no memory over the same PostgreSQL and DCS. */
    public HaScenario restartAgent() {
        controller = newController();
        return this;
    }
}
