package dev.pgha.fencing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link PostmasterGuard#canActivate()}: the cheap check the engine makes on every cycle, which
 * starts nothing. No PostgreSQL needed: the guard is never armed.
 */
class PostmasterGuardCapabilityTest {

    @TempDir
    Path dir;

    private PostmasterGuard guard(PostmasterGuard.Mode mode, Path bash) {
        return PostmasterGuard.builder().pidFile(dir.resolve("postmaster.pid")).bash(bash).mode(mode).build();
    }

    @Test
    void aRequiredGuardWithoutBashCannotBeActivatedAndTheCheckStartsNothing() {
        PostmasterGuard guard = guard(PostmasterGuard.Mode.REQUIRED, dir.resolve("no-such-bash"));

        assertThat(guard.canActivate()).isFalse();
        assertThat(guard.process()).isEmpty();
        assertThat(guard.activate()).isFalse();
        assertThat(guard.canActivate()).isFalse();
    }

    @Test
    void automaticAndOffGuardsCanAlwaysBeActivated() {
        assertThat(guard(PostmasterGuard.Mode.AUTOMATIC, dir.resolve("no-such-bash")).canActivate()).isTrue();
        assertThat(guard(PostmasterGuard.Mode.OFF, dir.resolve("no-such-bash")).canActivate()).isTrue();
    }

    @Test
    void aFailedStartIsRememberedUntilAStartSucceeds() throws IOException {
        // given a "bash" that looks executable (a directory has the x bit) but cannot be run
        Path notRunnable = Files.createDirectory(dir.resolve("bash-dir"));
        PostmasterGuard guard = guard(PostmasterGuard.Mode.REQUIRED, notRunnable);
        assertThat(guard.canActivate()).as("nothing known to fail yet").isTrue();

        // when a start fails
        assertThat(guard.activate()).isFalse();

        // then the guard says so without trying again
        assertThat(guard.canActivate()).isFalse();
        assertThat(guard.canActivate()).isFalse();
        assertThat(guard.process()).isEmpty();
    }

    @Test
    void aGuardProcessThatReportsAnUnusableEnvironmentMakesTheGuardIncapable() throws Exception {
        // given a "bash" that exits with the guard script's environment error status, as bash 4 would
        Path oldBash = dir.resolve("old-bash");
        Files.writeString(oldBash, "#!/bin/sh\nexit 2\n");
        Files.setPosixFilePermissions(oldBash, PosixFilePermissions.fromString("rwxr-xr-x"));
        PostmasterGuard guard = guard(PostmasterGuard.Mode.REQUIRED, oldBash);

        // when it was started and has exited
        assertThat(guard.activate()).isTrue();
        guard.process().ifPresent(p -> p.onExit().join());

        // then the guard cannot be activated
        assertThat(guard.canActivate()).isFalse();
        guard.close();
    }

    @Test
    void aRequiredGuardWithARunningProcessCanBeActivated() {
        PostmasterGuard guard = guard(PostmasterGuard.Mode.REQUIRED, Path.of("/bin/bash"));
        try {
            assertThat(guard.canActivate()).isTrue();
            assertThat(guard.process()).as("the check starts nothing").isEmpty();
            assertThat(guard.activate()).isTrue();
            assertThat(guard.process()).isPresent();
            assertThat(guard.canActivate()).isTrue();
        } finally {
            guard.close();
        }
    }
}
