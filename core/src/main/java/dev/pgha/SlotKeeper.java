package dev.pgha;

import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.SlotNames;
import dev.pgha.postgres.Lsn;
import java.time.Duration;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The primary's member slots (Patroni's {@code sync_replication_slots()} for physical member
 * slots, and {@code _build_retain_slots()}): every cycle the lock holder running as primary makes
 * sure a physical slot exists for each other member it retains, and drops the physical slots of
 * members gone for {@code member_slots_ttl}. Slots in {@code ignore_slots}, slots whose name pgha
 * could not have made, logical slots and slots in use are never dropped.
 *
 * <p><b>Retention</b> (Patroni 4's {@code retain_slots}): the leader remembers, for the slot name
 * of every member it saw (its own included), when it last saw the member's key; a name is retained
 * until {@code member_slots_ttl} after that. The retained names go to the {@code status} key, and
 * a new leader starts from them when it takes the lock: it keeps (and creates, if missing) the
 * slots of members listed there even though their keys are gone. Their clock starts again at
 * that moment, as in Patroni: the key holds no times, and erring towards keeping WAL costs at most
 * one more {@code member_slots_ttl} per failover. A slot that exists without a member and was never
 * retained (a leftover) is dropped {@code member_slots_ttl} after this leader first saw it.
 */
final class SlotKeeper {

    private static final Logger log = LoggerFactory.getLogger(SlotKeeper.class);

    private final Node node;

    /**
     * What the node knows of its member slots, carried in its {@link NodeState}.
     *
     * @param retained       retained member slot names, and when (clock nanos) their member was last seen
     * @param absentSince    leftover slots without a retained member, and since when (clock nanos) this
     *                       leader saw them so
     * @param positions      the wanted member slots that exist and their positions, as the last
     *                       {@link #keep} read them
     * @param seeded         {@code retained} started from a {@code status} key in this term (see {@link #reset})
     * @param replicaChecked {@link #dropOnReplica} looked since the last follow
     */
    record State(Map<String, Long> retained, Map<String, Long> absentSince, Map<String, Long> positions,
                 boolean seeded, boolean replicaChecked) {

        static final State INITIAL = new State(Map.of(), Map.of(), Map.of(), false, false);

        /** Copies the maps (sorted, so that logs and the status key list names in order). */
        State {
            retained = Collections.unmodifiableMap(new TreeMap<>(retained));
            absentSince = Collections.unmodifiableMap(new TreeMap<>(absentSince));
            positions = Collections.unmodifiableMap(new TreeMap<>(positions));
        }

        State withReplicaChecked(boolean value) {
            return value == replicaChecked ? this : new State(retained, absentSince, positions, seeded, value);
        }
    }

    SlotKeeper(Node node) {
        this.node = node;
    }

    /** The slot this node streams through when it follows {@code upstream} of {@code view}; null for none. */
    String slotToFollow(ClusterSettings settings, ClusterView view, Member upstream) {
        if (!settings.useSlots() || upstream == null || !view.isLeader(upstream.name())) {
            return null; // only the leader keeps member slots; a cascading upstream has none
        }
        return SlotNames.fromMemberName(node.name);
    }

    /** The slot names of the members of {@code view} other than {@code self} that {@link #slotOf get one}. */
    static Set<String> wanted(ClusterView view, String self) {
        Set<String> out = new TreeSet<>();
        for (Member m : view.members()) {
            String slot = m.name().equals(self) ? null : slotOf(m);
            if (slot != null) {
                out.add(slot);
            }
        }
        out.remove(SlotNames.fromMemberName(self));
        return out;
    }

    /**
     * The slot to keep for the member of a member key, or null for none: none for a key that did
     * not decode (the adapters read it as {@link Member#named a member known only by name}: no
     * agent publishes nothing), a blank name or one that gives no valid slot name. Such a key
     * would otherwise make the leader hold WAL for a member that is not there.
     */
    static String slotOf(Member m) {
        if (m.name().isBlank() || m.equals(Member.named(m.name()))) {
            return null;
        }
        String slot = SlotNames.fromMemberName(m.name());
        return SlotNames.isValid(slot) ? slot : null;
    }

    /** The lock holder's duty on a running primary; call once per cycle, without a long action. */
    void keep(Cycle c, ClusterView view) {
        ClusterSettings settings = c.state.settings();
        if (!settings.useSlots()) {
            return;
        }
        if (!c.state.slots().seeded()) {
            reset(c, view.status()); // e.g. a restarted agent that still holds the lock
        }
        State s = c.state.slots();
        Map<String, Long> retained = new TreeMap<>(s.retained());
        Map<String, Long> absentSince = new HashMap<>(s.absentSince());
        Map<String, Lsn> existing = node.postgres.replicationSlotPositions();
        long now = node.clock.nanoTime();
        Duration ttl = settings.memberSlotsTtl();
        String own = SlotNames.fromMemberName(node.name);
        Set<String> present = wanted(view, "");
        present.add(own);
        present.forEach(slot -> retained.put(slot, now));
        retained.entrySet().removeIf(e -> {
            if (present.contains(e.getKey()) || Duration.ofNanos(now - e.getValue()).compareTo(ttl) < 0) {
                return false;
            }
            log.info("{}: Replication slot '{}' for absent cluster member is expired after {} sec.", node.name,
                    e.getKey(), ttl.toSeconds());
            absentSince.merge(e.getKey(), e.getValue(), Math::min); // absent since its member was last seen
            return true;
        });
        Set<String> wanted = new TreeSet<>(retained.keySet());
        wanted.remove(own);
        Set<String> create = new TreeSet<>(wanted);
        create.removeAll(existing.keySet());
        Set<String> drop = new TreeSet<>();
        absentSince.keySet().retainAll(existing.keySet());
        Map<String, Long> kept = new TreeMap<>();
        for (Map.Entry<String, Lsn> e : existing.entrySet()) {
            String slot = e.getKey();
            if (wanted.contains(slot)) {
                kept.put(slot, e.getValue().value());
            }
            if (wanted.contains(slot) || settings.ignoresPhysicalSlot(slot) || !SlotNames.isValid(slot)) {
                absentSince.remove(slot);
                continue;
            }
            long since = absentSince.computeIfAbsent(slot, x -> now);
            if (Duration.ofNanos(now - since).compareTo(ttl) >= 0) {
                drop.add(slot);
            }
        }
        c.state = c.state.withSlots(new State(retained, absentSince, kept, true, s.replicaChecked()));
        if (create.isEmpty() && drop.isEmpty()) {
            return;
        }
        if (!create.isEmpty()) {
            log.info("{}: creating physical replication slots {}", node.name, create);
        }
        if (!drop.isEmpty()) {
            log.info("{}: dropping physical replication slots of members gone for {}s: {}", node.name,
                    ttl.toSeconds(), drop);
        }
        if (!node.postgres.syncReplicationSlots(create, drop)) {
            log.warn("{}: could not create or drop every replication slot (will retry next cycle)", node.name);
        }
    }

    /**
     * What the lock holder publishes in the {@code status} key besides the optime, as Patroni 4
     * does with {@code member_slots_ttl} above zero: the positions of the member slots it keeps (as
     * the last {@link #keep} read them, before it created missing ones; unknown positions left
     * out) and its own slot name at its WAL position {@code walPosition}, and the retained member
     * slot names. Nothing without
     * {@code use_slots} or with a zero {@code member_slots_ttl} (Patroni then publishes only
     * permanent slots, which pgha does not have). Before the first {@link #keep} of this term it
     * keeps what {@code current} holds besides the optime.
     */
    ClusterStatus status(NodeState state, long walPosition, ClusterStatus current) {
        ClusterSettings settings = state.settings();
        if (!settings.useSlots() || settings.memberSlotsTtl().isZero()) {
            return new ClusterStatus(walPosition, Map.of(), List.of());
        }
        State s = state.slots();
        if (!s.seeded()) {
            return current.withOptime(walPosition);
        }
        Map<String, Long> slots = new TreeMap<>();
        s.positions().forEach((slot, lsn) -> {
            if (lsn > 0) {
                slots.put(slot, lsn);
            }
        });
        slots.put(SlotNames.fromMemberName(node.name), walPosition);
        return new ClusterStatus(walPosition, slots, List.copyOf(s.retained().keySet()));
    }

    /**
     * A replica keeps no member slots (like Patroni before PostgreSQL 11): once per follow
     * configuration, a running standby drops the inactive physical slots named after members of
     * {@code view} — left over from when it was primary, they would hold WAL on it for ever.
     * Slots of other names and ignored slots stay.
     */
    void dropOnReplica(Cycle c, ClusterView view) {
        ClusterSettings settings = c.state.settings();
        if (c.state.slots().replicaChecked() || !settings.useSlots()) {
            return;
        }
        c.state = c.state.withSlots(c.state.slots().withReplicaChecked(true));
        Set<String> drop = new TreeSet<>(node.postgres.replicationSlots());
        Set<String> members = wanted(view, "");
        drop.retainAll(members);
        drop.removeIf(settings::ignoresPhysicalSlot);
        if (!drop.isEmpty()) {
            log.info("{}: dropping member slots left on this replica: {}", node.name, drop);
            if (!node.postgres.syncReplicationSlots(Set.of(), drop)) {
                c.state = c.state.withSlots(c.state.slots().withReplicaChecked(false));
            }
        }
    }

    /** The next {@link #dropOnReplica} looks again: called whenever PostgreSQL is pointed at an upstream. */
    void followChanged(Cycle c) {
        c.state = c.state.withSlots(c.state.slots().withReplicaChecked(false));
    }

    /**
     * Called when this node takes the lock: starts the retention from the names the last leader
     * retained ({@code retain_slots} of the {@code status} key), their clock starting now, as
     * Patroni's {@code acquire_leader_lock()} does; forgets what it knew from an earlier term.
     */
    void reset(Cycle c, ClusterStatus status) {
        long now = node.clock.nanoTime();
        Map<String, Long> retained = new TreeMap<>();
        status.retainSlots().stream().filter(SlotNames::isValid).forEach(slot -> retained.put(slot, now));
        c.state = c.state.withSlots(new State(retained, Map.of(), Map.of(), true, c.state.slots().replicaChecked()));
        if (!retained.isEmpty()) {
            log.info("{}: retaining the replication slots the last leader retained: {}", node.name, retained.keySet());
        }
    }
}
