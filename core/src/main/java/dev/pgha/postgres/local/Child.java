package dev.pgha.postgres.local;

import dev.pgha.postgres.PostgresException;
import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One child process pgha launched: its output goes to a file (never a pipe that could fill up),
 * and its completion is checked without blocking. Quick tools ({@code pg_controldata},
 * {@code pg_waldump}, {@code pg_config}) may be run to completion with {@link #run}, bounded by a
 * time limit.
 */
final class Child {

    private static final int TAIL_BYTES = 4096;
    private static final File DEV_NULL = new File("/dev/null");

    private final String name;
    private final Process process;
    private final Path output;

    private Child(String name, Process process, Path output) {
        this.name = name;
        this.process = process;
        this.output = output;
    }

    /**
     * Launches {@code command}, stdin from {@code /dev/null}, stdout and stderr to {@code output}
     * (truncated). The environment is the JVM's without any {@code PG*} variable, plus {@code env}
     * and {@code LC_ALL=C} (so messages and {@code pg_controldata} labels are in English).
     *
     * @throws PostgresException naming the command when it cannot be launched
     */
    static Child start(String name, List<String> command, Map<String, String> env, Path output, Path directory) {
        ProcessBuilder pb = new ProcessBuilder(command);
        Map<String, String> environment = pb.environment();
        environment.keySet().removeIf(k -> k.startsWith("PG"));
        environment.put("LC_ALL", "C");
        environment.put("LANG", "C");
        environment.putAll(env);
        pb.redirectErrorStream(true);
        pb.redirectOutput(output.toFile());
        pb.redirectInput(DEV_NULL);
        if (directory != null && directory.toFile().isDirectory()) {
            pb.directory(directory.toFile());
        }
        try {
            return new Child(name, pb.start(), output);
        } catch (IOException e) {
            throw new PostgresException("cannot run " + name + " (" + command.get(0) + "): " + e.getMessage(), e);
        }
    }

    /**
     * Runs a quick tool to completion.
     *
     * @return the exit code and the tail of its output; exit code -1 when it overran {@code limit}
     *         (it is then killed)
     */
    static Result run(String name, List<String> command, Map<String, String> env, Path output, Path directory,
                      Duration limit) {
        Child child = start(name, command, env, output, directory);
        try {
            if (!child.process.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                child.kill();
                return new Result(-1, name + " did not finish within " + limit.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            child.kill();
            Thread.currentThread().interrupt();
            return new Result(-1, name + " interrupted");
        }
        return new Result(child.process.exitValue(), child.output(TAIL_BYTES * 4));
    }

    /** A quick tool's exit code and output. */
    record Result(int exitCode, String output) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    String name() {
        return name;
    }

    long pid() {
        return process.pid();
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** The exit code, or null while it runs. */
    Integer exitCode() {
        return process.isAlive() ? null : process.exitValue();
    }

    /** Kills it and every descendant (SIGKILL), descendants first so none is orphaned. */
    void kill() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    /** The last lines of its output, trimmed, for logs and failure details. */
    String tail() {
        String text = output(TAIL_BYTES).strip();
        List<String> lines = text.lines().toList();
        int from = Math.max(0, lines.size() - 6);
        return String.join(" | ", lines.subList(from, lines.size()));
    }

    /** Up to the last {@code max} bytes of its output. */
    String output(int max) {
        return readTail(output, max);
    }

    /** Up to the last {@code max} bytes of a file, or "" when unreadable. */
    static String readTail(Path file, int max) {
        try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "r")) {
            long start = Math.max(0, f.length() - max);
            byte[] buf = new byte[(int) (f.length() - start)];
            f.seek(start);
            f.readFully(buf);
            return new String(buf, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }

    @Override
    public String toString() {
        return name + "[pid " + process.pid() + (process.isAlive() ? "" : ", exit " + process.exitValue()) + "]";
    }
}
