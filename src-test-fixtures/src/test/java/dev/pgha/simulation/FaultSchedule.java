package dev.pgha.simulation;

import dev.pgha.dcs.inmemory.Fault;
import dev.pgha.simulation.InvariantViolation.Invariant;
import dev.pgha.testing.SimulatedCluster;
import dev.pgha.testing.SimulatedNode;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * One seeded random fault schedule over a {@link SimulatedCluster}: bootstrap until converged, then
 * {@code 1..MAX_FAULTS} random faults with random gaps (some overlapping, some at the same
 * instant), with writes on the primary throughout; then everything heals and the cluster must
 * converge within {@link SimulationConfig#convergenceBound()}. The safety {@link Invariants} are
 * checked after every cycle and every step.
 *
 * <p>Everything is drawn from one {@link SplittableRandom} seeded with the schedule's seed, and the
 * simulated cluster is deterministic given the same calls, so a seed replays exactly. Fault
 * targets are drawn from the cluster's state at that moment (mostly the current leader), which is
 * itself a function of the seed.
 */
final class FaultSchedule {

    /** The most faults one schedule injects. */
    static final int MAX_FAULTS = 8;

    /** What can go wrong, with the weights they are drawn with. */
    enum Kind {
        /** kill -9 of a postmaster. */
        CRASH(3),
        /** The agent stops cycling (frozen JVM) for a while; PostgreSQL keeps running. */
        FREEZE(3),
        /** One node cannot reach the DCS for a while. */
        PARTITION(3),
        /** The DCS is down for everyone for a while. */
        DCS_DOWN(1),
        /** One node's DCS calls each take the whole retry timeout and fail, for a while. */
        SLOW_DCS(2),
        /** A replica's next promote takes long. */
        SLOW_PROMOTE(2),
        /** An agent restarts with no memory; PostgreSQL survives, the running operation is killed. */
        RESTART_AGENT(2),
        /** A switchover (or manual failover) request, accepted or refused. */
        SWITCHOVER(3),
        /** The operator pauses the cluster (maintenance mode) for a while, then resumes it. */
        PAUSE(2),
        /** One server stops receiving WAL for a while (a slow network or disk): it lags. */
        LAG(2),
        /**
         * The operator restarts one member's PostgreSQL ({@code POST /restart}); a synchronous
         * standby first asks the primary to release it.
         */
        RESTART_POSTGRES(2);

        final int weight;

        Kind(int weight) {
            this.weight = weight;
        }

        static final int TOTAL_WEIGHT = Arrays.stream(values()).mapToInt(k -> k.weight).sum();

        static Kind draw(SplittableRandom rnd) {
            int x = rnd.nextInt(TOTAL_WEIGHT);
            for (Kind k : values()) {
                x -= k.weight;
                if (x < 0) {
                    return k;
                }
            }
            throw new AssertionError();
        }
    }

    /** A fault that lasts until {@code endNanos}. */
    private record Active(Kind kind, String node, long endNanos) {
    }

    /** The outcome of one schedule. */
    record Result(long seed, SimulationConfig config, InvariantViolation failure, long steps, long cycles,
                  int faults, Duration simulated, Duration convergence, List<String> faultList, String log) {

        boolean ok() {
            return failure == null;
        }
    }

    private final SplittableRandom rnd;
    private final SimulationConfig config;
    private final SimulatedCluster sim;
    private final Invariants invariants;
    private final List<String> faultList = new ArrayList<>();
    private final List<Active> active = new ArrayList<>();
    private int faults;
    /** A request that may promote an asynchronous standby is not done yet (see invariant 7). */
    private boolean operatorRequestOpen;
    /** While paused: the nodes writable when the pause began or made so by a request since; else null. */
    private java.util.Set<String> mayWriteInPause;
    /** While paused: the nodes whose PostgreSQL crashed during the pause (they must stay down). */
    private final java.util.Set<String> crashedInPause = new java.util.HashSet<>();
    /** While paused: the nodes whose agent has seen the pause with no action of its own in progress. */
    private final java.util.Set<String> inPause = new java.util.HashSet<>();
    /** How long the cluster took to converge after everything healed (null until it did). */
    private Duration convergence;

    private FaultSchedule(long seed, boolean fullLog) {
        this.rnd = new SplittableRandom(seed);
        this.config = SimulationConfig.draw(rnd);
        this.sim = SimulatedCluster.builder().nodes(config.nodes()).seed(seed).timings(config.timings())
                .config(config.haConfig()).logLines(fullLog ? Integer.MAX_VALUE : 200).build();
        this.invariants = new Invariants(sim, config.promisesNoLoss());
        sim.afterEachCycle(invariants::afterCycle);
    }

    /**
     * Runs the schedule of {@code seed}.
     *
     * @param fullLog keep the whole log (for a replay) instead of its tail
     * @return the result; the log and fault list are kept only on failure or with {@code fullLog}
     */
    static Result run(long seed, boolean fullLog) {
        FaultSchedule s = new FaultSchedule(seed, fullLog);
        InvariantViolation failure = null;
        try {
            s.play();
        } catch (InvariantViolation v) {
            failure = v;
        } catch (RuntimeException | AssertionError e) {
            failure = new InvariantViolation(Invariant.CYCLE_NEVER_FAILS, "the simulation threw " + e, e);
        }
        if (failure != null) {
            s.sim.record("FAILED: " + failure.getMessage());
        }
        boolean keep = fullLog || failure != null;
        return new Result(seed, s.config, failure, s.sim.steps(), s.sim.cycles(), s.faults, s.sim.clock().elapsed(),
                s.convergence, keep ? List.copyOf(s.faultList) : List.of(), keep ? s.sim.log() : "");
    }

    private void play() {
        Duration bound = config.convergenceBound();
        if (!runUntilConverged(bound)) {
            throw new InvariantViolation(Invariant.CONVERGENCE,
                    "the cluster did not converge within " + SimulationConfig.s(bound) + " after bootstrap; " + state());
        }
        int k = 1 + rnd.nextInt(MAX_FAULTS);
        for (int i = 0; i < k; i++) {
            runFor(gap());
            inject();
        }
        runFor(millis(2 * config.ttl().toMillis()));
        sim.healAll();
        active.clear();
        setPaused(false);
        note("heal everything");
        long healed = sim.clock().nanoTime();
        if (!runUntilConverged(bound)) {
            throw new InvariantViolation(Invariant.CONVERGENCE, "the cluster did not converge within "
                    + SimulationConfig.s(bound) + " after every fault healed; " + state());
        }
        convergence = Duration.ofNanos(sim.clock().nanoTime() - healed);
        note("converged");
    }

    // ---------------------------------------------------------------- driving

    private void runFor(Duration d) {
        long end = sim.clock().nanoTime() + d.toNanos();
        while (sim.clock().nanoTime() - end < 0) {
            tick();
        }
    }

    private boolean runUntilConverged(Duration limit) {
        long end = sim.clock().nanoTime() + limit.toNanos();
        while (!sim.isConverged()) {
            if (sim.clock().nanoTime() - end >= 0) {
                return false;
            }
            tick();
        }
        return true;
    }

    /**
     * A manual failover, or any request in pause, may promote an asynchronous standby, as the
     * operator asked (Patroni allows it): what was acknowledged until the request is done may be
     * lost, so invariant 7 starts afresh once the {@code failover} key is gone.
     */
    private void forgiveWhileAnOperatorRequestIsOpen() {
        if (operatorRequestOpen) {
            sim.world().forgetAcknowledged();
            operatorRequestOpen = sim.dcs().snapshot().failover() != null;
        }
    }

    /** Ends due faults, maybe writes, runs one step and checks the invariants. */
    private void tick() {
        healDue();
        if (rnd.nextInt(3) == 0) {
            sim.write(rnd.nextInt(200) == 0 ? 2L << 20 : 1 + rnd.nextInt(16 * 1024));
        }
        notePause();
        sim.step();
        forgiveWhileAnOperatorRequestIsOpen();
        invariants.check();
        checkPause();
    }

    /**
     * Before a step: which nodes are in pause. A node that has not seen the pause yet decides as
     * before, and what it started before it saw the pause (a promotion, a start) may still finish,
     * as in Patroni; so such a node may become writable in the coming step.
     */
    private void notePause() {
        if (mayWriteInPause == null) {
            return;
        }
        for (SimulatedNode n : sim.nodes()) {
            if (inPause.contains(n.name())) {
                continue;
            }
            dev.pgha.HaStatus st = n.controller().status();
            if (st.paused() && st.actionInProgress() == null) {
                inPause.add(n.name());
            } else {
                mayWriteInPause.add(n.name());
            }
        }
    }

    /** Invariant 6: while paused, only a request makes a new primary, and a crashed PostgreSQL stays down. */
    private void checkPause() {
        if (mayWriteInPause == null) {
            return;
        }
        for (String w : sim.writablePrimaries()) {
            if (!mayWriteInPause.contains(w)) {
                throw new InvariantViolation(Invariant.PAUSE, w + " became writable in pause without a request");
            }
        }
        for (String n : crashedInPause) {
            if (sim.node(n).postgres().isPostmasterRunning()) {
                throw new InvariantViolation(Invariant.PAUSE, "the crashed PostgreSQL of " + n + " was started in pause");
            }
        }
    }

    private void setPaused(boolean paused) {
        if (paused == (mayWriteInPause != null)) {
            return;
        }
        var config = sim.dcs().snapshot().config();
        java.util.Map<String, Object> data = new java.util.LinkedHashMap<>(config.data());
        if (paused) {
            data.put("pause", true);
            mayWriteInPause = new java.util.HashSet<>(sim.writablePrimaries());
        } else {
            data.remove("pause");
            mayWriteInPause = null;
            crashedInPause.clear();
            inPause.clear();
        }
        sim.dcs().putConfig(new dev.pgha.cluster.ClusterConfig(data, 0));
    }

    // ---------------------------------------------------------------- faults

    private Duration gap() {
        return rnd.nextInt(5) == 0 ? Duration.ZERO : millis(2 * config.ttl().toMillis());
    }

    /** A fault's duration: from 1 s to 3 ttl, so that some outlast the lease and some do not. */
    private Duration faultDuration() {
        return Duration.ofSeconds(1).plus(millis(3 * config.ttl().toMillis()));
    }

    /** A random duration from 0 to {@code max} ms, in 100 ms steps. */
    private Duration millis(long max) {
        return Duration.ofMillis(rnd.nextLong(max / 100 + 1) * 100);
    }

    private void inject() {
        Kind kind = Kind.draw(rnd);
        List<String> names = sim.nodes().stream().map(SimulatedNode::name).toList();
        String leader = sim.leader().orElse(null);
        String target = leader != null && rnd.nextInt(10) < 6 ? leader : names.get(rnd.nextInt(names.size()));
        long now = sim.clock().nanoTime();
        faults++;
        switch (kind) {
            case CRASH -> {
                note("crash PostgreSQL of " + target);
                // an action in progress may still start it: a demotion the operator's switchover asked for
                // goes on to start PostgreSQL as a replica, in pause too, as in Patroni
                boolean idle = sim.node(target).controller().status().actionInProgress() == null;
                if (sim.crashPostgres(target) && inPause.contains(target) && idle) {
                    crashedInPause.add(target);
                }
            }
            case PAUSE -> {
                Duration d = faultDuration().multipliedBy(2);
                note("pause the cluster for " + SimulationConfig.s(d));
                active.add(new Active(kind, null, now + d.toNanos()));
                setPaused(true);
            }
            case FREEZE, PARTITION, SLOW_DCS -> {
                Duration d = faultDuration();
                note(kind + " " + target + " for " + SimulationConfig.s(d));
                active.add(new Active(kind, target, now + d.toNanos()));
                if (kind == Kind.FREEZE) {
                    sim.freeze(target, true);
                } else {
                    applyDcsFault(target);
                }
            }
            case LAG -> {
                Duration d = faultDuration();
                note("LAG " + target + " (no WAL received) for " + SimulationConfig.s(d));
                active.add(new Active(kind, target, now + d.toNanos()));
                sim.world().get(target).pauseReplication(true);
            }
            case DCS_DOWN -> {
                Duration d = faultDuration();
                note("DCS down for everyone for " + SimulationConfig.s(d));
                active.add(new Active(kind, null, now + d.toNanos()));
                sim.setDcsAvailable(false);
            }
            case SLOW_PROMOTE -> {
                List<String> replicas = names.stream().filter(n -> !n.equals(leader)).toList();
                String replica = replicas.get(rnd.nextInt(replicas.size()));
                Duration d = Duration.ofSeconds(1).plus(millis(config.maxSlowPromote().toMillis() - 1000));
                note("next promote of " + replica + " takes " + SimulationConfig.s(d));
                sim.slowPromote(replica, d);
            }
            case RESTART_AGENT -> {
                note("restart the agent of " + target);
                inPause.remove(target); // a new agent: it sees the pause again
                active.removeIf(a -> a.kind() == Kind.FREEZE && target.equals(a.node()));
                sim.restartAgent(target);
            }
            case SWITCHOVER -> request(names);
            case RESTART_POSTGRES -> {
                if (sim.node(target).isCycling() && !sim.node(target).isRestarting()) {
                    note("restart PostgreSQL of " + target + ": " + sim.node(target).controller().restart().message());
                }
            }
            default -> throw new AssertionError(kind);
        }
    }

    private void request(List<String> names) {
        if (mayWriteInPause != null) {
            mayWriteInPause.addAll(names); // in pause a request may make any candidate primary
            operatorRequestOpen = true; // ... an asynchronous one too, as the operator asked
        }
        String via = names.get(rnd.nextInt(names.size()));
        String someone = names.get(rnd.nextInt(names.size()));
        int how = rnd.nextInt(10);
        if (how < 4) {
            note("switchover to any via " + via);
            sim.switchover(via, null, null);
        } else if (how < 8) {
            note("switchover to " + someone + " via " + via);
            sim.switchover(via, someone, null);
        } else if (how < 9) {
            Instant at = sim.now().plus(Duration.ofSeconds(1)).plus(millis(2 * config.loopWait().toMillis()));
            String candidate = rnd.nextBoolean() ? someone : null;
            note("switchover to " + (candidate == null ? "any" : candidate) + " at " + at + " via " + via);
            sim.switchover(via, candidate, at);
        } else {
            note("manual failover to " + someone + " via " + via);
            sim.failover(via, someone);
            operatorRequestOpen = true; // the operator may name an asynchronous standby
        }
    }

    /** Ends the faults whose time is up. */
    private void healDue() {
        if (active.isEmpty()) {
            return;
        }
        long now = sim.clock().nanoTime();
        List<Active> ended = new ArrayList<>();
        for (Iterator<Active> it = active.iterator(); it.hasNext(); ) {
            Active a = it.next();
            if (now - a.endNanos() >= 0) {
                it.remove();
                ended.add(a);
            }
        }
        for (Active a : ended) {
            switch (a.kind()) {
                case FREEZE -> {
                    if (active.stream().noneMatch(b -> b.kind() == Kind.FREEZE && b.node().equals(a.node()))) {
                        note("end of FREEZE " + a.node());
                        sim.freeze(a.node(), false);
                    }
                }
                case LAG -> {
                    note("end of LAG " + a.node());
                    sim.world().get(a.node()).pauseReplication(false);
                }
                case PARTITION, SLOW_DCS -> {
                    note("end of " + a.kind() + " " + a.node());
                    applyDcsFault(a.node());
                }
                case DCS_DOWN -> {
                    if (active.stream().noneMatch(b -> b.kind() == Kind.DCS_DOWN)) {
                        note("DCS back");
                        sim.setDcsAvailable(true);
                    }
                }
                case PAUSE -> {
                    if (active.stream().noneMatch(b -> b.kind() == Kind.PAUSE)) {
                        note("resume the cluster");
                        setPaused(false);
                    }
                }
                default -> throw new AssertionError(a);
            }
        }
    }

    /** Sets the node's DCS fault to its latest active partition or slowness, or heals it. */
    private void applyDcsFault(String node) {
        Kind latest = null;
        for (Active a : active) {
            if (node.equals(a.node()) && (a.kind() == Kind.PARTITION || a.kind() == Kind.SLOW_DCS)) {
                latest = a.kind();
            }
        }
        if (latest == Kind.PARTITION) {
            sim.partition(node, true);
        } else if (latest == Kind.SLOW_DCS) {
            sim.slowDcs(node, true);
        } else if (sim.dcs().faultOf(node) == Fault.SLOW) {
            sim.slowDcs(node, false);
        } else {
            sim.partition(node, false);
        }
    }

    private void note(String what) {
        faultList.add(String.format("t=%7.1fs %s", sim.clock().elapsed().toMillis() / 1000.0, what));
    }

    /** Every node's state, for a convergence failure. */
    private String state() {
        StringBuilder sb = new StringBuilder("leader key: ").append(sim.leader().orElse("none"))
                .append(", writable: ").append(sim.writablePrimaries());
        for (SimulatedNode n : sim.nodes()) {
            sb.append("; ").append(n.postgres()).append(" streaming ").append(n.postgres().streamingStatus())
                    .append(", last cycle ").append(n.lastResult());
        }
        return sb.toString();
    }
}
