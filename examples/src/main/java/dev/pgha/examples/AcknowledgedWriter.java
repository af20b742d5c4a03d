package dev.pgha.examples;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

/**
 * A client that inserts unique increasing integers through one multi-host connection string
 * ({@code targetServerType=primary}: whichever server accepts writes) and records every commit the
 * server acknowledged, with how long it took. When a statement fails it reconnects and goes on
 * with the next integer: a value whose commit was not acknowledged may or may not be on the
 * server, an acknowledged one must be. Runs on its own thread until {@link #close()}.
 */
public final class AcknowledgedWriter implements AutoCloseable {

    private final String url;
    private final Properties props = new Properties();
    private final String table;
    private final Thread thread;
    private final List<Long> acknowledged = new ArrayList<>();
    private final List<Long> latenciesNanos = new ArrayList<>();
    private volatile boolean stop;
    private volatile String lastError;

    /**
     * @param ports    the servers' ports on 127.0.0.1
     * @param user     a user allowed to insert
     * @param password its password
     * @param table    a table with one {@code bigint} column {@code v} (created by the caller)
     */
    public AcknowledgedWriter(List<Integer> ports, String user, String password, String table) {
        this.url = "jdbc:postgresql://" + ports.stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(","))
                + "/postgres?targetServerType=primary";
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "2");
        props.setProperty("socketTimeout", "30");
        this.table = table;
        this.thread = new Thread(this::run, "acknowledged-writer");
        thread.setDaemon(true);
    }

    /** Starts writing. */
    public AcknowledgedWriter start() {
        thread.start();
        return this;
    }

    private void run() {
        long next = 1;
        Connection c = null;
        PreparedStatement insert = null;
        while (!stop) {
            try {
                if (c == null) {
                    c = DriverManager.getConnection(url, props);
                    insert = c.prepareStatement("INSERT INTO " + table + " (v) VALUES (?)");
                }
                long value = next++;
                insert.setLong(1, value);
                long t0 = System.nanoTime();
                insert.executeUpdate(); // autocommit: returns once the commit is acknowledged
                long took = System.nanoTime() - t0;
                synchronized (this) {
                    acknowledged.add(value);
                    latenciesNanos.add(took);
                }
            } catch (SQLException e) {
                lastError = e.getMessage();
                closeQuietly(c);
                c = null;
                LockSupport.parkNanos(50_000_000L); // a client's pause before it reconnects
            }
        }
        closeQuietly(c);
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // the server is gone
            }
        }
    }

    /** The values whose commit was acknowledged so far, in order. */
    public synchronized List<Long> acknowledged() {
        return List.copyOf(acknowledged);
    }

    /** How many commits were acknowledged so far. */
    public synchronized int count() {
        return acknowledged.size();
    }

    /** How long each acknowledged commit took, in nanoseconds, in order. */
    public synchronized List<Long> latenciesNanos() {
        return List.copyOf(latenciesNanos);
    }

    /** The last error a statement or a connection attempt failed with, or null. */
    public String lastError() {
        return lastError;
    }

    /** Stops writing and waits for the thread (a commit in flight may hang: up to the socket timeout). */
    @Override
    public void close() {
        stop = true;
        thread.interrupt();
        try {
            thread.join(35_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
