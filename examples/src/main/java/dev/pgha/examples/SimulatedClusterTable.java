package dev.pgha.examples;

import dev.pgha.agent.ClusterTable;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.postgres.PostgresState;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.SimulatedCluster;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Renders a simulated cluster the way {@code patronictl list} shows a Patroni cluster (the layout
 * of the agent's {@link ClusterTable}): who is a member and who is the leader come from the DCS
 * (what patronictl reads), the host and state from the member keys; the timeline and the
 * replication lag come from the fake servers themselves (member keys are refreshed only once per
 * {@code loop_wait}, so they trail a change by up to a cycle). The lag is the live difference
 * between the leader's and the replica's end of WAL.
 */
final class SimulatedClusterTable {

    private SimulatedClusterTable() {
    }

    /** The table, one line per row, each line ending with a newline. */
    static String render(SimulatedCluster sim, String scope) {
        ClusterView view = sim.dcs().snapshot();
        String leader = view.leaderName().orElse(null);
        FakePostgres leaderPg = leader == null ? null : sim.world().find(leader).orElse(null);
        List<String[]> rows = new ArrayList<>();
        view.members().stream().sorted(Comparator.comparing(Member::name)).forEach(m -> {
            boolean isLeader = m.name().equals(leader);
            FakePostgres pg = sim.world().find(m.name()).orElse(null);
            rows.add(new String[] {
                m.name(),
                ClusterTable.host(m),
                isLeader ? "Leader" : "Replica",
                ClusterTable.state(m),
                timeline(m, pg),
                isLeader ? "" : lag(leaderPg, pg),
            });
        });
        List<String> missing = sim.nodes().stream().map(n -> n.name())
                .filter(n -> view.member(n).isEmpty()).toList();
        return ClusterTable.format(scope, view, rows, missing);
    }

    /** The data directory's timeline when the server runs (member keys lag a cycle behind), else the key's. */
    private static String timeline(Member m, FakePostgres pg) {
        if (pg != null && pg.state() == PostgresState.RUNNING) {
            return Long.toString(pg.timeline());
        }
        return m.timeline() == null ? "" : Long.toString(m.timeline());
    }

    private static String lag(FakePostgres leader, FakePostgres replica) {
        if (leader == null || replica == null || replica.state() != PostgresState.RUNNING) {
            return "unknown";
        }
        return ClusterTable.lagInMb(leader.walPosition().value() - replica.walPosition().value());
    }
}
