package dev.pgha.dcs.inmemory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class LeaderKeyTest {

    private static final Duration TTL = Duration.ofSeconds(30);

    private final TestClock clock = new TestClock();
    private final InMemoryDcs dcs = InMemoryDcs.create(clock);
    private final InMemoryDcsClient node1 = dcs.client("node1");
    private final InMemoryDcsClient node2 = dcs.client("node2");
    private final InMemoryDcsClient node3 = dcs.client("node3");

    @Test
    void oneAcquirerWinsAmongSeveral() {
        List<Boolean> results = List.of(node2.acquireLeader(TTL), node1.acquireLeader(TTL),
                node3.acquireLeader(TTL));

        assertThat(results).containsExactly(true, false, false);
        assertThat(dcs.leaderName()).contains("node2");
        assertThat(node1.readCluster().isLeader("node2")).isTrue();
    }

    @Test
    void acquireIsCreateIfAbsentEvenForTheHolder() {
        assertThat(node1.acquireLeader(TTL)).isTrue();
        assertThat(node1.acquireLeader(TTL)).isFalse();
        assertThat(dcs.leaderName()).contains("node1");
    }

    @Test
    void leaderKeyExpiresExactlyTtlAfterItWasCreated() {
        node1.acquireLeader(TTL);

        clock.advance(TTL.minusNanos(1));
        assertThat(node2.readCluster().leaderName()).contains("node1");
        clock.advance(Duration.ofNanos(1));
        assertThat(node2.readCluster().isUnlocked()).isTrue();
        assertThat(node2.acquireLeader(TTL)).isTrue();
    }

    @Test
    void refreshExtendsTheLease() {
        node1.acquireLeader(TTL);
        clock.advance(Duration.ofSeconds(20));

        assertThat(node1.refreshLeader(TTL)).isTrue();
        clock.advance(Duration.ofSeconds(20));

        assertThat(dcs.leaderName()).contains("node1");
        assertThat(node2.acquireLeader(TTL)).isFalse();
        clock.advance(Duration.ofSeconds(10));
        assertThat(dcs.leaderName()).isEmpty();
    }

    @Test
    void refreshFailsOnceAnotherHoldsTheKey() {
        node1.acquireLeader(TTL);
        clock.advance(TTL);
        assertThat(node2.acquireLeader(TTL)).isTrue();

        assertThat(node1.refreshLeader(TTL)).isFalse();
        assertThat(dcs.leaderName()).contains("node2");
    }

    @Test
    void refreshRecreatesAnExpiredKeyNobodyTook() {
        node1.acquireLeader(TTL);
        clock.advance(TTL.plusSeconds(5));
        assertThat(dcs.leaderName()).isEmpty();

        assertThat(node1.refreshLeader(TTL)).isTrue();

        assertThat(dcs.leaderName()).contains("node1");
        clock.advance(TTL.minusNanos(1));
        assertThat(dcs.leaderName()).contains("node1");
    }

    @Test
    void refreshRecreatesADeletedKey() {
        node1.acquireLeader(TTL);
        dcs.deleteLeader();

        assertThat(node1.refreshLeader(TTL)).isTrue();
        assertThat(dcs.leaderName()).contains("node1");
    }

    @Test
    void releaseOnlyByTheHolder() {
        assertThat(node1.releaseLeader()).isFalse();
        node1.acquireLeader(TTL);

        assertThat(node2.releaseLeader()).isFalse();
        assertThat(dcs.leaderName()).contains("node1");
        assertThat(node1.releaseLeader()).isTrue();
        assertThat(dcs.leaderName()).isEmpty();
        assertThat(node1.releaseLeader()).isFalse();
    }

    @Test
    void releaseAfterExpiryReturnsFalse() {
        node1.acquireLeader(TTL);
        clock.advance(TTL);

        assertThat(node1.releaseLeader()).isFalse();
    }

    @Test
    void anotherToolCanTakeOverOrDeleteTheKey() {
        node1.acquireLeader(TTL);

        dcs.putLeader("node3", TTL);
        assertThat(node1.refreshLeader(TTL)).isFalse();
        assertThat(dcs.deleteLeader()).isTrue();
        assertThat(dcs.deleteLeader()).isFalse();
        assertThat(node2.acquireLeader(TTL)).isTrue();
    }

    @Test
    void expiryIsCorrectAcrossAWrappingNanoClock() {
        TestClock wrapping = new TestClock(Long.MAX_VALUE - Duration.ofSeconds(10).toNanos());
        InMemoryDcs store = InMemoryDcs.create(wrapping);
        store.client("a").acquireLeader(TTL);

        wrapping.advance(Duration.ofSeconds(29));
        assertThat(store.leaderName()).contains("a");
        wrapping.advance(Duration.ofSeconds(1));
        assertThat(store.leaderName()).isEmpty();
    }

    @Test
    void rejectsNonPositiveTtlsAndBlankNames() {
        assertThatThrownBy(() -> node1.acquireLeader(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> node1.refreshLeader(Duration.ofSeconds(-1)))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> dcs.client(null)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> dcs.client(" ")).isInstanceOf(IllegalArgumentException.class);
        assertThat(dcs.leaderName()).isEmpty();
    }
}
