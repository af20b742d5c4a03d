package dev.pgha.postgres;

import dev.pgha.cluster.Member;
import dev.pgha.cluster.TimelineHistory;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The local PostgreSQL as the HA engine drives it. {@code LocalPostgres} implements it over the
 * server binaries; tests use a scriptable fake.
 *
 * <p>Quick calls ({@link #status()}, {@link #controlData()}, {@link #reload()},
 * {@link #applyParameters(Map)}) answer at once.
 * Long actions return a {@link PostgresOperation} whose completion the engine observes on later
 * cycles; at most one runs at a time, and the engine never starts a second before the first has
 * finished (except {@link PostgresOperation#cancel()}). Failures of long actions are reported
 * through the operation, never thrown; a call that cannot even begin (missing binary, unusable
 * data directory) throws {@link PostgresException}. A call that breaks this contract (a second
 * long action while one runs, promoting a server that is not a running standby, rewinding a
 * running server) returns a failed operation.
 *
 * <p>After the postmaster died unexpectedly, {@link #status()} reports
 * {@link PostgresState#CRASHED} until the next action begins.
 */
public interface PostgresProcess {

    /** Observes the server now. Never throws: what cannot be known is reported as unknown. */
    PostgresStatus status();

    /**
     * Reads {@code pg_controldata}.
     *
     * @throws PostgresException when the data directory has no readable control file
     */
    ControlData controlData();

    /** The URL other members use to reach this server, without a password ({@code postgres://host:port/postgres}). */
    String connectionUrl();

    /** Creates a new cluster in the empty data directory (initdb) and starts it as primary. */
    PostgresOperation bootstrap();

    /** Runs post-bootstrap work on the new primary: creates the replication and rewind roles. */
    PostgresOperation postBootstrap();

    /** Takes a base backup from {@code source} into the empty data directory (pg_basebackup). */
    PostgresOperation cloneFrom(Member source);

    /** Starts the postmaster with the recovery configuration already in the data directory. */
    PostgresOperation start();

    /**
     * Stops the postmaster. Unless the mode is immediate, a CHECKPOINT runs first when
     * {@code checkpoint} is true. Writes stop being accepted as soon as the stop begins.
     */
    PostgresOperation stop(StopMode mode, boolean checkpoint);

    /** Stops (fast) and starts again. */
    PostgresOperation restart();

    /**
     * Configures the server as a replica of {@code upstream} ({@code standby.signal} and
     * {@code primary_conninfo} with {@code application_name} = this member), or as a replica with
     * no upstream when {@code upstream} is null; then starts it if stopped, or restarts or reloads
     * it if the configuration changed. Completes when it accepts connections.
     */
    PostgresOperation follow(Member upstream);

    /**
     * Like {@link #follow(Member)}, and streams through the physical replication slot
     * {@code slotName} on the upstream ({@code primary_slot_name}); null streams without a slot.
     * The default ignores the slot.
     */
    default PostgresOperation follow(Member upstream, String slotName) {
        return follow(upstream);
    }

    /** Promotes a running replica and, once it left recovery, runs a CHECKPOINT. */
    PostgresOperation promote();

    /** Rewinds the stopped data directory from {@code source} (pg_rewind). */
    PostgresOperation rewind(Member source);

    /** Runs crash recovery in single-user mode so the data directory ends cleanly shut down. */
    PostgresOperation crashRecovery();

    /** Removes the data directory's contents (before a re-clone). The server must be stopped. */
    void removeDataDirectory();

    /**
     * A quick look the host takes often between cycles (every few tens of milliseconds, on the
     * thread that runs the cycles), so that it acts at once on what it would otherwise see only at
     * the next cycle, up to {@code loop_wait} later: like the DCS watch, an answer of true asks
     * for a cycle now. True when, since the previous call, the postmaster exited (crashed or
     * stopped), appeared, or changed its state (starting, accepting connections, promoted,
     * stopping), or the running long action ended; the first call only takes the baseline. It may
     * advance the running long action, as {@link #status()} does.
     *
     * <p>Never throws and never waits; the engine itself never calls it. The default (an
     * implementation that cannot tell) always answers false: the host then learns of such changes
     * at its next cycle.
     */
    default boolean changed() {
        return false;
    }

    /** Reloads the configuration ({@code pg_ctl reload}). @return false when it could not */
    boolean reload();

    /**
     * Puts the cluster-wide PostgreSQL parameters in force: Patroni's {@code postgresql.parameters}
     * of the DCS {@code config} key (before the key was read, those of {@code bootstrap.dcs}). The
     * engine calls it on every cycle, before anything may start PostgreSQL, with the parameters in
     * force; the implementation acts only when they differ from the last ones given (otherwise it
     * is a quick no-op). A quick call that never throws for PostgreSQL's answers.
     *
     * <p>The implementation merges them with its member-local parameters as Patroni does
     * ({@link PostgresParameters#merge}) and uses the result from the next start on. When the
     * server runs and the result changed, it reloads: parameters PostgreSQL can change at a
     * reload take effect at once; for the others (context {@code postmaster}) nothing restarts,
     * and {@link PostgresStatus#pendingRestart()} reports them until a restart applied them. A
     * value PostgreSQL would refuse is left out, with a log line naming the parameter; the others
     * still apply.
     *
     * <p>The default ignores the parameters (an implementation that manages its configuration
     * itself).
     *
     * @param parameters the DCS's {@code postgresql.parameters}, as PostgreSQL's text values
     */
    default void applyParameters(Map<String, String> parameters) {
    }

    /**
     * The switch points that led to the current timeline (PostgreSQL's {@code .history} file),
     * oldest first; empty on timeline 1 or when unknown. The leader copies them to the DCS
     * {@code history} key, which replicas use to decide whether their data diverged.
     */
    default List<TimelineHistory.Entry> timelineHistory() {
        return List.of();
    }

    /**
     * The names of the physical replication slots of the running server, temporary ones excluded.
     * A quick call that never throws: empty when the server cannot be asked or has no slots.
     */
    default Set<String> replicationSlots() {
        return Set.of();
    }

    /**
     * The physical, non-temporary replication slots of the running server with their
     * {@code restart_lsn} ({@link Lsn#ZERO} when unknown, e.g. a slot that reserves no WAL). A quick
     * call that never throws: empty when the server cannot be asked or has no slots. The leader
     * publishes the positions of its member slots in the {@code status} key.
     *
     * <p>The default maps every slot of {@link #replicationSlots()} to {@link Lsn#ZERO}: the slots
     * are kept, but no positions are published.
     */
    default Map<String, Lsn> replicationSlotPositions() {
        Map<String, Lsn> out = new TreeMap<>();
        replicationSlots().forEach(slot -> out.put(slot, Lsn.ZERO));
        return out;
    }

    /**
     * Creates the physical replication slots named in {@code create} that do not exist yet
     * (reserving WAL at once) and drops the physical slots named in {@code drop} that exist and
     * are not in use. Logical slots and slots in use are never dropped. A quick call, meant for a
     * running primary, that never throws for PostgreSQL failures.
     *
     * @return whether every slot asked for was created or dropped (or already was)
     */
    default boolean syncReplicationSlots(Set<String> create, Set<String> drop) {
        return create.isEmpty() && drop.isEmpty();
    }

    /**
     * Synchronous replication as the running primary sees it: {@code synchronous_standby_names}
     * and {@code synchronous_commit} in force, its flush position and {@code pg_stat_replication},
     * from one query. A quick call that never throws: {@link ReplicationState#UNKNOWN} when the
     * server cannot be asked (the default: an implementation without synchronous replication).
     */
    default ReplicationState replicationState() {
        return ReplicationState.UNKNOWN;
    }

    /**
     * Puts a {@code synchronous_standby_names} in force that overrides the configured parameters
     * (the leader in {@code synchronous_mode} manages it), or with null hands it back to them (the
     * value of {@link #applyParameters}, or none). A running server reloads at once, so that the
     * next {@link #replicationState()} shows it; a stopped one starts with it. A quick call that
     * never throws for PostgreSQL's answers.
     *
     * <p>The default does nothing (an implementation without synchronous replication).
     *
     * @param value a {@link SyncStandbyNames#format formatted} value ("" for none), or null
     */
    default void synchronousStandbyNames(String value) {
    }
}
