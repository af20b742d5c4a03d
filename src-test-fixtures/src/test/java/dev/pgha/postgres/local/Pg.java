package dev.pgha.postgres.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pgha.cluster.Member;
import dev.pgha.postgres.PostgresOperation;
import dev.pgha.testing.TempPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/** Helpers shared by the tests against real PostgreSQL. */
final class Pg {

    static final Duration LONG = Duration.ofSeconds(90);

    private Pg() {
    }

    /** Runs {@code op} to completion and asserts it succeeded. */
    static PostgresOperation ok(PostgresOperation op) {
        PostgresOperation.Outcome outcome = TempPostgres.await(op, LONG);
        assertThat(outcome).as("%s: %s", op, op.detail()).isEqualTo(PostgresOperation.Outcome.SUCCEEDED);
        return op;
    }

    /** Runs {@code op} to completion and asserts it failed. */
    static PostgresOperation failed(PostgresOperation op) {
        PostgresOperation.Outcome outcome = TempPostgres.await(op, LONG);
        assertThat(outcome).as("%s: %s", op, op.detail()).isEqualTo(PostgresOperation.Outcome.FAILED);
        return op;
    }

    /** A bootstrapped, running primary with its roles. */
    static LocalPostgres primary(TempPostgres tmp, String name) {
        LocalPostgres pg = LocalPostgres.create(tmp.node(name).build());
        ok(pg.bootstrap());
        ok(pg.postBootstrap());
        return pg;
    }

    /** The member another node sees for {@code pg}. */
    static Member member(LocalPostgres pg, String role) {
        return new Member(pg.config().name(), pg.connectionUrl(), null, "running", role, null, null, null, null, null,
                null, null, false);
    }

    /** A superuser connection (the caller closes it). */
    static Connection connect(LocalPostgres pg) throws SQLException {
        return connect(pg, pg.config().superuser());
    }

    static Connection connect(LocalPostgres pg, Credentials as) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", as.username());
        if (as.hasPassword()) {
            p.setProperty("password", as.password());
        }
        p.setProperty("connectTimeout", "5");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.config().port() + "/postgres", p);
    }

    static void execute(LocalPostgres pg, String sql) throws SQLException {
        try (Connection c = connect(pg); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** The first column of every row. */
    static List<String> query(LocalPostgres pg, String sql) throws SQLException {
        try (Connection c = connect(pg); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            List<String> out = new ArrayList<>();
            while (rs.next()) {
                out.add(rs.getString(1));
            }
            return out;
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Everything in a directory tree's text files, for "no password leaked" checks. */
    static String allText(Path dir) throws IOException {
        StringBuilder sb = new StringBuilder();
        try (var files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                if (!f.getFileName().toString().equals("pgpass") && Files.size(f) < 4_000_000) {
                    sb.append(new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1)).append('\n');
                }
            }
        }
        return sb.toString();
    }

    /** The command line of a process, as /proc shows it. */
    static String commandLine(long pid) {
        try {
            return new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")),
                    StandardCharsets.UTF_8).replace('\0', ' ');
        } catch (IOException e) {
            return "";
        }
    }

    static long pid(LocalPostgres pg) {
        return pg.postmasterPid().orElseThrow(() -> new AssertionError("no postmaster for " + pg));
    }

    /** SIGKILLs the postmaster and waits until that process is gone. */
    static void killMinus9(LocalPostgres pg) {
        ProcessHandle pm = ProcessHandle.of(pid(pg)).orElseThrow();
        pm.destroyForcibly();
        TempPostgres.until("postmaster " + pm.pid() + " gone", Duration.ofSeconds(10), () -> !pm.isAlive());
    }
}
