package dev.pgha.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.postgres.ControlData;
import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.Lsn;
import dev.pgha.postgres.PostgresException;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresOperation.Outcome;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;
import dev.pgha.postgres.StopMode;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class FakePostgresLifecycleTest {

    private final Sim sim = new Sim();

    @Test
    void bootstrapEndsAsAWritablePrimaryOnTimelineOne() {
        FakePostgres pg = sim.world.add("n1");
        PostgresStatus before = pg.status();
        assertThat(before.state()).isEqualTo(PostgresState.STOPPED);
        assertThat(before.dataDirectory()).isEqualTo(DataDirectoryState.EMPTY);
        assertThatThrownBy(pg::controlData).isInstanceOf(PostgresException.class);

        PostgresOperation op = pg.bootstrap();
        assertThat(pg.status().state()).isEqualTo(PostgresState.INITIALIZING_NEW_CLUSTER);
        sim.clock.advanceMillis(2_999);
        assertThat(op.poll()).isEqualTo(Outcome.RUNNING);
        assertThat(pg.status().dataDirectory()).isEqualTo(DataDirectoryState.EMPTY);
        sim.clock.advanceMillis(1);
        PostgresStatus starting = pg.status();
        assertThat(starting.state()).isEqualTo(PostgresState.STARTING);
        assertThat(starting.dataDirectory()).isEqualTo(DataDirectoryState.INITIALIZED);
        assertThat(starting.postmasterRunning()).isTrue();
        assertThat(starting.acceptingConnections()).isFalse();
        assertThat(pg.isWritable()).isFalse();
        sim.clock.advanceSeconds(1);
        assertThat(op.poll()).isEqualTo(Outcome.SUCCEEDED);

        PostgresStatus running = pg.status();
        assertThat(running.state()).isEqualTo(PostgresState.RUNNING);
        assertThat(running.isRunningPrimary()).isTrue();
        assertThat(running.timeline()).isEqualTo(1);
        assertThat(running.systemIdentifier()).hasSize(19).containsOnlyDigits();
        assertThat(running.receiveLsn()).isNull();
        assertThat(pg.isWritable()).isTrue();
        assertThat(pg.controlData().clusterState()).isEqualTo("in production");
        assertThat(pg.connectionUrl()).isEqualTo("postgres://127.0.0.1:5432/postgres");
        assertThat(pg.timelineHistory()).isEmpty();

        Lsn at = pg.walPosition();
        assertThat(pg.write(1_000)).isTrue();
        assertThat(pg.status().walPosition()).isEqualTo(at.plus(1_000));
    }

    @Test
    void systemIdentifiersAreDeterministicAndDistinct() {
        String a = new Sim().primary("a").systemIdentifier();
        String again = new Sim().primary("a").systemIdentifier();
        String b = new Sim().primary("b").systemIdentifier();
        assertThat(a).isEqualTo(again).isNotEqualTo(b);
        assertThat(new FakeWorld(new ManualClock(), 42).newSystemIdentifier("a"))
                .isNotEqualTo(new FakeWorld(new ManualClock(), 0).newSystemIdentifier("a"));
    }

    @Test
    void fastStopRefusesWritesAtOnceAndEndsShutDownWithACheckpoint() {
        FakePostgres pg = sim.primary("n1");
        pg.write(500);
        Lsn end = pg.walPosition();

        PostgresOperation stop = pg.stop(StopMode.FAST, true);
        assertThat(pg.isWritable()).isFalse();
        assertThat(pg.write(1)).isFalse();
        PostgresStatus stopping = pg.status();
        assertThat(stopping.state()).isEqualTo(PostgresState.STOPPING);
        assertThat(stopping.postmasterRunning()).isTrue();
        assertThat(stopping.acceptingConnections()).isFalse();

        assertThat(sim.finish(stop)).isEqualTo(Outcome.SUCCEEDED);
        PostgresStatus stopped = pg.status();
        assertThat(stopped.state()).isEqualTo(PostgresState.STOPPED);
        assertThat(stopped.postmasterRunning()).isFalse();
        assertThat(stopped.timeline()).isZero();
        assertThat(stopped.walPosition()).isEqualTo(Lsn.ZERO);
        assertThat(stopped.inRecovery()).isFalse();
        assertThat(stopped.systemIdentifier()).isEqualTo(pg.systemIdentifier());

        ControlData cd = pg.controlData();
        assertThat(cd.clusterState()).isEqualTo("shut down");
        assertThat(cd.isCleanPrimaryShutdown()).isTrue();
        assertThat(cd.needsCrashRecovery()).isFalse();
        assertThat(cd.checkpointLocation()).isEqualTo(end);
        assertThat(cd.checkpointTimeline()).isEqualTo(1);
        assertThat(pg.walPosition()).isEqualTo(end.plus(FakeDataDirectory.CHECKPOINT_RECORD_BYTES));
        assertThat(cd.raw()).containsEntry("Database cluster state", "shut down");
    }

    @Test
    void immediateStopLeavesPgControlInProduction() {
        FakePostgres pg = sim.primary("n1");
        assertThat(sim.finish(pg.stop(StopMode.IMMEDIATE, false))).isEqualTo(Outcome.SUCCEEDED);
        assertThat(pg.controlData().clusterState()).isEqualTo("in production");
        assertThat(pg.controlData().needsCrashRecovery()).isTrue();
    }

    @Test
    void crashIsReportedUntilTheNextActionAndCrashRecoveryLeavesShutDown() {
        FakePostgres pg = sim.primary("n1");
        Lsn end = pg.walPosition();
        assertThat(pg.crash()).isTrue();
        assertThat(pg.isWritable()).isFalse();

        PostgresStatus first = pg.status();
        assertThat(first.state()).isEqualTo(PostgresState.CRASHED);
        assertThat(first.postmasterRunning()).isFalse();
        assertThat(pg.status().state()).isEqualTo(PostgresState.CRASHED);
        assertThat(pg.crash()).isFalse();
        assertThat(pg.controlData().clusterState()).isEqualTo("in production");

        assertThat(sim.finish(pg.crashRecovery())).isEqualTo(Outcome.SUCCEEDED);
        assertThat(pg.controlData().clusterState()).isEqualTo("shut down");
        // archive_mode on in single-user mode: the shutdown switches to the next WAL segment first
        long segment = 16L * 1024 * 1024;
        assertThat(pg.controlData().checkpointLocation().value())
                .isEqualTo((end.value() + segment - 1) / segment * segment);

        assertThat(sim.finish(pg.start())).isEqualTo(Outcome.SUCCEEDED);
        assertThat(pg.isWritable()).isTrue();
    }

    @Test
    void crashDuringStopJustEndsStopped() {
        FakePostgres pg = sim.primary("n1");
        PostgresOperation stop = pg.stop(StopMode.FAST, true);
        pg.crash();
        assertThat(stop.poll()).isEqualTo(Outcome.SUCCEEDED);
        assertThat(pg.status().state()).isEqualTo(PostgresState.STOPPED);
        assertThat(pg.controlData().clusterState()).isEqualTo("in production");
    }

    @Test
    void startOfARunningServerAndReload() {
        FakePostgres pg = sim.primary("n1");
        assertThat(pg.reload()).isTrue();
        PostgresOperation again = pg.start();
        assertThat(again.poll()).isEqualTo(Outcome.SUCCEEDED);
        assertThat(again.detail()).contains("already running");
        sim.finish(pg.stop(StopMode.FAST, true));
        assertThat(pg.reload()).isFalse();
        assertThat(pg.reloadCount()).isEqualTo(2);
        PostgresOperation noop = pg.stop(StopMode.FAST, true);
        assertThat(noop.poll()).isEqualTo(Outcome.SUCCEEDED);
        assertThat(noop.detail()).contains("not signaled");
        assertThat(sim.finish(pg.restart())).isEqualTo(Outcome.SUCCEEDED);
        assertThat(pg.isWritable()).isTrue();
    }

    @Test
    void restartRefusesWritesUntilItIsBack() {
        FakePostgres pg = sim.primary("n1");
        PostgresOperation restart = pg.restart();
        assertThat(pg.status().state()).isEqualTo(PostgresState.RESTARTING);
        assertThat(pg.isWritable()).isFalse();
        sim.clock.advanceMillis(1_999);
        assertThat(restart.poll()).isEqualTo(Outcome.RUNNING);
        assertThat(pg.status().acceptingConnections()).isFalse();
        sim.clock.advanceMillis(1);
        assertThat(restart.poll()).isEqualTo(Outcome.SUCCEEDED);
        assertThat(pg.isWritable()).isTrue();
        assertThat(pg.controlData().checkpointLocation()).isNotEqualTo(Lsn.ZERO);
    }

    @Test
    void illegalTransitionsThrow() {
        assertThatThrownBy(() -> PostgresState.STOPPING.transitionTo(PostgresState.RUNNING))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("STOPPING -> RUNNING");
        assertThatThrownBy(() -> PostgresState.CREATING_REPLICA.transitionTo(PostgresState.RUNNING))
                .isInstanceOf(IllegalStateException.class);
    }

    @Test
    void contractViolationsAreRecordedOrThrownInStrictMode() {
        FakePostgres pg = sim.world.add("n1");
        PostgresOperation promote = pg.promote();
        assertThat(promote.poll()).isEqualTo(Outcome.FAILED);
        assertThat(promote.detail()).contains("not running");
        assertThat(sim.world.violations()).singleElement().asString().startsWith("n1: promote() refused");

        sim.world.strict(true);
        assertThatThrownBy(pg::start).isInstanceOf(IllegalStateException.class).hasMessageContaining("not initialized");
    }

    @Test
    void aSecondOperationWhileOneRunsIsAViolation() {
        FakePostgres pg = sim.primary("n1");
        sim.finish(pg.stop(StopMode.FAST, true));
        pg.hangStart();
        PostgresOperation start = pg.start();
        PostgresOperation stop = pg.stop(StopMode.FAST, true);
        assertThat(stop.poll()).isEqualTo(Outcome.FAILED);
        assertThat(stop.detail()).contains("another operation is running");
        assertThat(start.poll()).isEqualTo(Outcome.RUNNING);
        assertThat(sim.world.violations()).hasSize(1);
        assertThat(pg.runningOperation()).contains((FakeOperation) start);
    }

    @Test
    void removeDataDirectoryNeedsAStoppedServer() {
        FakePostgres pg = sim.primary("n1");
        assertThatThrownBy(pg::removeDataDirectory).isInstanceOf(PostgresException.class);
        assertThat(sim.world.violations()).hasSize(1);
        sim.finish(pg.stop(StopMode.IMMEDIATE, false));
        pg.removeDataDirectory();
        PostgresStatus st = pg.status();
        assertThat(st.dataDirectory()).isEqualTo(DataDirectoryState.EMPTY);
        assertThat(st.systemIdentifier()).isNull();
        assertThat(pg.timeline()).isZero();
        assertThat(sim.finish(pg.bootstrap())).isEqualTo(Outcome.SUCCEEDED);
    }

    @Test
    void inaccessibleDataDirectory() {
        FakePostgres pg = sim.primary("n1");
        sim.finish(pg.stop(StopMode.FAST, true));
        pg.setDataDirectory(DataDirectoryState.INACCESSIBLE, "Permission denied");
        PostgresStatus st = pg.status();
        assertThat(st.dataDirectory()).isEqualTo(DataDirectoryState.INACCESSIBLE);
        assertThat(st.dataDirectoryError()).isEqualTo("Permission denied");
        assertThatThrownBy(pg::controlData).isInstanceOf(PostgresException.class).hasMessageContaining("Permission");
        assertThatThrownBy(pg::start).isInstanceOf(PostgresException.class);
        pg.setDataDirectory(DataDirectoryState.INITIALIZED);
        assertThat(sim.finish(pg.start())).isEqualTo(Outcome.SUCCEEDED);
        assertThat(sim.world.violations()).isEmpty();
    }

    @Test
    void scriptedClusterStateAndControlDataOverride() {
        FakePostgres pg = sim.primary("n1");
        sim.finish(pg.stop(StopMode.FAST, true));
        pg.setClusterState("in crash recovery");
        assertThat(pg.controlData().needsCrashRecovery()).isTrue();
        ControlData odd = new ControlData("shutting down", "1", 1, Lsn.ZERO, Lsn.ZERO, 0, null);
        pg.overrideControlData(odd);
        assertThat(pg.controlData()).isSameAs(odd);
        pg.overrideControlData(null);
        sim.finish(pg.crashRecovery());
        assertThat(pg.controlData().clusterState()).isEqualTo("shut down");
        sim.advance(Duration.ofSeconds(1));
        assertThat(sim.world.violations()).isEmpty();
    }
}
