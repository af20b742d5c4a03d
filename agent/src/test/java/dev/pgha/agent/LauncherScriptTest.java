package dev.pgha.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution's launcher {@code bin/pgha} (its source, {@code src/main/dist/bin/pgha}), run
 * with a stand-in {@code java} that records its arguments: it passes {@link Agent#JVM_OPTIONS},
 * then {@code PGHA_JAVA_OPTS}, then the class path and the command; it refuses a Java older than
 * 17 and says so when there is no Java at all.
 */
class LauncherScriptTest {

    private static final Path SCRIPT = Path.of("src/main/dist/bin/pgha").toAbsolutePath();

    /** The options written into the script, which must be the agent's. */
    @Test
    void theScriptsJvmOptionsAreTheAgents() throws IOException {
        String line = Files.readAllLines(SCRIPT, StandardCharsets.UTF_8).stream()
                .filter(l -> l.startsWith("JVM_OPTIONS=(")).findFirst().orElseThrow();
        List<String> options = Arrays.asList(line.substring("JVM_OPTIONS=(".length(), line.length() - 1).split(" "));
        assertThat(options).isEqualTo(Agent.JVM_OPTIONS);
    }

    private record Run(int status, String stderr) {
    }

    private static Path fakeJava(Path dir, String version, Path argsFile) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("jdk/bin"));
        Path java = bin.resolve("java");
        Files.writeString(java, "#!/bin/bash\n"
                + "if [ \"$1\" = -version ]; then echo 'openjdk version \"" + version + "\" 2024-01-16' >&2; exit 0; fi\n"
                + "printf '%s\\n' \"$@\" > '" + argsFile + "'\n"
                + "for a in \"$@\"; do case $a in -XX:ArchiveClassesAtExit=*) echo archive > \"${a#*=}\";; esac; done\n"
                + "echo \"MALLOC_ARENA_MAX=$MALLOC_ARENA_MAX\" > '" + argsFile + ".env'\n");
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dir.resolve("jdk");
    }

    private static Run run(Map<String, String> env, String... args) throws Exception {
        return run(SCRIPT, env, args);
    }

    private static Run run(Path script, Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("/bin/bash", script.toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().remove("JAVA_HOME");
        pb.environment().remove("PGHA_JAVA_OPTS");
        pb.environment().remove("MALLOC_ARENA_MAX");
        pb.environment().put("PGHA_CDS_DIR", "off");   // a test that wants the archive says where
        pb.environment().putAll(env);
        Process p = pb.start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).as("launcher finished").isTrue();
        return new Run(p.exitValue(), err);
    }

    @Test
    void passesTheAgentsOptionsThenPghaJavaOptsThenTheCommand(@TempDir Path dir) throws Exception {
        Path argsFile = dir.resolve("args");
        Path jdk = fakeJava(dir, "17.0.9", argsFile);
        Run r = run(Map.of("JAVA_HOME", jdk.toString(), "PGHA_JAVA_OPTS", "-Dx=1 -Xmx96m"), "list", "/etc/pgha/patroni.yml");
        assertThat(r.status()).as(r.stderr()).isZero();
        List<String> expected = new ArrayList<>(Agent.JVM_OPTIONS);
        expected.addAll(List.of("-Dx=1", "-Xmx96m", "-cp", SCRIPT.getParent().getParent().resolve("lib") + "/*",
                "dev.pgha.agent.Agent", "list", "/etc/pgha/patroni.yml"));
        assertThat(Files.readAllLines(argsFile, StandardCharsets.UTF_8)).isEqualTo(expected);
        assertThat(Files.readAllLines(Path.of(argsFile + ".env"), StandardCharsets.UTF_8))
                .as("the agent's environment").containsExactly("MALLOC_ARENA_MAX=" + Agent.ENVIRONMENT.get("MALLOC_ARENA_MAX"));
    }

    @Test
    void aCommandArchivesItsClassesForTheRunsAfterIt(@TempDir Path dir) throws Exception {
        Path home = Files.createDirectories(dir.resolve("pgha"));
        Files.createDirectories(home.resolve("bin"));
        Files.copy(SCRIPT, home.resolve("bin/pgha"));
        Files.createDirectories(home.resolve("lib"));
        Files.writeString(home.resolve("lib/pgha-agent-1.2.3.jar"), "");
        Path argsFile = dir.resolve("args");
        Path jdk = fakeJava(dir, "17.0.9", argsFile);
        Path cds = dir.resolve("cds");
        Path archive = cds.resolve("pgha-agent-1.2.3-java17.0.9.jsa");
        Map<String, String> env = Map.of("JAVA_HOME", jdk.toString(), "PGHA_CDS_DIR", cds.toString());

        assertThat(run(home.resolve("bin/pgha"), env, "run", "/etc/pgha/patroni.yml").status()).isZero();
        assertThat(Files.readAllLines(argsFile, StandardCharsets.UTF_8)).as("the agent itself archives nothing")
                .noneMatch(a -> a.startsWith("-XX:ArchiveClassesAtExit") || a.startsWith("-XX:SharedArchiveFile"));
        assertThat(archive).doesNotExist();

        assertThat(run(home.resolve("bin/pgha"), env, "list", "/etc/pgha/patroni.yml").status()).isZero();
        assertThat(Files.readAllLines(argsFile, StandardCharsets.UTF_8)).as("the first command archives")
                .anyMatch(a -> a.startsWith("-XX:ArchiveClassesAtExit=" + archive + "."));
        assertThat(archive).as("put in place under its name").exists();
        try (var left = Files.list(cds)) {
            assertThat(left).as("no temporary file left").containsExactly(archive);
        }

        assertThat(run(home.resolve("bin/pgha"), env, "run", "/etc/pgha/patroni.yml").status()).isZero();
        assertThat(Files.readAllLines(argsFile, StandardCharsets.UTF_8)).as("later runs map it, the agent's too")
                .contains("-XX:SharedArchiveFile=" + archive).noneMatch(a -> a.startsWith("-XX:ArchiveClassesAtExit"));
    }

    @Test
    void readsJavasVersionFromTheJdksReleaseFile(@TempDir Path dir) throws Exception {
        Path argsFile = dir.resolve("args");
        Path jdk = fakeJava(dir, "17.0.9", argsFile);
        Files.writeString(jdk.resolve("release"), "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"11.0.2\"\n");
        Run r = run(Map.of("JAVA_HOME", jdk.toString()), "version");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.stderr()).contains("is Java 11.0.2; pgha needs Java 17 or newer");
    }

    @Test
    void refusesAJavaOlderThan17(@TempDir Path dir) throws Exception {
        Path argsFile = dir.resolve("args");
        Run r = run(Map.of("JAVA_HOME", fakeJava(dir, "11.0.2", argsFile).toString()), "version");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.stderr()).contains("is Java 11.0.2; pgha needs Java 17 or newer");
        assertThat(argsFile).doesNotExist();
        Run old = run(Map.of("JAVA_HOME", fakeJava(dir.resolve("old"), "1.8.0_392", argsFile).toString()), "version");
        assertThat(old.stderr()).contains("is Java 1.8.0_392; pgha needs Java 17 or newer");
    }

    @Test
    void saysSoWhenThereIsNoJava(@TempDir Path dir) throws Exception {
        // a PATH with only the tools the launcher needs before it looks for java
        Path bin = Files.createDirectories(dir.resolve("bin"));
        for (String tool : List.of("dirname", "readlink")) {
            Path real = List.of(Path.of("/usr/bin", tool), Path.of("/bin", tool)).stream().filter(Files::isExecutable)
                    .findFirst().orElseThrow();
            Files.createSymbolicLink(bin.resolve(tool), real);
        }
        Run r = run(Map.of("PATH", bin.toString()), "version");
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.stderr()).contains("no java found (set JAVA_HOME or put java on the PATH)");
        Run home = run(Map.of("JAVA_HOME", dir.resolve("nothing").toString()), "version");
        assertThat(home.status()).isEqualTo(2);
        assertThat(home.stderr()).contains("is not an executable; pgha needs Java 17 or newer");
    }
}
