package dev.pgha.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.SyncState;
import dev.pgha.dcs.DcsException;
import dev.pgha.testing.Patronictl;
import dev.pgha.testing.TempPostgres;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Synchronous replication on three real PostgreSQL 15 servers and a real etcd, agents as processes:
 * a writer inserts unique increasing integers through a multi-host connection string and records
 * every commit the server acknowledged, while the primary's host is lost again and again (agent
 * and postmaster SIGKILLed together). In {@code synchronous_mode: on} with strict, and in quorum
 * mode with {@code synchronous_node_count} 1 of 2 replicas, every acknowledged value is on the new
 * primary after each loss, and the new primary is always one the {@code sync} key named. With both
 * replicas stopped in strict mode commits wait; {@code patronictl edit-config} switches the modes
 * on and off and {@code patronictl list} shows the synchronous standby as "Sync Standby".
 */
class SynchronousReplicationClusterTest {

    private static final Logger LOG = LoggerFactory.getLogger(SynchronousReplicationClusterTest.class);
    private static final Duration WAIT = Duration.ofSeconds(120);
    private static final int RUNS = 5;

    private AgentCluster cluster;
    private Patronictl patronictl;
    private AcknowledgedWriter writer;

    @AfterEach
    void tearDown() {
        if (writer != null) {
            writer.close();
        }
        if (patronictl != null) {
            patronictl.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void no_acknowledged_commit_is_lost_across_repeated_host_loss_in_synchronous_and_quorum_mode() throws Exception {
        // given a cluster of three on asynchronous replication, and a table for the writer
        cluster = AgentCluster.builder().scope("sync").build();
        cluster.startAll();
        await("a leader with two replicas streaming", () -> cluster.leader().map(cluster::isHealthyWithLeader)
                .orElse(false));
        String leader = cluster.leader().orElseThrow();
        cluster.execute(leader, "CREATE TABLE acked (v bigint PRIMARY KEY)");
        patronictl = new Patronictl(cluster.etcd().hosts(), "/service", cluster.scope());

        // when the operator switches synchronous_mode on, strict, with Patroni's own tool
        assertThat(patronictl.run("edit-config", "--force", "-s", "synchronous_mode=true",
                "-s", "synchronous_mode_strict=true")).contains("Configuration changed");

        // then one replica becomes synchronous: PostgreSQL waits for it, the sync key names it, and
        // patronictl lists it as "Sync Standby"
        String standby = awaitSynchronousStandbys(1, false).iterator().next();
        await("patronictl list shows " + standby + " as Sync Standby", () -> role(standby).equals("Sync Standby"));
        LOG.info("patronictl list in synchronous mode:\n{}", patronictl.run("list"));

        writer = new AcknowledgedWriter(cluster.names().stream().map(cluster::port).toList(), "postgres",
                TempPostgres.SUPERUSER_PASSWORD, "acked").start();

        // when the primary's host is lost, five times; then nothing acknowledged is lost, and the new
        // primary is always the synchronous standby
        for (int run = 1; run <= RUNS; run++) {
            hostLossOfThePrimary("synchronous_mode on, strict, run " + run, false);
        }

        // when the operator switches to quorum commit, one of the two replicas
        assertThat(patronictl.run("edit-config", "--force", "-s", "synchronous_mode=quorum",
                "-s", "synchronous_node_count=1")).contains("Configuration changed");

        // then both replicas vote, with a quorum of 1
        awaitSynchronousStandbys(2, true);
        for (int run = 1; run <= RUNS; run++) {
            hostLossOfThePrimary("quorum mode, 1 of 2, run " + run, true);
        }

        // when, back in strict synchronous mode, both replicas stop
        assertThat(patronictl.run("edit-config", "--force", "-s", "synchronous_mode=true")).contains("Configuration changed");
        awaitSynchronousStandbys(1, false);
        String primary = cluster.leader().orElseThrow();
        List<String> replicas = others(primary);
        replicas.forEach(cluster::stopAgent);

        // then commits wait instead of succeeding: the writer's commit hangs in SyncRep and nothing
        // more is acknowledged while it does
        await("a commit waiting for a synchronous standby", () -> !syncRepWaiters(primary).isEmpty());
        int acknowledgedWhileWaiting = writer.count();
        String waiter = syncRepWaiters(primary).get(0);
        await("the commit still waiting, another look later", () -> {
            List<String> now = syncRepWaiters(primary);
            return now.contains(waiter) && writer.count() == acknowledgedWhileWaiting;
        });
        assertThat(writer.count()).isEqualTo(acknowledgedWhileWaiting);

        // and once a replica is back, the commit is acknowledged and writing goes on
        cluster.startAgent(replicas.get(0));
        await("commits acknowledged again", () -> writer.count() > acknowledgedWhileWaiting + 10);
        cluster.startAgent(replicas.get(1));
        thenNothingAcknowledgedIsLost(primary, "after both replicas came back");

        // when the operator switches synchronous_mode off, then the sync key goes and so does the role
        assertThat(patronictl.run("edit-config", "--force", "-s", "synchronous_mode=false")).contains("Configuration changed");
        await("the sync key deleted and no Sync Standby listed", () -> view().sync() == null
                && cluster.names().stream().noneMatch(n -> role(n).equals("Sync Standby")));
        await("synchronous_standby_names cleared on the primary",
                () -> cluster.query(primary, "SHOW synchronous_standby_names").equals(List.of("")));
    }

    // ---------------------------------------------------------------------------- the steps

    /**
     * One host loss of the primary: the writer has been acknowledged on it; its host is killed; a
     * member the sync key named takes over; every acknowledged value is there; the old primary's
     * agent starts again and its server rejoins.
     */
    private void hostLossOfThePrimary(String what, boolean quorum) {
        String leader = cluster.leader().orElseThrow();
        Set<String> synchronous = awaitSynchronousStandbys(quorum ? 2 : 1, quorum);
        int before = writer.count();
        await(what + ": the writer acknowledged on " + leader, () -> writer.count() > before + 20);

        cluster.killHost(leader);
        await(what + ": another member leads and accepts writes", () -> cluster.leader()
                .filter(l -> !l.equals(leader)).map(cluster::acceptsWrites).orElse(false));
        String next = cluster.leader().orElseThrow();
        assertThat(synchronous).as("%s: the new leader %s was synchronous", what, next).contains(next);
        int after = writer.count();
        await(what + ": the writer acknowledged on " + next, () -> writer.count() > after + 20);
        thenNothingAcknowledgedIsLost(next, what);
        LOG.info("{}: {} took over from {}; {} commits acknowledged so far, none lost", what, next, leader,
                writer.count());

        cluster.startAgent(leader);
        await(what + ": the cluster whole again under " + next, () -> cluster.isHealthyWithLeader(next));
    }

    /** Every value the writer saw acknowledged is on {@code primary}. */
    private void thenNothingAcknowledgedIsLost(String primary, String what) {
        List<Long> acknowledged = writer.acknowledged();
        Set<Long> there = new HashSet<>();
        cluster.query(primary, "SELECT v FROM acked").forEach(v -> there.add(Long.parseLong(v)));
        List<Long> lost = acknowledged.stream().filter(v -> !there.contains(v)).toList();
        assertThat(lost).as("%s: acknowledged values missing on %s (of %d)", what, primary, acknowledged.size())
                .isEmpty();
    }

    /**
     * Waits until the leader's sync key names {@code count} standbys and PostgreSQL on the leader
     * reports each of them {@code sync} (or {@code quorum}), with a quorum of {@code count - 1} in
     * quorum mode.
     *
     * @return the standbys
     */
    private Set<String> awaitSynchronousStandbys(int count, boolean quorum) {
        String state = quorum ? "quorum" : "sync";
        await(count + " standby(s) " + state + " in the sync key and in pg_stat_replication", () -> {
            String leader = cluster.leader().orElse(null);
            SyncState sync = view().sync();
            if (leader == null || sync == null || !leader.equals(sync.leader()) || sync.syncStandbys().size() != count
                    || quorum && sync.quorum() != count - 1) {
                return false;
            }
            List<String> reported = cluster.query(leader, "SELECT application_name FROM pg_stat_replication "
                    + "WHERE sync_state = '" + state + "'");
            return reported.containsAll(sync.syncStandbys());
        });
        return view().sync().syncStandbys();
    }

    /** The pids of backends on {@code server} waiting for a synchronous standby to confirm their commit. */
    private List<String> syncRepWaiters(String server) {
        return cluster.query(server, "SELECT pid || ' ' || query_start FROM pg_stat_activity WHERE wait_event = 'SyncRep'");
    }

    /** {@code name}'s role in {@code patronictl list -f json} ("" when not listed). */
    private String role(String name) {
        for (JsonNode row : patronictl.json("list", "-f", "json")) {
            if (row.path("Member").asText().equals(name)) {
                return row.path("Role").asText();
            }
        }
        return "";
    }

    private List<String> others(String name) {
        return cluster.names().stream().filter(n -> !n.equals(name)).toList();
    }

    private ClusterView view() {
        try {
            return cluster.view();
        } catch (DcsException e) {
            return ClusterView.EMPTY;
        }
    }

    private void await(String what, BooleanSupplier condition) {
        try {
            cluster.await(what, WAIT, condition);
        } catch (AssertionError e) {
            throw new AssertionError("writer: " + (writer == null ? "not started" : writer.count()
                    + " acknowledged, last error " + writer.lastError()) + "\n" + e.getMessage(), e);
        }
    }
}
