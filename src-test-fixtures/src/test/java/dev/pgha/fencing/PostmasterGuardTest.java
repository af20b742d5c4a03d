package dev.pgha.fencing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.local.LocalPostgres;
import dev.pgha.testing.TempPostgres;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link PostmasterGuard} against a real PostgreSQL: the guard process fences the postmaster when
 * the deadline passes unrenewed, when its feeder goes away, and when its feeder is frozen
 * (SIGSTOP); it leaves a re-armed or disarmed server alone.
 */
class PostmasterGuardTest {

    private static final Duration MARGIN = Duration.ofMillis(500);
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static TempPostgres tmp;
    private static LocalPostgres pg;

    private final List<PostmasterGuard> guards = new ArrayList<>();
    private final List<Process> feeders = new ArrayList<>();
    private long postmaster;

    @BeforeAll
    static void primary() {
        tmp = TempPostgres.create();
        pg = LocalPostgres.create(tmp.node("fenced").build());
        ok(pg.bootstrap());
        ok(pg.postBootstrap());
    }

    @AfterAll
    static void cleanUp() {
        if (tmp != null) {
            tmp.close();
        }
    }

    @BeforeEach
    void running() {
        if (pg.postmasterPid().isEmpty() || !alive(pg.postmasterPid().getAsLong())) {
            ok(pg.start());
        }
        postmaster = pg.postmasterPid().orElseThrow();
    }

    @AfterEach
    void stopFeedersAndGuards() throws Exception {
        for (Process feeder : feeders) {
            signal("CONT", feeder.pid());
            feeder.destroyForcibly();
            feeder.waitFor();
        }
        for (PostmasterGuard guard : guards) {
            guard.close();
            guard.process().ifPresent(h -> TempPostgres.until("guard process " + h.pid() + " exits", WAIT,
                    () -> !h.isAlive()));
        }
    }

    @Test
    void fencesBeforeAnUnrenewedDeadline() {
        PostmasterGuard guard = guard();
        Instant deadline = Instant.now().plusMillis(1500);
        guard.arm(deadline);
        ProcessHandle process = guard.process().orElseThrow();

        TempPostgres.until("postmaster stopped", WAIT, () -> !alive(postmaster));

        assertThat(Instant.now()).as("stopped before the deadline").isBefore(deadline);
        TempPostgres.until("guard exits after fencing", WAIT, () -> !process.isAlive());
        assertThat(guard.hasFenced()).isTrue();
    }

    @Test
    void leavesAContinuouslyRearmedServerAlone() {
        PostmasterGuard guard = guard();
        Instant end = Instant.now().plusSeconds(3);
        // re-arm like a leader's cycles, one second ahead, until three seconds have passed
        TempPostgres.until("three seconds of re-arming", WAIT, () -> {
            guard.arm(Instant.now().plusMillis(1000));
            return Instant.now().isAfter(end);
        });
        assertThat(alive(postmaster)).isTrue();

        ProcessHandle process = guard.process().orElseThrow();
        guard.close();
        TempPostgres.until("guard exits once disarmed and closed", WAIT, () -> !process.isAlive());
        assertThat(guard.hasFenced()).isFalse();
        assertThat(alive(postmaster)).isTrue();
    }

    @Test
    void leavesADisarmedServerAlone() {
        PostmasterGuard guard = guard();
        Instant deadline = Instant.now().plusMillis(800);
        guard.arm(deadline);
        guard.disarm();
        ProcessHandle process = guard.process().orElseThrow();
        Instant later = deadline.plusMillis(700);
        TempPostgres.until("well past the old deadline", WAIT, () -> Instant.now().isAfter(later));

        assertThat(alive(postmaster)).isTrue();
        assertThat(process.isAlive()).as("a disarmed guard waits for its feeder").isTrue();
        guard.close();
        TempPostgres.until("guard exits", WAIT, () -> !process.isAlive());
        assertThat(alive(postmaster)).isTrue();
    }

    @Test
    void fencesAtOnceWhenTheFeederGoesAwayWhileArmed() {
        PostmasterGuard guard = guard();
        guard.arm(Instant.now().plusSeconds(60));
        Instant abandoned = Instant.now();

        guard.abandon(); // the pipe closes, as when the host JVM dies

        TempPostgres.until("postmaster stopped", WAIT, () -> !alive(postmaster));
        assertThat(Duration.between(abandoned, Instant.now())).isLessThan(Duration.ofSeconds(5));
    }

    @Test
    void fencesWhenTheFeederJvmIsKilled() throws Exception {
        Process feeder = feeder(60_000);
        long guardPid = guardPidOf(feeder);
        Instant killed = Instant.now();

        feeder.destroyForcibly(); // SIGKILL: the guard's input ends

        TempPostgres.until("postmaster stopped", WAIT, () -> !alive(postmaster));
        assertThat(Duration.between(killed, Instant.now())).isLessThan(Duration.ofSeconds(5));
        TempPostgres.until("guard exits", WAIT, () -> !alive(guardPid));
    }

    @Test
    void fencesAtTheDeadlineWhenTheFeederIsFrozen() throws Exception {
        long ttl = 2000;
        Process feeder = feeder(ttl);
        long guardPid = guardPidOf(feeder);
        Instant oneTtlAhead = Instant.now().plusMillis(ttl);
        // it feeds: a second later the server still runs and takes writes
        Instant second = Instant.now().plusSeconds(1);
        TempPostgres.until("a second of feeding", WAIT, () -> Instant.now().isAfter(second));
        assertThat(alive(postmaster)).isTrue();
        try (Connection c = connect(); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE IF NOT EXISTS fenced (i int)");
            st.execute("INSERT INTO fenced VALUES (1)");
        }
        Connection session = connect();

        Instant frozen = Instant.now();
        signal("STOP", feeder.pid());
        // the last deadline the frozen feeder sent is at most one ttl after the freeze
        Instant lastDeadline = frozen.plusMillis(ttl);

        TempPostgres.until("postmaster stopped", WAIT, () -> !alive(postmaster));
        Instant stopped = Instant.now();
        assertThat(stopped).as("fenced before the last deadline").isBefore(lastDeadline);
        // an open session's writes are refused, and nobody can connect
        try (session; Statement st = session.createStatement()) {
            assertThatThrownBy(() -> st.execute("INSERT INTO fenced VALUES (2)")).isInstanceOf(SQLException.class);
        }
        assertThatThrownBy(PostmasterGuardTest::connect).isInstanceOf(SQLException.class);
        assertThat(stopped).as("not before the margin").isAfter(frozen.plusMillis(ttl - 2 * MARGIN.toMillis() - 200));
        assertThat(oneTtlAhead).isBefore(stopped);
        TempPostgres.until("guard exits after fencing", WAIT, () -> !alive(guardPid));
    }

    @Test
    void aDeadlineAlreadyPastFencesAtOnce() {
        PostmasterGuard guard = guard();
        guard.arm(Instant.now().minusMillis(1));
        TempPostgres.until("postmaster stopped", Duration.ofSeconds(3), () -> !alive(postmaster));
    }

    @Test
    void fencesWithAFenceCommandAsTheServersOsUser() throws Exception {
        String pgCtl = Path.of(output("pg_config", "--bindir").strip(), "pg_ctl").toString();
        PostmasterGuard guard = PostmasterGuard.builder().dataDirectory(pg.config().dataDir()).margin(MARGIN)
                .fenceCommand(List.of(pgCtl, "stop", "-m", "immediate", "-D", pg.config().dataDir().toString()))
                .osUser(TempPostgres.runAs()).mode(PostmasterGuard.Mode.REQUIRED).build();
        guards.add(guard);
        Instant deadline = Instant.now().plusMillis(1500);
        guard.arm(deadline);

        TempPostgres.until("postmaster stopped", WAIT, () -> !alive(postmaster));
        assertThat(Instant.now()).isBefore(deadline);
        TempPostgres.until("guard exits", WAIT, () -> guard.process().isEmpty());
        assertThat(guard.hasFenced()).isTrue();
    }

    @Test
    void aFailingFenceCommandFallsBackToSignals() {
        PostmasterGuard guard = PostmasterGuard.builder().dataDirectory(pg.config().dataDir()).margin(MARGIN)
                .fenceCommand(List.of("false")).mode(PostmasterGuard.Mode.REQUIRED).build();
        guards.add(guard);
        guard.arm(Instant.now().minusMillis(1));

        TempPostgres.until("postmaster stopped", WAIT, () -> !alive(postmaster));
        TempPostgres.until("guard exits", WAIT, () -> guard.process().isEmpty());
        assertThat(guard.hasFenced()).isTrue();
    }

    @Test
    void aStalePidFileNamingAStrangerKillsNobody() throws Exception {
        Process stranger = new ProcessBuilder("sleep", "60").start();
        try {
            Path dir = Files.createDirectories(tmp.base().resolve("stale"));
            Files.writeString(dir.resolve("postmaster.pid"), stranger.pid() + "\n/somewhere\n");
            PostmasterGuard guard = PostmasterGuard.builder().dataDirectory(dir).mode(PostmasterGuard.Mode.REQUIRED)
                    .build();
            guards.add(guard);
            guard.arm(Instant.now().minusMillis(1));
            TempPostgres.until("guard exits", WAIT, () -> guard.process().isEmpty());

            assertThat(guard.hasFenced()).isTrue();
            assertThat(stranger.isAlive()).isTrue();
            assertThat(alive(postmaster)).isTrue();
        } finally {
            stranger.destroyForcibly().waitFor();
        }
    }

    // ---------------------------------------------------------------- helpers

    private static Connection connect() throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "postgres");
        p.setProperty("password", TempPostgres.SUPERUSER_PASSWORD);
        p.setProperty("connectTimeout", "5");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.config().port() + "/postgres", p);
    }

    private static String output(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).as("%s", List.of(command)).isZero();
        return out;
    }

    private PostmasterGuard guard() {
        PostmasterGuard guard = PostmasterGuard.builder().dataDirectory(pg.config().dataDir()).margin(MARGIN)
                .mode(PostmasterGuard.Mode.REQUIRED).build();
        guards.add(guard);
        assertThat(guard.activate()).isTrue();
        return guard;
    }

    private Process feeder(long ttlMillis) throws IOException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process p = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                GuardFeeder.class.getName(), pg.config().dataDir().resolve("postmaster.pid").toString(),
                Long.toString(MARGIN.toMillis()), Long.toString(ttlMillis))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        feeders.add(p);
        return p;
    }

    private static long guardPidOf(Process feeder) throws IOException {
        BufferedReader out = new BufferedReader(new InputStreamReader(feeder.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        assertThat(line).as("feeder output").startsWith("guard ");
        return Long.parseLong(line.substring("guard ".length()).trim());
    }

    private static void signal(String signal, long pid) throws IOException, InterruptedException {
        new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor();
    }

    /** A live process (not a zombie) with this pid. */
    static boolean alive(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return stat.charAt(stat.lastIndexOf(')') + 2) != 'Z';
        } catch (IOException e) {
            return false;
        }
    }

    private static void ok(PostgresOperation op) {
        assertThat(TempPostgres.await(op, Duration.ofSeconds(90))).as("%s: %s", op, op.detail())
                .isEqualTo(PostgresOperation.Outcome.SUCCEEDED);
    }
}
