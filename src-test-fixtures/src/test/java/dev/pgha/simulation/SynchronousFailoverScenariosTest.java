package dev.pgha.simulation;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.ClusterSettings.SynchronousMode;
import dev.pgha.cluster.SyncState;
import dev.pgha.testing.FakeCommits;
import dev.pgha.testing.FakeOperation;
import dev.pgha.testing.FakeTimings;
import dev.pgha.testing.SimulatedCluster;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Synchronous replication on a simulated three-node cluster in {@code synchronous_mode: on} with
 * strict (ttl 30 s, loop_wait 10 s, retry_timeout 10 s, use_pg_rewind), the simulation's
 * invariants checked throughout, "no acknowledged commit lost" (invariant 7) among them.
 */
class SynchronousFailoverScenariosTest {

    private static final Duration TTL = Duration.ofSeconds(30);
    private static final Duration CONVERGENCE = TTL.multipliedBy(10);

    private SimulatedCluster sim;
    private CheckedSimulation run;

    @BeforeEach
    void aConvergedSynchronousCluster() {
        sim = SimulatedCluster.builder().nodes(3).timings(FakeTimings.DEFAULTS)
                .config(b -> b.ttl(TTL).loopWait(Duration.ofSeconds(10)).retryTimeout(Duration.ofSeconds(10))
                        .usePgRewind(true).synchronousMode(SynchronousMode.ON).synchronousModeStrict(true))
                .logLines(3000).build();
        run = new CheckedSimulation(sim, true);
        assertThat(run.runUntil(s -> s.isConverged() && syncStandby().isPresent(), CONVERGENCE)).as(sim.log()).isTrue();
    }

    private java.util.Optional<String> syncStandby() {
        SyncState sync = sim.dcs().snapshot().sync();
        return sync == null || sync.syncStandbys().isEmpty() ? java.util.Optional.empty()
                : java.util.Optional.of(sync.syncStandbys().iterator().next());
    }

    private void hostLoss(String node) {
        sim.crashPostgres(node);
        sim.freeze(node, true);
    }

    @Test
    void whenThePrimaryAndItsSynchronousStandbyAreLostTheLaggingAsynchronousStandbyDoesNotTakeOver() {
        // given a primary, its synchronous standby, and an asynchronous standby that stopped receiving WAL
        String primary = sim.leader().orElseThrow();
        String synchronous = syncStandby().orElseThrow();
        String lagging = sim.nodes().stream().map(n -> n.name())
                .filter(n -> !n.equals(primary) && !n.equals(synchronous)).findFirst().orElseThrow();
        sim.world().get(lagging).pauseReplication(true);
        // and commits acknowledged because the synchronous standby has them
        for (int i = 0; i < 10; i++) {
            assertThat(sim.write(10_000)).isTrue();
            run.runFor(Duration.ofSeconds(1));
        }
        List<FakeCommits.Commit> acknowledged = sim.world().acknowledgedCommits();
        assertThat(acknowledged).isNotEmpty();
        FakeCommits.Commit last = acknowledged.get(acknowledged.size() - 1);
        assertThat(sim.world().holds(synchronous, last)).isTrue();
        assertThat(sim.world().holds(lagging, last)).as("the asynchronous standby lacks them").isFalse();

        // when the hosts of the primary and of the synchronous standby are lost
        hostLoss(primary);
        hostLoss(synchronous);
        run.runFor(TTL.multipliedBy(3));

        // then the asynchronous standby, which the sync key does not name, does not take over
        assertThat(sim.writablePrimaries()).as(sim.log()).isEmpty();
        assertThat(sim.leader()).isEmpty();

        // when the synchronous standby's host comes back (and the lagging one catches up again)
        sim.freeze(synchronous, false);
        sim.world().get(lagging).pauseReplication(false);

        // then it takes over with every acknowledged commit
        assertThat(run.runUntil(s -> s.leader().filter(synchronous::equals).isPresent()
                && s.writablePrimaries().equals(List.of(synchronous)), CONVERGENCE)).as(sim.log()).isTrue();
        for (FakeCommits.Commit c : acknowledged) {
            assertThat(sim.world().holds(synchronous, c)).isTrue();
        }
    }

    @Test
    void whenTheSynchronousStandbyIsRestartedThePrimaryDropsItFromTheSyncKeyBeforeItStops() {
        // given a primary, its synchronous standby, and another standby
        String primary = sim.leader().orElseThrow();
        String synchronous = syncStandby().orElseThrow();
        int restarts = sim.world().get(synchronous).count(FakeOperation.Kind.RESTART);

        // when the synchronous standby is asked to restart
        assertThat(sim.node(synchronous).controller().restart().accepted()).isTrue();

        // then its PostgreSQL restarts, within 2 x loop_wait and a cycle
        AtomicReference<SyncState> keyWhenItStopped = new AtomicReference<>();
        assertThat(run.runUntil(s -> {
                if (s.world().get(synchronous).count(FakeOperation.Kind.RESTART) > restarts) {
                keyWhenItStopped.compareAndSet(null, s.dcs().snapshot().sync());
                return true;
            }
            return false;
        }, Duration.ofSeconds(30))).as(sim.log()).isTrue();
        // and by then the primary had dropped it from the sync key (Patroni's order: shrink first)
        assertThat(keyWhenItStopped.get().leader()).isEqualTo(primary);
        assertThat(keyWhenItStopped.get().syncStandbys()).as(sim.log()).doesNotContain(synchronous);
        // and it soon names a synchronous standby again (the other one, or the restarted one when it is
        // back first), so that commits go on being acknowledged
        assertThat(run.runUntil(s -> !s.dcs().snapshot().sync().syncStandbys().isEmpty(), Duration.ofSeconds(30)))
                .as(sim.log()).isTrue();
        int acknowledged = sim.world().acknowledgedCommits().size();
        assertThat(sim.write(10_000)).isTrue();
        run.runFor(Duration.ofSeconds(1));
        assertThat(sim.world().acknowledgedCommits()).as("a commit is acknowledged")
                .hasSizeGreaterThan(acknowledged);

        // and once restarted it streams again and may be chosen again (nosync is no longer published)
        assertThat(run.runUntil(s -> s.isConverged()
                && !s.dcs().snapshot().member(synchronous).orElseThrow().tags().noSync(), CONVERGENCE))
                .as(sim.log()).isTrue();
    }
}
