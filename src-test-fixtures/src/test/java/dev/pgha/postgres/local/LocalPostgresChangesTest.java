package dev.pgha.postgres.local;

import static dev.pgha.postgres.PostgresState.CRASHED;
import static dev.pgha.postgres.PostgresState.RUNNING;
import static dev.pgha.postgres.PostgresState.STOPPED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.StopMode;
import dev.pgha.testing.TempPostgres;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link LocalPostgres#changed()} on a real PostgreSQL 15 server: the quick look a host takes
 * between cycles reports a SIGKILLed postmaster, and advances a long action to its end and reports
 * that, without anyone polling the operation.
 */
class LocalPostgresChangesTest {

    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private TempPostgres tmp;

    @BeforeEach
    void setUp() {
        tmp = TempPostgres.create();
    }

    @AfterEach
    void tearDown() {
        tmp.close();
    }

    @Test
    void reportsAKilledPostmasterAndNothingWhileNothingChanges() {
        LocalPostgres pg = Pg.primary(tmp, "node1");
        assertThat(pg.changed()).as("the first look takes the baseline").isFalse();
        assertThat(pg.changed()).as("a running server that does nothing has not changed").isFalse();
        assertThat(pg.changed()).isFalse();

        long pid = Pg.pid(pg);
        ProcessHandle.of(pid).orElseThrow().destroyForcibly();   // SIGKILL, not waiting for it

        TempPostgres.until("changed() reports the killed postmaster", DEADLINE, pg::changed);
        assertThat(pg.postmasterPid()).isEmpty();
        assertThat(pg.status().state()).isEqualTo(CRASHED);
        assertThat(pg.changed()).as("reported once").isFalse();
    }

    @Test
    void advancesAStartToItsEndAndReportsIt() throws Exception {
        LocalPostgres pg = Pg.primary(tmp, "node1");
        Pg.ok(pg.stop(StopMode.FAST, false));
        assertThat(pg.changed()).isFalse();

        PostgresOperation start = pg.start();   // never polled by this test
        AtomicBoolean reportedWhenRunning = new AtomicBoolean();
        TempPostgres.until("the start ends through changed() alone", DEADLINE, () -> {
            boolean changed = pg.changed();
            List<PostgresState> states = pg.stateHistory();
            if (states.get(states.size() - 1) == RUNNING) {
                reportedWhenRunning.set(changed);
                return true;
            }
            return false;
        });
        assertThat(reportedWhenRunning).as("the call that saw the start end says so").isTrue();
        assertThat(Pg.query(pg, "SELECT 1")).containsExactly("1");
        assertThat(start.detail()).contains("accepting connections");

        PostgresOperation stop = pg.stop(StopMode.FAST, false);
        TempPostgres.until("the stop ends through changed() alone", DEADLINE, () -> {
            pg.changed();
            List<PostgresState> states = pg.stateHistory();
            return states.get(states.size() - 1) == STOPPED;
        });
        assertThat(stop.detail()).contains("postmaster exited");
        assertThat(pg.postmasterPid()).isEmpty();
    }
}
