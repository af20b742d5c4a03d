package dev.pgha;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Quorum commit's state machine (Patroni 4's {@code QuorumStateResolver}): from where
 * {@code synchronous_standby_names} ({@code ANY numsync (sync)}) and the {@code sync} key
 * ({@code quorum} of {@code voters}, plus its leader) stand, the steps that bring both to the
 * state the active standbys call for, in an order that keeps one promise after every single step:
 * any set of standbys that can acknowledge a commit overlaps any set of members that can reach the
 * quorum to promote a new leader ({@code |voters ∪ sync ∪ leaders| ≤ quorum + numsync + 1}).
 * Increasing {@code numsync} or {@code quorum} goes first, decreasing them last.
 *
 * <p>The target, for the active standbys {@code A}: {@code sync = voters = A},
 * {@code numsync = min(synchronous_node_count, |A|)}, {@code quorum = |A| - numsync}. The steps
 * are computed at once ({@link #transitions()}); the caller applies them in order and may stop
 * after any of them: the next computation starts from wherever it stopped.
 */
final class QuorumResolver {

    private static final Logger log = LoggerFactory.getLogger(QuorumResolver.class);

    /** What a step changes. */
    enum Kind {
        /** {@code synchronous_standby_names}: {@code ANY num (names)}. */
        SYNC,
        /** The {@code sync} key: leader, {@code quorum} = num, voters = names. */
        QUORUM,
        /** Nothing to do until the standbys caught up: look again (after a moment). */
        RESTART
    }

    /** One step: the new state of what {@code kind} names. */
    record Transition(Kind kind, String leader, int num, Set<String> names) {
        Transition {
            names = Set.copyOf(names);
        }
    }

    /** The state is broken: a step would lose the overlap. */
    static final class QuorumException extends RuntimeException {
        QuorumException(String message) {
            super(message);
        }
    }

    private String leader;
    private int quorum;
    private Set<String> voters;
    private int numsync;
    private Set<String> sync;
    private int numsyncConfirmed;
    private final Set<String> active;
    private final int syncWanted;
    private final String leaderWanted;
    private final List<Transition> out = new ArrayList<>();

    /**
     * @param leader           the {@code sync} key's leader
     * @param quorum           its {@code quorum}
     * @param voters           its {@code sync_standby}
     * @param numsync          {@code synchronous_standby_names}' number
     * @param sync             its names
     * @param numsyncConfirmed how many of them reached the safe position since they were listed
     * @param active           the standbys streaming that may be synchronous
     * @param syncWanted       {@code synchronous_node_count}
     * @param leaderWanted     this node, the primary (another than {@code leader} right after a failover)
     */
    QuorumResolver(String leader, int quorum, Collection<String> voters, int numsync, Collection<String> sync,
                   int numsyncConfirmed, Collection<String> active, int syncWanted, String leaderWanted) {
        this.leader = leader;
        this.quorum = quorum;
        this.voters = new TreeSet<>(voters);
        this.sync = new TreeSet<>(sync);
        this.numsync = Math.min(numsync, this.sync.size());
        this.numsyncConfirmed = numsyncConfirmed;
        this.active = new TreeSet<>(active);
        this.syncWanted = syncWanted;
        this.leaderWanted = leaderWanted;
    }

    /**
     * The steps, two of the same kind in a row merged into the last (nobody saw the first), up to
     * and including a {@link Kind#RESTART}.
     *
     * @throws QuorumException when the state cannot be repaired by steps that keep the overlap
     */
    List<Transition> transitions() {
        generate();
        List<Transition> merged = new ArrayList<>();
        for (int i = 0; i < out.size(); i++) {
            Transition t = out.get(i);
            if (i + 1 < out.size() && out.get(i + 1).kind() == t.kind()) {
                continue;
            }
            merged.add(t);
            if (t.kind() == Kind.RESTART) {
                break;
            }
        }
        return merged;
    }

    private void generate() {
        try {
            if (!leaderWanted.equals(leader)) { // a failover: the old leader becomes a voter
                Set<String> v = minus(voters, Set.of(leaderWanted));
                v.add(leader);
                if (sync.isEmpty()) {
                    syncUpdate(v.size() - quorum, v);
                }
                quorumUpdate(quorum, v, leaderWanted, true);
                if (intersect(sync, active).isEmpty()) {
                    return; // give the standbys a loop_wait to reconnect before dropping them
                }
            } else {
                checkInvariants();
            }
        } catch (QuorumException e) {
            log.warn("{}: {}", leaderWanted, e.getMessage());
            quorumUpdate(sync.size() - numsync, sync, null, true);
        }
        if (!leader.equals(leaderWanted)) { // the repair kept the old leader: no step may name it
            throw new QuorumException("leader " + leader + " of the key is not " + leaderWanted + " after the repair");
        }
        if (numsyncConfirmed == 0 && !intersect(sync, active).isEmpty()) {
            // after a restart or a failover nothing was confirmed yet: the quorum says how many may be
            numsyncConfirmed = Math.min(intersect(sync, active).size(), voters.size() - quorum);
        }
        handleNonSteadyCases();
        removeGoneNodes();
        addNewNodes();
        handleReplicationFactorChange();
    }

    /** Throws when the overlap or the nesting of the two sets is broken (package-private for the tests). */
    void checkInvariants() {
        Set<String> v = union(voters, Set.of(leader));
        Set<String> s = union(sync, Set.of(leaderWanted));
        int nodes = union(v, s).size();
        if (!voters.isEmpty() && nodes > quorum + numsync + 1) {
            throw new QuorumException("Quorum and sync not guaranteed to overlap: nodes " + nodes + " >= quorum "
                    + quorum + " + sync " + sync + " + 1");
        }
        if (!(s.containsAll(v) || v.containsAll(s))) {
            throw new QuorumException("Mismatched sets: voter only=" + minus(v, s) + " sync only=" + minus(s, v));
        }
    }

    private void quorumUpdate(int newQuorum, Set<String> newVoters, String newLeader, boolean adjustQuorum) {
        if (newQuorum < 0) {
            throw new QuorumException("Quorum " + newQuorum + " < 0 of (" + newVoters + ")");
        }
        if (newQuorum > 0 && newQuorum >= newVoters.size()) {
            throw new QuorumException("Quorum " + newQuorum + " >= N of (" + newVoters + ")");
        }
        String oldLeader = leader;
        if (newLeader != null) {
            leader = newLeader;
        } else if (numsyncConfirmed == 0 && voters.isEmpty()) {
            newQuorum = 0; // nothing confirmed and nobody voting yet: nobody votes
            newVoters = Set.of();
        } else if (adjustQuorum) {
            newQuorum += Math.max(numsync - numsyncConfirmed, 0);
        }
        if (leader.equals(oldLeader) && newQuorum == quorum && newVoters.equals(voters)) {
            if (!voters.isEmpty()) {
                return;
            }
            out.add(new Transition(Kind.RESTART, leader, quorum, voters));
        }
        quorum = newQuorum;
        voters = new TreeSet<>(newVoters);
        checkInvariants();
        out.add(new Transition(Kind.QUORUM, leader, quorum, voters));
    }

    void quorumUpdate(int newQuorum, Set<String> newVoters) {
        quorumUpdate(newQuorum, newVoters, null, true);
    }

    void syncUpdate(int newNumsync, Set<String> newSync) {
        if (newNumsync < 0) {
            throw new QuorumException("Sync " + newNumsync + " < 0 of (" + newSync + ")");
        }
        if (newNumsync > newSync.size()) {
            throw new QuorumException("Sync " + newNumsync + " > N of (" + newSync + ")");
        }
        numsync = newNumsync;
        sync = new TreeSet<>(newSync);
        checkInvariants();
        out.add(new Transition(Kind.SYNC, leader, numsync, sync));
    }

    /** Finishes a sequence an earlier run did not complete. */
    private void handleNonSteadyCases() {
        if (voters.containsAll(sync) && voters.size() > sync.size()) {
            // synchronous_standby_names is a subset of the key
            Set<String> removeFromVoters = minus(voters, union(sync, active));
            if (!removeFromVoters.isEmpty()) {
                quorumUpdate(voters.size() - removeFromVoters.size() - numsync, minus(voters, removeFromVoters), null,
                        minus(sync, active).isEmpty());
            }
            Set<String> addToSync = minus(intersect(voters, active), sync);
            if (!addToSync.isEmpty()) {
                syncUpdate(numsync, union(sync, addToSync));
            }
        } else if (sync.containsAll(voters) && sync.size() > voters.size()) {
            // synchronous_standby_names is a superset of the key
            Set<String> removeFromSync = minus(sync, active);
            Set<String> remaining = minus(sync, removeFromSync);
            if (!removeFromSync.isEmpty() && !remaining.isEmpty()
                    && (voters.isEmpty() || !intersect(remaining, voters).isEmpty())) {
                syncUpdate(Math.min(numsync, sync.size() - removeFromSync.size()), remaining);
            }
            Set<String> addToVoters = intersect(minus(sync, voters), active);
            if (!addToVoters.isEmpty()) {
                Set<String> v = union(voters, addToVoters);
                quorumUpdate(v.size() - numsync, v);
            }
            Set<String> notVoting = minus(sync, voters);
            if (!notVoting.isEmpty()) {
                syncUpdate(Math.min(numsync, sync.size() - notVoting.size()), minus(sync, notVoting));
            }
        }
        if (!voters.equals(sync)) {
            throw new QuorumException("voters " + voters + " and synchronous_standby_names " + sync + " still differ");
        }
        int margin = quorum + Math.min(numsync, numsyncConfirmed) - union(voters, sync).size();
        if (margin > 0) { // in the middle of changing the replication factor
            if (numsync > syncWanted) {
                syncUpdate(Math.max(syncWanted, voters.size() - quorum), sync);
            } else {
                quorumUpdate(sync.size() - numsync, voters);
            }
        } else {
            margin = quorum + numsync - union(voters, sync).size();
            if (numsync == syncWanted && margin > 0 && numsync > numsyncConfirmed) {
                quorumUpdate(sync.size() - numsync, voters);
            }
        }
    }

    /** Standbys no longer active leave {@code synchronous_standby_names} and the key. */
    private void removeGoneNodes() {
        Set<String> toRemove = minus(sync, active);
        if (toRemove.isEmpty()) {
            return;
        }
        if (sync.equals(toRemove)) {
            quorumUpdate(0, Set.of(), null, false);
            syncUpdate(0, Set.of());
            return;
        }
        if (quorum > 0) {
            Set<String> remove = new TreeSet<>(new TreeSet<>(toRemove).descendingSet().stream().limit(quorum).toList());
            Set<String> remaining = minus(sync, remove);
            syncUpdate(Math.min(syncWanted > numsync ? syncWanted : numsync, remaining.size()), remaining);
            Set<String> v = minus(voters, remove);
            toRemove = intersect(toRemove, sync);
            quorumUpdate(v.size() - numsync, v, null, toRemove.isEmpty());
        }
        if (!toRemove.isEmpty()) {
            if (quorum != 0) {
                throw new QuorumException("quorum " + quorum + " left while removing " + toRemove);
            }
            int n = numsync - toRemove.size();
            Set<String> remaining = minus(sync, toRemove);
            Set<String> v = minus(voters, toRemove);
            int syncDecrease = n - Math.min(syncWanted, remaining.size());
            int q = syncDecrease != 0 ? Math.min(syncDecrease, v.size() - 1) : 0;
            quorumUpdate(q, v, null, false);
            syncUpdate(n, remaining);
        }
    }

    /** Newly active standbys join: into the names first while they are empty, else into the key first. */
    private void addNewNodes() {
        Set<String> toAdd = minus(active, sync);
        if (toAdd.isEmpty()) {
            return;
        }
        int wanted = Math.min(syncWanted, union(sync, toAdd).size());
        int increase = wanted - numsync;
        if (increase > 0) {
            Set<String> add = toAdd; // with no names yet, all may join at once
            if (!sync.isEmpty()) {
                add = new TreeSet<>(toAdd.stream().sorted().limit(increase).toList());
                increase = add.size();
            }
            syncUpdate(numsync + increase, union(sync, add));
            Set<String> v = union(voters, add);
            quorumUpdate(v.size() - wanted, v);
            toAdd = minus(toAdd, sync);
        }
        if (!toAdd.isEmpty()) {
            Set<String> v = union(voters, toAdd);
            quorumUpdate(v.size() - wanted, v, null, wanted > numsyncConfirmed);
            syncUpdate(wanted, union(sync, toAdd));
        }
    }

    /** {@code synchronous_node_count} changed. */
    private void handleReplicationFactorChange() {
        int increase = Math.min(syncWanted, sync.size()) - numsync;
        if (increase > 0) {
            syncUpdate(numsync + increase, sync);
            quorumUpdate(voters.size() - numsync, voters);
        } else if (increase < 0) {
            if (quorum - increase < voters.size()) {
                quorumUpdate(voters.size() - numsync - increase, voters, null, syncWanted > numsyncConfirmed);
            }
            syncUpdate(numsync + increase, sync);
        }
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> s = new TreeSet<>(a);
        s.addAll(b);
        return s;
    }

    private static Set<String> minus(Set<String> a, Set<String> b) {
        Set<String> s = new TreeSet<>(a);
        s.removeAll(b);
        return s;
    }

    private static Set<String> intersect(Set<String> a, Set<String> b) {
        Set<String> s = new TreeSet<>(a);
        s.retainAll(b);
        return s;
    }
}
