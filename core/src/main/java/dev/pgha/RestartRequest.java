package dev.pgha;

import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresStatus;
import java.time.Duration;
import java.time.Instant;

/**
 * A restart of this member's PostgreSQL with Patroni's conditions ({@code POST /restart},
 * {@code patronictl restart}): it happens only when every condition that is set holds when the
 * restart is due.
 *
 * @param role          restart only while in this role ({@code role}), or null for any
 * @param belowVersion  restart only while the server's {@code server_version_num} is below this
 *                      ({@code postgres_version}, see {@link #versionNumber(String)}), or 0 for any
 * @param pendingOnly   restart only when a restart is pending ({@code restart_pending})
 * @param scheduledAt   when to restart ({@code schedule}), or null for now
 * @param timeout       how long the start after the restart may take before the lock holder fails
 *                      over ({@code timeout}; Patroni's {@code primary_start_timeout} for this
 *                      restart), or null for {@code primary_start_timeout}
 */
public record RestartRequest(PostgresRole role, int belowVersion, boolean pendingOnly, Instant scheduledAt,
                             Duration timeout) {

    /** An unconditional restart now. */
    public static final RestartRequest NOW = new RestartRequest(null, 0, false, null, null);

    /** Checks the values. */
    public RestartRequest {
        if (belowVersion < 0) {
            throw new IllegalArgumentException("postgres_version must not be negative, was " + belowVersion);
        }
        if (timeout != null && (timeout.isNegative() || timeout.isZero())) {
            throw new IllegalArgumentException("timeout must be a positive duration, was " + timeout);
        }
    }

    /** This request, due at {@code when}. */
    public RestartRequest scheduled(Instant when) {
        return new RestartRequest(role, belowVersion, pendingOnly, when, timeout);
    }

    /**
     * Why the restart must not happen now, in Patroni's words, or null when every condition holds.
     *
     * @param current the member's role now
     * @param pg      PostgreSQL as last observed
     */
    public String mismatch(PostgresRole current, PostgresStatus pg) {
        if (role != null && !sameRole(role, current)) {
            return "host role mismatch";
        }
        if (belowVersion > 0 && (pg == null || pg.serverVersion() == 0 || belowVersion <= pg.serverVersion())) {
            return "postgres version mismatch";
        }
        if (pendingOnly && (pg == null || !pg.pendingRestart())) {
            return "pending restart flag is not set";
        }
        return null;
    }

    private static boolean sameRole(PostgresRole wanted, PostgresRole current) {
        return wanted == current || wanted == PostgresRole.PRIMARY && current == PostgresRole.PROMOTED;
    }

    /**
     * PostgreSQL's version number for a version as Patroni reads {@code postgres_version}:
     * {@code X.Y} from version 10 on ({@code "15.4"} is 150004), {@code X.Y.Z} ({@code "9.6.1"}
     * is 90601).
     *
     * @throws IllegalArgumentException with Patroni's message for anything else
     */
    public static int versionNumber(String version) {
        String[] parts = String.valueOf(version).split("\\.", -1);
        int[] n = new int[parts.length];
        try {
            for (int i = 0; i < parts.length; i++) {
                n[i] = Integer.parseInt(parts[i]);
                if (n[i] < 0 || n[i] > 99 && i > 0) {
                    throw new NumberFormatException(parts[i]);
                }
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Invalid PostgreSQL version: " + version);
        }
        if (n.length < 2 || n.length == 2 && n[0] < 10 || n.length > 3) {
            throw new IllegalArgumentException("Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: " + version);
        }
        return n.length == 2 ? n[0] * 10_000 + n[1] : n[0] * 10_000 + n[1] * 100 + n[2];
    }
}
