package dev.pgha.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs Patroni's own {@code patronictl} (Debian package {@code patroni}) against a pgha cluster in
 * etcd, with a generated configuration file naming the etcd3 hosts, the namespace and the scope.
 * Fails with a clear message when {@code patronictl} is not on the PATH.
 */
public final class Patronictl implements AutoCloseable {

    private final Path config;

    public Patronictl(String etcdHosts, String namespace, String scope) {
        if (!onPath("patronictl")) {
            throw new IllegalStateException("patronictl was not found on the PATH: install Debian's patroni package "
                    + "(apt-get install --no-install-recommends patroni, or run scripts/deps.sh)");
        }
        try {
            config = Files.createTempFile("pgha-patronictl-", ".yaml");
            Files.writeString(config, "scope: " + scope + "\nnamespace: " + namespace + "\netcd3:\n  hosts: "
                    + etcdHosts + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Runs a command that prints JSON ({@code list -f json}, {@code history -f json}) and parses it. */
    public JsonNode json(String... args) {
        String out = run(args);
        try {
            return new ObjectMapper().readTree(out);
        } catch (IOException e) {
            throw new IllegalStateException("patronictl " + String.join(" ", args) + " printed no JSON: " + out, e);
        }
    }

    /** Runs {@code patronictl -c <config> <args>} and returns its standard output; fails unless it exits 0. */
    public String run(String... args) {
        Result r = execute(args);
        if (r.exit() != 0) {
            throw new IllegalStateException("patronictl failed (exit " + r.exit() + "): patronictl "
                    + String.join(" ", args) + "\nstdout: " + r.stdout() + "\nstderr: " + r.stderr());
        }
        return r.stdout();
    }

    /**
     * What one run of patronictl did: its exit status and both outputs. patronictl exits 0 also
     * when its REST request failed (it prints "Failed: ..."), and prints its fallbacks to the DCS
     * on standard output ("... falling back to DCS") after logging the cause on standard error.
     */
    public record Result(int exit, String stdout, String stderr) {

        /** Whether patronictl went around the REST API: its fallback warning or a Python traceback. */
        public boolean fellBackToDcs() {
            return stdout.contains("falling back to DCS") || stderr.contains("Failing over to DCS")
                    || stderr.contains("Traceback") || stdout.contains("Could not find any accessible member");
        }
    }

    /** Runs {@code patronictl -c <config> <args>} with standard input from /dev/null, within 120 s. */
    public Result execute(String... args) {
        List<String> command = new ArrayList<>(List.of("patronictl", "-c", config.toString()));
        command.addAll(List.of(args));
        try {
            Path err = Files.createTempFile("pgha-patronictl-", ".err");
            try {
                Process p = new ProcessBuilder(command).redirectError(err.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
                byte[] out = p.getInputStream().readAllBytes();
                if (!p.waitFor(120, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new IllegalStateException("patronictl did not finish within 120 s: " + command);
                }
                return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), Files.readString(err));
            } finally {
                Files.deleteIfExists(err);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static boolean onPath(String binary) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
            if (Files.isExecutable(Path.of(d.isEmpty() ? "." : d, binary))) {
                return true;
            }
        }
        return false;
    }

    @Override
    public void close() {
        try {
            Files.deleteIfExists(config);
        } catch (IOException ignored) {
            // a temp file left behind
        }
    }
}
