package dev.pgha;

import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.dcs.DcsClient;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresProcess;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state one member carries from cycle to cycle, and the small operations every decision unit
 * shares: the role, the long action in progress, the flags of recovery and bootstrap, and the
 * upstream PostgreSQL was last configured to follow.
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
    /** The cluster-wide settings in force: the {@code config} key's, see {@link #useSettings}. */
    ClusterSettings settings;
    /** The election rules under {@link #settings}. */
    Election election;

    /** The role; null until the first cycle decided it from the data directory. */
    PostgresRole role;
    /** The long action in progress, or null. */
    LongAction action;
    /** A start was launched after PostgreSQL was found down; the next idle cycle checks it came up. */
    boolean recovering;
    /** This node is bootstrapping a new cluster. */
    boolean bootstrapping;
    /** Single-user crash recovery already ran since PostgreSQL last came up. */
    boolean crashRecoveryExecuted;
    /** A start/stop/role callback has fired since the controller was created (Patroni's cb_called). */
    boolean callbackFired;
    /** Whether the engine configured PostgreSQL to follow {@link #upstream}. */
    boolean followConfigured;
    /** The member PostgreSQL was last configured to stream from (null: none). */
    String upstream;
    /** The leader of the last view that had one. */
    String formerLeader;
    /**
     * The cluster as the latest successful read ({@link #readCluster()}) saw it. A cycle's
     * decisions use their {@link Cycle}'s view; this one serves what runs outside them: the
     * completion of a long action (it runs before the cycle reads) and {@code status()}.
     */
    ClusterView lastView = ClusterView.EMPTY;
    /** The last observed PostgreSQL state, and since when (clock nanos). */
    PostgresState lastState;
    long stateSinceNanos;
    /**
     * The timeline this node's data is on, as far as this controller saw it being made, and who
     * made it: this node after its own promotion, or the leader it streamed the timeline from
     * (0: unknown). If the cluster's history later names another creator for that timeline, two
     * promotions forked it and the data diverged.
     */
    long knownTimeline;
    /** Who created {@link #knownTimeline}. */
    String knownTimelineCreator;
    /**
     * The DCS failed since the last race: members' keys may have expired meanwhile, so this node
     * publishes its own and lets the others do the same for one cycle before it races again.
     */
    boolean dcsTroubleSinceLastRace;
    /** The start timeout of the current start (restart timeout); null means primary_start_timeout. */
    Duration startTimeout;
    /**
     * Whether the lease guard could be activated, as of this cycle (see {@link LeaderLock#guardCapable()}):
     * a node that cannot does not race and publishes {@code watchdog_failed}.
     */
    boolean guardCapable = true;

    Node(HaConfig config, DcsClient dcs, PostgresProcess postgres, HaClock clock, HaListener listener,
         dev.pgha.LeaseGuard guard) {
        this.config = config;
        this.name = config.name();
        this.dcs = dcs;
        this.postgres = postgres;
        this.clock = clock;
        this.events = new Events(config.name(), listener);
        this.lock = new LeaderLock(config.name(), dcs, clock, guard, events);
        useSettings(config.bootstrapDcs());
    }

    /** Reads the whole cluster from the DCS; the view becomes {@link #lastView}. */
    ClusterView readCluster() {
        lastView = dcs.readCluster();
        return lastView;
    }

    /**
     * Puts {@code next} in force: the lease, the election rules and the DCS client's retry timeout
     * follow it from now on.
     */
    void useSettings(ClusterSettings next) {
        if (next == settings) {
            return;
        }
        if (settings == null || !settings.retryTimeout().equals(next.retryTimeout())) {
            dcs.setRetryTimeout(next.retryTimeout());
        }
        settings = next;
        election = new Election(name, config.tags(), next);
        lock.useTtl(next.ttl());
    }

    /** Observes PostgreSQL and reports state changes. */
    PostgresStatus observe() {
        PostgresStatus pg = postgres.status();
        noteTimelineSource(pg);
        if (lastState != pg.state()) {
            if (lastState != null) {
                events.postgresStateChanged(lastState, pg.state());
            }
            lastState = pg.state();
            stateSinceNanos = clock.nanoTime();
        }
        return pg;
    }

    /**
     * Notes who created the timeline this replica is on, when it reached a new timeline while
     * pointed at the leader: a replica cannot make a timeline, it got it from there (also while
     * the DCS is unreachable).
     */
    private void noteTimelineSource(PostgresStatus pg) {
        long timeline = pg.timeline();
        if (timeline <= 1 || !pg.acceptingConnections() || !pg.inRecovery() || timeline == knownTimeline
                || upstream == null || !upstream.equals(formerLeader)) {
            return;
        }
        rememberTimeline(timeline, upstream);
    }

    /**
     * Notes that this node's data is on {@code timeline}, made by the member the cluster's history
     * names, or by {@code creatorIfUnknown} when the history does not say.
     */
    void rememberTimeline(long timeline, String creatorIfUnknown) {
        knownTimeline = timeline;
        knownTimelineCreator = lastView.history().switchOf(timeline - 1)
                .map(dev.pgha.cluster.TimelineHistory.Entry::newLeader).orElse(creatorIfUnknown);
    }

    /** Changes the role, telling the listener. */
    void setRole(PostgresRole newRole) {
        PostgresRole old = role;
        if (old != newRole) {
            role = newRole;
            if (old != null) {
                log.info("{}: role {} -> {}", name, old.patroniName(), newRole.patroniName());
                events.roleChanged(old, newRole);
            }
        }
    }

    /** Fires one of Patroni's callbacks with the current role. */
    void callback(HaListener.Callback callback) {
        callbackFired = true;
        events.callback(callback, role == null ? PostgresRole.UNINITIALIZED : role);
    }

    /**
     * Patroni's {@code _delete_leader(last_lsn)}: after a clean stop, writes the shutdown
     * checkpoint's position to the {@code status} key (so the race that follows knows how far
     * behind the replicas are), then releases the leader key.
     *
     * @return whether the key was this node's and is now deleted
     */
    boolean releaseLockWithLastPosition() {
        if (lastView.isLeader(name)) {
            try {
                var cd = postgres.controlData();
                if (cd.isCleanPrimaryShutdown() && cd.checkpointLocation().value() > lastView.status().optime()) {
                    dcs.writeStatus(lastView.status().withOptime(cd.checkpointLocation().value()));
                }
            } catch (dev.pgha.postgres.PostgresException e) {
                log.warn("{}: could not read the shutdown position: {}", name, e.getMessage());
            }
        }
        return lock.release();
    }

    /** Whether the engine believes PostgreSQL is, or is becoming, a primary. */
    boolean actsAsPrimary(PostgresStatus pg) {
        return pg.isRunningPrimary() || role == PostgresRole.PRIMARY || role == PostgresRole.PROMOTED;
    }

    /** Starts a long action and returns the step that reports it. */
    Step start(String actionName, LongAction.Kind kind, PostgresOperation op, LongAction.Completion onDone,
               Step report) {
        if (action != null) {
            log.warn("{}: Failed to run {}, {} is already in progress", name, actionName, action.name());
            return Step.of(dev.pgha.CycleAction.WAIT,
                    "Failed to run " + actionName + ", " + action.name() + " is already in progress");
        }
        log.info("{}: starting {}", name, actionName);
        action = new LongAction(actionName, kind, op, clock.nanoTime(), onDone);
        return report;
    }

    /** Cancels the long action in progress, if any. */
    void cancelAction() {
        if (action != null) {
            log.info("{}: cancelling {}", name, action.name());
            LongAction a = action;
            action = null;
            a.operation().cancel();
        }
    }

    /**
     * If the long action finished, clears it and runs its completion.
     *
     * @return the completion's step, or null
     */
    Step pollAction() {
        LongAction a = action;
        if (a == null) {
            return null;
        }
        PostgresOperation.Outcome outcome = a.operation().poll();
        if (outcome == PostgresOperation.Outcome.RUNNING) {
            return null;
        }
        action = null;
        boolean ok = outcome == PostgresOperation.Outcome.SUCCEEDED;
        String detail = a.operation().detail();
        if (ok) {
            log.info("{}: {} finished", name, a.name());
        } else {
            log.warn("{}: {} failed: {}", name, a.name(), detail);
        }
        return a.onDone().done(ok, detail);
    }

    /** Seconds the action has been running. */
    Duration elapsed(LongAction a) {
        return Duration.ofNanos(clock.nanoTime() - a.startedNanos());
    }

    /** How long PostgreSQL has been in its current state. */
    Duration timeInState() {
        return Duration.ofNanos(clock.nanoTime() - stateSinceNanos);
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
