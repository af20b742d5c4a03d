package dev.pgha.testing;

import dev.pgha.HaClock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The network and machines of one simulated cluster: every {@link FakePostgres} of the cluster is
 * registered here by member name, on one shared clock.
 *
 * <p><b>Replication is evaluated only on {@link #tick()}</b> (never lazily on {@code status()}),
 * so positions move at instants the test or simulation chooses: each tick first settles every
 * node's running operation against the clock, in registration order, then lets every
 * {@link StreamingStatus#STREAMING streaming} standby receive its upstream's whole WAL, repeating
 * until nothing moves (cascades need one pass per level). The one exception is a clean (fast or
 * smart) stop: like PostgreSQL's walsenders, it hands its shutdown checkpoint to the standbys
 * streaming from it at that moment. Everything is deterministic given the same sequence of calls.
 *
 * <p>A standby streams only when its WAL is a prefix of its upstream's: positions are compared
 * with each node's timeline lineage (see {@link FakePostgres#timelineHistory()}), in which every
 * timeline also carries the identity of the promotion that created it, so a fork is detected
 * even when two promotions picked the same timeline number.
 *
 * <p>Engine misuse of the {@link dev.pgha.postgres.PostgresProcess} contract (a second long
 * action while one runs, promoting a stopped server, cloning into a non-empty directory, ...) is
 * recorded in {@link #violations()}; in {@link #strict(boolean) strict} mode it throws
 * {@link IllegalStateException} instead. Not thread-safe: drive one world from one thread.
 */
public final class FakeWorld {

    /** The first fake port; the n-th registered node gets {@code BASE_PORT + n}. */
    public static final int BASE_PORT = 5432;

    private static final long SYSID_BASE = 7_000_000_000_000_000_000L;
    private static final long SYSID_RANGE = 1_000_000_000_000_000_000L;

    private final HaClock clock;
    private final long seed;
    private final Map<String, FakePostgres> nodes = new LinkedHashMap<>();
    private final List<String> violations = new ArrayList<>();
    private final FakeCommits commits = new FakeCommits(this);
    private long origins;
    private long bootstraps;
    private boolean strict;

    /** A world on this clock with seed 0. */
    public FakeWorld(HaClock clock) {
        this(clock, 0);
    }

    /** A world on this clock; the seed only changes the system identifiers bootstrap generates. */
    public FakeWorld(HaClock clock, long seed) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.seed = seed;
    }

    /** Registers a new server with an empty data directory and {@link FakeTimings#DEFAULTS}. */
    public FakePostgres add(String member) {
        return add(member, FakeTimings.DEFAULTS);
    }

    /**
     * Registers a new server with an empty data directory.
     *
     * @throws IllegalArgumentException when the name is taken
     */
    public FakePostgres add(String member, FakeTimings timings) {
        Objects.requireNonNull(member, "member");
        if (nodes.containsKey(member)) {
            throw new IllegalArgumentException("member already registered: " + member);
        }
        FakePostgres pg = new FakePostgres(this, member, BASE_PORT + nodes.size(), timings);
        nodes.put(member, pg);
        return pg;
    }

    /** The server of this member, if registered. */
    public Optional<FakePostgres> find(String member) {
        return Optional.ofNullable(member == null ? null : nodes.get(member));
    }

    /**
     * The server of this member.
     *
     * @throws IllegalArgumentException when no such member is registered
     */
    public FakePostgres get(String member) {
        return find(member).orElseThrow(() -> new IllegalArgumentException("no such member: " + member));
    }

    /** Every server, in registration order. */
    public List<FakePostgres> nodes() {
        return List.copyOf(nodes.values());
    }

    /** The shared clock. */
    public HaClock clock() {
        return clock;
    }

    /**
     * Brings the world up to the clock's now: settles every node's operation, then streams WAL
     * to every standby that can receive it (see the class comment).
     */
    public void tick() {
        nodes.values().forEach(FakePostgres::settle);
        for (int round = 0; round <= nodes.size(); round++) {
            boolean moved = false;
            for (FakePostgres n : nodes.values()) {
                moved |= stream(n, false);
            }
            if (!moved) {
                break;
            }
        }
        commits.settle();
    }

    /**
     * A client's commit of {@code bytes} on the member's server (a writable primary): it is
     * acknowledged as PostgreSQL's synchronous commit would be, at once without
     * {@code synchronous_standby_names}, else once the standbys it requires received it.
     *
     * @return whether the server took the write
     */
    public boolean commit(String member, long bytes) {
        return find(member).map(pg -> commits.commit(pg, bytes) != null).orElse(false);
    }

    /** The commits acknowledged to their clients so far (since {@link #forgetAcknowledged()}). */
    public List<FakeCommits.Commit> acknowledgedCommits() {
        return commits.acknowledged();
    }

    /** Whether the member's server holds the commit in its WAL (on the same timeline lineage). */
    public boolean holds(String member, FakeCommits.Commit commit) {
        return FakeCommits.contains(get(member), commit);
    }

    /** Forgets the commits acknowledged so far (after a manual failover, which may go to an asynchronous standby). */
    public void forgetAcknowledged() {
        commits.forgetAcknowledged();
    }

    /** A primary's synchronous_standby_names changed: waiting commits are looked at again. */
    void synchronousStandbyNamesChanged() {
        commits.settle();
    }

    /**
     * Appends {@code bytes} of WAL on the member's server if it is a writable primary.
     *
     * @return false when it is not writable (or not registered)
     */
    public boolean write(String member, long bytes) {
        return find(member).map(pg -> pg.write(bytes)).orElse(false);
    }

    /** The first server that is writable now, if any. */
    public Optional<FakePostgres> writablePrimary() {
        return nodes.values().stream().filter(FakePostgres::isWritable).findFirst();
    }

    /** Every server writable now (more than one is a split brain). */
    public List<FakePostgres> writablePrimaries() {
        return nodes.values().stream().filter(FakePostgres::isWritable).toList();
    }

    /** Makes contract violations throw {@link IllegalStateException} (true) or only be recorded (false, default). */
    public FakeWorld strict(boolean value) {
        this.strict = value;
        return this;
    }

    /** Contract violations recorded so far, oldest first, as {@code "member: what"}. */
    public List<String> violations() {
        return Collections.unmodifiableList(violations);
    }

    void violation(String what) {
        violations.add(what);
        if (strict) {
            throw new IllegalStateException(what);
        }
    }

    long nextOrigin() {
        return ++origins;
    }

    /** A fresh, deterministic 19-digit system identifier. */
    String newSystemIdentifier(String member) {
        long x = seed * 0x9E3779B97F4A7C15L + member.hashCode() * 0xBF58476D1CE4E5B9L + (++bootstraps);
        x ^= x >>> 31;
        x *= 0x94D049BB133111EBL;
        x ^= x >>> 29;
        return Long.toString(SYSID_BASE + Math.floorMod(x, SYSID_RANGE));
    }

    /** Hands a stopping server's final WAL to the standbys streaming from it. */
    void flushFrom(FakePostgres upstream) {
        for (FakePostgres n : nodes.values()) {
            if (upstream.name().equals(n.data.upstream)) {
                stream(n, true);
            }
        }
    }

    private boolean stream(FakePostgres n, boolean upstreamMayBeStopping) {
        if (status(n, upstreamMayBeStopping) != StreamingStatus.STREAMING) {
            return false;
        }
        FakePostgres up = nodes.get(n.data.upstream);
        if (up.data.wal == n.data.wal) {
            return false;
        }
        n.data.receive(up.data);
        if (n.data.slotName != null) {
            // the standby's feedback advances the slot it streams through (restart_lsn)
            up.data.slots.computeIfPresent(n.data.slotName, (slot, lsn) -> Math.max(lsn, n.data.wal));
        }
        return true;
    }

    /**
     * The replication slot {@code member} streams through: its {@code primary_slot_name} when it
     * streams and its upstream has that slot; empty otherwise.
     */
    public Optional<String> streamingSlot(String member) {
        FakePostgres n = nodes.get(member);
        if (n == null || n.data.slotName == null || status(n, false) != StreamingStatus.STREAMING) {
            return Optional.empty();
        }
        return nodes.get(n.data.upstream).data.slots.containsKey(n.data.slotName) ? Optional.of(n.data.slotName)
                : Optional.empty();
    }

    /** Whether a standby streams from {@code upstream} through {@code slot} (PostgreSQL's {@code active}). */
    boolean slotInUse(FakePostgres upstream, String slot) {
        return nodes.values().stream().anyMatch(n -> slot.equals(n.data.slotName)
                && upstream.name().equals(n.data.upstream) && status(n, false) == StreamingStatus.STREAMING);
    }

    StreamingStatus status(FakePostgres n, boolean upstreamMayBeStopping) {
        if (!n.acceptingNow()) {
            return StreamingStatus.NOT_RUNNING;
        }
        if (!n.inRecoveryNow()) {
            return StreamingStatus.NOT_A_STANDBY;
        }
        if (n.promotingNow()) {
            return StreamingStatus.PROMOTING;
        }
        if (n.isReplicationPaused()) {
            return StreamingStatus.PAUSED;
        }
        if (n.data.upstream == null) {
            return StreamingStatus.NO_UPSTREAM;
        }
        FakePostgres up = nodes.get(n.data.upstream);
        if (up == null || up == n) {
            return StreamingStatus.UNKNOWN_UPSTREAM;
        }
        if (!(up.acceptingNow() || upstreamMayBeStopping && up.postmasterNow()) || !up.data.isInitialized()) {
            return StreamingStatus.UPSTREAM_DOWN;
        }
        if (!Objects.equals(up.data.systemIdentifier, n.data.systemIdentifier)) {
            return StreamingStatus.SYSTEM_MISMATCH;
        }
        if (!n.data.lineage.agreesWith(up.data.lineage, Math.min(n.data.wal, up.data.wal))) {
            return StreamingStatus.DIVERGED;
        }
        if (n.data.wal > up.data.wal) {
            return StreamingStatus.AHEAD_OF_UPSTREAM;
        }
        return StreamingStatus.STREAMING;
    }

    @Override
    public String toString() {
        return "FakeWorld" + nodes.keySet();
    }
}
