package dev.pgha;

/**
 * What a cycle did, in one word; {@link CycleResult#message()} says it in Patroni's words.
 */
public enum CycleAction {
    /** Nothing needed doing: the leader kept its lock, or a replica kept following. */
    NONE,
    /** The lock was taken by a node already running as primary. */
    ACQUIRED_LOCK,
    /** A promotion was started (lock acquired or held). */
    PROMOTE,
    /** The node gave up being primary (stopped or reconfigured as replica). */
    DEMOTE,
    /** The node was (re)configured to follow the leader, or keeps following after a lost race. */
    FOLLOW,
    /** PostgreSQL was (re)started after it was found not running. */
    START,
    /** Single-user crash recovery was started. */
    CRASH_RECOVERY,
    /** pg_rewind was started. */
    REWIND,
    /** A restart of PostgreSQL was started (a scheduled restart fell due). */
    RESTART,
    /** The data directory is being wiped and re-cloned. */
    REINITIALIZE,
    /** A new cluster is being bootstrapped (initdb), or bootstrap is finishing. */
    BOOTSTRAP,
    /** A base backup from another member is being taken. */
    CLONE,
    /** Nothing can be done yet: waiting for another node, a timeout or a backoff. */
    WAIT,
    /** A long action is in progress; the lock was refreshed if held. */
    IN_PROGRESS,
    /** The leader key was released on purpose. */
    RELEASE_LOCK,
    /** The leader asked to step down for a switchover or manual failover. */
    SWITCHOVER,
    /** A start, clone or other action failed. */
    FAILED,
    /** The DCS could not be reached. */
    DCS_ERROR,
    /** PostgreSQL could not be queried. */
    POSTGRES_ERROR,
    /** The controller is closed (graceful shutdown done). */
    SHUTDOWN
}
