package dev.pgha.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.agent.Agent;
import dev.pgha.agent.AgentRequest;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Three members, each an {@link Agent} in its own JVM with its own real PostgreSQL 15, over a real
 * etcd ({@link AgentCluster}): the faults a cluster meets, done to processes as they happen to
 * hosts. Throughout every scenario a {@link WriteSampler} asks all three servers for a write ten
 * times a second, and each scenario ends by checking it never saw two accept writes at once.
 */
class ThreeNodeClusterTest {

    private static final Duration WAIT = Duration.ofSeconds(120);

    private AgentCluster cluster;
    private WriteSampler sampler;

    @AfterEach
    void tearDown() {
        if (sampler != null) {
            sampler.close();
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    // ------------------------------------------------------------------------------------ given

    /**
     * Given a cluster of three started at once: one member won the race and leads, the other two
     * stream from it through their own slots, and a table {@code rows_written} exists.
     *
     * @return the leader
     */
    private String givenARunningClusterOfThree(AgentCluster.Builder settings) throws SQLException {
        cluster = settings.build();
        sampler = cluster.sampler(100).start();
        cluster.startAll();
        await("one member leads and the other two stream from it through their slots",
                () -> cluster.leader().map(cluster::isHealthyWithLeader).orElse(false));
        String leader = cluster.leader().orElseThrow();
        cluster.execute(leader, "CREATE TABLE rows_written (id int PRIMARY KEY, written_on text)");
        return leader;
    }

    private List<String> others(String name) {
        return cluster.names().stream().filter(n -> !n.equals(name)).toList();
    }

    private void write(String on, int from, int to) throws SQLException {
        cluster.execute(on, "INSERT INTO rows_written SELECT g, '" + on + "' FROM generate_series(" + from + ", "
                + to + ") g");
    }

    /** How many of the rows with ids 1..upTo {@code on} has (-1 when it cannot be asked). */
    private long rowsUpTo(String on, int upTo) {
        List<String> r = cluster.query(on, "SELECT count(*) FROM rows_written WHERE id <= " + upTo);
        return r.isEmpty() ? -1 : Long.parseLong(r.get(0));
    }

    private void await(String what, BooleanSupplier condition) {
        cluster.await(what, WAIT, condition);
    }

    /** Then: the sampler asked every server throughout and never saw two accept writes at once. */
    private void thenNoTwoServersEverAcceptedWritesAtOnce() {
        for (String n : cluster.names()) {
            assertThat(sampler.count(n)).as("samples of " + n).isGreaterThan(10);
        }
        assertThat(sampler.overlaps()).as("moments when two servers accepted writes").isEmpty();
    }

    // ---------------------------------------------------------------------------- scenarios

    @Test
    void cluster_comes_up_with_one_primary_and_two_replicas_streaming_through_their_slots() throws Exception {
        // given three agents started at the same moment
        String leader = givenARunningClusterOfThree(AgentCluster.builder());

        // then exactly one server accepts writes, all three are on timeline 1
        for (String n : cluster.names()) {
            assertThat(cluster.acceptsWrites(n)).as(n + " accepts writes").isEqualTo(n.equals(leader));
            assertThat(cluster.timeline(n)).as("timeline of " + n).isEqualTo(1);
        }
        assertThat(cluster.streamingThroughSlots(leader)).containsExactlyElementsOf(others(leader));
        // and rows written on the leader are replayed on both replicas
        write(leader, 1, 1000);
        await("both replicas replayed 1000 rows",
                () -> others(leader).stream().allMatch(r -> rowsUpTo(r, 1000) == 1000));
        // and the agent's list shows the leader and two streaming replicas (member keys follow within a loop_wait)
        await("list shows a leader and two streaming replicas", () -> {
            String table = list(leader);
            return table.matches("(?s).*\\| " + leader + " +\\| 127\\.0\\.0\\.1:\\d+ +\\| Leader +\\| running .*")
                    && others(leader).stream().allMatch(r -> table.matches(
                            "(?s).*\\| " + r + " +\\| 127\\.0\\.0\\.1:\\d+ +\\| Replica +\\| streaming .*"));
        });
        thenNoTwoServersEverAcceptedWritesAtOnce();
    }

    @Test
    void a_crashed_postmaster_is_restarted_in_place_when_primary_start_timeout_allows_it() throws Exception {
        // given a running cluster with primary_start_timeout 300 (the default) and rows on every member
        String leader = givenARunningClusterOfThree(AgentCluster.builder());
        write(leader, 1, 100);
        await("replicas replayed the rows", () -> others(leader).stream().allMatch(r -> rowsUpTo(r, 100) == 100));

        // when the primary's postmaster is killed with SIGKILL while its agent runs on
        long t0 = System.nanoTime();
        long killed = cluster.killPostmaster(leader);

        // then its agent starts it again as primary, keeping the lock: no failover, no new timeline
        await("the leader's PostgreSQL runs again and accepts writes",
                () -> cluster.postmasterPid(leader).filter(p -> p != killed).isPresent() && cluster.acceptsWrites(leader));
        assertThat(cluster.log(leader)).contains("starting primary after failure");
        assertThat(cluster.leader()).contains(leader);
        assertThat(cluster.timeline(leader)).isEqualTo(1);
        assertThat(rowsUpTo(leader, 100)).isEqualTo(100);
        for (String r : others(leader)) {
            assertThat(sampler.firstWritable(r, t0)).as(r + " never accepted writes").isNull();
        }
        // and the replicas stream from it again through their slots
        await("the replicas stream from the restarted primary", () -> cluster.isHealthyWithLeader(leader));
        thenNoTwoServersEverAcceptedWritesAtOnce();
    }

    @Test
    void in_pause_a_killed_primary_is_not_restarted_nor_failed_over_and_resume_recovers() throws Exception {
        // given a running cluster in pause: every member publishes pause
        String leader = givenARunningClusterOfThree(AgentCluster.builder());
        write(leader, 1, 100);
        dev.pgha.ClusterAdmin admin = dev.pgha.ClusterAdmin.of(
                dev.pgha.HaConfig.builder().scope(cluster.scope()).name("operator").build(), cluster.dcs());
        assertThat(admin.patchConfig(java.util.Map.of("pause", true)).ok()).isTrue();
        await("every member publishes pause", () -> cluster.view().members().size() == 3
                && cluster.view().members().stream().allMatch(dev.pgha.cluster.Member::pause));

        // when the primary's postmaster is killed with SIGKILL while its agent runs on
        long t0 = System.nanoTime();
        long killed = cluster.killPostmaster(leader);

        // then its agent gives up the key but does not start PostgreSQL, over many cycles
        await("the leader's agent reported 'postgres is not running' in pause ten times", () -> cluster.log(leader)
                .split("PAUSE: postgres is not running", -1).length > 10);
        assertThat(cluster.log(leader)).contains("PAUSE: removed leader lock because postgres is not running");
        assertThat(cluster.postmasterPid(leader).filter(p -> p != killed)).as("a new postmaster").isEmpty();
        assertThat(cluster.acceptsWrites(leader)).isFalse();
        // and nobody took over: no leader key, no server accepted writes once the old one refused
        // (the backends a SIGKILLed postmaster leaves behind may commit for a few milliseconds more)
        assertThat(cluster.leader()).isEmpty();
        Long refused = sampler.firstRefused(leader, t0);
        assertThat(refused).as(leader + " refused writes after the kill").isNotNull();
        for (String n : cluster.names()) {
            long since = n.equals(leader) ? refused : t0;
            assertThat(sampler.firstWritable(n, since)).as(n + " accepted writes in pause").isNull();
        }

        // when the operator resumes
        assertThat(admin.patchConfig(java.util.Map.of("pause", false)).ok()).isTrue();

        // then the cluster recovers by itself: a leader, two replicas streaming from it, nothing lost
        await("a leader with two streaming replicas again",
                () -> cluster.leader().map(cluster::isHealthyWithLeader).orElse(false));
        String next = cluster.leader().orElseThrow();
        assertThat(rowsUpTo(next, 100)).isEqualTo(100);
        thenNoTwoServersEverAcceptedWritesAtOnce();
    }

    @Test
    void a_crashed_postmaster_fails_over_when_primary_start_timeout_is_zero_twice_in_a_row() throws Exception {
        // given a running cluster with primary_start_timeout 0 and rows replayed on every member
        String leader = givenARunningClusterOfThree(AgentCluster.builder().setting("primary_start_timeout", "0"));
        write(leader, 1, 100);
        await("replicas replayed the rows", () -> others(leader).stream().allMatch(r -> rowsUpTo(r, 100) == 100));

        // when the primary's postmaster is killed with SIGKILL while its agent runs on
        cluster.killPostmaster(leader);

        // then its agent gives the lock up and a replica is promoted on timeline 2, with every row
        await("another member leads and accepts writes", () -> cluster.leader().filter(l -> !l.equals(leader))
                .filter(cluster::acceptsWrites).isPresent());
        String promoted = cluster.leader().orElseThrow();
        assertThat(cluster.log(leader)).contains("Primary crashed. Failing over.");
        assertThat(cluster.timeline(promoted)).isEqualTo(2);
        assertThat(rowsUpTo(promoted, 100)).isEqualTo(100);
        // and the old primary comes back as a replica of the new one
        await("the old primary streams from " + promoted, () -> cluster.isHealthyWithLeader(promoted));

        // when the new primary's postmaster crashes too, soon after (no restartpoint on timeline 2
        // yet: the replicas' pg_control still says timeline 1)
        write(promoted, 101, 200);
        await("replicas replayed the new rows", () -> others(promoted).stream().allMatch(r -> rowsUpTo(r, 200) == 200));
        cluster.killPostmaster(promoted);

        // then one of the replicas takes over on timeline 3 with every row, not the crashed primary
        await("a replica of " + promoted + " leads and accepts writes", () -> cluster.leader()
                .filter(l -> !l.equals(promoted)).filter(cluster::acceptsWrites).isPresent());
        String third = cluster.leader().orElseThrow();
        assertThat(cluster.timeline(third)).isEqualTo(3);
        assertThat(rowsUpTo(third, 200)).isEqualTo(200);
        assertThat(cluster.log(promoted)).contains("Primary crashed. Failing over.");
        await("the cluster is whole again around " + third, () -> cluster.isHealthyWithLeader(third));
        thenNoTwoServersEverAcceptedWritesAtOnce();
    }

    @Test
    void after_host_loss_a_replica_is_promoted_and_the_old_primary_rejoins_through_pg_rewind() throws Exception {
        // given a running cluster whose replicas replayed rows 1..1000
        String leader = givenARunningClusterOfThree(AgentCluster.builder());
        write(leader, 1, 1000);
        await("replicas replayed 1000 rows", () -> others(leader).stream().allMatch(r -> rowsUpTo(r, 1000) == 1000));
        // and rows 1001..1100 that only the primary has (its walsenders stalled)
        List<Long> stalled = cluster.pauseWalSenders(leader, others(leader).toArray(String[]::new));
        write(leader, 1001, 1100);

        // when the primary's host is lost: agent, guard and postmaster killed together
        cluster.killHost(leader);
        cluster.resume(stalled);

        // then a replica is promoted with every row the replicas had replayed
        await("a replica leads and accepts writes", () -> cluster.leader().filter(l -> !l.equals(leader))
                .filter(cluster::acceptsWrites).isPresent());
        String promoted = cluster.leader().orElseThrow();
        assertThat(rowsUpTo(promoted, 1000)).isEqualTo(1000);
        assertThat(rowsUpTo(promoted, 1100)).as("the unreplicated rows are not on the new primary").isEqualTo(1000);
        write(promoted, 2001, 2010);

        // when the old host comes back and its agent starts
        cluster.startAgent(leader);

        // then it rewinds its diverged data directory and streams from the new primary
        await(leader + " streams from " + promoted, () -> cluster.isHealthyWithLeader(promoted));
        assertThat(cluster.log(leader)).contains("running pg_rewind from " + promoted);
        assertThat(cluster.timeline(leader)).isEqualTo(cluster.timeline(promoted));
        await(leader + " has the new primary's rows and not its own lost ones",
                () -> rowsUpTo(leader, 3000) == 1010);
        thenNoTwoServersEverAcceptedWritesAtOnce();
    }

    @Test
    void switchover_to_a_named_replica_and_refusals_for_nofailover_and_lagging_ones() throws Exception {
        // given a running cluster where node3 may not be promoted (tags.nofailover)
        String leader = givenARunningClusterOfThree(AgentCluster.builder()
                .setting("node3", "tags.nofailover", "true"));
        assertThat(leader).as("node3 may not lead").isNotEqualTo("node3");
        String candidate = leader.equals("node1") ? "node2" : "node1";

        // when an operator asks for a switchover to node3
        Request toNoFailover = request("switchover", leader, "--leader", leader, "--candidate", "node3");
        // then it is refused with the reason, and nothing changes
        assertThat(toNoFailover.status).isEqualTo(1);
        assertThat(toNoFailover.err).contains("switchover is not possible: Member node3 is not allowed to promote");

        // given the candidate falls behind by more than maximum_lag_on_failover (1 MB)
        List<Long> stalled = cluster.pauseWalSenders(leader, candidate);
        cluster.execute(leader, "CREATE TABLE filler AS SELECT g AS id, repeat('x', 1000) AS pad "
                + "FROM generate_series(1, 4000) g");
        await("the leader's status shows " + candidate + " more than 1 MB behind", () -> {
            ClusterView v = cluster.view();
            return v.status().optime() - v.member(candidate).orElseThrow().walPosition() > 1_048_576;
        });
        // when an operator asks for a switchover to it
        Request toLagging = request("switchover", leader, "--candidate", candidate);
        // then it is refused with the reason
        assertThat(toLagging.status).isEqualTo(1);
        assertThat(toLagging.err).contains("switchover is not possible: Member " + candidate
                + " exceeds maximum replication lag");
        // and when another tool writes the failover key anyway, the leader refuses it and cleans it up
        cluster.dcs().setFailover(new Failover(leader, candidate, null, 0), -1);
        await("the leader cleans up the failover key", () -> cluster.view().failover() == null);
        assertThat(cluster.log(leader)).contains("Member " + candidate + " exceeds maximum replication lag",
                "Cleaning up failover key");
        assertThat(cluster.leader()).contains(leader);

        // when replication resumes and the operator asks again
        cluster.resume(stalled);
        await(candidate + " caught up", () -> {
            ClusterView v = cluster.view();
            return cluster.isHealthyWithLeader(leader)
                    && v.status().optime() - v.member(candidate).orElseThrow().walPosition() < 1_048_576;
        });
        Request planned = request("switchover", leader, "--leader", leader, "--candidate", candidate);

        // then the candidate leads on timeline 2 and the old leader streams from it
        assertThat(planned.status).as(planned.err).isZero();
        assertThat(planned.out).contains("Successfully switched over to \"" + candidate + "\"");
        assertThat(cluster.acceptsWrites(candidate)).isTrue();
        assertThat(cluster.timeline(candidate)).isEqualTo(2);
        await(leader + " and node3 stream from " + candidate, () -> cluster.isHealthyWithLeader(candidate));
        thenNoTwoServersEverAcceptedWritesAtOnce();
    }

    @Test
    void a_frozen_primary_agent_is_fenced_before_another_member_accepts_writes() throws Exception {
        // given a running cluster (watchdog.mode automatic: each primary runs a PostmasterGuard)
        String leader = givenARunningClusterOfThree(AgentCluster.builder());
        assertThat(cluster.log(leader)).doesNotContain("watchdog could not be activated");

        // when the primary's agent JVM is frozen (SIGSTOP) past the ttl, its PostgreSQL left running
        long t0 = System.nanoTime();
        cluster.freezeAgent(leader);

        // then another member is promoted once the lease has expired
        await("the sampler sees another member accept writes", () -> cluster.leader()
                .filter(l -> !l.equals(leader) && sampler.firstWritable(l, t0) != null).isPresent());
        String promoted = cluster.leader().orElseThrow();
        Long promotedWritable = sampler.firstWritable(promoted, t0);
        Long oldRefused = sampler.firstRefused(leader, t0);
        // and the old primary refused writes before the new one accepted any
        assertThat(promotedWritable).isNotNull();
        assertThat(oldRefused).as("the old primary refused writes").isNotNull();
        assertThat(oldRefused).isLessThan(promotedWritable);
        assertThat(sampler.lastWritable(leader)).isLessThan(promotedWritable);
        assertThat(cluster.acceptsWrites(leader)).isFalse();

        // when the frozen agent thaws
        cluster.thawAgent(leader);

        // then it finds the lock gone and rejoins as a replica
        await(leader + " streams from " + promoted, () -> cluster.isHealthyWithLeader(promoted));
        thenNoTwoServersEverAcceptedWritesAtOnce();
    }

    private String list(String member) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int status = Agent.list(cluster.settingsFile(member), new PrintStream(out, true, StandardCharsets.UTF_8),
                System.err);
        assertThat(status).isZero();
        return out.toString(StandardCharsets.UTF_8);
    }

    private record Request(int status, String out, String err) { }

    /** Runs {@code Agent <action> <member's settings file> <options...>} as an operator would. */
    private Request request(String action, String member, String... options) {
        String[] args = new String[options.length + 2];
        args[0] = action;
        args[1] = cluster.settingsFile(member).toString();
        System.arraycopy(options, 0, args, 2, options.length);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status = AgentRequest.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Request(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }
}
