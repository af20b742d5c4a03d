package dev.pgha;

import dev.pgha.ClusterSettings.SynchronousMode;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.SyncState;
import dev.pgha.dcs.DcsException;
import dev.pgha.postgres.ReplicationState;
import dev.pgha.postgres.SyncStandbyNames;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leader's side of synchronous replication (Patroni's {@code process_sync_replication()},
 * {@code _process_multisync_replication()}, {@code _handle_synchronous_strict_mode()},
 * {@code process_sync_replication_prepromote()} and its {@code SyncHandler}): it chooses the
 * synchronous standbys, puts them in {@code synchronous_standby_names} and publishes them in the
 * {@code sync} key, in the order that keeps the key from ever naming a node PostgreSQL does not
 * wait for: a standby is added to the key only once {@code pg_stat_replication} reports it
 * {@code sync} (and it caught up with the primary's flush position of the moment it was listed),
 * and a standby leaves {@code synchronous_standby_names} only after it left the key.
 *
 * <p>The {@code sync} key is written at most once per cycle: the cycle's view carries the
 * version that compare-and-set needs, so after a write the next step waits for the next cycle.
 * Patroni's two-second sleep for PostgreSQL to pick up a new value is a second look at
 * {@code pg_stat_replication} within the same cycle.
 */
final class SyncReplication {

    private static final Logger log = LoggerFactory.getLogger(SyncReplication.class);

    /**
     * What a node carries between cycles, in its {@link NodeState}.
     *
     * @param ssnSeen          the {@code synchronous_standby_names} last seen in force (null: none seen)
     * @param primaryFlushLsn  the primary's flush position when {@code ssnSeen} was first seen: a newly
     *                         listed standby counts as synchronous only once it reached it
     * @param ready            listed standbys known to have reached it, with their walsender's pid
     * @param strictActivated  strict mode holds commits because no standby is connected (warned once)
     * @param lastGood         the last usable {@code sync} key read, kept when a later one cannot be used
     */
    record State(String ssnSeen, long primaryFlushLsn, Map<String, Integer> ready, boolean strictActivated,
                 SyncState lastGood) {
        static final State INITIAL = new State(null, 0, Map.of(), false, null);

        State {
            ready = Map.copyOf(ready);
        }
    }

    private final Node node;
    private final SyncHandler handler;

    SyncReplication(Node node) {
        this.node = node;
        this.handler = new SyncHandler(node.name);
    }

    /** Whether synchronous replication is requested in either form. */
    static boolean requested(ClusterSettings s) {
        return s.synchronousMode().isSynchronous();
    }

    /** Patroni's {@code min_synchronous_nodes}: 1 in strict mode, else 0. */
    static int minSynchronousNodes(ClusterSettings s) {
        return s.synchronousModeStrict() ? 1 : 0;
    }

    /**
     * The {@code sync} key the rules go by: the cycle's, unless it exists without a usable leader
     * (a value another tool wrote that does not decode) while synchronous replication is on —
     * then the last usable one this node read, so that garbage never widens who may promote.
     * Null when there is none.
     */
    static SyncState effective(NodeState state, ClusterView cluster) {
        SyncState sync = cluster.sync();
        if (sync != null && sync.leader() == null && requested(state.settings()) && state.sync().lastGood() != null) {
            return state.sync().lastGood();
        }
        return sync == null || sync.leader() == null ? null : sync;
    }

    /**
     * Whether synchronous replication is requested and the {@code sync} key exists but names no
     * leader, with no usable one read before: who may promote cannot be known.
     */
    static boolean unknowable(NodeState state, ClusterView cluster) {
        SyncState sync = cluster.sync();
        return requested(state.settings()) && sync != null && sync.leader() == null && state.sync().lastGood() == null;
    }

    /**
     * Remembers the cycle's {@code sync} key when usable (and forgets it once the key is gone:
     * synchronous replication was disabled), and warns when it is not usable.
     */
    void noteKey(Cycle c) {
        SyncState sync = c.cluster.sync();
        State st = c.state.sync();
        if (sync == null && st.lastGood() != null || sync != null && sync.leader() != null && !sync.equals(st.lastGood())) {
            c.state = c.state.withSync(new State(st.ssnSeen(), st.primaryFlushLsn(), st.ready(), st.strictActivated(),
                    sync));
        } else if (sync != null && sync.leader() == null && requested(c.state.settings()) && st.lastGood() != null) {
            log.warn("{}: the sync key names no leader; deciding by the last one read ({} with {})", node.name,
                    st.lastGood().leader(), st.lastGood().syncStandbys());
        }
    }

    /** The lock holder runs as primary: Patroni's {@code process_sync_replication()}. */
    void process(Cycle c) {
        ClusterSettings s = c.state.settings();
        if (s.synchronousMode() == SynchronousMode.OFF) {
            disable(c);
            return;
        }
        ReplicationState rs = node.postgres.replicationState();
        if (!rs.known()) {
            return; // PostgreSQL could not be asked: decide next cycle
        }
        SyncState sync = c.cluster.sync();
        if (sync == null || sync.leader() == null) {
            enable(c, sync);
            return;
        }
        if (s.synchronousMode() == SynchronousMode.QUORUM) {
            processQuorum(c, rs, sync);
        } else {
            processMultisync(c, rs, sync);
        }
    }

    /**
     * Patroni's {@code _process_quorum_replication()}: the {@link QuorumResolver}'s steps, applied in
     * order up to the first write of the key (the next cycle computes the rest from there); when the
     * standbys have to catch up first, it looks again at once, a few times, instead of sleeping.
     */
    private void processQuorum(Cycle c, ReplicationState rs, SyncState sync) {
        for (int attempt = 0; attempt < 3; attempt++) {
            SyncHandler.Snapshot now = handler.snapshot(c, rs);
            if (node.name.equals(sync.leader()) && holdsForStrictMode(c, sync, now)) {
                return;
            }
            List<QuorumResolver.Transition> steps;
            try {
                steps = new QuorumResolver(sync.leader(), sync.quorum(), sync.syncStandbys(), now.numsync(), now.sync(),
                        now.confirmed().size(), now.active(), c.state.settings().synchronousNodeCount(), node.name)
                        .transitions();
            } catch (QuorumResolver.QuorumException | IllegalStateException e) {
                log.warn("{}: quorum state cannot be repaired now: {}", node.name, e.getMessage());
                return;
            }
            if (steps.isEmpty() && now.type() != SyncStandbyNames.Type.QUORUM) {
                setNames(now.sync(), now.numsync(), true); // FIRST -> ANY
            }
            for (QuorumResolver.Transition t : steps) {
                switch (t.kind()) {
                    case SYNC -> setNames(t.names(), t.num(), true);
                    case QUORUM -> {
                        log.info("{}: Setting leader to {}, quorum to {} of ({})", node.name, t.leader(), t.num(),
                                String.join(", ", new TreeSet<>(t.names())));
                        if (!writeKey(new SyncState(t.leader(), t.names(), t.num(), 0), sync.version())) {
                            log.info("{}: Synchronous replication key updated by someone else.", node.name);
                        }
                        return; // one write of the key per cycle
                    }
                    case RESTART -> {
                        rs = node.postgres.replicationState();
                        if (!rs.known()) {
                            return;
                        }
                    }
                }
            }
            if (steps.isEmpty() || steps.get(steps.size() - 1).kind() != QuorumResolver.Kind.RESTART) {
                return;
            }
        }
    }

    /** Writes the key naming this node with no standbys: synchronous replication is on from now. */
    private void enable(Cycle c, SyncState current) {
        if (writeKey(new SyncState(node.name, Set.of(), 0, 0), current == null ? 0 : current.version())) {
            log.info("{}: Enabled synchronous replication", node.name);
        } else {
            log.warn("{}: Updating sync state failed", node.name);
        }
    }

    private void processMultisync(Cycle c, ReplicationState rs, SyncState sync) {
        SyncHandler.Snapshot now = handler.snapshot(c, rs);
        Set<String> picked = now.active();
        Set<String> allowPromote = now.confirmed();
        Set<String> voters = sync.syncStandbys();
        if (!node.name.equals(sync.leader())) {
            log.warn("{}: Inconsistent state of /sync key detected, leader = {} doesn't match {}, updating synchronous "
                    + "replication key", node.name, sync.leader(), node.name);
            write(c, new SyncState(node.name, Set.of(), 0, 0), sync, "Updating sync state failed");
            return;
        }
        if (picked.equals(voters) && !voters.equals(allowPromote)) {
            log.warn("{}: Inconsistent state between synchronous_standby_names = {} and /sync = {} key detected, "
                    + "updating synchronous replication key...", node.name, sorted(allowPromote), sorted(voters));
            write(c, new SyncState(node.name, allowPromote, 0, 0), sync, "Updating sync state failed");
            return;
        }
        if (holdsForStrictMode(c, sync, now)) {
            return;
        }
        if (picked.equals(voters) && voters.equals(now.sync()) && now.numsync() == picked.size()) {
            if (now.type() != SyncStandbyNames.Type.PRIORITY) {
                setNames(picked, picked.size(), false); // ANY -> FIRST
            }
            return;
        }
        Set<String> common = new TreeSet<>(voters);
        common.retainAll(allowPromote);
        if (!common.equals(voters)) {
            log.info("{}: Updating /sync key temporarily from {} to {}", node.name, sorted(voters), sorted(common));
            write(c, new SyncState(node.name, common, 0, 0), sync, "Synchronous replication key updated by someone else.");
            return; // synchronous_standby_names changes next cycle, once the key no longer names the others
        }
        setNames(picked, picked.size(), false);
        if (!picked.isEmpty() && !allowPromote.equals(picked)) {
            allowPromote = handler.snapshot(c, node.postgres.replicationState()).confirmed();
        }
        if (!allowPromote.isEmpty() && !allowPromote.equals(common)) {
            if (writeKey(new SyncState(node.name, allowPromote, 0, 0), sync.version())) {
                log.info("{}: Synchronous standby status assigned to {}", node.name, sorted(allowPromote));
            } else {
                log.info("{}: Synchronous replication key updated by someone else", node.name);
            }
        }
    }

    /**
     * Patroni's {@code _handle_synchronous_strict_mode()}: with fewer streaming standbys than strict
     * mode requires, {@code synchronous_standby_names} keeps naming the key's standbys (or the
     * placeholder) so that commits wait; outside strict mode, with nobody to name, it is cleared.
     *
     * @return whether strict mode holds commits now
     */
    private boolean holdsForStrictMode(Cycle c, SyncState sync, SyncHandler.Snapshot now) {
        int min = minSynchronousNodes(c.state.settings());
        State st = c.state.sync();
        boolean activated;
        if (now.active().size() < min) {
            boolean quorumMode = c.state.settings().synchronousMode() == SynchronousMode.QUORUM;
            Set<String> voters = sync.syncStandbys();
            int numsync = Math.max(min, voters.size() - (quorumMode ? sync.quorum() : 0));
            SyncStandbyNames.Type type = quorumMode ? SyncStandbyNames.Type.QUORUM : SyncStandbyNames.Type.PRIORITY;
            String msg = "";
            if (!voters.equals(now.sync()) || numsync != now.numsync() || now.type() != type) {
                setNames(voters, numsync, quorumMode);
            } else if (!voters.isEmpty()) {
                msg = "Continue using old value of synchronous_standby_names=\"" + st.ssnSeen() + "\". ";
            }
            if (!st.strictActivated()) {
                log.warn("{}: No active replication connections from Patroni members and synchronous_mode_strict is "
                        + "requested. {}Commits will be delayed.", node.name, msg);
            }
            activated = true;
        } else {
            if (min == 0 && now.active().isEmpty() && sync.syncStandbys().isEmpty()
                    && (!now.sync().isEmpty() || now.numsync() > 0)) {
                setNames(Set.of(), 0, false);
            }
            activated = false;
        }
        State latest = c.state.sync();
        c.state = c.state.withSync(new State(latest.ssnSeen(), latest.primaryFlushLsn(), latest.ready(), activated,
                latest.lastGood()));
        return activated;
    }

    /**
     * Patroni's {@code process_sync_replication_prepromote()}, before this node promotes: in strict
     * mode the new primary keeps waiting for the members the key names (its own name left out; the
     * placeholder when none is left), else it starts asynchronous and names standbys as they
     * connect. The key names this node as leader first.
     *
     * @return false when the key changed meanwhile (the promotion waits)
     */
    boolean prepromote(Cycle c) {
        ClusterSettings s = c.state.settings();
        if (s.synchronousMode() == SynchronousMode.OFF) {
            disable(c);
            return true;
        }
        SyncState current = c.cluster.sync();
        if (s.synchronousMode() == SynchronousMode.QUORUM) {
            quorumPrepromote(c, current);
            return true;
        }
        Set<String> standbys = new TreeSet<>();
        if (minSynchronousNodes(s) > 0 && current != null && current.leader() != null) {
            standbys.add(current.leader());
            standbys.addAll(current.syncStandbys());
            standbys.remove(node.name);
        }
        if (!writeKey(new SyncState(node.name, standbys, 0, 0), current == null ? 0 : current.version())) {
            return false;
        }
        int numsync = standbys.isEmpty() ? minSynchronousNodes(s) : standbys.size();
        setNames(standbys, numsync, false);
        return true;
    }

    /**
     * Patroni's {@code _process_quorum_prepromote()}: only {@code synchronous_standby_names}, so that
     * the key's promise holds from the first commit on ({@code ANY n} of the key's leader and voters,
     * this node left out); the key follows once it runs as primary.
     */
    private void quorumPrepromote(Cycle c, SyncState current) {
        boolean active = current != null && current.leader() != null;
        Set<String> members = new TreeSet<>();
        if (active) {
            members.add(current.leader());
            members.addAll(current.syncStandbys());
        }
        int numsync = members.size() - (active ? current.quorum() : 0) - 1;
        if (!members.remove(node.name)) {
            numsync++; // promoted from outside the voters: by a manual failover, or with the quorum's votes
        }
        setNames(members, Math.max(numsync, minSynchronousNodes(c.state.settings())), true);
    }

    /**
     * Before PostgreSQL starts as primary again after a crash (or after initdb): the names the key
     * promises, so that no commit is acknowledged by fewer standbys than it says; in strict mode
     * the placeholder when it names none.
     */
    void beforePrimaryStart(Cycle c) {
        ClusterSettings s = c.state.settings();
        if (!requested(s)) {
            return;
        }
        SyncState sync = effective(c.state, c.cluster);
        Set<String> standbys = sync == null || !node.name.equals(sync.leader()) ? Set.of() : sync.syncStandbys();
        if (s.synchronousMode() == SynchronousMode.QUORUM) {
            int quorum = standbys.isEmpty() ? 0 : sync.quorum();
            setNames(standbys, Math.max(minSynchronousNodes(s), standbys.size() - quorum), true);
        } else {
            setNames(standbys, standbys.isEmpty() ? minSynchronousNodes(s) : standbys.size(), false);
        }
    }

    /** Before PostgreSQL starts or runs as a replica in synchronous mode: no synchronous standbys of its own. */
    void asReplica(Cycle c) {
        if (requested(c.state.settings())) {
            setNames(Set.of(), 0, false);
        }
    }

    /**
     * Synchronous replication is off: the key goes ("Disabled synchronous replication") and the
     * configured {@code synchronous_standby_names} applies again.
     */
    void disable(Cycle c) {
        SyncState sync = c.cluster.sync();
        if (sync != null) {
            try {
                node.dcs.deleteSync();
                log.info("{}: Disabled synchronous replication", node.name);
            } catch (DcsException e) {
                log.warn("{}: could not delete the sync key: {}", node.name, e.getMessage());
                return; // the names stay until the key is gone
            }
        }
        node.postgres.synchronousStandbyNames(null);
    }

    /**
     * A compare-and-set write of the key; a DCS failure counts as a lost race (as in Patroni, where
     * the write returns false): the lock's own refresh decides about the DCS, not this write.
     */
    private boolean writeKey(SyncState next, long expectedVersion) {
        try {
            return node.dcs.writeSync(next, expectedVersion);
        } catch (DcsException e) {
            log.warn("{}: could not write the sync key: {}", node.name, e.getMessage());
            return false;
        }
    }

    private void setNames(Set<String> standbys, int num, boolean quorum) {
        node.postgres.synchronousStandbyNames(SyncStandbyNames.format(standbys, num, quorum));
    }

    private void write(Cycle c, SyncState next, SyncState current, String failure) {
        if (!writeKey(next, current.version())) {
            log.warn("{}: {}", node.name, failure);
        }
    }

    private static List<String> sorted(Set<String> names) {
        return List.copyOf(new TreeSet<>(names));
    }
}
