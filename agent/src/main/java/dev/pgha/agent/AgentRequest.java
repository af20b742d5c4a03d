package dev.pgha.agent;

import dev.pgha.ActionResult;
import dev.pgha.ClusterAdmin;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Member;
import dev.pgha.dcs.DcsClient;
import dev.pgha.dcs.DcsException;
import dev.pgha.postgres.local.Credentials;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.Properties;

/**
 * The agent's {@code switchover} and {@code failover} commands, like patronictl's: the request is
 * checked as the members would check it ({@link ClusterAdmin}) and written to the
 * {@code failover} key; then the command waits (at most {@code 2 * ttl}) until the leader has
 * acted on it and says how it ended: done once the new leader holds the key and either its
 * PostgreSQL accepts writes (asked directly at its {@code conn_url} with this member's superuser
 * credentials: {@code pg_is_in_recovery()} is false) or it publishes itself as a running primary
 * (promotion finished). The DCS and the new leader are asked every {@value #POLL_MILLIS} ms. A request the leader declines (the candidate stopped
 * streaming or fell behind meanwhile) ends with the leader unchanged and exit status 1; the leader
 * logs why. A scheduled switchover is only written.
 *
 * <pre>
 * Agent switchover node1.properties [--leader node1] [--candidate node2] [--scheduled 2026-11-21T20:00:00Z]
 * Agent failover node1.properties --candidate node2
 * </pre>
 */
public final class AgentRequest {

    public static final String USAGE_SWITCHOVER = "pgha switchover <patroni.yml> [--leader <member>] "
            + "[--candidate <member>] [--scheduled <ISO time>]";
    public static final String USAGE_FAILOVER = "pgha failover <patroni.yml> --candidate <member>";

    /** How often the command looks whether the request was carried out. */
    static final long POLL_MILLIS = 50;

    private AgentRequest() {
    }

    /** Runs {@code args} ({@code switchover|failover <file> [options]}); exit status 0, 1 (not done) or 2 (usage). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        String action = args[0];
        String leader = null;
        String candidate = null;
        Instant scheduled = null;
        for (int i = 2; i < args.length; i += 2) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            if (value == null) {
                return usage(err, "missing value after " + args[i]);
            }
            switch (args[i]) {
                case "--leader" -> leader = value;
                case "--candidate" -> candidate = value;
                case "--scheduled" -> {
                    try {
                        scheduled = OffsetDateTime.parse(value).toInstant();
                    } catch (DateTimeParseException e) {
                        return usage(err, "--scheduled needs an ISO time with offset, e.g. 2026-11-21T20:00:00Z");
                    }
                }
                default -> {
                    return usage(err, "unknown option " + args[i]);
                }
            }
        }
        boolean switchover = action.equals("switchover");
        if (!switchover && (candidate == null || leader != null || scheduled != null)) {
            return usage(err, "failover takes only --candidate, and needs it");
        }
        AgentSettings settings;
        Path file = Path.of(args[1]);
        try {
            settings = AgentSettings.load(file, false);
        } catch (IllegalArgumentException e) {
            err.println(file + ": " + e.getMessage());
            return 2;
        }
        if (!settings.dcsType().equals("etcd")) {
            err.println(action + " needs a shared DCS: the in-memory DCS lives inside one agent (dcs.type=etcd)");
            return 2;
        }
        try (DcsClient dcs = Agent.dcs(settings)) {
            ClusterAdmin admin = ClusterAdmin.of(settings.ha(), dcs);
            String before = dcs.readCluster().leaderName().orElse(null);
            ActionResult r = switchover ? admin.switchover(leader, candidate, scheduled) : admin.failover(candidate);
            if (!r.accepted()) {
                err.println(r.message());
                return 1;
            }
            out.println(r.message());
            if (scheduled != null) {
                return 0;
            }
            return awaitOutcome(dcs, settings.scope(), action, before, candidate, settings.ha().bootstrapDcs().ttl().multipliedBy(2),
                    superuser(file, settings.postgres().superuser()), out, err);
        } catch (DcsException e) {
            err.println("cannot reach etcd " + settings.etcdHosts() + ": " + e.getMessage());
            return 1;
        }
    }

    private static int awaitOutcome(DcsClient dcs, String scope, String action, String before, String candidate, Duration bound,
                                    Credentials superuser, PrintStream out, PrintStream err) {
        long deadline = System.nanoTime() + bound.toNanos();
        while (System.nanoTime() - deadline < 0) {
            ClusterView view = dcs.readCluster();
            Optional<String> now = view.leaderName();
            boolean done = view.failover() == null && now.isPresent() && !now.get().equals(before)
                    && (candidate == null || now.get().equals(candidate))
                    && view.member(now.get()).filter(m -> m.isPrimaryRole() && m.isRunning()
                            || acceptsWrites(m, superuser)).isPresent();
            if (done) {
                out.println("Successfully " + (action.equals("switchover") ? "switched over" : "failed over")
                        + " to \"" + now.get() + "\"");
                out.print(ClusterTable.render(view, scope, List.of()));
                return 0;
            }
            if (view.failover() == null && now.isPresent() && now.get().equals(before)) {
                err.println(action + " did not happen: " + before + " kept the leader key (its log says why)");
                return 1;
            }
            pause();
        }
        err.println(action + " did not complete within " + bound.toSeconds() + " s");
        return 1;
    }

    /**
     * The superuser with the password of the settings (inline in a YAML file or the environment,
     * {@code ...superuser.password_file} or {@code _env}), read apart from the other PostgreSQL
     * secrets, which this command does not need; without a readable password, {@code user} as it is.
     */
    static Credentials superuser(Path file, Credentials user) {
        String password = AgentSettings.superuserPassword(file, System.getenv());
        return password == null || password.isEmpty() ? user : Credentials.of(user.username(), password);
    }

    /**
     * Whether {@code m}'s PostgreSQL, at its {@code conn_url}, is out of recovery; false when it
     * cannot be asked (other credentials, unreachable): the member key then decides.
     */
    static boolean acceptsWrites(Member m, Credentials superuser) {
        if (m.connUrl() == null) {
            return false;
        }
        try {
            URI url = URI.create(m.connUrl());
            Properties p = new Properties();
            p.setProperty("user", superuser.username());
            if (superuser.hasPassword()) {
                p.setProperty("password", superuser.password());
            }
            p.setProperty("connectTimeout", "1");
            p.setProperty("socketTimeout", "2");
            String host = url.getHost();
            String db = url.getPath() == null || url.getPath().length() <= 1 ? "/postgres" : url.getPath();
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + host + ":" + url.getPort() + db, p);
                 Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                return rs.next() && !rs.getBoolean(1);
            }
        } catch (SQLException | IllegalArgumentException e) {
            return false;
        }
    }

    private static void pause() {
        try {
            Thread.sleep(POLL_MILLIS);   // polling the DCS and the new leader, as patronictl polls
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static int usage(PrintStream err, String problem) {
        err.println(problem);
        err.println("usage: " + USAGE_SWITCHOVER);
        err.println("       " + USAGE_FAILOVER);
        return 2;
    }
}
