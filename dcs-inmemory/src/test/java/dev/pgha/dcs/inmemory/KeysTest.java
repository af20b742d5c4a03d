package dev.pgha.dcs.inmemory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KeysTest {

    private static final Duration TTL = Duration.ofSeconds(30);

    private final TestClock clock = new TestClock();
    private final InMemoryDcs dcs = InMemoryDcs.create(clock);
    private final InMemoryDcsClient node1 = dcs.client("node1");
    private final InMemoryDcsClient node2 = dcs.client("node2");

    @Test
    void anEmptyStoreReadsAsTheEmptyView() {
        assertThat(node1.readCluster()).isEqualTo(ClusterView.EMPTY);
        assertThat(dcs.snapshot()).isEqualTo(ClusterView.EMPTY);
    }

    @Test
    void membersExpireTtlAfterTheirLastTouch() {
        node1.touchMember(member("node1", "running"), TTL);
        node2.touchMember(member("node2", "running"), TTL);
        clock.advance(Duration.ofSeconds(20));
        node1.touchMember(member("node1", "stopped"), TTL);

        clock.advance(Duration.ofSeconds(10));
        ClusterView view = node1.readCluster();
        assertThat(view.members()).extracting(Member::name).containsExactly("node1");
        assertThat(view.member("node1")).get().extracting(Member::state).isEqualTo("stopped");

        clock.advance(Duration.ofSeconds(20));
        assertThat(node1.readCluster().members()).isEmpty();
    }

    @Test
    void membersAreListedByNameAndCanBeDeleted() {
        node2.touchMember(member("node2", "running"), TTL);
        node1.touchMember(member("node1", "running"), TTL);
        dcs.putMember(member("node0", "running"), TTL);
        assertThat(dcs.snapshot().members()).extracting(Member::name).containsExactly("node0", "node1", "node2");

        node1.deleteMember("node2");
        node1.deleteMember("absent");
        assertThat(dcs.deleteMember("node0")).isTrue();
        assertThat(dcs.snapshot().members()).extracting(Member::name).containsExactly("node1");
    }

    @Test
    void initializeRaceHasOneWinnerAndCancelGivesOthersTheirTurn() {
        assertThat(node1.initialize("")).isTrue();
        assertThat(node2.initialize("")).isFalse();
        assertThat(dcs.snapshot().initialize()).isEmpty();

        node1.cancelInitialization();
        assertThat(dcs.snapshot().initialize()).isNull();
        assertThat(node2.initialize("")).isTrue();

        node2.setInitialize("7311111111111111111");
        ClusterView view = node1.readCluster();
        assertThat(view.initialize()).isEqualTo("7311111111111111111");
        assertThat(view.hasValidInitialize()).isTrue();
        assertThat(node1.initialize("")).isFalse();
    }

    @Test
    void setInitializeAndRawWritersOverwriteUnconditionally() {
        node1.setInitialize("1234567890");
        dcs.putInitialize("");
        assertThat(dcs.snapshot().initialize()).isEmpty();
        assertThat(dcs.deleteInitialize()).isTrue();
        assertThat(dcs.snapshot().initialize()).isNull();
    }

    @Test
    void failoverVersionSemantics() {
        Failover switchover = new Failover("node1", "node2", null, 0);
        assertThat(node1.setFailover(switchover, 5)).as("a version for an absent key").isFalse();
        assertThat(node1.setFailover(switchover, 0)).as("create if absent").isTrue();
        Failover read = node2.readCluster().failover();
        assertThat(read.leader()).isEqualTo("node1");
        assertThat(read.candidate()).isEqualTo("node2");
        assertThat(read.version()).isPositive();

        assertThat(node2.setFailover(new Failover(null, "node2", null, 0), 0)).as("create when present").isFalse();
        assertThat(node2.setFailover(new Failover(null, "node2", null, 0), read.version() + 1)).isFalse();
        assertThat(node2.setFailover(new Failover(null, "node2", null, 0), read.version())).isTrue();
        Failover second = dcs.snapshot().failover();
        assertThat(second.leader()).isNull();
        assertThat(second.version()).isGreaterThan(read.version());
        assertThat(node1.setFailover(switchover, read.version())).as("stale version").isFalse();
        assertThat(node1.setFailover(switchover, -1)).as("unconditional").isTrue();

        long current = dcs.snapshot().failover().version();
        assertThat(node1.deleteFailover(second.version())).as("stale delete").isFalse();
        assertThat(node1.deleteFailover(0)).as("delete if absent, but present").isFalse();
        assertThat(node1.deleteFailover(current)).isTrue();
        assertThat(dcs.snapshot().failover()).isNull();
        assertThat(node1.deleteFailover(-1)).as("unconditional delete of nothing").isTrue();
        assertThat(node1.deleteFailover(current)).isFalse();
    }

    @Test
    void anEmptiedFailoverKeyReadsAsAbsent() {
        long version = dcs.putFailover(new Failover(null, null, null, 0));
        assertThat(version).isPositive();
        assertThat(node1.readCluster().failover()).isNull();

        assertThat(node1.setFailover(new Failover(null, "node2", "2024-01-01T00:00:00+00:00", 0), 0)).isTrue();
        Failover read = dcs.snapshot().failover();
        assertThat(read.scheduledAt()).isEqualTo("2024-01-01T00:00:00+00:00");
        assertThat(read.version()).isGreaterThan(version);
        assertThat(dcs.deleteFailover()).isTrue();
    }

    @Test
    void configCompareAndSet() {
        assertThat(node1.setConfig(new ClusterConfig(Map.of("ttl", 30), 0), 0)).isTrue();
        ClusterConfig read = node2.readCluster().config();
        assertThat(read.data()).containsEntry("ttl", 30);
        assertThat(read.version()).isPositive();

        assertThat(node2.setConfig(new ClusterConfig(Map.of("ttl", 40), 0), 0)).as("create when present").isFalse();
        assertThat(node2.setConfig(new ClusterConfig(Map.of("pause", true), 0), read.version())).isTrue();
        assertThat(node1.setConfig(new ClusterConfig(Map.of("ttl", 50), 0), read.version())).as("stale").isFalse();
        ClusterConfig now = dcs.snapshot().config();
        assertThat(now.isPaused()).isTrue();
        assertThat(now.version()).isGreaterThan(read.version());

        assertThat(node1.setConfig(new ClusterConfig(Map.of("ttl", 60), 0), -1)).isTrue();
        long raw = dcs.putConfig(new ClusterConfig(Map.of("ttl", 70), 999));
        assertThat(dcs.snapshot().config()).isEqualTo(new ClusterConfig(Map.of("ttl", 70), raw));
    }

    @Test
    void syncCompareAndSetAndDelete() {
        SyncState sync = new SyncState("node1", Set.of("node2"), 0, 0);
        assertThat(node1.writeSync(sync, 0)).isTrue();
        SyncState read = node1.readCluster().sync();
        assertThat(read.matches("node2")).isTrue();
        assertThat(node1.writeSync(new SyncState("node1", Set.of(), 0, 0), 0)).isFalse();
        assertThat(node1.writeSync(new SyncState("node1", Set.of(), 0, 0), read.version())).isTrue();
        assertThat(node1.writeSync(sync, read.version())).isFalse();
        assertThat(node1.writeSync(sync, -1)).isTrue();

        node1.deleteSync();
        node1.deleteSync();
        assertThat(dcs.snapshot().sync()).isNull();
        long raw = dcs.putSync(sync);
        assertThat(dcs.snapshot().sync().version()).isEqualTo(raw);
    }

    @Test
    void versionsBelowMinusOneAreRejected() {
        assertThatThrownBy(() -> node1.setConfig(ClusterConfig.EMPTY, -2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> node1.deleteFailover(-7)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void statusHistoryAndFailsafeAreStored() {
        node1.writeStatus(new ClusterStatus(1234, Map.of("node2", 1200L)));
        TimelineHistory history = TimelineHistory.EMPTY
                .append(new TimelineHistory.Entry(1, 5000, "no recovery target specified", null, "node1"));
        node1.writeHistory(history);
        dcs.putFailsafe(Map.of("node1", "http://node1:8008/patroni"));

        ClusterView view = node2.readCluster();
        assertThat(view.status().optime()).isEqualTo(1234);
        assertThat(view.status().slots()).containsEntry("node2", 1200L);
        assertThat(view.history()).isEqualTo(history);
        assertThat(view.timeline()).isEqualTo(2);
        assertThat(view.failsafe()).containsOnlyKeys("node1");

        dcs.putStatus(ClusterStatus.EMPTY);
        dcs.putHistory(TimelineHistory.EMPTY);
        dcs.putFailsafe(Map.of());
        assertThat(dcs.snapshot().failsafe()).isEmpty();
        assertThat(dcs.snapshot().status()).isEqualTo(ClusterStatus.EMPTY);
    }

    @Test
    void readClusterShowsEveryKeyTogether() {
        node1.initialize("");
        node1.acquireLeader(TTL);
        node1.touchMember(member("node1", "running"), TTL);
        node1.setConfig(new ClusterConfig(Map.of("loop_wait", 10), 0), 0);

        ClusterView view = node2.readCluster();
        assertThat(view.leaderMember()).get().extracting(Member::state).isEqualTo("running");
        assertThat(view.initialize()).isEmpty();
        assertThat(view.config().data()).containsKey("loop_wait");
        assertThat(view).isEqualTo(dcs.snapshot());
    }

    @Test
    void retryTimeoutIsPerClientWithPatronisDefault() {
        assertThat(node1.retryTimeout()).isEqualTo(Duration.ofSeconds(10));
        node1.setRetryTimeout(Duration.ofSeconds(3));
        assertThat(node1.retryTimeout()).isEqualTo(Duration.ofSeconds(3));
        assertThat(node2.retryTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(dcs.client("node1").retryTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThatThrownBy(() -> node1.setRetryTimeout(Duration.ofSeconds(-1))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aClosedClientRefusesCallsButItsKeysStay() {
        node1.acquireLeader(TTL);
        node1.close();
        node1.close();

        assertThatThrownBy(node1::readCluster).isInstanceOf(IllegalStateException.class).hasMessageContaining("node1");
        assertThat(dcs.leaderName()).contains("node1");
        clock.advance(TTL);
        assertThat(dcs.leaderName()).isEmpty();
    }

    @Test
    void theBuilderNeedsAClock() {
        assertThatThrownBy(() -> InMemoryDcs.builder().build()).isInstanceOf(IllegalStateException.class);
        assertThat(InMemoryDcs.builder().clock(clock).waiter(clock::advance).build().clock()).isSameAs(clock);
    }

    static Member member(String name, String state) {
        return new Member(name, "postgres://" + name + ":5432/postgres", null, state, "replica", "0.1.0",
                null, null, null, null, 1L, null, false);
    }
}
