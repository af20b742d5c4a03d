package dev.pgha.testing;

import dev.pgha.postgres.PostgresOperation;
import dev.pgha.postgres.local.Credentials;
import dev.pgha.postgres.local.LocalPostgresConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

/**
 * A scratch area for tests against real PostgreSQL servers driven by
 * {@link dev.pgha.postgres.LocalPostgres}: a short temp directory (Unix socket paths are limited
 * to about 107 bytes), owned by the {@link #runAs()} user when the JVM runs as root, free loopback
 * ports, and configurations preset for tests ({@code fsync=off}, {@code --no-sync}, small
 * memory, passwords). {@link #close()} kills every postmaster and process still working under it
 * and deletes it; a JVM shutdown hook does the same if a test forgot.
 *
 * <pre>{@code
 * try (TempPostgres tmp = TempPostgres.create()) {
 *     LocalPostgres pg = LocalPostgres.create(tmp.node("node1").build());
 *     TempPostgres.await(pg.bootstrap(), Duration.ofSeconds(60));
 * }
 * }</pre>
 */
public final class TempPostgres implements AutoCloseable {

    /** The superuser's password in test configurations. */
    public static final String SUPERUSER_PASSWORD = "su-Secret-4711";
    /** The replication role's password in test configurations. */
    public static final String REPLICATION_PASSWORD = "repl-Secret-0815";

    private final Path base;
    private final Thread hook;
    private boolean closed;

    private TempPostgres(Path base) {
        this.base = base;
        this.hook = new Thread(this::cleanUp, "TempPostgres cleanup " + base);
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Creates the scratch directory ({@code /tmp/pgha-*}). */
    public static TempPostgres create() {
        try {
            Path base = Files.createTempDirectory(Path.of("/tmp"), "pgha-");
            chown(base);
            return new TempPostgres(base);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The OS user to run the server binaries as: {@code -Dpgha.pg.runAs=...}, else {@code postgres}
     * when the JVM runs as root, else null (the JVM's own user).
     */
    public static String runAs() {
        String configured = System.getProperty("pgha.pg.runAs");
        if (configured != null && !configured.isBlank()) {
            return configured;
        }
        return isRoot() ? "postgres" : null;
    }

    /** Whether the JVM runs as root. */
    public static boolean isRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** The scratch directory. */
    public Path base() {
        return base;
    }

    /** A free loopback TCP port (nothing listens on it right now). */
    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A configuration for member {@code name} of cluster {@code test}: data in
     * {@code <base>/<name>/data}, a free port on 127.0.0.1, the test passwords, {@code fsync=off},
     * {@code --no-sync}, 16MB shared buffers, checksums off and {@code wal_log_hints} on, short
     * timeouts, and {@link #runAs()} as OS user. The cluster-wide parameters ({@code max_connections},
     * {@code wal_keep_size}, ...) have Patroni's defaults; only {@code applyParameters} (the DCS's
     * parameters) changes them.
     */
    public LocalPostgresConfig.Builder node(String name) {
        return LocalPostgresConfig.builder()
                .scope("test").name(name)
                .dataDir(base.resolve(name).resolve("data"))
                .workDir(base.resolve(name).resolve("work"))
                .port(freePort())
                .listenAddresses("127.0.0.1")
                .superuser(Credentials.of("postgres", SUPERUSER_PASSWORD))
                .replication(Credentials.of("replicator", REPLICATION_PASSWORD))
                .parameter("fsync", "off")
                .parameter("full_page_writes", "on")
                .parameter("shared_buffers", "16MB")
                .parameter("synchronous_commit", "on")
                .syncToDisk(false)
                .osUser(runAs())
                .startTimeout(Duration.ofSeconds(60))
                .stopTimeout(Duration.ofSeconds(20))
                .connectTimeout(Duration.ofSeconds(2));
    }

    /** Writes an executable script (owned by {@link #runAs()}) and returns its path. */
    public Path script(String fileName, String body) {
        try {
            Path p = base.resolve(fileName);
            Files.writeString(p, body, StandardCharsets.UTF_8);
            p.toFile().setExecutable(true, false);
            p.toFile().setReadable(true, false);
            chown(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The text of {@code fileName} in the scratch area (a log a test process writes, say); empty while it does not exist. */
    public String read(String fileName) {
        try {
            Path f = base.resolve(fileName);
            return Files.exists(f) ? Files.readString(f, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Polls {@code op} (every 20 ms) until it finished or {@code timeout} passed.
     *
     * @return its outcome
     * @throws AssertionError when it still runs after {@code timeout}
     */
    public static PostgresOperation.Outcome await(PostgresOperation op, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        PostgresOperation.Outcome o;
        while ((o = op.poll()) == PostgresOperation.Outcome.RUNNING) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("still running after " + timeout + ": " + op);
            }
            pause();
        }
        return o;
    }

    /**
     * Polls {@code condition} (every 20 ms) until it holds.
     *
     * @throws AssertionError naming {@code what} when it does not hold within {@code timeout}
     */
    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within " + timeout + ": " + what);
            }
            pause();
        }
    }

    private static void pause() {
        try {
            Thread.sleep(20);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    /** Kills every postgres process working under the scratch directory and deletes it. */
    @Override
    public synchronized void close() {
        cleanUp();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down
        }
    }

    private synchronized void cleanUp() {
        if (closed) {
            return;
        }
        closed = true;
        killProcessesUnder(base);
        deleteTree(base);
    }

    /** SIGKILLs every process whose working directory is under {@code dir}, then waits (up to 10 s) until they are gone. */
    public static void killProcessesUnder(Path dir) {
        List<ProcessHandle> victims = new ArrayList<>();
        try (Stream<Path> proc = Files.list(Path.of("/proc"))) {
            proc.filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit)).forEach(p -> {
                try {
                    Path cwd = Files.readSymbolicLink(p.resolve("cwd"));
                    if (cwd.startsWith(dir)) {
                        ProcessHandle.of(Long.parseLong(p.getFileName().toString())).ifPresent(victims::add);
                    }
                } catch (IOException | RuntimeException e) {
                    // gone, or not ours to read
                }
            });
        } catch (IOException e) {
            return;
        }
        victims.forEach(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (victims.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() - deadline < 0) {
            pause();
        }
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.deleteIfExists(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            System.err.println("TempPostgres: could not delete " + root + ": " + e);
        }
    }

    /** Hands {@code path} to {@link #runAs()} when the JVM runs as root. */
    public static void chown(Path path) throws IOException {
        String user = runAs();
        if (user == null || !isRoot()) {
            return;
        }
        UserPrincipalLookupService users = path.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class);
        view.setOwner(users.lookupPrincipalByName(user));
        Optional.ofNullable(lookupGroup(users, user)).ifPresent(g -> {
            try {
                view.setGroup(g);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    private static java.nio.file.attribute.GroupPrincipal lookupGroup(UserPrincipalLookupService users, String name) {
        try {
            return users.lookupPrincipalByGroupName(name);
        } catch (IOException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        return "TempPostgres[" + base + "]";
    }
}
