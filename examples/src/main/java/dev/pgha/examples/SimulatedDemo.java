package dev.pgha.examples;

import dev.pgha.ActionResult;
import dev.pgha.testing.FakeOperation;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.SimulatedCluster;
import dev.pgha.testing.SimulatedNode;
import dev.pgha.testing.StreamingStatus;
import java.io.PrintStream;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Predicate;

/**
 * A guided tour of pgha: three nodes, each a real {@link dev.pgha.HaController} over a fake
 * PostgreSQL server, sharing the embedded in-memory DCS and one simulated clock. The tour takes the
 * cluster through bootstrap, writes, a crash of the primary (restarted in place), the loss of the
 * primary's host (failover), the old primary's return as a replica, and a switchover, printing
 * what the nodes say and a {@code patronictl list}-style table after each step.
 *
 * <p>Run it with {@code ./scripts/demo.sh}. Everything happens on simulated time, so several
 * minutes of cluster life take well under a second; nothing outside the JVM is started.
 */
public final class SimulatedDemo {

    static final String SCOPE = "demo";
    private static final long MB = 1024 * 1024;
    /** How far the simulated clock may jump in one step; also the resolution of the measured times. */
    private static final Duration STEP = Duration.ofMillis(100);

    private final PrintStream out;
    private final SimulatedCluster sim;
    private final CycleNarrator narrator;
    private final List<String> problems = new ArrayList<>();
    private int maxWritable;

    private SimulatedDemo(PrintStream out) {
        this.out = out;
        // Patroni's defaults: ttl 30 s, loop_wait 10 s, retry_timeout 10 s, primary_start_timeout
        // 300 s; plus use_pg_rewind, so a diverged former primary can rejoin.
        this.sim = SimulatedCluster.builder().scope(SCOPE).maxStep(STEP)
                .config(b -> b.ttl(Duration.ofSeconds(30)).loopWait(Duration.ofSeconds(10))
                        .retryTimeout(Duration.ofSeconds(10)).primaryStartTimeout(Duration.ofSeconds(300))
                        .usePgRewind(true))
                .build();
        this.narrator = new CycleNarrator(sim, out);
    }

    /** Runs the tour on stdout; exits with status 1 if a step did not happen. */
    public static void main(String[] args) {
        Tour tour = run(System.out);
        System.out.flush();
        if (!tour.complete()) {
            System.exit(1);
        }
    }

    /**
     * Runs the whole tour, printing it to {@code out}.
     *
     * @return what each step achieved, for tests
     */
    public static Tour run(PrintStream out) {
        return new SimulatedDemo(out).tour();
    }

    /**
     * What the tour achieved.
     *
     * @param bootstrapLeader     the leader after bootstrap (null if none)
     * @param bootstrapped        one primary and two streaming replicas after bootstrap
     * @param caughtUp            the replicas caught up with the rows written on the primary
     * @param restartedInPlace    after the postmaster crash, the same node was primary again on the same timeline
     * @param failoverLeader      the node that took over when the primary's host was lost (null if none)
     * @param failoverSeconds     simulated seconds from the host loss until the new primary accepted writes
     * @param oldPrimaryRejoined  the lost primary came back as a replica streaming from the new leader
     * @param oldPrimaryRewound   pg_rewind ran on it
     * @param switchoverTarget    the member the switchover asked for
     * @param finalLeader         the leader at the end (null if none)
     * @param maxWritablePrimaries the most servers that accepted writes at the same time (1: no split brain)
     * @param problems            steps that did not converge, and fake-server contract violations
     * @param said                every "node: message" line the narrator printed
     */
    public record Tour(String bootstrapLeader, boolean bootstrapped, boolean caughtUp, boolean restartedInPlace,
                       String failoverLeader, double failoverSeconds, boolean oldPrimaryRejoined,
                       boolean oldPrimaryRewound, String switchoverTarget, String finalLeader,
                       int maxWritablePrimaries, List<String> problems, List<String> said) {

        /** Whether every step happened as intended. */
        public boolean complete() {
            return bootstrapped && caughtUp && restartedInPlace && failoverLeader != null && oldPrimaryRejoined
                    && switchoverTarget != null && switchoverTarget.equals(finalLeader) && maxWritablePrimaries == 1
                    && problems.isEmpty();
        }
    }

    private Tour tour() {
        out.println("pgha demo: a simulated three-node PostgreSQL cluster");
        out.println("===================================================");
        out.println("Each node runs pgha's real HA engine (HaController) over a fake PostgreSQL server;");
        out.println("they share the embedded in-memory DCS and one simulated clock, so minutes of");
        out.println("cluster life pass in a moment. Settings: Patroni's defaults, ttl 30 s,");
        out.println("loop_wait 10 s, retry_timeout 10 s, primary_start_timeout 300 s, use_pg_rewind on.");
        out.println("Times below are simulated seconds since the nodes started (t=...); lines show a node's");
        out.println("cycle message whenever it changes (Patroni's wording), '>>>' marks what we do.");

        // 1. Bootstrap -------------------------------------------------------------------------
        section("1. Bootstrap: three empty data directories, one leader race");
        out.println("Nobody has initialized the cluster yet. Every node tries to take the 'initialize' key;");
        out.println("the winner runs initdb, the others wait and then clone from it (pg_basebackup).");
        out.println();
        boolean bootstrapped = runUntil("bootstrap", SimulatedCluster::isConverged, Duration.ofMinutes(3));
        String first = sim.leader().orElse(null);
        table();
        out.printf("%s won the race and leads; the other two are streaming replicas of it.%n", first);

        // 2. Writes ----------------------------------------------------------------------------
        section("2. Writes on the primary");
        boolean caughtUp = false;
        if (first != null && sim.write(3 * MB)) {
            narrator.event("an application writes 3 MB of rows on " + first);
            out.println("Right after the commit, before the replicas received the WAL:");
            table();
            caughtUp = runUntil("replicas catching up", s -> replicasLag(s) == 0, Duration.ofSeconds(10));
            out.println("A moment later the replicas have received and replayed it (lag 0):");
            table();
        } else {
            problems.add("could not write on the primary");
        }

        // 3a. Postmaster crash, restarted in place ---------------------------------------------
        section("3. The primary's postmaster is killed");
        boolean restartedInPlace = crashInPlace(first);

        // 3b. Host loss: failover --------------------------------------------------------------
        section("4. The primary's whole host is lost: failover");
        String failoverLeader = null;
        double failoverSeconds = Double.NaN;
        if (first != null) {
            out.println("This time the machine itself goes away: its agent stops running cycles and the");
            out.println("postmaster dies with it. Nobody renews the leader key, and the replicas cannot tell a");
            out.println("dead primary from a slow one, so they wait until its lease (ttl 30 s) has expired.");
            out.println("Just before, " + first + " committed 256 kB that had not reached the replicas yet");
            out.println("(asynchronous replication).");
            out.println();
            Instant lease = sim.node(first).lastResult().leaseDeadline();
            sim.write(256 * 1024);
            sim.freeze(first, true);
            sim.crashPostgres(first);
            narrator.event("host of " + first + " lost: agent frozen, postmaster killed (kill -9); its lease runs"
                    + (lease == null ? " out" : " until " + narrator.timeAt(lease)));
            long t0 = sim.clock().nanoTime();
            boolean tookOver = runUntil("failover", s -> s.writablePrimaries().stream().anyMatch(n -> !n.equals(first)),
                    Duration.ofMinutes(2));
            if (tookOver) {
                failoverLeader = sim.writablePrimaries().get(0);
                failoverSeconds = (sim.clock().nanoTime() - t0) / 1e9;
                narrator.event(String.format(Locale.ROOT, "%s accepts writes, %.1f s after the host was lost",
                        failoverLeader, failoverSeconds));
            }
            String leader = failoverLeader;
            runUntil("the other replica following " + leader, s -> othersStream(s, leader, first), Duration.ofMinutes(1));
            table();
            if (tookOver) {
                out.printf(Locale.ROOT, "%s took over on timeline %d, %.1f simulated seconds after the fault: the"
                        + " lease%nhad to run out, then the promotion took a second. %s's last 256 kB are not on"
                        + " the new%ntimeline (they were never replicated).%n", failoverLeader,
                        sim.node(failoverLeader).postgres().timeline(), failoverSeconds, first);
            }
        }

        // 4. Rejoin ----------------------------------------------------------------------------
        section("5. The old primary comes back and rejoins as a replica");
        boolean rejoined = false;
        boolean rewound = false;
        if (first != null && failoverLeader != null) {
            FakePostgres old = sim.node(first).postgres();
            int rewindsBefore = old.count(FakeOperation.Kind.REWIND);
            out.println("The host of " + first + " boots again and a fresh agent starts. Its data directory was");
            out.println("not shut down cleanly and still holds those 256 kB on the old timeline: it has diverged");
            out.println("from the new leader, so it must be rewound before it can follow it.");
            out.println();
            sim.freeze(first, false);
            sim.restartAgent(first);
            narrator.event("host of " + first + " is back: a new agent starts, PostgreSQL is not running");
            String leader = failoverLeader;
            rejoined = runUntil("rejoin", s -> s.isConverged() && leader.equals(s.leader().orElse(null)),
                    Duration.ofMinutes(3));
            rewound = old.count(FakeOperation.Kind.REWIND) > rewindsBefore;
            table();
            out.printf(Locale.ROOT, "%s %s and now streams from %s on timeline %d.%n", first,
                    rewound ? "was rewound with pg_rewind" : "needed no rewind", failoverLeader, old.timeline());
        }

        // 5. Switchover ------------------------------------------------------------------------
        section("6. Switchover back to " + first);
        String target = null;
        String finalLeader = sim.leader().orElse(null);
        if (rejoined) {
            target = first;
            String from = finalLeader;
            out.println("An operator moves the leadership back, like 'patronictl switchover --candidate "
                    + target + "':");
            out.println("the failover key names the candidate, the leader demotes itself, the candidate promotes.");
            out.println();
            ActionResult accepted = sim.node(from).controller().switchover(target, null);
            narrator.event("switchover(" + target + ") asked of " + from + ": " + accepted.message());
            String wanted = target;
            boolean done = runUntil("switchover", s -> s.isConverged() && wanted.equals(s.leader().orElse(null)),
                    Duration.ofMinutes(3));
            finalLeader = sim.leader().orElse(null);
            table();
            if (done) {
                out.printf("%s leads again; %s demoted itself cleanly and follows it.%n", target, from);
            }
        }

        sim.world().violations().forEach(v -> problems.add("fake PostgreSQL contract violation: " + v));
        Tour tour = new Tour(first, bootstrapped, caughtUp, restartedInPlace, failoverLeader, failoverSeconds, rejoined,
                rewound, target, finalLeader, maxWritable, List.copyOf(problems), narrator.said());
        summary(tour);
        return tour;
    }

    private boolean crashInPlace(String primary) {
        if (primary == null) {
            return false;
        }
        out.println("kill -9 of " + primary + "'s postmaster; its agent keeps running. With the default");
        out.println("primary_start_timeout (300 s) the lock holder first tries to start PostgreSQL again where");
        out.println("it is, keeping the leader key, instead of failing over.");
        out.println();
        long timeline = sim.node(primary).postgres().timeline();
        sim.crashPostgres(primary);
        narrator.event(primary + "'s postmaster killed (kill -9)");
        long t0 = sim.clock().nanoTime();
        boolean back = runUntil("restart in place", s -> s.writablePrimaries().contains(primary), Duration.ofMinutes(6));
        double seconds = (sim.clock().nanoTime() - t0) / 1e9;
        boolean converged = runUntil("replicas reconnecting", SimulatedCluster::isConverged, Duration.ofMinutes(1));
        boolean same = back && primary.equals(sim.leader().orElse(null))
                && sim.node(primary).postgres().timeline() == timeline;
        if (back) {
            narrator.event(String.format(Locale.ROOT, "%s accepts writes again, %.1f s after the crash", primary, seconds));
        }
        table();
        if (same) {
            out.printf(Locale.ROOT, "%s's agent found PostgreSQL dead at its next cycle (they run every loop_wait),"
                    + " still held%nthe leader key, and started it again as primary: same leader, same timeline"
                    + " (%d), no failover;%nthe replicas reconnected by themselves.%n", primary, timeline);
        }
        return same && converged;
    }

    private void summary(Tour t) {
        section("Summary");
        if (t.complete()) {
            paragraph(String.format(Locale.ROOT, "pgha bootstrapped a three-node cluster from empty data directories (%s won the"
                    + " initialize race, the others cloned from it), kept the replicas streaming, restarted a crashed"
                    + " primary in place on the same timeline, failed over to %s %.1f simulated seconds after the"
                    + " primary's host was lost (the lease had to expire), brought the old primary back as a replica%s,"
                    + " and switched over to %s on request. At no moment did two servers accept writes. All of it ran"
                    + " pgha's real HA engine against the embedded DCS; only PostgreSQL and the clock were simulated.",
                    t.bootstrapLeader(), t.failoverLeader(), t.failoverSeconds(),
                    t.oldPrimaryRewound() ? " with pg_rewind" : "", t.switchoverTarget()));
        } else {
            out.println("The tour did not complete:");
            t.problems().forEach(p -> out.println("  - " + p));
            if (t.maxWritablePrimaries() > 1) {
                out.println("  - " + t.maxWritablePrimaries() + " servers accepted writes at the same time");
            }
            out.println("Recent simulation log:");
            out.println(sim.log());
        }
        out.printf(Locale.ROOT, "(simulated time: %.0f s)%n", sim.clock().elapsed().toMillis() / 1000.0);
    }

    // ---------------------------------------------------------------- driving the simulation

    /** Steps the cluster until the condition holds; records a problem if it does not within {@code limit}. */
    private boolean runUntil(String what, Predicate<SimulatedCluster> condition, Duration limit) {
        long end = sim.clock().nanoTime() + limit.toNanos();
        while (!condition.test(sim)) {
            if (sim.clock().nanoTime() - end >= 0) {
                String problem = what + " did not happen within " + limit.toSeconds() + " simulated seconds";
                problems.add(problem);
                narrator.event("!!! " + problem);
                return false;
            }
            step();
        }
        return true;
    }

    private void step() {
        // The in-memory store notices an expired key lazily, on the next access. etcd deletes the
        // leader key the moment its lease runs out and tells the watchers; do the same here, so the
        // replicas wake up at the expiry rather than at their next loop_wait.
        sim.dcs().checkExpiry();
        sim.step();
        maxWritable = Math.max(maxWritable, sim.writablePrimaries().size());
        narrator.afterStep();
    }

    private static long replicasLag(SimulatedCluster s) {
        return s.nodes().stream().map(SimulatedNode::postgres).filter(pg -> !pg.isWritable())
                .mapToLong(FakePostgres::lagBytes).sum();
    }

    private static boolean othersStream(SimulatedCluster s, String leader, String except) {
        if (leader == null) {
            return false;
        }
        return s.nodes().stream().filter(n -> !n.name().equals(leader) && !n.name().equals(except))
                .allMatch(n -> leader.equals(n.postgres().upstream())
                        && n.postgres().streamingStatus() == StreamingStatus.STREAMING);
    }

    private void table() {
        out.println();
        out.print(SimulatedClusterTable.render(sim, SCOPE));
        out.println();
    }

    /** Prints text wrapped at 96 columns. */
    private void paragraph(String text) {
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (line.length() > 0 && line.length() + 1 + word.length() > 96) {
                out.println(line);
                line.setLength(0);
            }
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(word);
        }
        if (line.length() > 0) {
            out.println(line);
        }
    }

    private void section(String title) {
        out.println();
        out.println(title);
        out.println("-".repeat(title.length()));
    }
}
