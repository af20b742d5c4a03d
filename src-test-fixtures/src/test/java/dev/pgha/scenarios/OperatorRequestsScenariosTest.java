package dev.pgha.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.ActionResult;
import dev.pgha.ClusterAdmin;
import dev.pgha.HaConfig;
import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.MemberTags;
import dev.pgha.dcs.DcsClient;
import dev.pgha.dcs.DcsException;
import dev.pgha.dcs.inmemory.Fault;
import dev.pgha.dcs.inmemory.InMemoryDcs;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.ManualClock;
import dev.pgha.testing.Members;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Switchover and failover requests as a tool outside the cluster makes them ({@link ClusterAdmin},
 * what {@code patronictl} and Patroni's {@code POST /switchover} and {@code POST /failover} check;
 * test_api.py's test_do_POST_switchover and test_do_POST_failover), and a member's own restart
 * request, as a table: which requests are refused, with what words, and what is written to the
 * {@code failover} key when accepted.
 *
 * <p>The cluster in every row: 'leader' leads (WAL at 100), replicas 'b' (at 100) and 'c' (at 95,
 * so 5 bytes behind), timeline 1. The {@code config} key, when a row gives one, holds the
 * cluster's {@code maximum_lag_on_failover}; otherwise the tool's own {@code bootstrap.dcs}
 * settings apply (1 MiB).
 */
class OperatorRequestsScenariosTest {

    private static final Duration TTL = Duration.ofSeconds(30);

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # situation                                          | request                  | config key          | accepted | message
            a switchover to a healthy replica                    | switchover leader -> b   | -                   | true     | switchover requested
            a switchover from whoever leads, to nobody in particular | switchover -> -      | -                   | true     | switchover requested
            a switchover naming another leader                   | switchover b -> c        | -                   | false    | switchover is not possible: member b is not the leader (leader is)
            a switchover to the leader itself                    | switchover leader -> leader | -                | false    | switchover is not possible: member leader is already the leader
            a switchover to a member that does not exist         | switchover leader -> x   | -                   | false    | switchover is not possible: member x does not exist
            a switchover to a nofailover replica                 | switchover leader -> nf  | -                   | false    | switchover is not possible: Member nf is not allowed to promote
            a switchover to a replica lagging past the cluster's limit | switchover leader -> c | max_lag=4      | false    | switchover is not possible: Member c exceeds maximum replication lag
            the same replica within the limit                    | switchover leader -> c   | max_lag=5           | true     | switchover requested
            an unreadable config key: the tool's own settings    | switchover leader -> c   | max_lag=lots        | true     | switchover requested
            a switchover in a cluster without a leader           | switchover leader -> b   | no leader           | false    | switchover is not possible: the cluster has no leader
            a failover to a healthy replica                      | failover b               | -                   | true     | failover to b requested
            a failover to the leader                             | failover leader          | -                   | false    | failover is not possible: member leader is already the leader
            a failover without a leader                          | failover b               | no leader           | true     | failover to b requested
            a failover to a member that does not exist           | failover x               | -                   | false    | failover is not possible: member x does not exist
            """)
    void requests(String situation, String request, String configKey, boolean accepted, String message) {
        ManualClock clock = new ManualClock();
        InMemoryDcs dcs = InMemoryDcs.builder().clock(clock).waiter(clock::advance).build();
        boolean noLeader = configKey.equals("no leader");
        if (!noLeader) {
            dcs.putLeader("leader", TTL);
        }
        dcs.putMember(Members.primary("leader", 100), TTL);
        dcs.putMember(Members.replica("b", 100), TTL);
        dcs.putMember(Members.replica("c", 95), TTL);
        dcs.putMember(Members.replica("nf", 100, MemberTags.DEFAULT.withNoFailover(true)), TTL);
        dcs.putStatus(new dev.pgha.cluster.ClusterStatus(100, Map.of()));
        if (configKey.startsWith("max_lag=")) {
            String v = configKey.substring(8);
            dcs.putConfig(new ClusterConfig(Map.of("maximum_lag_on_failover", v.equals("lots") ? "lots" : Long.parseLong(v)), 0));
        }
        ClusterAdmin admin = ClusterAdmin.of(HaConfig.builder().scope("test").name("patronictl").build(),
                dcs.client("patronictl"), clock);

        ActionResult result = send(admin, request);

        assertThat(result.message()).as(situation).isEqualTo(message);
        assertThat(result.accepted()).isEqualTo(accepted);
        Failover written = dcs.snapshot().failover();
        if (!accepted) {
            assertThat(written).as("nothing written").isNull();
        } else if (request.startsWith("switchover")) {
            assertThat(written.leader()).isEqualTo("leader");
            assertThat(written.candidate()).isEqualTo(request.endsWith("-> -") ? null : request.substring(request.lastIndexOf(' ') + 1));
        } else {
            assertThat(written.leader()).isNull();
            assertThat(written.candidate()).isEqualTo("b");
        }
    }

    private static ActionResult send(ClusterAdmin admin, String request) {
        String[] words = request.split("\\s+");
        if (words[0].equals("failover")) {
            return admin.failover(words[1]);
        }
        String leader = words[1].equals("->") ? null : words[1];
        String candidate = words[words.length - 1].equals("-") ? null : words[words.length - 1];
        return admin.switchover(leader, candidate, null);
    }

    @Test
    void without_a_candidate_a_switchover_needs_another_member_that_could_take_over() {
        ManualClock clock = new ManualClock();
        InMemoryDcs dcs = InMemoryDcs.builder().clock(clock).waiter(clock::advance).build();
        dcs.putLeader("leader", TTL);
        dcs.putMember(Members.primary("leader", 100), TTL);
        ClusterAdmin admin = ClusterAdmin.of(HaConfig.builder().scope("test").name("patronictl").build(),
                dcs.client("patronictl"), clock);

        // only the leader
        assertThat(admin.switchover(null, null, null).message())
                .isEqualTo("switchover is not possible: cluster does not have members except leader");
        // the only other member may not be promoted
        dcs.putMember(Members.replica("nf", 100, MemberTags.DEFAULT.withNoFailover(true)), TTL);
        assertThat(admin.switchover(null, null, null).message())
                .isEqualTo("switchover is not possible: no good candidates have been found");
        // one good candidate among bad ones is enough
        dcs.putMember(Members.replica("b", 100), TTL);
        assertThat(admin.switchover(null, null, null).accepted()).isTrue();
    }

    @Test
    void a_scheduled_switchover_is_written_with_its_time_and_not_into_the_past() {
        ManualClock clock = new ManualClock();
        InMemoryDcs dcs = InMemoryDcs.builder().clock(clock).waiter(clock::advance).build();
        dcs.putLeader("leader", TTL);
        dcs.putMember(Members.primary("leader", 100), TTL);
        dcs.putMember(Members.replica("b", 100), TTL);
        ClusterAdmin admin = ClusterAdmin.of(HaConfig.builder().scope("test").name("patronictl").build(),
                dcs.client("patronictl"), clock);
        Instant now = clock.wallTime();

        assertThat(admin.switchover("leader", "b", now.minusSeconds(1)).message())
                .isEqualTo("Can't schedule switchover in the past");
        assertThat(dcs.snapshot().failover()).isNull();

        ActionResult scheduled = admin.switchover("leader", "b", now.plusSeconds(60));
        assertThat(scheduled.accepted()).isTrue();
        // Patroni's isoformat(): +00:00, never Z
        assertThat(scheduled.message()).isEqualTo("switchover scheduled at "
                + dev.pgha.cluster.TimelineHistory.formatTimestamp(now.plusSeconds(60)));
        assertThat(scheduled.message()).endsWith("+00:00");
        assertThat(dcs.snapshot().failover().scheduledTime().orElseThrow().toInstant()).isEqualTo(now.plusSeconds(60));
    }

    @Test
    void an_unreachable_dcs_refuses_every_request_and_says_why() {
        ManualClock clock = new ManualClock();
        InMemoryDcs dcs = InMemoryDcs.builder().clock(clock).waiter(clock::advance).build();
        dcs.putLeader("leader", TTL);
        dcs.putMember(Members.primary("leader", 100), TTL);
        dcs.putMember(Members.replica("b", 100), TTL);
        HaConfig config = HaConfig.builder().scope("test").name("patronictl").build();

        // the read fails
        dcs.fault("patronictl", Fault.UNAVAILABLE);
        ClusterAdmin down = ClusterAdmin.of(config, dcs.client("patronictl"), clock);
        assertThat(down.switchover("leader", "b", null).message())
                .startsWith("switchover is not possible: DCS is not accessible: ");
        assertThat(down.failover("b").message()).startsWith("failover is not possible: DCS is not accessible: ");

        // the read works, the write fails
        dcs.fault("patronictl", Fault.NONE);
        DcsClient client = dcs.client("patronictl");
        DcsClient failingWrites = (DcsClient) Proxy.newProxyInstance(DcsClient.class.getClassLoader(),
                new Class<?>[] {DcsClient.class}, (proxy, method, args) -> {
                    if (method.getName().equals("setFailover")) {
                        throw new DcsException(DcsException.Reason.UNAVAILABLE, "connection refused");
                    }
                    try {
                        return method.invoke(client, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        ActionResult result = ClusterAdmin.of(config, failingWrites, clock).failover("b");
        assertThat(result.accepted()).isFalse();
        assertThat(result.message()).isEqualTo("DCS is not accessible: UNAVAILABLE: connection refused");
    }

    @Test
    void a_restart_of_a_stopped_postgresql_is_refused() {
        // given a member whose PostgreSQL is not running
        HaScenario ha = HaScenario.create();
        ha.given(Clusters.builder().initialize(Clusters.SYSTEM_ID).build());
        ha.runCycle();

        // when a restart is requested, then it is refused and nothing is started
        ActionResult result = ha.controller().restart();
        assertThat(result.accepted()).isFalse();
        assertThat(result.message()).isEqualTo("postgres is not running");
        assertThat(ha.postgres().operations()).isEmpty();
    }
}
