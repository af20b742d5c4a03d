package dev.pgha.examples;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.IntSupplier;

/**
 * A client that asks every server of a cluster, over and over, whether it accepts a write — the
 * observer behind "never two writable primaries". One thread per server keeps a connection and
 * runs {@code SELECT txid_current()}, which only a server accepting writes can answer (a standby
 * refuses to assign a transaction id), every {@code interval}; a failed query or connection
 * counts as "refuses writes" and the connection is opened again for the next sample.
 *
 * <p>Each server's samples form runs of consecutive "accepts writes" answers. Two runs of
 * different servers that overlap in time prove that both accepted writes at once:
 * {@link #overlaps()} lists them. Sample times are {@link System#nanoTime()} when the answer
 * arrived.
 */
public final class WriteSampler implements AutoCloseable {

    /** One answer: which server, when (nanoTime), and whether it accepted the write. */
    public record Sample(String server, long nanos, boolean writable) { }

    /** A stretch of consecutive "accepts writes" answers of one server, from the first to the last. */
    public record Run(String server, long fromNanos, long toNanos) {
        boolean overlaps(Run o) {
            return !server.equals(o.server) && fromNanos <= o.toNanos && o.fromNanos <= toNanos;
        }
    }

    private final Map<String, IntSupplier> ports;
    private final String user;
    private final String password;
    private final long intervalMillis;
    private final List<Sample> samples = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean stopped;

    /**
     * @param ports          each server's name and its port on 127.0.0.1 (asked again on every reconnect)
     * @param user           a role allowed to connect to database {@code postgres}
     * @param password       its password, or null
     * @param intervalMillis pause between two samples of one server
     */
    public WriteSampler(Map<String, IntSupplier> ports, String user, String password, long intervalMillis) {
        this.ports = new TreeMap<>(ports);
        this.user = Objects.requireNonNull(user, "user");
        this.password = password;
        this.intervalMillis = intervalMillis;
    }

    /** Starts sampling every server. */
    public synchronized WriteSampler start() {
        for (String server : ports.keySet()) {
            Thread t = new Thread(() -> sample(server), "pgha-sampler-" + server);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        return this;
    }

    private void sample(String server) {
        Connection c = null;
        while (!stopped) {
            boolean writable;
            try {
                if (c == null) {
                    c = connect(ports.get(server).getAsInt());
                }
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT txid_current()")) {
                    writable = rs.next();
                }
            } catch (SQLException e) {
                writable = false;
                close(c);
                c = null;
            }
            record(new Sample(server, System.nanoTime(), writable));
            try {
                Thread.sleep(intervalMillis);   // the sampling rate, not a synchronisation
            } catch (InterruptedException e) {
                break;
            }
        }
        close(c);
    }

    private Connection connect(int port) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        p.setProperty("connectTimeout", "1");
        p.setProperty("loginTimeout", "2");
        p.setProperty("socketTimeout", "2");
        p.setProperty("ApplicationName", "pgha-write-sampler");
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/postgres", p);
    }

    private static void close(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // already broken
            }
        }
    }

    /** Records an answer (the sampling threads do; tests may too). */
    void record(Sample sample) {
        samples.add(sample);
    }

    /** Every sample so far, in the order they arrived. */
    public List<Sample> samples() {
        return List.copyOf(samples);
    }

    /** How many samples of {@code server} there are so far. */
    public long count(String server) {
        return samples.stream().filter(s -> s.server().equals(server)).count();
    }

    /** The runs of "accepts writes" answers, per server, in time order. */
    public List<Run> runs() {
        Map<String, List<Sample>> byServer = new TreeMap<>();
        for (Sample s : samples) {
            byServer.computeIfAbsent(s.server(), k -> new ArrayList<>()).add(s);
        }
        List<Run> runs = new ArrayList<>();
        byServer.forEach((server, list) -> {
            Long from = null;
            long to = 0;
            for (Sample s : list) {
                if (s.writable()) {
                    from = from == null ? s.nanos() : from;
                    to = s.nanos();
                } else if (from != null) {
                    runs.add(new Run(server, from, to));
                    from = null;
                }
            }
            if (from != null) {
                runs.add(new Run(server, from, to));
            }
        });
        return runs;
    }

    /** Pairs of runs of different servers that overlap: moments when two servers accepted writes. */
    public List<String> overlaps() {
        List<Run> runs = runs();
        List<String> out = new ArrayList<>();
        for (int i = 0; i < runs.size(); i++) {
            for (int j = i + 1; j < runs.size(); j++) {
                if (runs.get(i).overlaps(runs.get(j))) {
                    out.add(runs.get(i) + " overlaps " + runs.get(j));
                }
            }
        }
        return out;
    }

    /** When {@code server} first accepted a write at or after {@code sinceNanos}, or null. */
    public Long firstWritable(String server, long sinceNanos) {
        return first(server, sinceNanos, true);
    }

    /** When {@code server} first refused a write at or after {@code sinceNanos}, or null. */
    public Long firstRefused(String server, long sinceNanos) {
        return first(server, sinceNanos, false);
    }

    private Long first(String server, long sinceNanos, boolean writable) {
        for (Sample s : samples) {
            if (s.server().equals(server) && s.nanos() - sinceNanos >= 0 && s.writable() == writable) {
                return s.nanos();
            }
        }
        return null;
    }

    /** The last time {@code server} accepted a write, or null if it never did. */
    public Long lastWritable(String server) {
        Long last = null;
        for (Sample s : samples) {
            if (s.server().equals(server) && s.writable()) {
                last = s.nanos();
            }
        }
        return last;
    }

    /** Stops the sampling threads and closes their connections. */
    @Override
    public void close() {
        stopped = true;
        for (Thread t : threads) {
            t.interrupt();
        }
        for (Thread t : threads) {
            try {
                t.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
