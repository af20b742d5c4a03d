package dev.pgha.testing;

import dev.pgha.postgres.ReplicationState;
import dev.pgha.postgres.SyncStandbyNames;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Synchronous commit in the fake world, as PostgreSQL 15 does it: a commit on a primary is
 * acknowledged to its client once the standbys that the primary's {@code synchronous_standby_names}
 * in force requires have received it — {@code FIRST n}: the n {@code sync} standbys; {@code ANY n}:
 * any n listed ones; none listed: at once. A waiting commit is looked at again after every
 * {@link FakeWorld#tick()} and whenever the names change (so a change to "" releases it); one
 * whose primary stopped accepting writes (crashed, stopped, demoted) or started again since is
 * never acknowledged: its client got an error.
 */
public final class FakeCommits {

    private final FakeWorld world;
    private final List<Commit> waiting = new ArrayList<>();
    private final List<Commit> acknowledged = new ArrayList<>();

    FakeCommits(FakeWorld world) {
        this.world = world;
    }

    Commit commit(FakePostgres primary, long bytes) {
        if (!primary.write(bytes)) {
            return null;
        }
        Commit c = new Commit(primary.name(), primary.data.lineage, primary.data.wal, primary.startCount());
        waiting.add(c);
        settle();
        return c;
    }

    /** Acknowledges the waiting commits whose standbys have them; drops those whose primary is gone. */
    void settle() {
        for (var it = waiting.iterator(); it.hasNext(); ) {
            Commit c = it.next();
            FakePostgres p = world.get(c.primary());
            if (!p.isWritable() || p.startCount() != c.primaryStarts() || !p.data.lineage.agreesWith(c.lineage(), c.lsn())) {
                it.remove();
            } else if (confirmed(p, c)) {
                it.remove();
                acknowledged.add(c);
            }
        }
    }

    private boolean confirmed(FakePostgres p, Commit c) {
        SyncStandbyNames ssn;
        try {
            ssn = SyncStandbyNames.parse(p.synchronousStandbyNamesInForce());
        } catch (IllegalArgumentException e) {
            return true;
        }
        if (ssn.type() == SyncStandbyNames.Type.OFF) {
            return true;
        }
        int have = 0;
        int sync = 0;
        for (ReplicationState.Standby s : FakeSync.standbys(world, p, p.synchronousStandbyNamesInForce())) {
            boolean counts = ssn.type() == SyncStandbyNames.Type.QUORUM ? s.syncState().equals("quorum")
                    : s.syncState().equals("sync");
            if (counts) {
                sync++;
                if (contains(world.get(s.applicationName()), c)) {
                    have++;
                }
            }
        }
        return ssn.type() == SyncStandbyNames.Type.QUORUM ? have >= ssn.num() : sync >= ssn.num() && have >= ssn.num();
    }

    /** Whether a server's WAL holds the commit (its lineage agrees up to the commit's position). */
    static boolean contains(FakePostgres server, Commit c) {
        return server.data.wal >= c.lsn() && server.data.lineage.agreesWith(c.lineage(), c.lsn());
    }

    List<Commit> acknowledged() {
        return Collections.unmodifiableList(acknowledged);
    }

    void forgetAcknowledged() {
        acknowledged.clear();
    }

    /**
     * One commit: where it was made and how far the primary's WAL reached with it.
     *
     * @param primary       the member it was committed on
     * @param lineage       that server's timelines at the time
     * @param lsn           the end of its WAL
     * @param primaryStarts the server's start count then (a restart loses the waiting client)
     */
    public record Commit(String primary, WalLineage lineage, long lsn, int primaryStarts) {
    }
}
