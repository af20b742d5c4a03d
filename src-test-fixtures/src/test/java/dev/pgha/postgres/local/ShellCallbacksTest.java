package dev.pgha.postgres.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.HaListener.Callback;
import dev.pgha.HaListener;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresState;
import dev.pgha.testing.RecordingListener;
import dev.pgha.testing.TempPostgres;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Patroni's callback executor rules, with real child processes: arguments, no waiting, a slow one killed by the next. */
class ShellCallbacksTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    private TempPostgres tmp;
    private Path record;

    @BeforeEach
    void setUp() {
        tmp = TempPostgres.create();
        record = tmp.base().resolve("record.txt");
    }

    @AfterEach
    void tearDown() {
        tmp.close();
    }

    private Path recorder() {
        return tmp.script("record.sh", "#!/bin/sh\necho \"$@\" >> " + record + "\n");
    }

    /** Records "start <args> <pid>", runs a child sleep and records its pid, and would record "end" after 30 s. */
    private Path slow(String tag) {
        return tmp.script("slow-" + tag + ".sh", "#!/bin/sh\n"
                + "echo \"start " + tag + " $* $$\" >> " + record + "\n"
                + "sleep 30 &\n"
                + "echo \"child " + tag + " $!\" >> " + record + "\n"
                + "wait\n"
                + "echo \"end " + tag + "\" >> " + record + "\n");
    }

    private List<String> lines() {
        try {
            return Files.exists(record) ? Files.readAllLines(record) : List.of();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private long pidOf(String prefix) {
        String line = lines().stream().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow();
        return Long.parseLong(line.substring(line.lastIndexOf(' ') + 1));
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    @Test
    void runsTheCommandWithActionRoleAndScopeWithoutWaiting() {
        ShellCallbacks callbacks = ShellCallbacks.of("batman", Map.of(Callback.ON_START, recorder() + " --flag",
                Callback.ON_ROLE_CHANGE, recorder().toString()), tmp.base().resolve("callbacks.log"));

        callbacks.callback("node1", Callback.ON_START, PostgresRole.REPLICA);
        TempPostgres.until("on_start recorded", WAIT, () -> lines().size() == 1);
        callbacks.callback("node1", Callback.ON_ROLE_CHANGE, PostgresRole.PROMOTED);
        TempPostgres.until("on_role_change recorded", WAIT, () -> lines().size() == 2);
        callbacks.callback("node1", Callback.ON_STOP, PostgresRole.PRIMARY); // not configured: nothing runs

        assertThat(lines()).containsExactly("--flag on_start replica batman", "on_role_change primary batman");
        assertThat(callbacks.isEmpty()).isFalse();
    }

    @Test
    void aNewCallbackKillsTheStillRunningOneAndItsChildren() {
        ShellCallbacks callbacks = ShellCallbacks.of("batman", Map.of(Callback.ON_ROLE_CHANGE, slow("role").toString(),
                Callback.ON_START, recorder().toString()), null);

        callbacks.callback("node1", Callback.ON_ROLE_CHANGE, PostgresRole.PRIMARY);
        TempPostgres.until("the slow callback and its child run", WAIT,
                () -> lines().stream().anyMatch(l -> l.startsWith("child role")));
        long script = pidOf("start role");
        long child = pidOf("child role");
        assertThat(alive(script)).isTrue();
        assertThat(alive(child)).isTrue();

        callbacks.callback("node1", Callback.ON_START, PostgresRole.PRIMARY);

        TempPostgres.until("the slow callback and its child are killed", WAIT, () -> !alive(script) && !alive(child));
        TempPostgres.until("the new callback ran", WAIT, () -> lines().contains("on_start primary batman"));
        assertThat(lines()).noneMatch(l -> l.startsWith("end role"));
    }

    @Test
    void onReloadHasItsOwnSlotSoItDoesNotKillARoleChange() {
        ShellCallbacks callbacks = ShellCallbacks.of("batman", Map.of(Callback.ON_ROLE_CHANGE, slow("role").toString(),
                Callback.ON_RELOAD, slow("reload").toString()), null);

        callbacks.callback("node1", Callback.ON_ROLE_CHANGE, PostgresRole.PRIMARY);
        TempPostgres.until("role change runs", WAIT, () -> lines().stream().anyMatch(l -> l.startsWith("child role")));
        callbacks.callback("node1", Callback.ON_RELOAD, PostgresRole.PRIMARY);
        TempPostgres.until("reload runs", WAIT, () -> lines().stream().anyMatch(l -> l.startsWith("child reload")));
        long role = pidOf("start role");
        long firstReload = pidOf("start reload");
        assertThat(alive(role)).isTrue();

        callbacks.callback("node1", Callback.ON_RELOAD, PostgresRole.PRIMARY); // kills only the previous reload
        TempPostgres.until("first reload killed", WAIT, () -> !alive(firstReload));
        assertThat(alive(role)).isTrue();

        callbacks.killRunning();
        TempPostgres.until("everything killed", WAIT, () -> !alive(role));
    }

    @Test
    void splitsCommandsLikeAShell() {
        assertThat(ShellCallbacks.split("/bin/cb  --name 'two words' \"dq \\\"x\\\"\" a\\ b"))
                .containsExactly("/bin/cb", "--name", "two words", "dq \"x\"", "a b");
        assertThat(ShellCallbacks.split("  ")).isEmpty();
        assertThatThrownBy(() -> ShellCallbacks.split("cmd 'open")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unbalanced quote");
    }

    @Test
    void allDeliversToEveryListenerEvenWhenOneThrows() {
        RecordingListener first = new RecordingListener();
        RecordingListener second = new RecordingListener();
        HaListener broken = new HaListener() {
            @Override
            public void callback(String member, Callback callback, PostgresRole role) {
                throw new IllegalStateException("boom");
            }
        };
        HaListener all = HaListener.all(first, broken, second);

        all.callback("node1", Callback.ON_START, PostgresRole.PRIMARY);
        all.postgresStateChanged("node1", PostgresState.STARTING, PostgresState.RUNNING);

        assertThat(first.all()).containsExactly("callback on_start primary", "state starting -> running");
        assertThat(second.all()).isEqualTo(first.all());
        assertThat(Optional.of(all.toString())).hasValueSatisfying(s -> assertThat(s).startsWith("HaListener.all"));
    }
}
