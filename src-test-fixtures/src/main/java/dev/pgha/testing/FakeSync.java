package dev.pgha.testing;

import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.ReplicationState;
import dev.pgha.postgres.SyncStandbyNames;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code pg_stat_replication} of a fake primary, as PostgreSQL 15 fills it: a row per standby
 * streaming from it; with {@code FIRST n (...)} the listed standbys get their 1-based position as
 * priority and the n connected ones with the lowest numbers are {@code sync}, the other listed
 * ones {@code potential}; with {@code ANY n (...)} every listed one is {@code quorum}; unlisted
 * standbys are {@code async} with priority 0. {@code *} matches every standby. An unparsable value
 * makes every standby {@code async}, as PostgreSQL would refuse it at reload.
 */
final class FakeSync {

    private FakeSync() {
    }

    static List<ReplicationState.Standby> standbys(FakeWorld world, FakePostgres primary, String ssnValue) {
        SyncStandbyNames ssn;
        try {
            ssn = SyncStandbyNames.parse(ssnValue);
        } catch (IllegalArgumentException e) {
            ssn = SyncStandbyNames.OFF;
        }
        List<FakePostgres> streaming = new ArrayList<>();
        for (FakePostgres n : world.nodes()) {
            if (n != primary && primary.name().equals(n.data.upstream)
                    && world.status(n, false) == StreamingStatus.STREAMING) {
                streaming.add(n);
            }
        }
        List<Integer> priorities = new ArrayList<>();
        for (FakePostgres n : streaming) {
            priorities.add(priority(ssn, n.name()));
        }
        List<Integer> syncPriorities = new ArrayList<>(priorities.stream().filter(p -> p > 0).sorted().toList());
        int cutoff = ssn.type() == SyncStandbyNames.Type.PRIORITY && !syncPriorities.isEmpty()
                ? syncPriorities.get(Math.min(ssn.num(), syncPriorities.size()) - 1) : 0;
        List<ReplicationState.Standby> rows = new ArrayList<>();
        int syncCount = 0;
        for (int i = 0; i < streaming.size(); i++) {
            FakePostgres n = streaming.get(i);
            int p = priorities.get(i);
            String state;
            if (p == 0 || ssn.type() == SyncStandbyNames.Type.OFF) {
                state = "async";
                p = 0;
            } else if (ssn.type() == SyncStandbyNames.Type.QUORUM) {
                state = "quorum";
                p = 1;
            } else if (p <= cutoff && syncCount < ssn.num()) {
                state = "sync";
                syncCount++;
            } else {
                state = "potential";
            }
            Lsn at = new Lsn(n.data.wal);
            int pid = 10_000 + world.nodes().indexOf(n) * 1_000 + n.startCount() * 7 + n.count(FakeOperation.Kind.FOLLOW);
            rows.add(new ReplicationState.Standby(pid, n.name(), "streaming", state, p, at, at, at));
        }
        return rows;
    }

    /** The standby's priority: its 1-based position in the list ({@code *} counts for all), 0 if unlisted. */
    private static int priority(SyncStandbyNames ssn, String name) {
        List<String> members = ssn.members();
        for (int i = 0; i < members.size(); i++) {
            if (members.get(i).equals(name) || members.get(i).equals("*")) {
                return i + 1;
            }
        }
        return 0;
    }
}
