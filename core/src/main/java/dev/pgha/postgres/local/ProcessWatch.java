package dev.pgha.postgres.local;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A cheap, repeated "is that process still alive?" for one process: {@code /proc/<pid>/statm} (the
 * cheapest file the kernel makes for a process) is opened once and re-read from offset 0 on every
 * look, one {@code pread} into a direct buffer each. The open file belongs to that process, not to
 * its number: once the process is gone (reaped) the read fails, also when the number was given to
 * a new process meanwhile; a zombie (exited, not reaped yet, as a re-parented postmaster may be for
 * a while) has no memory left and reads as all zeros. Not thread-safe.
 */
final class ProcessWatch implements AutoCloseable {

    private final long pid;
    private final FileChannel stat;
    private final ByteBuffer buffer = ByteBuffer.allocateDirect(128);
    private boolean alive = true;

    private ProcessWatch(long pid, FileChannel stat) {
        this.pid = pid;
        this.stat = stat;
    }

    /** Watches {@code pid}; null when its {@code /proc} entry cannot be opened (gone, or no procfs). */
    static ProcessWatch of(long pid) {
        try {
            return new ProcessWatch(pid, FileChannel.open(Path.of("/proc", Long.toString(pid), "statm"),
                    StandardOpenOption.READ));
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return null;
        }
    }

    long pid() {
        return pid;
    }

    /** Whether the process still runs (not gone, not a zombie); once false, always false. */
    boolean alive() {
        if (!alive) {
            return false;
        }
        try {
            buffer.clear();
            int n = stat.read(buffer, 0);
            alive = n > 0 && !exited(buffer, n);
        } catch (IOException e) {
            alive = false;   // ESRCH: the process was reaped
        }
        if (!alive) {
            close();
        }
        return alive;
    }

    /** Whether the first number, the process's size in pages, is 0: a process without memory has exited. */
    private static boolean exited(ByteBuffer b, int n) {
        return n >= 2 && b.get(0) == '0' && b.get(1) == ' ';
    }

    @Override
    public void close() {
        alive = false;
        try {
            stat.close();
        } catch (IOException e) {
            // nothing to do
        }
    }
}
