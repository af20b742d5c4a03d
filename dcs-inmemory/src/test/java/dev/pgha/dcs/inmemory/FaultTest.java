package dev.pgha.dcs.inmemory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import dev.pgha.dcs.DcsClient;
import dev.pgha.dcs.DcsException;
import dev.pgha.dcs.DcsException.Reason;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class FaultTest {

    private static final Duration TTL = Duration.ofSeconds(30);

    private final TestClock clock = new TestClock();
    private final InMemoryDcs dcs = InMemoryDcs.builder().clock(clock).waiter(clock::advance).build();
    private final InMemoryDcsClient node1 = dcs.client("node1");
    private final InMemoryDcsClient node2 = dcs.client("node2");

    /** Every store call of the SPI, by operation name. */
    private static Map<String, Consumer<DcsClient>> everyCall() {
        Map<String, Consumer<DcsClient>> calls = new LinkedHashMap<>();
        calls.put("readCluster", DcsClient::readCluster);
        calls.put("acquireLeader", c -> c.acquireLeader(TTL));
        calls.put("refreshLeader", c -> c.refreshLeader(TTL));
        calls.put("releaseLeader", DcsClient::releaseLeader);
        calls.put("touchMember", c -> c.touchMember(KeysTest.member(c.member(), "running"), TTL));
        calls.put("deleteMember", c -> c.deleteMember("node1"));
        calls.put("initialize", c -> c.initialize(""));
        calls.put("setInitialize", c -> c.setInitialize("1234567890"));
        calls.put("cancelInitialization", DcsClient::cancelInitialization);
        calls.put("setConfig", c -> c.setConfig(new ClusterConfig(Map.of("ttl", 1), 0), -1));
        calls.put("setFailover", c -> c.setFailover(new Failover(null, "node2", null, 0), -1));
        calls.put("deleteFailover", c -> c.deleteFailover(-1));
        calls.put("writeStatus", c -> c.writeStatus(new ClusterStatus(1, Map.of())));
        calls.put("writeHistory", c -> c.writeHistory(TimelineHistory.EMPTY));
        calls.put("writeSync", c -> c.writeSync(new SyncState("node2", Set.of(), 0, 0), -1));
        calls.put("deleteSync", DcsClient::deleteSync);
        return calls;
    }

    private ClusterView populate() {
        node1.initialize("7311111111111111111");
        node1.acquireLeader(TTL);
        node1.touchMember(KeysTest.member("node1", "running"), TTL);
        node1.setConfig(new ClusterConfig(Map.of("ttl", 30), 0), 0);
        node1.setFailover(new Failover("node1", "node2", null, 0), 0);
        node1.writeSync(new SyncState("node1", Set.of(), 0, 0), 0);
        return dcs.snapshot();
    }

    @Test
    void unavailableFailsEveryCallAtOnceAndLeavesTheStoreAlone() {
        ClusterView before = populate();
        node2.fault(Fault.UNAVAILABLE);

        everyCall().forEach((op, call) -> {
            DcsException e = catchThrowableOfType(DcsException.class, () -> call.accept(node2));
            assertThat(e).as(op).isNotNull();
            assertThat(e.reason()).isEqualTo(Reason.UNAVAILABLE);
            assertThat(e.getMessage()).contains("node2: " + op + ": in-memory DCS unavailable (fault injected)");
        });

        assertThat(clock.elapsed()).isZero();
        assertThat(dcs.snapshot()).isEqualTo(before);
        assertThat(node1.refreshLeader(TTL)).as("other members keep working").isTrue();
    }

    @Test
    void partitionedCutsOffOneMemberWhileOthersWork() {
        node1.acquireLeader(TTL);
        node1.touchMember(KeysTest.member("node1", "running"), TTL);
        dcs.fault("node1", Fault.PARTITIONED);

        assertThat(dcs.faultOf("node1")).isEqualTo(Fault.PARTITIONED);
        assertThat(dcs.client("node1").fault()).as("applies to every client of the member").isEqualTo(Fault.PARTITIONED);
        DcsException e = catchThrowableOfType(DcsException.class, () -> node1.refreshLeader(TTL));
        assertThat(e.reason()).isEqualTo(Reason.UNAVAILABLE);
        assertThat(e.getMessage()).contains("node1: refreshLeader:", "partitioned", "fault injected");

        clock.advance(TTL);
        assertThat(node2.readCluster().isUnlocked()).as("the cut-off leader's key expires normally").isTrue();
        assertThat(node2.readCluster().members()).isEmpty();
        assertThat(node2.acquireLeader(TTL)).isTrue();

        dcs.fault("node1", Fault.NONE);
        assertThat(node1.refreshLeader(TTL)).isFalse();
        assertThat(node1.readCluster().leaderName()).contains("node2");
    }

    @Test
    void slowLetsTheRetryTimeoutPassThenTimesOut() {
        ClusterView before = populate();
        node2.fault(Fault.SLOW);
        Duration start = clock.elapsed();

        int n = 0;
        for (Map.Entry<String, Consumer<DcsClient>> call : everyCall().entrySet()) {
            DcsException e = catchThrowableOfType(DcsException.class, () -> call.getValue().accept(node2));
            n++;
            assertThat(e.reason()).as(call.getKey()).isEqualTo(Reason.TIMEOUT);
            assertThat(e.getMessage()).contains("node2: " + call.getKey() + ":", "PT10S", "fault injected");
            assertThat(clock.elapsed()).isEqualTo(start.plus(Duration.ofSeconds(10).multipliedBy(n)));
        }

        assertThat(dcs.snapshot().leaderName()).as("a leader key never touched expired meanwhile").isEmpty();
        assertThat(dcs.snapshot().config()).isEqualTo(before.config());
        assertThat(dcs.snapshot().failover()).isEqualTo(before.failover());
    }

    @Test
    void slowUsesThisClientsRetryTimeout() {
        node2.setRetryTimeout(Duration.ofSeconds(3));
        dcs.fault("node2", Fault.SLOW);

        assertThatThrownBy(node2::readCluster).isInstanceOf(DcsException.class);

        assertThat(clock.elapsed()).isEqualTo(Duration.ofSeconds(3));
        assertThat(node1.readCluster()).isEqualTo(ClusterView.EMPTY);
        assertThat(clock.elapsed()).isEqualTo(Duration.ofSeconds(3));
    }

    @Test
    void slowWithTheSleepingWaiterReportsAnInterrupt() {
        InMemoryDcs sleeping = InMemoryDcs.create(clock);
        InMemoryDcsClient client = sleeping.client("node1");
        client.setRetryTimeout(Duration.ofHours(1));
        client.fault(Fault.SLOW);

        Thread.currentThread().interrupt();
        try {
            DcsException e = catchThrowableOfType(DcsException.class, client::readCluster);
            assertThat(e.reason()).isEqualTo(Reason.INTERRUPTED);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
    }

    @Test
    void aStoreWideOutageFailsEveryMember() {
        ClusterView before = populate();
        dcs.setAvailable(false);

        assertThat(dcs.isAvailable()).isFalse();
        for (InMemoryDcsClient client : new InMemoryDcsClient[] {node1, node2, dcs.client("node3")}) {
            everyCall().forEach((op, call) -> {
                DcsException e = catchThrowableOfType(DcsException.class, () -> call.accept(client));
                assertThat(e.reason()).as(op).isEqualTo(Reason.UNAVAILABLE);
                assertThat(e.getMessage()).contains(client.member() + ": " + op + ":", "store down");
            });
        }
        assertThat(dcs.snapshot()).as("outside observers still see the store").isEqualTo(before);

        dcs.setAvailable(true);
        assertThat(node1.refreshLeader(TTL)).isTrue();
    }

    @Test
    void healingRestoresEveryMember() {
        node1.fault(Fault.UNAVAILABLE);
        node2.fault(Fault.SLOW);
        dcs.clearFaults();

        assertThat(node1.fault()).isEqualTo(Fault.NONE);
        assertThat(node1.acquireLeader(TTL)).isTrue();
        assertThat(node2.readCluster().leaderName()).contains("node1");
    }

    @Test
    void watchRegistrationAndSettingsWorkWhileFaulted() {
        node2.fault(Fault.UNAVAILABLE);
        dcs.setAvailable(false);

        node2.setRetryTimeout(Duration.ofSeconds(1));
        node2.watch(() -> { }).close();
        node2.close();
        assertThat(clock.elapsed()).isZero();
    }
}
