package dev.pgha.postgres.local;

import dev.pgha.postgres.PostgresException;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PostgreSQL binaries pgha runs, found once: the configured bin dir, else
 * {@code pg_config --bindir}, else the directory of {@code pg_ctl} on PATH. Every binary pgha
 * needs must be there; a missing one is an error that names it and where it was looked for.
 */
final class Binaries {

    /** The binaries pgha cannot work without. */
    static final List<String> REQUIRED = List.of("initdb", "pg_ctl", "postgres", "pg_controldata", "pg_basebackup",
            "pg_rewind", "psql");
    /** Used when present: the record before the shutdown checkpoint for {@code on_shutdown}. */
    static final String WALDUMP = "pg_waldump";

    private static final Pattern VERSION = Pattern.compile("\\(PostgreSQL\\) (\\d+)");
    private static final Duration QUICK = Duration.ofSeconds(15);

    private final Path dir;
    private final int majorVersion;

    private Binaries(Path dir, int majorVersion) {
        this.dir = dir;
        this.majorVersion = majorVersion;
    }

    /**
     * Finds the binaries and their major version.
     *
     * @throws PostgresException naming the missing binary and the directory, or saying where it looked
     */
    static Binaries find(String member, Path configured) {
        Path dir = configured;
        String how = "bin_dir";
        if (dir == null) {
            dir = fromPgConfig().orElse(null);
            how = "pg_config --bindir";
        }
        if (dir == null) {
            dir = onPath("pg_ctl").map(Path::getParent).orElse(null);
            how = "PATH";
        }
        if (dir == null) {
            throw new PostgresException(member + ": PostgreSQL server binaries not found: set bin_dir, or put"
                    + " pg_config or pg_ctl on PATH (Debian: apt-get install postgresql-15)");
        }
        if (!Files.isDirectory(dir)) {
            throw new PostgresException(member + ": bin_dir " + dir + " (from " + how + ") is not a directory");
        }
        for (String name : REQUIRED) {
            if (!Files.isExecutable(dir.resolve(name))) {
                throw new PostgresException(member + ": " + name + " not found in " + dir + " (from " + how
                        + "): is it the bin directory of a PostgreSQL 15+ installation?");
            }
        }
        int major = versionOf(member, dir.resolve("postgres"));
        if (major < 15) {
            throw new PostgresException(member + ": " + dir.resolve("postgres") + " is PostgreSQL " + major
                    + "; pgha needs 15 or newer");
        }
        return new Binaries(dir, major);
    }

    Path dir() {
        return dir;
    }

    int majorVersion() {
        return majorVersion;
    }

    /** The path of a binary in the bin dir. */
    String path(String name) {
        return dir.resolve(name).toString();
    }

    /** Whether an optional binary is present. */
    boolean has(String name) {
        return Files.isExecutable(dir.resolve(name));
    }

    private static int versionOf(String member, Path postgres) {
        Child.Result r = quick("postgres -V", List.of(postgres.toString(), "-V"));
        Matcher m = VERSION.matcher(r.output());
        if (!r.ok() || !m.find()) {
            throw new PostgresException(member + ": cannot tell the version of " + postgres + ": " + r.output().strip());
        }
        return Integer.parseInt(m.group(1));
    }

    private static Optional<Path> fromPgConfig() {
        Optional<Path> pgConfig = onPath("pg_config");
        if (pgConfig.isEmpty()) {
            return Optional.empty();
        }
        Child.Result r = quick("pg_config", List.of(pgConfig.get().toString(), "--bindir"));
        String out = r.output().strip();
        return r.ok() && !out.isEmpty() && !out.contains("\n") ? Optional.of(Path.of(out)) : Optional.empty();
    }

    private static Child.Result quick(String name, List<String> command) {
        Path out = null;
        try {
            out = Files.createTempFile("pgha-", ".out");
            return Child.run(name, command, Map.of(), out, null, QUICK);
        } catch (IOException | PostgresException e) {
            return new Child.Result(-1, e.getMessage() == null ? e.toString() : e.getMessage());
        } finally {
            if (out != null) {
                try {
                    Files.deleteIfExists(out);
                } catch (IOException ignored) {
                    // a temp file left behind is harmless
                }
            }
        }
    }

    private static Optional<Path> onPath(String name) {
        String path = System.getenv("PATH");
        if (path == null) {
            return Optional.empty();
        }
        for (String entry : path.split(File.pathSeparator)) {
            if (!entry.isEmpty()) {
                Path candidate = Path.of(entry, name);
                if (Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return "PostgreSQL " + majorVersion + " in " + dir;
    }
}
