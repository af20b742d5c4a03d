package dev.pgha.postgres.local;

import java.util.Objects;

/**
 * A database role and its password, as {@link LocalPostgresConfig} takes them. The password goes
 * only into the 0600 password file ({@code PGPASSFILE}) and, once, into the server as a SCRAM
 * verifier computed on the client; it never appears on a command line, in a log or in the DCS.
 * {@link #toString()} masks it.
 *
 * @param username the role name
 * @param password its password, or null for a role that authenticates without one (trust/peer)
 */
public record Credentials(String username, String password) {

    /** Validates the name; a blank password counts as none. */
    public Credentials {
        Objects.requireNonNull(username, "username");
        if (password != null && password.isEmpty()) {
            password = null;
        }
    }

    /** A role with a password. */
    public static Credentials of(String username, String password) {
        return new Credentials(username, password);
    }

    /** A role without a password. */
    public static Credentials withoutPassword(String username) {
        return new Credentials(username, null);
    }

    /** Whether a password is set. */
    public boolean hasPassword() {
        return password != null;
    }

    /** The name, and whether a password is set; never the password. */
    @Override
    public String toString() {
        return "Credentials[" + username + (password == null ? ", no password]" : ", password ******]");
    }
}
