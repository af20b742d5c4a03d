package dev.pgha;

import dev.pgha.cluster.ClusterView;
import dev.pgha.postgres.PostgresRole;
import dev.pgha.postgres.PostgresState;
import dev.pgha.postgres.PostgresStatus;
import java.time.Instant;

/**
 * A snapshot of what the controller knows about itself, for a host's health endpoint or logs.
 * {@link HaController#status()} returns the snapshot published when the controller's last
 * serialized call (a cycle, an operator action, {@code close()}) returned; it never waits for a
 * cycle in progress.
 *
 * @param member         this member's name
 * @param state          the controller's lifecycle state when the snapshot was published
 * @param role           its role
 * @param postgresState  the last observed PostgreSQL state (null before the first observation)
 * @param lockHeld       whether it holds the lock with a lease that has not run out
 * @param leaseDeadline  when the lease expires unless renewed (null when not held)
 * @param leader         the leader named by the last successful DCS read (null when unlocked or unknown)
 * @param actionInProgress the name of the long action in progress, or null
 * @param lastResult     the last cycle's result, or null before the first cycle
 * @param settings       the cluster-wide settings in force: the {@code config} key's, or the
 *                       {@code bootstrap.dcs} ones until a valid key was read
 * @param postgres       the last observed PostgreSQL status (null before the first observation)
 * @param cluster        the cluster as the last successful DCS read saw it ({@link ClusterView#EMPTY} before it)
 * @param dcsLastSeen    when that read happened (null before it): Patroni's {@code dcs_last_seen}
 * @param scheduledRestart the restart scheduled on this member, or null
 */
public record HaStatus(String member, ControllerState state, PostgresRole role, PostgresState postgresState,
                       boolean lockHeld, Instant leaseDeadline, String leader, String actionInProgress,
                       CycleResult lastResult, ClusterSettings settings, PostgresStatus postgres,
                       ClusterView cluster, Instant dcsLastSeen, RestartRequest scheduledRestart) {

    /** Whether the cluster is in maintenance mode ({@code pause} in the {@code config} key in force). */
    public boolean paused() {
        return settings.pause();
    }

    /**
     * Whether this member is a synchronous standby now: synchronous replication is on and the
     * {@code sync} key, written by the current leader, names it (Patroni's {@code is_sync_standby});
     * in quorum mode it is then one of the quorum's voters.
     */
    public boolean synchronousStandby() {
        var sync = cluster.sync();
        return settings.synchronousMode().isSynchronous() && sync != null && sync.leader() != null
                && cluster.isLeader(sync.leader()) && sync.syncStandbys().contains(member);
    }

    /** This snapshot after its lease ran out: not holding the lock, no deadline. */
    HaStatus withLeaseExpired() {
        return new HaStatus(member, state, role, postgresState, false, null, leader, actionInProgress, lastResult,
                settings, postgres, cluster, dcsLastSeen, scheduledRestart);
    }
}
