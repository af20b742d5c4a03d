package dev.pgha.testing;

import dev.pgha.ActionResult;
import dev.pgha.CycleResult;
import dev.pgha.HaConfig;
import dev.pgha.dcs.inmemory.Fault;
import dev.pgha.dcs.inmemory.InMemoryDcs;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;

/**
 * N HA controllers over one {@link InMemoryDcs}, N {@link FakePostgres} in one {@link FakeWorld},
 * all on one {@link ManualClock}: a whole cluster that runs thousands of cycles in milliseconds,
 * deterministically. Each node runs its next cycle when its last {@link CycleResult#nextCycleIn()}
 * has passed, like a host scheduler would. Each node has a fencing guard that kills its PostgreSQL
 * when the lease it was armed with passes unrenewed (what a real guard process does for a frozen
 * host); the clock stops at every armed guard deadline, so fencing happens at the exact instant.
 * When the leader key expires, the watch wakes the other nodes in the same step.
 *
 * <p>Faults: {@link #crashPostgres}, {@link #freeze}, {@link #partition}, {@link #setDcsAvailable},
 * {@link #restartAgent}, slow DCS calls ({@link #slowDcs}), {@link #slowPromote} and other
 * {@link FakePostgres} scripting; operator requests with {@link #switchover} and {@link #failover};
 * {@link #healAll()} ends every fault. {@link #log()} keeps the recent history for failure
 * messages; {@link #afterEachCycle} lets a test check invariants between the cycles of one step.
 */
public final class SimulatedCluster {

    private static final int LOG_LINES = 400;
    private static final Consumer<SimulatedNode> NO_HOOK = n -> { };

    private final ManualClock clock;
    private final InMemoryDcs dcs;
    private final FakeWorld world;
    private final Map<String, SimulatedNode> nodes = new LinkedHashMap<>();
    private final Deque<String> log = new ArrayDeque<>();
    private final Duration maxStep;
    private final int logLines;
    private Consumer<SimulatedNode> afterEachCycle = NO_HOOK;
    private long steps;
    private long cycles;
    /** The nodes in the middle of a call (a cycle or an operator request) on the simulation's thread. */
    private final Set<SimulatedNode> busy = new HashSet<>();

    private SimulatedCluster(Builder b) {
        this.clock = new ManualClock();
        this.dcs = InMemoryDcs.builder().clock(clock).waiter(this::letTimePass).build();
        this.world = new FakeWorld(clock, b.seed);
        this.maxStep = b.maxStep;
        this.logLines = b.logLines;
        for (String name : b.names) {
            HaConfig config = b.config.apply(HaConfig.builder().scope(b.scope).name(name)).build();
            nodes.put(name, new SimulatedNode(name, config, world.add(name, b.timings), dcs, clock));
        }
    }

    /** A builder: three nodes named node1..node3 with fast settings unless told otherwise. */
    public static Builder builder() {
        return new Builder();
    }

    /** The shared clock. */
    public ManualClock clock() {
        return clock;
    }

    /** The shared DCS. */
    public InMemoryDcs dcs() {
        return dcs;
    }

    /** The fake machines and their replication. */
    public FakeWorld world() {
        return world;
    }

    /** A node by name. */
    public SimulatedNode node(String name) {
        SimulatedNode n = nodes.get(name);
        if (n == null) {
            throw new IllegalArgumentException("no node named " + name + " in " + nodes.keySet());
        }
        return n;
    }

    /** All nodes, in the order given. */
    public Collection<SimulatedNode> nodes() {
        return nodes.values();
    }

    /** The holder of the leader key as the DCS says now. */
    public Optional<String> leader() {
        return dcs.leaderName();
    }

    /** The names of the nodes whose PostgreSQL accepts writes now. */
    public List<String> writablePrimaries() {
        return world.writablePrimaries().stream().map(FakePostgres::name).toList();
    }

    /**
     * Advances the clock to the next moment something is due (a node's cycle or an armed guard's
     * deadline), at most {@code maxStep}; enforces guards, lets the DCS notice expired keys (waking
     * the watchers), ticks replication, and runs every due node's cycle, in node order. Guards are
     * enforced again before and after every cycle.
     *
     * <p>A cycle may itself let time pass: a {@link #slowDcs slow DCS} call blocks its node for the
     * retry timeout. The other nodes do not wait for it: while it blocks, the simulation keeps
     * stepping the others (nested steps, up to the call's end), as if the blocked node's thread
     * were merely waiting on the network.
     *
     * @return the results of the cycles run in this step (not those of nested steps)
     */
    public List<CycleResult> step() {
        List<CycleResult> results = new ArrayList<>();
        stepUntil(Long.MAX_VALUE, results);
        return results;
    }

    /** One step that does not advance the clock past {@code limitNanos} (nanoTime) if that comes first. */
    private void stepUntil(long limitNanos, List<CycleResult> results) {
        long now = clock.nanoTime();
        long next = now + maxStep.toNanos();
        if (limitNanos != Long.MAX_VALUE && limitNanos - next < 0) {
            next = limitNanos;
        }
        for (SimulatedNode n : nodes.values()) {
            if (n.isCycling() && !n.isRestarting() && !busy.contains(n) && n.nextCycleNanos() - next < 0) {
                next = n.nextCycleNanos();
            }
            long guard = n.guardDeadlineNanos();
            if (guard != Long.MAX_VALUE && guard - next < 0) {
                next = guard;
            }
        }
        if (next - now > 0) {
            clock.advance(Duration.ofNanos(next - now));
        }
        steps++;
        enforceGuards();
        dcs.checkExpiry();
        world.tick();
        for (SimulatedNode n : nodes.values()) {
            if (!busy.contains(n) && n.isDue()) {
                enforceGuards();
                CycleResult r = call(n, n::runCycle);
                cycles++;
                record(n.name() + ": " + r.action() + ": " + r.message());
                if (results != null) {
                    results.add(r);
                }
                enforceGuards();
                afterEachCycle.accept(n);
            }
        }
        enforceGuards();
        world.tick();
    }

    /** Runs a call of node {@code n} (its cycle, an operator request), marking it busy meanwhile. */
    private <T> T call(SimulatedNode n, java.util.function.Supplier<T> body) {
        busy.add(n);
        try {
            return body.get();
        } finally {
            busy.remove(n);
        }
    }

    /**
     * The DCS's waiter: a slow call of a busy node lets {@code d} pass while the other nodes keep
     * stepping. Outside any call of the simulation (a test calling a controller directly) time
     * simply passes.
     */
    private void letTimePass(Duration d) {
        if (busy.isEmpty()) {
            clock.advance(d);
            return;
        }
        long end = clock.nanoTime() + d.toNanos();
        while (clock.nanoTime() - end < 0) {
            stepUntil(end, null);
        }
    }

    /**
     * Runs {@code hook} after every cycle of {@link #step()}, with the node that just cycled
     * (guards already enforced): to check invariants between the cycles of one step.
     */
    public void afterEachCycle(Consumer<SimulatedNode> hook) {
        this.afterEachCycle = Objects.requireNonNull(hook, "hook");
    }

    /** Steps taken so far. */
    public long steps() {
        return steps;
    }

    /** Cycles run so far, all nodes together. */
    public long cycles() {
        return cycles;
    }

    private void enforceGuards() {
        for (SimulatedNode n : nodes.values()) {
            if (n.enforceGuard()) {
                record(n.name() + ": guard " + (n.guardKilled() ? "fenced PostgreSQL" : "fired, PostgreSQL already down")
                        + " (lease passed unrenewed)");
            }
        }
    }

    /** Steps until the clock has advanced by {@code duration}. */
    public void runFor(Duration duration) {
        long end = clock.nanoTime() + duration.toNanos();
        while (clock.nanoTime() - end < 0) {
            step();
        }
    }

    /**
     * Steps until the condition holds or {@code limit} of simulated time has passed.
     *
     * @return whether the condition held
     */
    public boolean runUntil(Predicate<SimulatedCluster> condition, Duration limit) {
        long end = clock.nanoTime() + limit.toNanos();
        while (!condition.test(this)) {
            if (clock.nanoTime() - end >= 0) {
                return false;
            }
            step();
        }
        return true;
    }

    /**
     * Whether the cluster is healthy: exactly one writable primary, which holds the leader key, and
     * every other node runs as a replica streaming from it.
     */
    public boolean isConverged() {
        List<String> writable = writablePrimaries();
        Optional<String> leader = leader();
        if (writable.size() != 1 || leader.isEmpty() || !writable.get(0).equals(leader.get())) {
            return false;
        }
        for (SimulatedNode n : nodes.values()) {
            if (n.name().equals(leader.get())) {
                continue;
            }
            FakePostgres pg = n.postgres();
            if (!leader.get().equals(pg.upstream()) || pg.streamingStatus() != StreamingStatus.STREAMING) {
                return false;
            }
        }
        return true;
    }

    // ---------------------------------------------------------------- faults

    /** kill -9 of a node's postmaster (its agent keeps running). */
    public boolean crashPostgres(String name) {
        record(name + ": fault: postmaster killed");
        return node(name).postgres().crash();
    }

    /** The node's host freezes (true: it stops cycling) or thaws (false). PostgreSQL keeps running. */
    public void freeze(String name, boolean frozen) {
        record(name + ": fault: " + (frozen ? "agent frozen" : "agent resumed"));
        node(name).setCycling(!frozen);
    }

    /** Cuts the node off the DCS (true) or heals it (false). */
    public void partition(String name, boolean cut) {
        record(name + ": fault: " + (cut ? "partitioned from DCS" : "partition healed"));
        dcs.fault(name, cut ? Fault.PARTITIONED : Fault.NONE);
    }

    /** Makes the node's DCS calls take the whole retry timeout and fail (true), or heals it. */
    public void slowDcs(String name, boolean slow) {
        record(name + ": fault: " + (slow ? "DCS slow" : "DCS fast again"));
        dcs.fault(name, slow ? Fault.SLOW : Fault.NONE);
    }

    /** The DCS goes down (false) or comes back (true) for everyone. */
    public void setDcsAvailable(boolean available) {
        record("fault: DCS " + (available ? "back" : "down for everyone"));
        dcs.setAvailable(available);
    }

    /** The node's agent restarts with no memory; its PostgreSQL keeps running. */
    public void restartAgent(String name) {
        record(name + ": fault: agent restarted");
        node(name).restartAgent();
    }

    /** The next promote of the node takes {@code duration} (a slow {@code pg_ctl promote}). */
    public void slowPromote(String name, Duration duration) {
        record(name + ": fault: next promote takes " + duration.toMillis() / 1000.0 + "s");
        node(name).postgres().slowNext(FakeOperation.Kind.PROMOTE, duration);
    }

    /**
     * An operator asks for a switchover through node {@code via}'s controller (like
     * {@code patronictl switchover}); the answer is logged and returned.
     *
     * @param candidate the member to promote, or null for the healthiest
     * @param scheduledAt when, or null for now
     */
    public ActionResult switchover(String via, String candidate, Instant scheduledAt) {
        SimulatedNode n = node(via);
        ActionResult r = call(n, () -> n.controller().switchover(candidate, scheduledAt));
        record(via + ": request: switchover to " + (candidate == null ? "any" : candidate)
                + (scheduledAt == null ? "" : " at " + scheduledAt) + ": "
                + (r.accepted() ? "accepted" : "refused") + ": " + r.message());
        return r;
    }

    /** An operator asks for a manual failover to {@code candidate} through node {@code via}'s controller. */
    public ActionResult failover(String via, String candidate) {
        SimulatedNode n = node(via);
        ActionResult r = call(n, () -> n.controller().failover(candidate));
        record(via + ": request: failover to " + candidate + ": " + (r.accepted() ? "accepted" : "refused") + ": "
                + r.message());
        return r;
    }

    /**
     * Ends every fault: frozen agents resume, DCS partitions and slowness heal, the DCS is
     * available, servers receive WAL again, and scripted PostgreSQL outcomes not consumed yet are dropped (operations already
     * running keep their scripted duration).
     */
    public void healAll() {
        record("fault: heal everything");
        for (SimulatedNode n : nodes.values()) {
            n.setCycling(true);
            n.postgres().clearScript();
            n.postgres().pauseReplication(false);
        }
        dcs.clearFaults();
        dcs.setAvailable(true);
    }

    /**
     * A client commits {@code bytes} of WAL on the writable primary, if there is one; the fake
     * acknowledges it as synchronous commit would ({@link FakeWorld#commit}).
     */
    public boolean write(long bytes) {
        List<String> writable = writablePrimaries();
        return writable.size() == 1 && world.commit(writable.get(0), bytes);
    }

    /** Adds a line to the log (with the simulated time). */
    public void record(String line) {
        if (log.size() >= logLines) {
            log.removeFirst();
        }
        long tenths = clock.nanoTime() / 100_000_000L;
        String t = (tenths / 10) + "." + (tenths % 10);
        StringBuilder sb = new StringBuilder(line.length() + 16).append("t=");
        for (int i = t.length(); i < 8; i++) {
            sb.append(' ');
        }
        log.addLast(sb.append(t).append("s ").append(line).toString());
    }

    /** The recent history, one line per event, oldest first. */
    public String log() {
        return String.join("\n", log);
    }

    /** The wall time now. */
    public Instant now() {
        return clock.wallTime();
    }

    /** Configures a {@link SimulatedCluster}. */
    public static final class Builder {
        private List<String> names = List.of("node1", "node2", "node3");
        private String scope = "sim";
        private long seed;
        private FakeTimings timings = FakeTimings.DEFAULTS;
        private Duration maxStep = Duration.ofSeconds(1);
        private int logLines = LOG_LINES;
        private UnaryOperator<HaConfig.Builder> config = b -> b.ttl(Duration.ofSeconds(30))
                .loopWait(Duration.ofSeconds(10)).retryTimeout(Duration.ofSeconds(10)).usePgRewind(true);

        private Builder() {
        }

        /** Node names (default node1..node3). */
        public Builder nodes(String... value) {
            this.names = List.of(value);
            return this;
        }

        /** {@code count} nodes named node1..nodeN. */
        public Builder nodes(int count) {
            List<String> list = new ArrayList<>();
            for (int i = 1; i <= count; i++) {
                list.add("node" + i);
            }
            this.names = list;
            return this;
        }

        /** The scope (default "sim"). */
        public Builder scope(String value) {
            this.scope = Objects.requireNonNull(value);
            return this;
        }

        /** The seed of the fake world (system identifiers). */
        public Builder seed(long value) {
            this.seed = value;
            return this;
        }

        /** The fake PostgreSQL's operation timings (default {@link FakeTimings#DEFAULTS}). */
        public Builder timings(FakeTimings value) {
            this.timings = Objects.requireNonNull(value);
            return this;
        }

        /** The longest the clock jumps in one step (default 1 s). */
        public Builder maxStep(Duration value) {
            this.maxStep = Objects.requireNonNull(value);
            return this;
        }

        /** How many lines {@link SimulatedCluster#log()} keeps, newest last (default 400). */
        public Builder logLines(int value) {
            if (value < 1) {
                throw new IllegalArgumentException("logLines must be positive: " + value);
            }
            this.logLines = value;
            return this;
        }

        /**
         * Adjusts every node's configuration (scope and name are already set). The default is
         * Patroni's timing with {@code use_pg_rewind} on.
         */
        public Builder config(UnaryOperator<HaConfig.Builder> value) {
            this.config = Objects.requireNonNull(value);
            return this;
        }

        /** Builds the cluster; nothing runs until {@link SimulatedCluster#step()}. */
        public SimulatedCluster build() {
            return new SimulatedCluster(this);
        }
    }
}
