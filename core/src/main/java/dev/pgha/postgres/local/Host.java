package dev.pgha.postgres.local;

import dev.pgha.postgres.PostgresException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.ArrayList;
import java.util.List;

/**
 * The operating-system side: who runs the server binaries, and files and directories owned by
 * that user. PostgreSQL refuses to run as root, so when the JVM is root every server binary is
 * run through {@code runuser -u <osUser> --}, and everything pgha creates for the server (data
 * directory, work directory, password file, configuration files) is chowned to that user.
 */
final class Host {

    private static final List<String> RUNUSER_PLACES = List.of("/usr/sbin/runuser", "/sbin/runuser",
            "/usr/bin/runuser", "/bin/runuser");

    private final String member;
    private final String runAs;
    private final String runuser;

    private Host(String member, String runAs, String runuser) {
        this.member = member;
        this.runAs = runAs;
        this.runuser = runuser;
    }

    /**
     * Decides how to run the server binaries.
     *
     * @throws PostgresException when the JVM is root and no usable OS user is configured, or the
     *                           user cannot be switched to
     */
    static Host of(String member, String osUser) {
        boolean root = isRoot();
        String me = System.getProperty("user.name", "");
        if (!root) {
            if (osUser != null && !osUser.equals(me)) {
                throw new PostgresException(member + ": cannot run PostgreSQL as os_user '" + osUser
                        + "': the JVM runs as '" + me + "', not as root");
            }
            return new Host(member, null, null);
        }
        if (osUser == null) {
            throw new PostgresException(member + ": the JVM runs as root and PostgreSQL refuses to run as root:"
                    + " set os_user (LocalPostgresConfig.Builder.osUser, e.g. \"postgres\")");
        }
        String runuser = RUNUSER_PLACES.stream().filter(p -> Files.isExecutable(Path.of(p))).findFirst()
                .orElseThrow(() -> new PostgresException(member + ": runuser not found (" + String.join(", ",
                        RUNUSER_PLACES) + "; package util-linux): needed to run PostgreSQL as os_user '" + osUser
                        + "' while the JVM runs as root"));
        try {
            Path.of("/").getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName(osUser);
        } catch (IOException e) {
            throw new PostgresException(member + ": os_user '" + osUser + "' does not exist on this host", e);
        }
        return new Host(member, osUser, runuser);
    }

    /** A host that runs everything as the JVM's user and chowns nothing (for tests of file handling). */
    static Host unprivileged(String member) {
        return new Host(member, null, null);
    }

    /** Whether this process runs as root (owner of {@code /proc/self}, else the user name). */
    static boolean isRoot() {
        try {
            Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            return uid instanceof Integer i && i == 0;
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | SecurityException e) {
            return "root".equals(System.getProperty("user.name"));
        }
    }

    /** The user the server binaries run as, or null for the JVM's own user. */
    String runAs() {
        return runAs;
    }

    /** {@code args}, prefixed with {@code runuser -u <osUser> --} when the JVM is root. */
    List<String> command(List<String> args) {
        if (runAs == null) {
            return List.copyOf(args);
        }
        List<String> out = new ArrayList<>(List.of(runuser, "-u", runAs, "--"));
        out.addAll(args);
        return out;
    }

    /**
     * Creates {@code dir} and any missing parents, each new one with mode 0700 and owned by the
     * server's user.
     *
     * @return whether {@code dir} itself was created
     */
    boolean createDirectories(Path dir) throws IOException {
        if (Files.isDirectory(dir)) {
            return false;
        }
        Path parent = dir.getParent();
        if (parent != null) {
            createDirectories(parent);
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (FileAlreadyExistsException e) {
            return false;
        }
        own(dir);
        return true;
    }

    /** Writes {@code file} atomically with mode 0600, owned by the server's user. */
    void writePrivate(Path file, String content) throws IOException {
        Path tmp = file.resolveSibling("." + file.getFileName() + ".pgha-tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        own(tmp);
        try {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    /** Hands {@code path} to the server's user (a no-op when the JVM runs as that user). */
    void own(Path path) throws IOException {
        if (runAs == null) {
            return;
        }
        UserPrincipalLookupService users = path.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView view = Files.getFileAttributeView(path, PosixFileAttributeView.class,
                LinkOption.NOFOLLOW_LINKS);
        view.setOwner(users.lookupPrincipalByName(runAs));
        try {
            view.setGroup(users.lookupPrincipalByGroupName(runAs));
        } catch (IOException e) {
            // No group of that name: the owner alone is enough for modes 0600/0700.
        }
    }

    @Override
    public String toString() {
        return member + (runAs == null ? " (as the JVM's user)" : " (as " + runAs + " via runuser)");
    }
}
