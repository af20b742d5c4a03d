package dev.pgha;

import dev.pgha.cluster.ClusterView;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;
import java.time.Instant;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What one member carries from cycle to cycle, as a value: every decision unit receives it and
 * returns the next one in its {@link Decision}, and only {@link HaEngine} keeps it.
 *
 * @param role                    the role; null until the first cycle decided it from the data directory
 * @param action                  the long action in progress, or null
 * @param recovering              a start was launched after PostgreSQL was found down; the next idle
 *                                cycle checks it came up
 * @param bootstrapping           this node is bootstrapping a new cluster
 * @param crashRecoveryExecuted   single-user crash recovery already ran since PostgreSQL last came up
 * @param callbackFired           a start/stop/role callback has fired since the controller was created
 *                                (Patroni's {@code cb_called})
 * @param followConfigured        whether the engine configured PostgreSQL to follow {@code upstream}
 * @param upstream                the member PostgreSQL was last configured to stream from (null: none)
 * @param formerLeader            the leader of the last view that had one
 * @param lastView                the cluster as the latest successful read saw it: what runs outside a
 *                                cycle's decisions uses it (a long action's completion, which runs before
 *                                the cycle reads; {@code status()})
 * @param dcsLastSeen             when (wall time) the latest successful read of the cluster happened; null before it
 * @param lastStatus              the last observed PostgreSQL status; null before the first observation
 * @param stateSinceNanos         since when (clock nanos) PostgreSQL is in {@link #lastState()}
 * @param knownTimeline           the timeline this node's data is on, as far as this controller saw it being
 *                                made (0: unknown); if the cluster's history later names another creator
 *                                for it, two promotions forked it and the data diverged
 * @param knownTimelineCreator    who created {@code knownTimeline}: this node after its own promotion, or the
 *                                leader it streamed the timeline from
 * @param dcsTroubleSinceLastRace the DCS failed since the last race: members' keys may have expired, so this
 *                                node publishes its own and lets the others do the same for one cycle before
 *                                it races again
 * @param guardCapable            whether the lease guard could be activated, as of this cycle: a node that
 *                                cannot does not race and publishes {@code watchdog_failed}
 * @param rewind                  Patroni's rewind state
 * @param settings                the cluster-wide settings in force (the {@code config} key's)
 * @param election                the election rules under {@code settings}
 * @param lock                    what this node knows of its leader lock
 * @param slots                   what this node knows of its member replication slots
 * @param configSeen              the {@code config} key's value the last cycle read (an unchanged key is
 *                                neither decoded nor logged again)
 * @param shutdown                how far Patroni's graceful shutdown got; null while none was requested
 * @param scheduledRestart        the restart scheduled on this member, or null
 * @param startTimeout            the start timeout of the restart in progress when its request set one, else null
 *                                ({@code primary_start_timeout} applies)
 * @param sync                    what this node knows of synchronous replication
 */
record NodeState(PostgresRole role, LongAction action, boolean recovering, boolean bootstrapping,
                 boolean crashRecoveryExecuted, boolean callbackFired, boolean followConfigured, String upstream,
                 String formerLeader, ClusterView lastView, Instant dcsLastSeen, PostgresStatus lastStatus,
                 long stateSinceNanos,
                 long knownTimeline, String knownTimelineCreator, boolean dcsTroubleSinceLastRace,
                 boolean guardCapable, Rewinder.State rewind, ClusterSettings settings,
                 Election election, LeaderLock.State lock, SlotKeeper.State slots,
                 Map<String, Object> configSeen, Shutdown.Progress shutdown, ScheduledRestart scheduledRestart,
                 java.time.Duration startTimeout, SyncReplication.State sync) {

    /** A controller's state before its first cycle. */
    static NodeState initial(String name, HaConfig config) {
        ClusterSettings s = config.bootstrapDcs();
        return new NodeState(null, null, false, false, false, false, false, null, null, ClusterView.EMPTY, null, null, 0,
                0, null, false, true, Rewinder.State.INITIAL, s, new Election(name, config.tags(), s),
                LeaderLock.State.INITIAL, SlotKeeper.State.INITIAL, Map.of(), null, null, null,
                SyncReplication.State.INITIAL);
    }

    /** The last observed PostgreSQL state; null before the first observation. */
    PostgresState lastState() {
        return lastStatus == null ? null : lastStatus.state();
    }

    /** The role, {@link PostgresRole#UNINITIALIZED} until the first cycle decided it. */
    PostgresRole roleOrUninitialized() {
        return role == null ? PostgresRole.UNINITIALIZED : role;
    }

    NodeState withRole(PostgresRole value) {
        return with(b -> b.role = value);
    }

    NodeState withAction(LongAction value) {
        return with(b -> b.action = value);
    }

    NodeState withRecovering(boolean value) {
        return with(b -> b.recovering = value);
    }

    NodeState withBootstrapping(boolean value) {
        return with(b -> b.bootstrapping = value);
    }

    NodeState withCrashRecoveryExecuted(boolean value) {
        return with(b -> b.crashRecoveryExecuted = value);
    }

    NodeState withCallbackFired() {
        return callbackFired ? this : with(b -> b.callbackFired = true);
    }

    /** PostgreSQL is configured to follow {@code member} (null: nobody). */
    NodeState following(String member) {
        return with(b -> {
            b.upstream = member;
            b.followConfigured = true;
        });
    }

    /** PostgreSQL follows nobody the engine configured (a primary, or to be reconfigured). */
    NodeState followingNobody() {
        return with(b -> {
            b.upstream = null;
            b.followConfigured = false;
        });
    }

    /** The next start must configure the upstream again. */
    NodeState followNotConfigured() {
        return with(b -> b.followConfigured = false);
    }

    NodeState withFormerLeader(String value) {
        return with(b -> b.formerLeader = value);
    }

    /** The cluster as a successful read at {@code seen} gave it. */
    NodeState withLastView(ClusterView value, Instant seen) {
        return with(b -> {
            b.lastView = value;
            b.dcsLastSeen = seen;
        });
    }

    /** PostgreSQL as just observed; {@code sinceNanos} is when its state began. */
    NodeState observed(PostgresStatus status, long sinceNanos) {
        return status.equals(lastStatus) && sinceNanos == stateSinceNanos ? this : with(b -> {
            b.lastStatus = status;
            b.stateSinceNanos = sinceNanos;
        });
    }

    NodeState withKnownTimeline(long timeline, String creator) {
        return with(b -> {
            b.knownTimeline = timeline;
            b.knownTimelineCreator = creator;
        });
    }

    NodeState withDcsTroubleSinceLastRace(boolean value) {
        return with(b -> b.dcsTroubleSinceLastRace = value);
    }

    NodeState withGuardCapable(boolean value) {
        return guardCapable == value ? this : with(b -> b.guardCapable = value);
    }

    NodeState withRewind(Rewinder.State value) {
        return rewind == value ? this : with(b -> b.rewind = value);
    }

    NodeState withSettings(ClusterSettings value, Election rules) {
        return with(b -> {
            b.settings = value;
            b.election = rules;
        });
    }

    NodeState withLock(LeaderLock.State value) {
        return with(b -> b.lock = value);
    }

    NodeState withShutdown(Shutdown.Progress value) {
        return with(b -> b.shutdown = value);
    }

    NodeState withConfigSeen(Map<String, Object> value) {
        return value == configSeen ? this : with(b -> b.configSeen = value);
    }

    NodeState withSlots(SlotKeeper.State value) {
        return value == slots ? this : with(b -> b.slots = value);
    }

    NodeState withScheduledRestart(ScheduledRestart value) {
        return value == scheduledRestart ? this : with(b -> b.scheduledRestart = value);
    }

    NodeState withStartTimeout(java.time.Duration value) {
        return java.util.Objects.equals(value, startTimeout) ? this : with(b -> b.startTimeout = value);
    }

    NodeState withSync(SyncReplication.State value) {
        return value.equals(sync) ? this : with(b -> b.sync = value);
    }

    private NodeState with(Consumer<Copy> edit) {
        Copy b = new Copy(this);
        edit.accept(b);
        return b.build();
    }

    /** A mutable copy for the withers above; never escapes them. */
    private static final class Copy {
        PostgresRole role;
        LongAction action;
        boolean recovering;
        boolean bootstrapping;
        boolean crashRecoveryExecuted;
        boolean callbackFired;
        boolean followConfigured;
        String upstream;
        String formerLeader;
        ClusterView lastView;
        Instant dcsLastSeen;
        PostgresStatus lastStatus;
        long stateSinceNanos;
        long knownTimeline;
        String knownTimelineCreator;
        boolean dcsTroubleSinceLastRace;
        boolean guardCapable;
        Rewinder.State rewind;
        ClusterSettings settings;
        Election election;
        LeaderLock.State lock;
        SlotKeeper.State slots;
        Map<String, Object> configSeen;
        Shutdown.Progress shutdown;
        ScheduledRestart scheduledRestart;
        java.time.Duration startTimeout;
        SyncReplication.State sync;

        Copy(NodeState s) {
            role = s.role;
            action = s.action;
            recovering = s.recovering;
            bootstrapping = s.bootstrapping;
            crashRecoveryExecuted = s.crashRecoveryExecuted;
            callbackFired = s.callbackFired;
            followConfigured = s.followConfigured;
            upstream = s.upstream;
            formerLeader = s.formerLeader;
            lastView = s.lastView;
            dcsLastSeen = s.dcsLastSeen;
            lastStatus = s.lastStatus;
            stateSinceNanos = s.stateSinceNanos;
            knownTimeline = s.knownTimeline;
            knownTimelineCreator = s.knownTimelineCreator;
            dcsTroubleSinceLastRace = s.dcsTroubleSinceLastRace;
            guardCapable = s.guardCapable;
            rewind = s.rewind;
            settings = s.settings;
            election = s.election;
            lock = s.lock;
            slots = s.slots;
            configSeen = s.configSeen;
            shutdown = s.shutdown;
            scheduledRestart = s.scheduledRestart;
            startTimeout = s.startTimeout;
            sync = s.sync;
        }

        NodeState build() {
            return new NodeState(role, action, recovering, bootstrapping, crashRecoveryExecuted, callbackFired,
                    followConfigured, upstream, formerLeader, lastView, dcsLastSeen, lastStatus, stateSinceNanos,
                    knownTimeline,
                    knownTimelineCreator, dcsTroubleSinceLastRace, guardCapable, rewind, settings,
                    election, lock, slots, configSeen, shutdown, scheduledRestart, startTimeout, sync);
        }
    }
}
