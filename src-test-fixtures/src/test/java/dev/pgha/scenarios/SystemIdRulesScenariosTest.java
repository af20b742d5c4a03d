package dev.pgha.scenarios;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.CycleResult;
import dev.pgha.HaConfig;
import dev.pgha.HaController;
import dev.pgha.cluster.MemberTags;
import dev.pgha.dcs.inmemory.InMemoryDcs;
import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresProcess;
import dev.pgha.postgres.PostgresStatus;
import dev.pgha.testing.Clusters;
import dev.pgha.testing.FakePostgres;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.FakeWorld;
import dev.pgha.testing.HaScenario;
import dev.pgha.testing.ManualClock;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Patroni's system-identifier checks against the {@code initialize} key, as a table
 * (test_ha.py: test_sysid_no_match, test_sysid_no_match_in_pause without pause,
 * test_abort_join): a running primary whose PostgreSQL reports no system identifier is checked
 * with pg_control's; one that is not a number of at least 10 digits is refused; another
 * cluster's is refused (and the leader key given up); without a valid {@code initialize} key a
 * running primary claims the cluster, writing its own.
 *
 * <p>Columns: the system identifier the status query reports ({@code -}: none, as while
 * PostgreSQL does not answer), pg_control's, the {@code initialize} key ({@code same}: this
 * node's; {@code -}: absent), who holds the leader key, then the cycle's message and the
 * {@code initialize} key afterwards.
 */
class SystemIdRulesScenariosTest {

    private static final String MINE = "7000000000000000042";
    private static final String INVALID =
            "data dir for the cluster is not empty, but system ID is invalid; consider doing reinitialize";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            # situation                                           | reported | pg_control          | initialize          | leader      | message                                                                                          | initialize afterwards
            the reported system ID matches                        | mine     | mine                | same                | -           | acquired session lock as a leader                                                                | same
            none reported: pg_control's matches                   | -        | mine                | same                | -           | acquired session lock as a leader                                                                | same
            none reported, pg_control has none either             | -        | -                   | same                | -           | INVALID                                                                                          | same
            pg_control's is too short                             | -        | 123456789           | same                | -           | INVALID                                                                                          | same
            pg_control's has exactly 10 digits, another cluster's | -        | 1234567890          | same                | -           | system ID mismatch, node postgresql0 belongs to a different cluster: 7000000000000000042 != 1234567890 | same
            pg_control's is not a number                          | -        | 12345678ab          | same                | -           | INVALID                                                                                          | same
            another cluster's data, the lock held                 | mine     | mine                | 7000000000000000001 | postgresql0 | released leader key voluntarily due to the system ID mismatch                                    | 7000000000000000001
            no initialize key: the running primary claims it      | mine     | mine                | -                   | -           | acquired session lock as a leader                                                                | same
            an initialize key without a system ID: overwritten    | mine     | mine                | not-a-sysid         | -           | acquired session lock as a leader                                                                | same
            the lock holder repairs a lost initialize key         | mine     | mine                | -                   | postgresql0 | no action. I am (postgresql0), the leader with the lock                                          | same
            """)
    void checks(String situation, String reported, String pgControl, String initialize, String leader,
                String message, String initializeAfter) {
        ManualClock clock = new ManualClock();
        InMemoryDcs dcs = InMemoryDcs.builder().clock(clock).waiter(clock::advance).build();
        FakeWorld world = new FakeWorld(clock);
        FakePostgres fake = world.add(HaScenario.NAME, FakeTimings.INSTANT);
        while (fake.bootstrap().poll() == PostgresOperation.Outcome.RUNNING) {
            clock.advanceSeconds(1);
        }
        world.tick();
        ControlData cd = fake.controlData();
        fake.overrideControlData(new ControlData(cd.clusterState(), value(pgControl), cd.checkpointTimeline(),
                cd.checkpointLocation(), cd.minRecoveryEndLocation(), cd.minRecoveryEndTimeline(), cd.raw()));
        PostgresProcess postgres = reporting(fake, value(reported));
        if (!initialize.equals("-")) {
            dcs.putInitialize(initialize.equals("same") ? MINE : initialize);
        }
        if (!leader.equals("-")) {
            dcs.putLeader(leader, Duration.ofSeconds(30));
        }
        HaController controller = HaController.builder()
                .config(HaConfig.builder().scope("test").name(HaScenario.NAME).tags(MemberTags.DEFAULT).build())
                .dcs(dcs.client(HaScenario.NAME)).postgres(postgres).clock(clock).build();

        CycleResult r = controller.runCycle();

        assertThat(r.message()).as(situation).isEqualTo(message.equals("INVALID") ? INVALID : message);
        assertThat(dcs.snapshot().initialize()).isEqualTo(initializeAfter.equals("same") ? MINE : initializeAfter);
        if (message.startsWith("released")) {
            assertThat(dcs.leaderName()).isEmpty();
        }
    }

    /** "mine": this node's system ID; "-": none; anything else as it is. */
    private static String value(String cell) {
        return switch (cell) {
            case "mine" -> MINE;
            case "-" -> null;
            default -> cell;
        };
    }

    /** {@code fake}, except that its status reports {@code sysid} as the system identifier. */
    private static PostgresProcess reporting(FakePostgres fake, String sysid) {
        return (PostgresProcess) Proxy.newProxyInstance(PostgresProcess.class.getClassLoader(),
                new Class<?>[] {PostgresProcess.class}, (proxy, method, args) -> {
                    try {
                        Object result = method.invoke(fake, args);
                        if (method.getName().equals("status")) {
                            PostgresStatus s = (PostgresStatus) result;
                            return new PostgresStatus(s.state(), s.postmasterRunning(), s.acceptingConnections(),
                                    s.inRecovery(), s.timeline(), s.walPosition(), s.receiveLsn(), s.replayLsn(),
                                    s.streaming(), sysid, s.dataDirectory(), s.dataDirectoryError());
                        }
                        return result;
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
