package dev.pgha.postgres.local;

import dev.pgha.postgres.DataDirectoryState;
import dev.pgha.postgres.PostgresException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;

/**
 * What the data directory holds, and the only code that deletes anything in it. pgha deletes a
 * data directory's contents only when they are PostgreSQL's (a {@code PG_VERSION} file) or when
 * pgha itself was creating them (a marker in the work directory names the data directory while
 * initdb or pg_basebackup fills it). A directory with other contents is reported as inaccessible
 * and never touched.
 */
final class DataDirectory {

    /** What {@link #inspect()} found. */
    record Inspection(DataDirectoryState state, String error) {
    }

    static final String STANDBY_SIGNAL = "standby.signal";
    static final String RECOVERY_SIGNAL = "recovery.signal";

    private final Path dir;
    private final Path marker;
    private final int majorVersion;

    DataDirectory(Path dir, Path workDir, int majorVersion) {
        this.dir = dir;
        this.marker = workDir.resolve("creating-data-directory");
        this.majorVersion = majorVersion;
    }

    Path path() {
        return dir;
    }

    /** EMPTY (missing or empty), INITIALIZED (PostgreSQL's, of these binaries' version) or INACCESSIBLE with why. */
    Inspection inspect() {
        if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS) && !Files.exists(dir)) {
            return new Inspection(DataDirectoryState.EMPTY, null);
        }
        if (!Files.isDirectory(dir)) {
            return new Inspection(DataDirectoryState.INACCESSIBLE, dir + " is not a directory");
        }
        boolean empty;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            empty = !entries.iterator().hasNext();
        } catch (IOException | SecurityException e) {
            return new Inspection(DataDirectoryState.INACCESSIBLE, "cannot read " + dir + ": " + e);
        }
        if (empty) {
            return new Inspection(DataDirectoryState.EMPTY, null);
        }
        if (isCreating()) {
            return new Inspection(DataDirectoryState.EMPTY, null);
        }
        Path version = dir.resolve("PG_VERSION");
        if (!Files.isRegularFile(version)) {
            return new Inspection(DataDirectoryState.INACCESSIBLE, dir
                    + " is not empty and is not a PostgreSQL data directory (no PG_VERSION); pgha leaves it alone");
        }
        try {
            String v = Files.readString(version, StandardCharsets.UTF_8).strip();
            if (!v.equals(Integer.toString(majorVersion))) {
                return new Inspection(DataDirectoryState.INACCESSIBLE, dir + " holds a PostgreSQL " + v
                        + " cluster, but the binaries are PostgreSQL " + majorVersion);
            }
        } catch (IOException e) {
            return new Inspection(DataDirectoryState.INACCESSIBLE, "cannot read " + version + ": " + e);
        }
        if (!Files.isRegularFile(dir.resolve("global").resolve("pg_control"))) {
            return new Inspection(DataDirectoryState.INACCESSIBLE, dir + " has no global/pg_control");
        }
        return new Inspection(DataDirectoryState.INITIALIZED, null);
    }

    /** Whether the data directory is configured as a standby ({@code standby.signal}). */
    boolean isStandby() {
        return dir.resolve(STANDBY_SIGNAL).toFile().exists();   // java.io: no exception thrown inside when absent
    }

    /** Marks the data directory as being created by pgha (before initdb or pg_basebackup). */
    void markCreating(Host host) throws IOException {
        host.writePrivate(marker, dir + "\n");
    }

    /** pgha finished creating the data directory. */
    void creationFinished() throws IOException {
        Files.deleteIfExists(marker);
    }

    /** Whether pgha was creating this data directory (a marker survives a crash of the JVM). */
    boolean isCreating() {
        try {
            return marker.toFile().isFile()   // java.io: no exception thrown inside when absent (asked every cycle)
                    && Files.readString(marker, StandardCharsets.UTF_8).strip().equals(dir.toString());
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Deletes the data directory's contents (the directory itself stays, with its owner and
     * mode). A symlinked {@code pg_wal} is removed as a link; its target is left alone.
     *
     * @throws PostgresException when the contents are neither PostgreSQL's nor pgha's, or deletion fails
     */
    void removeContents(String member) {
        Inspection found = inspect();
        boolean ours = isCreating();
        if (found.state() == DataDirectoryState.EMPTY && !ours) {
            return;
        }
        if (!ours && !Files.isRegularFile(dir.resolve("PG_VERSION"))) {
            throw new PostgresException(member + ": refusing to remove the contents of " + dir + ": "
                    + (found.error() != null ? found.error() : "not a PostgreSQL data directory"));
        }
        List<String> failures = new ArrayList<>();
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                deleteTree(entry, failures);
            }
        } catch (IOException e) {
            failures.add(dir + ": " + e);
        }
        if (!failures.isEmpty()) {
            throw new PostgresException(member + ": could not remove the contents of " + dir + ": "
                    + String.join("; ", failures.subList(0, Math.min(3, failures.size()))));
        }
        try {
            creationFinished();
        } catch (IOException e) {
            throw new PostgresException(member + ": could not remove " + marker + ": " + e, e);
        }
    }

    private static void deleteTree(Path root, List<String> failures) {
        try {
            if (Files.isSymbolicLink(root) || !Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
                Files.delete(root);
                return;
            }
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    if (e != null) {
                        throw e;
                    }
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            failures.add(root + ": " + e);
        }
    }
}
