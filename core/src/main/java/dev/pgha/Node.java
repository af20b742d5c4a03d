package dev.pgha;

import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.dcs.DcsClient;
import dev.pgha.postgres.PostgresException;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresProcess;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresStatus;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every decision unit works with: this member's configuration, the DCS, PostgreSQL, the
 * clock, the listener and the leader lock, and the small operations they share. It holds no
 * state of its own: what a node carries from cycle to cycle is a {@link NodeState}, and the
 * operations here change the working copy in the {@link Cycle} they are given.
 */
final class Node {

    private static final Logger log = LoggerFactory.getLogger(Node.class);

    final HaConfig config;
    final String name;
    final DcsClient dcs;
    final PostgresProcess postgres;
    final HaClock clock;
    final Events events;
    final LeaderLock lock;

    Node(HaConfig config, DcsClient dcs, PostgresProcess postgres, HaClock clock, HaListener listener,
         LeaseGuard guard) {
        this.config = config;
        this.name = config.name();
        this.dcs = dcs;
        this.postgres = postgres;
        this.clock = clock;
        this.events = new Events(config.name(), listener);
        this.lock = new LeaderLock(config.name(), dcs, clock, guard, events);
    }

    /** The state before the first cycle, with {@code bootstrap.dcs} in force. */
    NodeState initialState() {
        NodeState s = NodeState.initial(name, config);
        dcs.setRetryTimeout(s.settings().retryTimeout());
        return s;
    }

    /**
     * Reads the whole cluster from the DCS: it becomes the cycle's view and the state's
     * {@code lastView}.
     */
    ClusterView readCluster(Cycle c) {
        ClusterView view = dcs.readCluster();
        c.cluster = view;
        c.state = c.state.withLastView(view, clock.wallTime());
        return view;
    }

    /**
     * Puts {@code next} in force: the next lease asks for its {@code ttl}, and the election rules
     * and the DCS client's retry timeout follow it from now on.
     */
    void useSettings(Cycle c, ClusterSettings next) {
        NodeState s = c.state;
        if (next == s.settings()) {
            return;
        }
        if (!s.settings().retryTimeout().equals(next.retryTimeout())) {
            dcs.setRetryTimeout(next.retryTimeout());
        }
        c.state = s.withSettings(next, new Election(name, config.tags(), next));
    }

    /** Observes PostgreSQL, reports state changes, and makes it the cycle's observation. */
    PostgresStatus observe(Cycle c) {
        PostgresStatus pg = postgres.status();
        noteTimelineSource(c, pg);
        NodeState s = c.state;
        long since = s.stateSinceNanos();
        if (s.lastState() != pg.state()) {
            if (s.lastState() != null) {
                events.postgresStateChanged(s.lastState(), pg.state());
            }
            since = clock.nanoTime();
        }
        c.state = c.state.observed(pg, since);
        c.pg = pg;
        return pg;
    }

    /**
     * Notes who created the timeline this replica is on, when it reached a new timeline while
     * pointed at the leader: a replica cannot make a timeline, it got it from there (also while
     * the DCS is unreachable).
     */
    private void noteTimelineSource(Cycle c, PostgresStatus pg) {
        noteTimelineSource(c, pg, c.state.formerLeader(), c.state.lastView());
    }

    /**
     * As above, judged by the cluster as {@code view} showed it with {@code leader} leading: a
     * cycle that has just read a new view passes the one before, so that a timeline reached while
     * the agent did not cycle (frozen, say) is credited to the leader it was streaming from then,
     * not to whoever the new view's history names for that timeline number.
     */
    void noteTimelineSource(Cycle c, PostgresStatus pg, String leader, ClusterView view) {
        NodeState s = c.state;
        long timeline = pg.timeline();
        if (timeline <= 1 || !pg.acceptingConnections() || !pg.inRecovery() || timeline == s.knownTimeline()
                || s.upstream() == null || !s.upstream().equals(leader)) {
            return;
        }
        String creator = view.history().switchOf(timeline - 1).map(TimelineHistory.Entry::newLeader)
                .orElse(s.upstream());
        c.state = c.state.withKnownTimeline(timeline, creator);
    }

    /**
     * Notes that this node's data is on {@code timeline}, made by the member the cluster's history
     * names, or by {@code creatorIfUnknown} when the history does not say.
     */
    void rememberTimeline(Cycle c, long timeline, String creatorIfUnknown) {
        String creator = c.state.lastView().history().switchOf(timeline - 1)
                .map(TimelineHistory.Entry::newLeader).orElse(creatorIfUnknown);
        c.state = c.state.withKnownTimeline(timeline, creator);
    }

    /** Changes the role, telling the listener. */
    void setRole(Cycle c, PostgresRole newRole) {
        PostgresRole old = c.state.role();
        if (old == newRole) {
            return;
        }
        if (old != null) {
            log.info("{}: role {} -> {}", name, old.patroniName(), newRole.patroniName());
            events.roleChanged(old, newRole);
        }
        c.state = c.state.withRole(newRole);
    }

    /** Fires one of Patroni's callbacks with the current role. */
    void callback(Cycle c, HaListener.Callback callback) {
        c.state = c.state.withCallbackFired();
        events.callback(callback, c.state.roleOrUninitialized());
    }

    /**
     * Patroni's {@code _delete_leader(last_lsn)}: after a clean stop, writes the shutdown
     * checkpoint's position to the {@code status} key (so the race that follows knows how far
     * behind the replicas are), then releases the leader key.
     *
     * @return whether the key was this node's and is now deleted
     */
    boolean releaseLockWithLastPosition(Cycle c) {
        ClusterView view = c.state.lastView();
        if (view.isLeader(name)) {
            try {
                var cd = postgres.controlData();
                if (cd.isCleanPrimaryShutdown() && cd.checkpointLocation().value() > view.status().optime()) {
                    dcs.writeStatus(view.status().withOptime(cd.checkpointLocation().value()));
                }
            } catch (PostgresException e) {
                log.warn("{}: could not read the shutdown position: {}", name, e.getMessage());
            }
        }
        return lock.release(c);
    }

    /** Whether the engine believes PostgreSQL is, or is becoming, a primary. */
    static boolean actsAsPrimary(NodeState s, PostgresStatus pg) {
        return pg.isRunningPrimary() || s.role() == PostgresRole.PRIMARY || s.role() == PostgresRole.PROMOTED;
    }

    /** Starts a long action and returns the step that reports it; refused while another runs. */
    Step start(Cycle c, String actionName, LongAction.Kind kind, PostgresOperation op, LongAction.Completion onDone,
               Step report) {
        LongAction running = c.state.action();
        if (running != null) {
            log.warn("{}: Failed to run {}, {} is already in progress", name, actionName, running.name());
            return Step.of(CycleAction.WAIT,
                    "Failed to run " + actionName + ", " + running.name() + " is already in progress");
        }
        log.info("{}: starting {}", name, actionName);
        c.state = c.state.withAction(new LongAction(actionName, kind, op, clock.nanoTime(), onDone,
                op instanceof SyncRelease.Awaiting));
        return report;
    }

    /** Cancels the long action in progress, if any. */
    void cancelAction(Cycle c) {
        LongAction a = c.state.action();
        if (a != null) {
            log.info("{}: cancelling {}", name, a.name());
            c.state = c.state.withAction(null);
            a.operation().cancel();
        }
    }

    /**
     * If the long action finished, clears it and runs its completion.
     *
     * @return the completion's step, or null
     */
    Step pollAction(Cycle c) {
        LongAction a = c.state.action();
        if (a == null) {
            return null;
        }
        PostgresOperation.Outcome outcome = a.operation().poll();
        if (outcome == PostgresOperation.Outcome.RUNNING) {
            return null;
        }
        c.state = c.state.withAction(null);
        boolean ok = outcome == PostgresOperation.Outcome.SUCCEEDED;
        String detail = a.operation().detail();
        if (ok) {
            log.info("{}: {} finished", name, a.name());
        } else {
            log.warn("{}: {} failed: {}", name, a.name(), detail);
        }
        return a.onDone().done(c, ok, detail);
    }

    /** How long the action has been running. */
    Duration elapsed(LongAction a) {
        return Duration.ofNanos(clock.nanoTime() - a.startedNanos());
    }

    /** How long PostgreSQL has been in its current state. */
    Duration timeInState(NodeState s) {
        return Duration.ofNanos(clock.nanoTime() - s.stateSinceNanos());
    }

    /**
     * The member to stream from: the {@code replicatefrom} member if it runs, else the leader;
     * never this node. Empty when there is nobody to follow.
     */
    Optional<Member> nodeToFollow(ClusterView view) {
        String from = config.tags().replicateFrom();
        if (from != null && !from.equals(name)) {
            Optional<Member> m = view.member(from);
            if (m.isPresent() && m.get().isRunning()) {
                return m;
            }
        }
        return view.leaderMember().filter(m -> !m.name().equals(name));
    }

    /** Patroni's "no action. I am (name), ..." wording. */
    String iAm(String rest) {
        return "no action. I am (" + name + ")" + rest;
    }
}
