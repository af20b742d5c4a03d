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
 * decisions; the engine does. {@code DcsClientContractTest} in the test kit checks the rules
 * stated here; every adapter runs it.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li><b>One member.</b> A client serves one member, {@link #member()}, fixed when the client is
 *       built. The leader-key calls act for that member and {@link #touchMember} writes only its
 *       key. Implementations are thread-safe.</li>
 *   <li><b>Time.</b> Every method either completes within the retry timeout
 *       ({@link #setRetryTimeout}) or throws {@link DcsException}. None blocks longer, also when
 *       the store cannot be reached ({@link #watch} then returns within it too).</li>
 *   <li><b>Races.</b> A lost race or failed compare returns {@code false}; only an unreachable or
 *       failing store throws. The engine relies on that split: {@code false} means "somebody else
 *       holds it", an exception means "I do not know".</li>
 *   <li><b>TTLs.</b> The leader key holds a member name and expires {@code ttl} after it was last
 *       created or refreshed, unless deleted before; a member key expires {@code ttl} after its
 *       last touch (an adapter may skip refreshing a member key's lease while at least half the
 *       {@code ttl} is left: such a key lives at least {@code ttl/2} after its last touch, and no
 *       more than {@code ttl}). A store may notice an expiry somewhat late (and round a TTL up),
 *       never early.
 *       Nothing keeps a key alive in the background: without further calls it expires. An adapter
 *       may bind the leader key to its holder's member key (one lease, as Patroni's etcd3 backend
 *       does): then touching the holder's member key extends the leader key too, so it never
 *       expires earlier than stated here. A {@code ttl} that is not positive throws
 *       {@link IllegalArgumentException}.</li>
 *   <li><b>Reads.</b> {@link #readCluster()} shows this client's own writes at once. Another
 *       client's write may show a short while later (an adapter that reads from a watch-fed cache
 *       lags the store by the watch's delay), and the snapshot is always consistent: the state of
 *       the store at one moment. Nothing that matters depends on a read being current: the lock
 *       calls and the versioned writes compare in the store.</li>
 *   <li><b>Absent and expired keys.</b> A key whose TTL ran out reads exactly like a key that was
 *       never written; {@link #readCluster()} gives absent keys the values listed there.</li>
 *   <li><b>Versions.</b> The {@code config}, {@code failover} and {@code sync} keys carry a version,
 *       read with the key ({@link ClusterConfig#version()}, {@link Failover#version()},
 *       {@link SyncState#version()}): a positive number that changes with every write of the key.
 *       Versions are opaque: a write's {@code expectedVersion} is compared for equality with the
 *       key's current version, nothing else (adapters need not number them densely or in any
 *       shared order). {@code 0} means "only if the key is absent", and an emptied
 *       {@code failover} key ({@code {}}) counts as absent; {@code -1} writes or deletes
 *       unconditionally. A version below {@code -1} throws {@link IllegalArgumentException}. The
 *       {@code version} of a record passed to a write is ignored.</li>
 *   <li><b>Values.</b> What a write stores reads back equal from {@link #readCluster()}: member
 *       keys with every field of {@link Member}, the config's data (nested maps, lists, strings,
 *       booleans; integral numbers come back as {@link Long}, so write them as {@code Long}),
 *       the failover request with its {@code scheduled_at} text as written, sync, status and
 *       history. Values written by other tools that cannot be decoded are treated as absent by
 *       {@link #readCluster()} (and logged by the adapter); they never make it throw.</li>
 *   <li><b>Closing.</b> After {@link #close()}, calls that would reach the store (and
 *       {@link #watch}) throw {@link IllegalStateException}.</li>
 * </ul>
 */
public interface DcsClient extends AutoCloseable {

    /**
     * The member this client serves, fixed when the client was built (Patroni's {@code name}).
     * The leader-key calls act for it and {@link #touchMember} writes only its key. Never blank;
     * the same value on every call. A controller accepts only a client whose member is its
     * configured name.
     */
    String member();

    /**
     * Reads every key of the cluster in one consistent snapshot. Absent (or expired) keys read as:
     * {@code initialize} null; no leader ({@link ClusterView#isUnlocked()}, {@code leader()}
     * null); a member missing from {@link ClusterView#members()}; {@code config}
     * {@link ClusterConfig#EMPTY} (no data, version 0); {@code failover} null (also when emptied);
     * {@code sync} null; {@code status} {@link ClusterStatus#EMPTY} (optime 0);
     * {@code history} {@link TimelineHistory#EMPTY}; {@code failsafe} an empty map.
     */
    ClusterView readCluster();

    /**
     * Creates the leader key with {@link #member()}'s name, expiring {@code ttl} from now, if it
     * is absent (never written, released, or expired): create-if-absent. Of several members
     * acquiring at the same time exactly one gets {@code true}.
     *
     * <p>It returns {@code false} whenever the key exists, <em>also when this member already holds
     * it</em>: acquiring is not refreshing (use {@link #refreshLeader}). A {@code false} leaves the
     * key as it was, holder and expiry.
     *
     * @return true if this call created the key for this member; false if the key existed
     * @throws IllegalArgumentException when {@code ttl} is not positive
     */
    boolean acquireLeader(Duration ttl);

    /**
     * Extends {@link #member()}'s leader key to {@code ttl} from now: a compare on the value being
     * this member's name. If the key is absent (it expired or was released) and nobody took it,
     * it is created again for this member. If another member holds it, nothing changes. A
     * refresh by the holder is not a change for {@link #watch}.
     *
     * @return true if this member holds the key for {@code ttl} from now; false if another holds it
     * @throws IllegalArgumentException when {@code ttl} is not positive
     */
    boolean refreshLeader(Duration ttl);

    /**
     * Deletes the leader key if, and only if, {@link #member()} holds it. A key held by another
     * member is left as it is.
     *
     * @return true if the key was this member's and is now gone; false if it was absent (never
     *         acquired, already released, expired) or another member's
     */
    boolean releaseLeader();

    /**
     * Writes this member's key ({@code members/<name>}) with every field of {@code member}; it
     * expires {@code ttl} after this call, so each touch renews it.
     *
     * @throws IllegalArgumentException when {@code member} is not {@link #member()}'s (a client
     *                                  writes no other member's key) or {@code ttl} is not positive
     */
    void touchMember(Member member, Duration ttl);

    /**
     * Deletes the key of the member named {@code member}, which need not be {@link #member()} (a
     * node leaving the cluster for good, or an operator removing one). Other member keys stay.
     * Absent keys are ignored.
     */
    void deleteMember(String member);

    /**
     * Creates the initialize key with the given value ({@code ""} while bootstrapping) if it does
     * not exist: the bootstrap race. Of several members initializing at the same time exactly one
     * gets {@code true}. An existing key is never overwritten.
     *
     * @return true if this call created it; false if it existed
     */
    boolean initialize(String value);

    /**
     * Overwrites (or creates) the initialize key (the winner writes the system identifier after
     * bootstrap).
     */
    void setInitialize(String systemIdentifier);

    /**
     * Deletes the initialize key (a failed bootstrap gives others their turn: {@link #initialize}
     * can win again). Absent keys are ignored.
     */
    void cancelInitialization();

    /**
     * Writes the config key if its version still matches (see the class's rules on versions).
     * The data reads back equal, integral numbers as {@link Long}.
     *
     * @param expectedVersion the version read, 0 to create only if absent, or -1 to overwrite
     * @return false if the version did not match (the key is left as it was)
     */
    boolean setConfig(ClusterConfig config, long expectedVersion);

    /**
     * Writes the failover key if its version still matches. A key emptied by a finished
     * switchover ({@code {}}) counts as absent for {@code 0}, and an emptied request written here
     * reads as no request.
     *
     * @param expectedVersion the version read, or 0 to create only if absent, or -1 to overwrite
     * @return false if the version did not match (the key is left as it was)
     */
    boolean setFailover(Failover failover, long expectedVersion);

    /**
     * Deletes the failover key if its version still matches.
     *
     * @param expectedVersion the version read, or -1 to delete unconditionally
     * @return false if the version did not match (the key is left as it was)
     */
    boolean deleteFailover(long expectedVersion);

    /** Writes the status key (unconditionally: only the leader writes it); it reads back equal. */
    void writeStatus(ClusterStatus status);

    /** Writes the history key (unconditionally: only the leader writes it); it reads back equal. */
    void writeHistory(TimelineHistory history);

    /**
     * Writes the sync key if its version still matches.
     *
     * @param expectedVersion the version read, or 0 to create only if absent, or -1 to overwrite
     * @return false if the version did not match (the key is left as it was)
     */
    boolean writeSync(SyncState sync, long expectedVersion);

    /** Deletes the sync key (synchronous replication disabled). Absent keys are ignored. */
    void deleteSync();

    /**
     * Registers a callback that runs when the leader key is created, deleted (released), taken
     * over by another member or expires, and when the failover key is written or deleted, so a
     * host can run its next cycle at once instead of waiting for the loop interval.
     *
     * <ul>
     *   <li>The watch is live once this method has returned: it reports every later change (a
     *       quick succession of changes may come as one callback).</li>
     *   <li>It does not fire for a refresh that only extends the same holder's lease, nor for
     *       writes of other keys (members, config, initialize, ...). An adapter may rarely fire
     *       without a change, when it may have missed one; the callback is a hint to run a
     *       cycle, not an event to count.</li>
     *   <li>An expiry is reported once the store notices it (possibly somewhat after the ttl).</li>
     *   <li>It returns within the retry timeout and throws no {@link DcsException}, also when the
     *       store cannot be reached; changes made while this member cannot reach the store may be
     *       missed.</li>
     *   <li>The callback runs on a thread of the adapter's and must return quickly (typically it
     *       wakes the host's scheduler). Closing the subscription stops the callbacks; closing it
     *       again does nothing.</li>
     * </ul>
     *
     * <p>Adapters without change notification return {@link Subscription#NONE}.
     */
    default Subscription watch(Runnable onChange) {
        return Subscription.NONE;
    }

    /** Sets how long any call may take, retries included (Patroni's {@code retry_timeout}). */
    default void setRetryTimeout(Duration retryTimeout) {
    }

    /** Releases the adapter's resources. Keys bound to TTLs are left to expire. Idempotent. */
    @Override
    void close();

    /** A registration made with {@link #watch}; closing it stops the callbacks. */
    @FunctionalInterface
    interface Subscription extends AutoCloseable {

        /** A subscription that does nothing. */
        Subscription NONE = () -> { };

        /** Stops the callbacks; idempotent. */
        @Override
        void close();
    }
}
