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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * The agent's {@code switchover} and {@code failover} commands, like patronictl's: the request is
 * checked as the members would check it ({@link ClusterAdmin}) and written to the
 * {@code failover} key; then the command waits (at most {@code 2 * ttl}) until the leader has
 * acted on it and says how it ended: done once the new leader holds the key and either its
 * PostgreSQL accepts writes or it publishes itself as a running primary (promotion finished).
 * Once the request is written it opens a session to each member that may take over (the candidate,
 * or every replica: at its {@code conn_url} with this member's superuser credentials; a session
 * survives the promotion) and asks {@code pg_is_in_recovery()} every {@value #POLL_MILLIS} ms, so
 * it returns within some tens of milliseconds of the promotion; the DCS is read every
 * {@value #DCS_POLL_MILLIS} ms, and at once when a session says its server left recovery. A request the leader declines (the candidate stopped
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

    /** How often the command asks the possible new primaries whether they left recovery. */
    static final long POLL_MILLIS = 20;
    /** How often it reads the DCS meanwhile (for an outcome without a session: declined, published). */
    static final long DCS_POLL_MILLIS = 200;

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
        Path file = Path.of(args[1]);
        AgentSettings settings = Agent.commandSettings(file, action, err);
        if (settings == null) {
            return 2;
        }
        try (DcsClient dcs = Agent.dcs(settings)) {
            ClusterAdmin admin = ClusterAdmin.of(settings.ha(), dcs);
            ClusterView view = dcs.readCluster();
            String before = view.leaderName().orElse(null);
            ActionResult r = switchover ? admin.switchover(leader, candidate, scheduled) : admin.failover(candidate);
            if (!r.accepted()) {
                err.println(r.message());
                return 1;
            }
            out.println(r.message());
            if (scheduled != null) {
                return 0;
            }
            // opened while the leader demotes (the request is written first, so that nothing
            // delays it); the member that leaves recovery says so on its session
            try (Sessions sessions = Sessions.open(view, before, candidate,
                    superuser(file, settings.postgres().superuser()))) {
                return awaitOutcome(dcs, settings.scope(), action, before, candidate,
                        settings.ha().bootstrapDcs().ttl().multipliedBy(2), sessions, out, err);
            }
        } catch (DcsException e) {
            err.println("cannot reach etcd " + settings.etcdHosts() + ": " + e.getMessage());
            return 1;
        }
    }

    private static int awaitOutcome(DcsClient dcs, String scope, String action, String before, String candidate,
                                    Duration bound, Sessions sessions, PrintStream out, PrintStream err) {
        long deadline = System.nanoTime() + bound.toNanos();
        long nextRead = System.nanoTime();
        while (System.nanoTime() - deadline < 0) {
            String promoted = sessions.outOfRecovery();
            if (promoted != null || System.nanoTime() - nextRead >= 0) {
                nextRead = System.nanoTime() + DCS_POLL_MILLIS * 1_000_000;
                ClusterView view = dcs.readCluster();
                Optional<String> now = view.leaderName();
                boolean done = now.isPresent() && !now.get().equals(before)
                        && (candidate == null || now.get().equals(candidate))
                        && (now.get().equals(promoted) || view.failover() == null && view.member(now.get())
                                .filter(m -> m.isPrimaryRole() && m.isRunning()).isPresent());
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
            }
            pause();
        }
        err.println(action + " did not complete within " + bound.toSeconds() + " s");
        return 1;
    }

    /**
     * Sessions to the members that may become the new primary (the candidate, or every other
     * member), each asked {@code pg_is_in_recovery()}; a member whose session cannot be opened
     * (other credentials, unreachable) is left to its member key.
     */
    static final class Sessions implements AutoCloseable {
        private final Map<String, Connection> byMember = new LinkedHashMap<>();

        static Sessions open(ClusterView view, String leader, String candidate, Credentials superuser) {
            Sessions s = new Sessions();
            for (Member m : view.members()) {
                if (!m.name().equals(leader) && (candidate == null || m.name().equals(candidate))) {
                    Connection c = connect(m, superuser);
                    if (c != null) {
                        s.byMember.put(m.name(), c);
                    }
                }
            }
            return s;
        }

        /** A member whose session says it is out of recovery, or null; a session that fails is dropped. */
        String outOfRecovery() {
            for (var it = byMember.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, Connection> e = it.next();
                Boolean recovery = inRecovery(e.getValue());
                if (recovery == null) {
                    close(e.getValue());   // restarted or unreachable: its member key decides
                    it.remove();
                } else if (!recovery) {
                    return e.getKey();
                }
            }
            return null;
        }

        /** The members with a session. */
        Set<String> members() {
            return byMember.keySet();
        }

        /** {@code pg_is_in_recovery()} on {@code c}, null when it cannot be asked. */
        static Boolean inRecovery(Connection c) {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_is_in_recovery()")) {
                return rs.next() ? rs.getBoolean(1) : null;
            } catch (SQLException e) {
                return null;
            }
        }

        private static void close(Connection c) {
            try {
                c.close();
            } catch (SQLException e) {
                // closing anyway
            }
        }

        @Override
        public void close() {
            byMember.values().forEach(Sessions::close);
        }
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

    /** A session to {@code m}'s PostgreSQL at its {@code conn_url} as the superuser; null when it cannot be opened. */
    static Connection connect(Member m, Credentials superuser) {
        if (m.connUrl() == null) {
            return null;
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
            p.setProperty("ApplicationName", "pgha switchover");
            String host = url.getHost();
            String db = url.getPath() == null || url.getPath().length() <= 1 ? "/postgres" : url.getPath();
            return DriverManager.getConnection("jdbc:postgresql://" + host + ":" + url.getPort() + db, p);
        } catch (SQLException | IllegalArgumentException e) {
            return null;
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
