package dev.pgha.cluster;

import java.util.Objects;

/**
 * One member as published in {@code members/<name>}: what the node itself says about its
 * PostgreSQL every cycle. Values follow Patroni's member JSON; LSNs are byte positions.
 *
 * @param name             member name (the key's last segment)
 * @param connUrl          {@code conn_url}: {@code postgres://host:port/postgres}, never with a password
 * @param apiUrl           {@code api_url} of the host's REST endpoint, or null when it has none
 * @param state            {@code state}: PostgreSQL state as Patroni names it ("running", "stopped", ...)
 * @param role             {@code role}: "primary" (Patroni 3 writes "master"), "replica", "demoted", ...
 * @param version          {@code version}: the agent's version
 * @param xlogLocation     {@code xlog_location}: flush LSN on a primary, max(receive, replay) on a
 *                         replica; null when unknown
 * @param receiveLsn       {@code receive_lsn} on a replica, else null
 * @param replayLsn        {@code replay_lsn} on a replica, else null
 * @param replicationState {@code replication_state}: "streaming" or "in archive recovery", else null
 * @param timeline         {@code timeline}, null when unknown
 * @param tags             the member's tags
 * @param checkpointAfterPromotePending {@code checkpoint_after_promote: false} is published while a
 *                         newly promoted leader has not yet run its CHECKPOINT (pg_rewind waits for it)
 * @param watchdogFailed   {@code watchdog_failed: true}: the member's fencing guard is required but
 *                         cannot be activated, so it must not become leader (Patroni publishes the
 *                         same flag in its REST status and calls such a member "not watchdog capable")
 * @param pendingRestart   {@code pending_restart: true}: its PostgreSQL runs with settings that take
 *                         effect only after a restart (Patroni 3 publishes it in the member key;
 *                         {@code patronictl list} shows it in its "Pending restart" column)
 * @param scheduledRestart {@code scheduled_restart.schedule}: when a restart is scheduled on the member
 *                         (Patroni's ISO time), else null
 * @param pause            {@code pause: true}: the member runs in maintenance mode
 * @param quorumVote       {@code quorum_vote} (pgha's field; Patroni ignores it): in quorum commit, the
 *                         version of the {@code sync} key under which this replica read its WAL position
 *                         after it saw no leader key; null otherwise. A candidate counts a quorum vote
 *                         only from such a position: one read while a leader ran may lack commits the
 *                         member acknowledged since (Patroni asks the members' REST APIs instead)
 */
public record Member(String name, String connUrl, String apiUrl, String state, String role, String version,
                     Long xlogLocation, Long receiveLsn, Long replayLsn, String replicationState,
                     Long timeline, MemberTags tags, boolean checkpointAfterPromotePending, boolean watchdogFailed,
                     boolean pendingRestart, String scheduledRestart, boolean pause, Long quorumVote) {

    /** Validates the name and fills in default tags. */
    public Member {
        Objects.requireNonNull(name, "name");
        tags = Objects.requireNonNullElse(tags, MemberTags.DEFAULT);
        if (scheduledRestart != null && scheduledRestart.isBlank()) {
            scheduledRestart = null;
        }
    }

    /** A member that publishes no quorum vote: the components of earlier versions of this record. */
    public Member(String name, String connUrl, String apiUrl, String state, String role, String version,
                  Long xlogLocation, Long receiveLsn, Long replayLsn, String replicationState,
                  Long timeline, MemberTags tags, boolean checkpointAfterPromotePending, boolean watchdogFailed,
                  boolean pendingRestart, String scheduledRestart, boolean pause) {
        this(name, connUrl, apiUrl, state, role, version, xlogLocation, receiveLsn, replayLsn, replicationState,
                timeline, tags, checkpointAfterPromotePending, watchdogFailed, pendingRestart, scheduledRestart, pause,
                null);
    }

    /** A member with no restart scheduled, not paused: the components of earlier versions of this record. */
    public Member(String name, String connUrl, String apiUrl, String state, String role, String version,
                  Long xlogLocation, Long receiveLsn, Long replayLsn, String replicationState,
                  Long timeline, MemberTags tags, boolean checkpointAfterPromotePending, boolean watchdogFailed,
                  boolean pendingRestart) {
        this(name, connUrl, apiUrl, state, role, version, xlogLocation, receiveLsn, replayLsn, replicationState,
                timeline, tags, checkpointAfterPromotePending, watchdogFailed, pendingRestart, null, false);
    }

    /** A member with no restart pending: the components of earlier versions of this record. */
    public Member(String name, String connUrl, String apiUrl, String state, String role, String version,
                  Long xlogLocation, Long receiveLsn, Long replayLsn, String replicationState,
                  Long timeline, MemberTags tags, boolean checkpointAfterPromotePending, boolean watchdogFailed) {
        this(name, connUrl, apiUrl, state, role, version, xlogLocation, receiveLsn, replayLsn, replicationState,
                timeline, tags, checkpointAfterPromotePending, watchdogFailed, false);
    }

    /**
     * A member whose fencing guard is fine ({@code watchdogFailed} false) and with no restart
     * pending: the components of earlier versions of this record.
     */
    public Member(String name, String connUrl, String apiUrl, String state, String role, String version,
                  Long xlogLocation, Long receiveLsn, Long replayLsn, String replicationState,
                  Long timeline, MemberTags tags, boolean checkpointAfterPromotePending) {
        this(name, connUrl, apiUrl, state, role, version, xlogLocation, receiveLsn, replayLsn, replicationState,
                timeline, tags, checkpointAfterPromotePending, false);
    }

    /** This member with {@link #watchdogFailed()} set to {@code value}. */
    public Member withWatchdogFailed(boolean value) {
        return new Member(name, connUrl, apiUrl, state, role, version, xlogLocation, receiveLsn, replayLsn,
                replicationState, timeline, tags, checkpointAfterPromotePending, value, pendingRestart, scheduledRestart,
                pause, quorumVote);
    }

    /** This member with {@link #pendingRestart()} set to {@code value}. */
    public Member withPendingRestart(boolean value) {
        return new Member(name, connUrl, apiUrl, state, role, version, xlogLocation, receiveLsn, replayLsn,
                replicationState, timeline, tags, checkpointAfterPromotePending, watchdogFailed, value, scheduledRestart,
                pause, quorumVote);
    }

    /** A member known only by name (for example one that appears only in the leader key). */
    public static Member named(String name) {
        return new Member(name, null, null, null, null, null, null, null, null, null, null, MemberTags.DEFAULT, false);
    }

    /** Whether the member says it runs as primary ({@code "primary"} or Patroni 3's {@code "master"}). */
    public boolean isPrimaryRole() {
        return "primary".equals(role) || "master".equals(role);
    }

    /** Whether the member says its PostgreSQL is running. */
    public boolean isRunning() {
        return "running".equals(state);
    }

    /**
     * The member's WAL position as the leader race compares it: its flush position as primary,
     * max(receive, replay) as replica; 0 when it published none.
     */
    public long walPosition() {
        long pos = xlogLocation == null ? 0 : xlogLocation;
        if (!isPrimaryRole()) {
            pos = Math.max(pos, receiveLsn == null ? 0 : receiveLsn);
            pos = Math.max(pos, replayLsn == null ? 0 : replayLsn);
        }
        return pos;
    }
}
