package dev.pgha.postgres.local;

import dev.pgha.HaListener;
import dev.pgha.postgres.PostgresRole;
import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Patroni's user callbacks as an {@link HaListener}: on {@code callback(member, action, role)} it
 * runs the command configured for that action as {@code <cmd> <action> <role> <scope>} (e.g.
 * {@code on_role_change primary batman}; the role {@code promoted} is reported as
 * {@code primary}) and does not wait for it. Like Patroni's callback executor it runs one
 * callback at a time: a new one first kills a previous one that still runs, with all its
 * descendants (SIGKILL). {@code on_reload} has a slot of its own, so a reload does not cancel a
 * role change. Exit codes are ignored; output goes to a file (appended), never to a pipe.
 *
 * <p>The command is split into words like a shell does (quotes and backslashes), without running a
 * shell. It runs as the JVM's user. Plug it into the engine with
 * {@code HaController.builder().listener(callbacks)}, or {@code HaListener.all(callbacks, mine)}
 * when the host has a listener of its own.
 */
public final class ShellCallbacks implements HaListener {

    private static final Logger log = LoggerFactory.getLogger(ShellCallbacks.class);

    private final String scope;
    private final Map<Callback, List<String>> commands = new EnumMap<>(Callback.class);
    private final Path output;
    private Process running;
    private Process runningReload;

    private ShellCallbacks(String scope, Map<Callback, String> commands, Path output) {
        this.scope = Objects.requireNonNull(scope, "scope");
        commands.forEach((cb, cmd) -> {
            List<String> words = split(cmd);
            if (words.isEmpty()) {
                throw new IllegalArgumentException("callback " + cb.patroniName() + " has an empty command");
            }
            this.commands.put(cb, words);
        });
        this.output = output;
    }

    /**
     * Callbacks for a cluster.
     *
     * @param scope    the cluster name, the last argument of every callback
     * @param commands the command for each callback (absent: nothing runs)
     * @param output   file the callbacks' output is appended to; null: discarded
     */
    public static ShellCallbacks of(String scope, Map<Callback, String> commands, Path output) {
        return new ShellCallbacks(scope, Objects.requireNonNull(commands, "commands"), output);
    }

    /** Whether any callback command is configured. */
    public boolean isEmpty() {
        return commands.isEmpty();
    }

    @Override
    public synchronized void callback(String member, Callback callback, PostgresRole role) {
        List<String> words = commands.get(callback);
        if (words == null) {
            return;
        }
        List<String> cmd = new ArrayList<>(words);
        cmd.add(callback.patroniName());
        cmd.add(role.callbackName());
        cmd.add(scope);
        boolean reload = callback == Callback.ON_RELOAD;
        kill(member, reload ? runningReload : running);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(new File("/dev/null"));
        pb.redirectOutput(output == null ? ProcessBuilder.Redirect.DISCARD : ProcessBuilder.Redirect.appendTo(output.toFile()));
        try {
            Process p = pb.start();
            log.info("{}: calling {} {} {} {} (pid {})", member, words.get(0), callback.patroniName(),
                    role.callbackName(), scope, p.pid());
            if (reload) {
                runningReload = p;
            } else {
                running = p;
            }
        } catch (IOException e) {
            log.warn("{}: callback {} could not be started: {}", member, String.join(" ", cmd), e.getMessage());
        }
    }

    /** Kills the callbacks that still run (e.g. when the host shuts down). */
    public synchronized void killRunning() {
        kill("-", running);
        kill("-", runningReload);
        running = null;
        runningReload = null;
    }

    private static void kill(String member, Process p) {
        if (p != null && p.isAlive()) {
            // The script first, so it cannot run on (e.g. its next line) once its children die;
            // its descendants as they were just before, so none is left behind.
            List<ProcessHandle> below = p.descendants().toList();
            p.destroyForcibly();
            below.forEach(ProcessHandle::destroyForcibly);
            log.warn("{}: Killed {} because it was still running", member, p.info().commandLine().orElse("pid " + p.pid()));
        }
    }

    /** Splits a command line into words: whitespace separates, quotes group, backslash escapes. */
    static List<String> split(String command) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean inWord = false;
        char quote = 0;
        for (int i = 0; i < command.length(); i++) {
            char c = command.charAt(i);
            if (quote == '\'') {
                if (c == '\'') {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (c == '\\' && i + 1 < command.length() && (quote == 0 || "\"\\$`".indexOf(command.charAt(i + 1)) >= 0)) {
                word.append(command.charAt(++i));
                inWord = true;
            } else if (quote == '"') {
                if (c == '"') {
                    quote = 0;
                } else {
                    word.append(c);
                }
            } else if (c == '\'' || c == '"') {
                quote = c;
                inWord = true;
            } else if (Character.isWhitespace(c)) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (quote != 0) {
            throw new IllegalArgumentException("unbalanced quote in callback command: " + command);
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }

    @Override
    public String toString() {
        return "ShellCallbacks" + commands.keySet() + " of " + scope;
    }
}
