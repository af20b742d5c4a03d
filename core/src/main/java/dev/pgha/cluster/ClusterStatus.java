package dev.pgha.cluster;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The {@code status} key the leader writes with each lock refresh, when it changed: Patroni's
 * {@code {"optime": N, "slots": {"name": N}, "retain_slots": ["name", ...]}}.
 *
 * @param optime      the leader's last WAL position (byte position); 0 when never written
 * @param slots       replication slot positions by slot name (byte positions): the leader's
 *                    member slots at their {@code restart_lsn}, and its own slot name at its WAL
 *                    position
 * @param retainSlots the member slot names the leader retains: those of the members seen within
 *                    {@code member_slots_ttl}, its own included; a new leader keeps them (sorted,
 *                    without duplicates)
 */
public record ClusterStatus(long optime, Map<String, Long> slots, List<String> retainSlots) {

    /** Nothing written yet. */
    public static final ClusterStatus EMPTY = new ClusterStatus(0, Map.of(), List.of());

    /** Copies the slots; sorts the retained slot names and drops duplicates. */
    public ClusterStatus {
        slots = Map.copyOf(Objects.requireNonNullElse(slots, Map.of()));
        retainSlots = List.copyOf(new TreeSet<>(Objects.requireNonNullElse(retainSlots, List.of())));
    }

    /** A status without retained slot names (as Patroni before 4 wrote it). */
    public ClusterStatus(long optime, Map<String, Long> slots) {
        this(optime, slots, List.of());
    }

    /** This status with another {@code optime}, the slots and retained names kept (as Patroni does). */
    public ClusterStatus withOptime(long value) {
        return new ClusterStatus(value, slots, retainSlots);
    }
}
