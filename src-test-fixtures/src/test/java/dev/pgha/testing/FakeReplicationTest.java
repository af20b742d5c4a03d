package dev.pgha.testing;

import static dev.pgha.testing.Sim.member;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.cluster.TimelineHistory;
import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresOperation.Outcome;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;
import dev.pgha.postgres.StopMode;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FakeReplicationTest {

    private final Sim sim = new Sim();

    @AfterEach
    void noViolations() {
        assertThat(sim.world.violations()).isEmpty();
    }

    @Test
    void aCloneStreamsAndCatchesUpOnTick() {
        FakePostgres p = sim.primary("p");
        p.write(4_096);
        FakePostgres r = sim.world.add("r");

        PostgresOperation clone = r.cloneFrom(member(p));
        assertThat(r.status().state()).isEqualTo(PostgresState.CREATING_REPLICA);
        assertThat(r.status().dataDirectory()).isEqualTo(DataDirectoryState.EMPTY);
        assertThat(sim.finish(clone)).isEqualTo(Outcome.SUCCEEDED);
        PostgresStatus cloned = r.status();
        assertThat(cloned.state()).isEqualTo(PostgresState.STOPPED);
        assertThat(cloned.dataDirectory()).isEqualTo(DataDirectoryState.INITIALIZED);
        assertThat(cloned.inRecovery()).isTrue();
        assertThat(r.systemIdentifier()).isEqualTo(p.systemIdentifier());
        assertThat(r.upstream()).isEqualTo("p");
        assertThat(r.walPosition()).isEqualTo(p.walPosition());
        // pg_basebackup copies the running primary's pg_control
        assertThat(r.controlData().clusterState()).isEqualTo("in production");

        assertThat(sim.finish(r.follow(member(p)))).isEqualTo(Outcome.SUCCEEDED);
        assertThat(r.isWritable()).isFalse();
        assertThat(r.write(1)).isFalse();
        assertThat(r.streamingStatus()).isEqualTo(StreamingStatus.STREAMING);

        assertThat(sim.world.write("p", 10_000)).isTrue();
        assertThat(r.lagBytes()).isEqualTo(10_000);
        sim.world.tick();
        assertThat(r.lagBytes()).isZero();
        PostgresStatus st = r.status();
        assertThat(st.streaming()).isTrue();
        assertThat(st.inRecovery()).isTrue();
        assertThat(st.walPosition()).isEqualTo(p.walPosition());
        assertThat(st.receiveLsn()).isEqualTo(p.walPosition());
        assertThat(st.replayLsn()).isEqualTo(p.walPosition());
        assertThat(st.timeline()).isEqualTo(1);
        assertThat(r.controlData().clusterState()).isEqualTo("in archive recovery");
    }

    @Test
    void pausedReplicationLags() {
        FakePostgres p = sim.primary("p");
        FakePostgres r = sim.replica("r", p);
        r.pauseReplication(true);
        p.write(2_000);
        sim.world.tick();
        assertThat(r.lagBytes()).isEqualTo(2_000);
        assertThat(r.streamingStatus()).isEqualTo(StreamingStatus.PAUSED);
        assertThat(r.status().streaming()).isFalse();
        r.pauseReplication(false);
        sim.world.tick();
        assertThat(r.lagBytes()).isZero();
    }

    @Test
    void aReplicaStoppedCleanlyIsShutDownInRecovery() {
        FakePostgres p = sim.primary("p");
        FakePostgres r = sim.replica("r", p);
        Lsn at = r.walPosition();
        sim.finish(r.stop(StopMode.FAST, true));
        ControlData cd = r.controlData();
        assertThat(cd.clusterState()).isEqualTo("shut down in recovery");
        assertThat(cd.effectivePosition()).isEqualTo(at);
        assertThat(cd.effectiveTimeline()).isEqualTo(1);
        assertThat(r.walPosition()).isEqualTo(at);
        assertThat(r.status().inRecovery()).isTrue();
    }

    @Test
    void promotionMovesToTheNextTimelineAndIsWritableOnlyWhenDone() {
        FakePostgres p = sim.primary("p");
        FakePostgres r = sim.replica("r", p);
        p.crash();
        Lsn switchAt = r.walPosition();

        PostgresOperation promote = r.promote();
        sim.clock.advanceMillis(500);
        assertThat(promote.poll()).isEqualTo(Outcome.RUNNING);
        assertThat(r.isWritable()).isFalse();
        assertThat(r.status().inRecovery()).isTrue();
        assertThat(r.streamingStatus()).isEqualTo(StreamingStatus.PROMOTING);
        sim.clock.advanceMillis(500);
        assertThat(promote.poll()).isEqualTo(Outcome.SUCCEEDED);

        assertThat(r.isWritable()).isTrue();
        PostgresStatus st = r.status();
        assertThat(st.isRunningPrimary()).isTrue();
        assertThat(st.timeline()).isEqualTo(2);
        assertThat(r.timelineHistory()).containsExactly(
                new TimelineHistory.Entry(1, switchAt.value(), "no recovery target specified", null, null));
        assertThat(r.isStandbyConfigured()).isFalse();
        assertThat(r.upstream()).isNull();
        assertThat(r.controlData().clusterState()).isEqualTo("in production");
        assertThat(r.controlData().checkpointTimeline()).isEqualTo(2);
        assertThat(r.promote().poll()).isEqualTo(Outcome.SUCCEEDED);
        assertThat(r.promoteCount()).isEqualTo(2);
    }

    @Test
    void aFormerPrimaryThatTookWritesDoesNotStreamUntilRewound() {
        FakePostgres p = sim.primary("p");
        FakePostgres r = sim.replica("r", p);
        p.write(1_000);
        sim.world.tick();
        p.write(500);                       // never reaches r
        p.crash();
        sim.finish(r.promote());
        r.write(300);

        assertThat(sim.finish(p.follow(member(r)))).isEqualTo(Outcome.SUCCEEDED);
        assertThat(p.status().state()).isEqualTo(PostgresState.RUNNING);
        assertThat(p.streamingStatus()).isEqualTo(StreamingStatus.DIVERGED);
        Lsn stuck = p.walPosition();
        r.write(300);
        sim.advance(Duration.ofSeconds(5));
        assertThat(p.walPosition()).isEqualTo(stuck);
        assertThat(p.timeline()).isEqualTo(1);
        assertThat(p.status().streaming()).isFalse();

        sim.finish(p.stop(StopMode.FAST, true));
        assertThat(p.controlData().clusterState()).isEqualTo("shut down in recovery");
        assertThat(sim.finish(p.rewind(member(r)))).isEqualTo(Outcome.SUCCEEDED);
        assertThat(p.timeline()).isEqualTo(2);
        assertThat(p.walPosition()).isEqualTo(r.walPosition());
        assertThat(p.timelineHistory()).isEqualTo(r.timelineHistory());
        assertThat(p.controlData().clusterState()).isEqualTo("in archive recovery");
        assertThat(p.isStandbyConfigured()).isTrue();

        sim.finish(p.follow(member(r)));
        assertThat(p.streamingStatus()).isEqualTo(StreamingStatus.STREAMING);
        r.write(700);
        sim.world.tick();
        assertThat(p.walPosition()).isEqualTo(r.walPosition());
    }

    @Test
    void rewindRefusesAnUncleanTargetAndASourceThatIsDown() {
        FakePostgres p = sim.primary("p");
        FakePostgres r = sim.replica("r", p);
        p.write(100);
        p.crash();
        sim.finish(r.promote());
        PostgresOperation rewind = p.rewind(member(r));
        assertThat(rewind.poll()).isEqualTo(Outcome.FAILED);
        assertThat(rewind.detail()).contains("must be shut down cleanly");

        sim.finish(p.crashRecovery());
        sim.finish(r.stop(StopMode.IMMEDIATE, false));
        PostgresOperation noSource = p.rewind(member(r));
        assertThat(noSource.poll()).isEqualTo(Outcome.FAILED);
        assertThat(noSource.detail()).contains("could not connect");
    }

    @Test
    void aCleanSwitchoverNeedsNoRewind() {
        FakePostgres p = sim.primary("p");
        FakePostgres r = sim.replica("r", p);
        p.write(4_000);
        sim.world.tick();
        p.write(100);                       // not ticked: the shutdown hands it over

        sim.finish(p.stop(StopMode.FAST, true));
        assertThat(r.walPosition()).isEqualTo(p.walPosition());
        sim.finish(r.promote());
        long switchAt = r.timelineHistory().get(0).switchLsn();
        assertThat(p.controlData().checkpointLocation().value()).isLessThan(switchAt);

        sim.finish(p.follow(member(r)));
        assertThat(p.streamingStatus()).isEqualTo(StreamingStatus.STREAMING);
        sim.world.tick();
        assertThat(p.timeline()).isEqualTo(2);
        assertThat(p.walPosition()).isEqualTo(r.walPosition());
        assertThat(p.count(FakeOperation.Kind.REWIND)).isZero();
    }

    @Test
    void aCrashedPrimaryWithNothingUnreplicatedFollowsButNotAfterSingleUserRecovery() {
        FakePostgres p = sim.primary("p");
        FakePostgres r = sim.replica("r", p);
        FakePostgres q = sim.replica("q", p);
        p.crash();
        q.crash();
        sim.finish(r.promote());

        sim.finish(p.follow(member(r)));
        assertThat(p.streamingStatus()).isEqualTo(StreamingStatus.STREAMING);

        // q is the same situation but runs crash recovery first: its end-of-recovery checkpoint
        // is WAL on timeline 1 past the switch point.
        assertThat(q.controlData().clusterState()).isEqualTo("in archive recovery");
        sim.finish(q.crashRecovery());
        sim.finish(q.follow(member(r)));
        assertThat(q.streamingStatus()).isEqualTo(StreamingStatus.DIVERGED);
    }

    @Test
    void followOfARunningPrimaryRestartsItAsAStandby() {
        FakePostgres p = sim.primary("p");
        FakePostgres r = sim.replica("r", p);
        PostgresOperation follow = p.follow(member(r));
        assertThat(p.status().state()).isEqualTo(PostgresState.RESTARTING);
        assertThat(p.isWritable()).isFalse();
        assertThat(sim.finish(follow)).isEqualTo(Outcome.SUCCEEDED);
        PostgresStatus st = p.status();
        assertThat(st.state()).isEqualTo(PostgresState.RUNNING);
        assertThat(st.inRecovery()).isTrue();
        assertThat(p.upstream()).isEqualTo("r");
        assertThat(p.streamingStatus()).isEqualTo(StreamingStatus.STREAMING);
        assertThat(sim.world.writablePrimaries()).isEmpty();

        PostgresOperation retarget = r.follow(null);
        assertThat(retarget.poll()).isEqualTo(Outcome.SUCCEEDED);
        assertThat(r.streamingStatus()).isEqualTo(StreamingStatus.NO_UPSTREAM);
    }

    @Test
    void cascadingReplicationPropagatesInOneTick() {
        FakePostgres a = sim.primary("a");
        FakePostgres b = sim.replica("b", a);
        FakePostgres c = sim.replica("c", b);
        a.write(9_000);
        sim.world.tick();
        assertThat(c.walPosition()).isEqualTo(a.walPosition());
        assertThat(c.upstream()).isEqualTo("b");
    }

    @Test
    void reasonsNotToStream() {
        FakePostgres a = sim.primary("a");
        FakePostgres other = sim.primary("other");
        FakePostgres r = sim.replica("r", a);
        assertThat(a.streamingStatus()).isEqualTo(StreamingStatus.NOT_A_STANDBY);

        sim.finish(r.follow(member(other)));
        assertThat(r.streamingStatus()).isEqualTo(StreamingStatus.SYSTEM_MISMATCH);
        sim.finish(r.follow(dev.pgha.cluster.Member.named("ghost")));
        assertThat(r.streamingStatus()).isEqualTo(StreamingStatus.UNKNOWN_UPSTREAM);
        sim.finish(r.follow(member(a)));
        sim.finish(a.stop(StopMode.IMMEDIATE, false));
        assertThat(r.streamingStatus()).isEqualTo(StreamingStatus.UPSTREAM_DOWN);
        sim.finish(r.stop(StopMode.FAST, true));
        assertThat(r.streamingStatus()).isEqualTo(StreamingStatus.NOT_RUNNING);
    }

    @Test
    void aReplicaAheadOfItsUpstreamWaits() {
        FakePostgres p = sim.primary("p");
        FakePostgres r1 = sim.replica("r1", p);
        FakePostgres r2 = sim.replica("r2", p);
        r2.pauseReplication(true);
        p.write(1_000);
        sim.world.tick();
        sim.finish(r1.follow(member(r2)));
        assertThat(r1.streamingStatus()).isEqualTo(StreamingStatus.AHEAD_OF_UPSTREAM);
        r2.pauseReplication(false);
        sim.world.tick();
        assertThat(r1.streamingStatus()).isEqualTo(StreamingStatus.STREAMING);
    }

    @Test
    void twoPromotionsToTheSameTimelineNumberAreStillAFork() {
        FakePostgres p = sim.primary("p");
        FakePostgres r1 = sim.replica("r1", p);
        FakePostgres r2 = sim.replica("r2", p);
        p.crash();
        sim.finish(r1.promote());
        sim.finish(r2.promote());
        assertThat(r1.timeline()).isEqualTo(2).isEqualTo(r2.timeline());
        assertThat(sim.world.writablePrimaries()).containsExactly(r1, r2);

        sim.finish(r2.stop(StopMode.FAST, true));
        sim.finish(r2.follow(member(r1)));
        assertThat(r2.streamingStatus()).isEqualTo(StreamingStatus.DIVERGED);
    }
}
