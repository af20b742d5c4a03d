package dev.pgha;

import dev.pgha.ClusterSettings.SynchronousMode;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.SyncState;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.ReplicationState;
import dev.pgha.postgres.SyncStandbyNames;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Patroni's {@code SyncHandler.current_state()}: from what the primary reports
 * ({@link ReplicationState}) and the members' keys, which standbys PostgreSQL waits for now,
 * which of them may be published as synchronous, and which should be synchronous. A listed
 * standby counts as synchronous only once PostgreSQL reports it so and it reached the primary's
 * flush position of the moment the list changed (or the key already names it).
 */
final class SyncHandler {

    private static final Logger log = LoggerFactory.getLogger(SyncHandler.class);

    private final String name;

    SyncHandler(String name) {
        this.name = name;
    }

    /**
     * Patroni's {@code _SyncState}: what PostgreSQL does now and what it could do.
     *
     * @param type      how the {@code synchronous_standby_names} in force chooses
     * @param numsync   how many standbys it requires
     * @param sync      the standbys it lists (the placeholder when it lists {@code *})
     * @param confirmed listed standbys PostgreSQL reports synchronous that caught up
     * @param active    the standbys that should be synchronous: streaming members, best first
     */
    record Snapshot(SyncStandbyNames.Type type, int numsync, Set<String> sync, Set<String> confirmed,
                    Set<String> active) {
    }

    private record Row(String name, int pid, String syncState, long lsn, boolean noFailover, int syncPriority) {
    }

    /** Patroni's {@code SyncHandler.current_state()}: notes a new value in force, then judges the standbys. */
    Snapshot snapshot(Cycle c, ReplicationState rs) {
        SyncReplication.State st = c.state.sync();
        if (!Objects.equals(rs.synchronousStandbyNames(), st.ssnSeen())) {
            SyncStandbyNames parsed = parse(rs.synchronousStandbyNames(), true);
            Map<String, Integer> ready = new HashMap<>(st.ready());
            ready.keySet().retainAll(parsed.names());
            st = new SyncReplication.State(rs.synchronousStandbyNames(), rs.flushLsn().value(), ready, st.strictActivated(),
                    st.lastGood());
        }
        SyncStandbyNames ssn = parse(st.ssnSeen(), false);
        boolean quorumMode = c.state.settings().synchronousMode() == SynchronousMode.QUORUM;
        List<Row> rows = rows(c, rs);
        long maxLsn = rows.size() > 1 ? rows.stream().mapToLong(Row::lsn).max().orElse(0) : rs.flushLsn().value();
        Map<String, Integer> ready = new HashMap<>(st.ready());
        SyncState key = c.cluster.sync();
        for (Row r : rows) {
            if (ready.containsKey(r.name()) || !ssn.names().contains(r.name())) {
                continue;
            }
            boolean caughtUp = Long.compareUnsigned(r.lsn(), st.primaryFlushLsn()) >= 0;
            if (quorumMode ? caughtUp && r.syncState().equals("quorum")
                    : key != null && key.syncStandbys().contains(r.name()) || r.syncState().equals("sync") && caughtUp) {
                ready.put(r.name(), r.pid());
            }
        }
        c.state = c.state.withSync(new SyncReplication.State(st.ssnSeen(), st.primaryFlushLsn(), ready, st.strictActivated(),
                st.lastGood()));
        int wanted = c.state.settings().synchronousNodeCount();
        long maxLag = c.state.settings().maximumLagOnSyncnode();
        Set<String> active = new LinkedHashSet<>();
        Set<String> confirmed = new TreeSet<>();
        List<Row> byFailover = new ArrayList<>(rows);
        byFailover.sort(Comparator.comparing(Row::noFailover)); // stable: members that may promote first
        for (Row r : byFailover) {
            if (maxLag > 0 && maxLsn - r.lsn() > maxLag) {
                continue;
            }
            if (quorumMode) {
                if (!r.noFailover() || active.size() < wanted) {
                    if (ready.containsKey(r.name())) {
                        confirmed.add(r.name());
                    }
                    active.add(r.name());
                }
            } else {
                active.add(r.name());
                if (r.syncState().equals("sync") && ready.containsKey(r.name())) {
                    confirmed.add(r.name());
                }
                if (active.size() >= wanted) {
                    break;
                }
            }
        }
        Set<String> sync = ssn.hasStar() ? Set.of(SyncStandbyNames.STRICT_PLACEHOLDER) : ssn.names();
        return new Snapshot(ssn.type(), ssn.num(), sync, confirmed, active);
    }

    /**
     * The walsenders of members that may be synchronous (running, neither {@code nosync} nor
     * {@code sync_priority} 0), streaming: highest {@code sync_priority} first, then those
     * PostgreSQL already has synchronous, then the furthest.
     */
    private List<Row> rows(Cycle c, ReplicationState rs) {
        Map<String, Member> members = new HashMap<>();
        for (Member m : c.cluster.members()) {
            if (m.isRunning() && m.tags().canSync() && !m.name().equals(name)) {
                members.put(m.name(), m);
            }
        }
        List<Row> rows = new ArrayList<>();
        Set<String> seen = new TreeSet<>();
        for (ReplicationState.Standby s : rs.standbys()) {
            Lsn position = s.position(rs.synchronousCommit());
            Member m = members.get(s.applicationName());
            if (position != null && m != null && seen.add(s.applicationName())) {
                rows.add(new Row(m.name(), s.pid(), s.syncState(), position.value(), !m.tags().canFailover(),
                        m.tags().syncPriority()));
            }
        }
        rows.sort(Comparator.comparingInt(Row::syncPriority).thenComparing(Row::syncState)
                .thenComparingLong(Row::lsn).reversed());
        return rows;
    }

    private SyncStandbyNames parse(String value, boolean warn) {
        try {
            return SyncStandbyNames.parse(value);
        } catch (IllegalArgumentException e) {
            if (warn) {
                log.warn("{}: {}", name, e.getMessage());
            }
            return SyncStandbyNames.OFF;
        }
    }

}
