package dev.pgha.dcs;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.ClusterView;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import java.time.Duration;

/**
 * The service-provider interface to a distributed configuration store (DCS): dumb, synchronous
 * storage for one cluster (one scope) with TTL-bound keys and compare-and-swap. It makes no HA
 * decisions; the engine does.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Every method either completes within the retry timeout ({@link #setRetryTimeout}) or
 *       throws {@link DcsException}. None blocks longer.</li>
 *   <li>A lost race or failed compare returns {@code false}; only an unreachable or failing store
 *       throws.</li>
 *   <li>The leader key holds a member name and expires {@code ttl} after it was last created or
 *       refreshed, unless deleted before. Member keys expire {@code ttl} after their last touch.
 *       An adapter may bind the leader key to its holder's member key (one lease, as Patroni's
 *       etcd3 backend does): then touching the holder's member key extends the leader key too, so
 *       it never expires earlier than stated here.</li>
 *   <li>Values written by other tools that cannot be decoded are treated as absent by
 *       {@link #readCluster()} (and logged by the adapter); they never make it throw.</li>
 *   <li>Implementations are thread-safe. One client serves one member, {@link #member()}, given
 *       when the client is built.</li>
 * </ul>
 */
public interface DcsClient extends AutoCloseable {

    /**
     * The member this client serves, fixed when the client was built (Patroni's {@code name}).
     * The leader-key calls act for it and {@link #touchMember} writes only its key. Never blank;
     * the same value on every call.
     */
    String member();

    /** Reads every key of the cluster in one consistent snapshot. */
    ClusterView readCluster();

    /**
     * Creates the leader key with {@link #member()}'s name if nobody holds it (create-if-absent).
     *
     * @return true if this member now holds the key; false if somebody else does
     */
    boolean acquireLeader(Duration ttl);

    /**
     * Extends {@link #member()}'s leader key by {@code ttl}: a compare on the value being this
     * member's name; if the key has expired and nobody took it, it is created again.
     *
     * @return true if this member holds the key for {@code ttl} from now; false if another holds it
     */
    boolean refreshLeader(Duration ttl);

    /**
     * Deletes the leader key if, and only if, {@link #member()} holds it.
     *
     * @return true if the key was this member's and is now gone
     */
    boolean releaseLeader();

    /**
     * Writes this member's key; it expires {@code ttl} after this call.
     *
     * @throws IllegalArgumentException when {@code member} is not {@link #member()}'s (a client
     *                                  writes no other member's key)
     */
    void touchMember(Member member, Duration ttl);

    /**
     * Deletes the key of the member named {@code member}, which need not be {@link #member()} (a
     * node leaving the cluster for good, or an operator removing one). Absent keys are ignored.
     */
    void deleteMember(String member);

    /**
     * Creates the initialize key with the given value if it does not exist (the bootstrap race).
     *
     * @return true if this call created it
     */
    boolean initialize(String value);

    /** Overwrites the initialize key (the winner writes the system identifier after bootstrap). */
    void setInitialize(String systemIdentifier);

    /** Deletes the initialize key (a failed bootstrap gives others their turn). */
    void cancelInitialization();

    /**
     * Writes the config key if its version still matches.
     *
     * @param expectedVersion the version read, 0 to create only if absent, or -1 to overwrite
     * @return false if the version did not match
     */
    boolean setConfig(ClusterConfig config, long expectedVersion);

    /**
     * Writes the failover key if its version still matches. A key emptied by a finished
     * switchover ({@code {}}) counts as absent.
     *
     * @param expectedVersion the version read, or 0 to create only if absent, or -1 to overwrite
     * @return false if the version did not match
     */
    boolean setFailover(Failover failover, long expectedVersion);

    /**
     * Deletes the failover key if its version still matches.
     *
     * @param expectedVersion the version read, or -1 to delete unconditionally
     * @return false if the version did not match
     */
    boolean deleteFailover(long expectedVersion);

    /** Writes the status key (unconditionally: only the leader writes it). */
    void writeStatus(ClusterStatus status);

    /** Writes the history key (unconditionally: only the leader writes it). */
    void writeHistory(TimelineHistory history);

    /**
     * Writes the sync key if its version still matches.
     *
     * @param expectedVersion the version read, or 0 to create only if absent, or -1 to overwrite
     * @return false if the version did not match
     */
    boolean writeSync(SyncState sync, long expectedVersion);

    /** Deletes the sync key (synchronous replication disabled). Absent keys are ignored. */
    void deleteSync();

    /**
     * Registers a callback that runs when the leader or failover key changes hands, is written or
     * deleted, or expires (a refresh that only extends the same holder's lease is not a change), so a
     * host can run its next cycle at once instead of waiting for the loop interval. The callback
     * runs on a thread of the adapter's and must return quickly (typically it wakes the host's
     * scheduler). Adapters without change notification return a no-op subscription.
     */
    default Subscription watch(Runnable onChange) {
        return Subscription.NONE;
    }

    /** Sets how long any call may take, retries included (Patroni's {@code retry_timeout}). */
    default void setRetryTimeout(Duration retryTimeout) {
    }

    /** Releases the adapter's resources. Keys bound to TTLs are left to expire. */
    @Override
    void close();

    /** A registration made with {@link #watch}; closing it stops the callbacks. */
    @FunctionalInterface
    interface Subscription extends AutoCloseable {

        /** A subscription that does nothing. */
        Subscription NONE = () -> { };

        /** Stops the callbacks. */
        @Override
        void close();
    }
}
