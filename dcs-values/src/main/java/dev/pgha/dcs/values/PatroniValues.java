package dev.pgha.dcs.values;

import dev.pgha.cluster.ClusterConfig;
import dev.pgha.cluster.ClusterStatus;
import dev.pgha.cluster.Failover;
import dev.pgha.cluster.Leader;
import dev.pgha.cluster.Member;
import dev.pgha.cluster.SyncState;
import dev.pgha.cluster.TimelineHistory;
import java.util.Map;
import java.util.Objects;

/**
 * Patroni's values of every key of a cluster, as Patroni 3.x writes them and Patroni 3 and 4 read
 * them, for any DCS adapter: the text to store for each record of {@code dev.pgha.cluster}, and the
 * record for each stored text. The README's "Keys and values" table shows every value.
 *
 * <p><b>Writing</b> gives compact JSON without spaces, fields in Patroni's order, absent values left
 * out; the primary's role is written as {@code "master"}, which Patroni 3's {@code patronictl}
 * compares with (Patroni 4 reads both); positions are decimal byte positions.
 *
 * <p><b>Reading</b> is lenient and never throws for what is stored: a field of the wrong type
 * reads as absent, a value that cannot be used at all reads as absent (as each method says), and
 * what was ignored is in {@link Decoded#problems()} for the adapter to log.
 * {@link ClusterDecoder} applies these decoders to a whole cluster read and does the logging.
 *
 * <p>Versions are the store's versions of the keys (see {@link StoredValue}), carried into the
 * records that compare-and-set uses ({@code config}, {@code failover}, {@code sync}).
 */
public final class PatroniValues {

    private PatroniValues() {
    }

    // ------------------------------------------------------------------ member

    /**
     * The member key's JSON, e.g.
     * {@code {"conn_url":"postgres://10.0.0.1:5432/postgres","api_url":"http://10.0.0.1:8008/patroni",
     * "state":"running","role":"master","version":"3.0.2","xlog_location":151090208,"timeline":13}}, plus
     * {@code checkpoint_after_promote}, {@code tags} (when not the defaults), {@code replication_state},
     * {@code replay_lsn}, {@code receive_lsn} and, last, {@code "watchdog_failed":true} when set.
     */
    public static String encodeMember(Member member) {
        return MemberCodec.encode(Objects.requireNonNull(member, "member"));
    }

    /**
     * A member key's value. {@code "master"} reads as {@code "primary"}; the legacy plain connection
     * string ({@code postgres://...}) as the {@code conn_url}; an unreadable {@code nofailover} tag
     * or {@code watchdog_failed} flag as set (the safe side). A value that is not a JSON object reads
     * as {@link Member#named(String)}, a member known only by name (as Patroni reads undecodable
     * member data), which the leader keeps no replication slot for.
     *
     * @param name  the member's name, the last segment of its key
     * @param value the stored text
     */
    public static Decoded<Member> decodeMember(String name, String value) {
        Problems p = new Problems();
        return p.result(MemberCodec.decode(Objects.requireNonNull(name, "name"), value, p));
    }

    // ------------------------------------------------------------------ leader

    /** The leader key's value: the holder's member name, as is. */
    public static String encodeLeader(String holder) {
        return Objects.requireNonNull(holder, "holder");
    }

    /**
     * The leader key's value. A blank name is kept (reported as a problem): the key exists, so it
     * still blocks a create-if-absent acquisition, but {@code ClusterView} reads it as unlocked.
     */
    public static Decoded<Leader> decodeLeader(String value) {
        Problems p = new Problems();
        String name = Objects.requireNonNullElse(value, "");
        if (name.isBlank()) {
            p.add("blank holder name");
        }
        return p.result(new Leader(name));
    }

    // -------------------------------------------------------------- initialize

    /**
     * The initialize key's value: the PostgreSQL system identifier in decimal, or {@code ""} while
     * the bootstrap winner runs initdb.
     */
    public static String encodeInitialize(String systemIdentifier) {
        return Objects.requireNonNull(systemIdentifier, "systemIdentifier");
    }

    /**
     * The initialize key's value, as is: anything but a decimal system identifier means "not
     * initialized yet" to {@code ClusterView.hasValidInitialize()}, so nothing is ignored here.
     */
    public static Decoded<String> decodeInitialize(String value) {
        return new Decoded<>(Objects.requireNonNullElse(value, ""), null);
    }

    // ------------------------------------------------------------------ config

    /** The config key: the configuration's data as a JSON object. */
    public static String encodeConfig(ClusterConfig config) {
        return ValueCodec.encodeConfig(Objects.requireNonNull(config, "config"));
    }

    /**
     * The config key. A value that is not a JSON object reads as empty data with {@code version}, so
     * a compare-and-set can still replace it; top-level {@code null}s are dropped.
     */
    public static Decoded<ClusterConfig> decodeConfig(String value, long version) {
        Problems p = new Problems();
        return p.result(ValueCodec.decodeConfig(value, version, p));
    }

    // ---------------------------------------------------------------- failover

    /**
     * The failover key: {@code {"leader":..,"member":..,"scheduled_at":..}} without absent fields,
     * {@code {}} for an empty request.
     */
    public static String encodeFailover(Failover failover) {
        return ValueCodec.encodeFailover(Objects.requireNonNull(failover, "failover"));
    }

    /**
     * The failover key: Patroni's JSON object or the legacy {@code leader:candidate} text. The value
     * is {@code null} (no request) for an empty value, {@code {}} (what Patroni leaves after a
     * switchover), or JSON that is not an object.
     */
    public static Decoded<Failover> decodeFailover(String value, long version) {
        Problems p = new Problems();
        return p.result(ValueCodec.decodeFailover(value, version, p));
    }

    // -------------------------------------------------------------------- sync

    /**
     * The sync key: {@code {"leader":..,"sync_standby":"a,b"}} ({@code null} when there is no
     * standby), plus {@code quorum} when set.
     */
    public static String encodeSync(SyncState sync) {
        return ValueCodec.encodeSync(Objects.requireNonNull(sync, "sync"));
    }

    /**
     * The sync key; {@code sync_standby} may be a comma list or a JSON list. A value that is not a
     * JSON object decodes as a key naming no leader, with a problem.
     */
    public static Decoded<SyncState> decodeSync(String value, long version) {
        Problems p = new Problems();
        return p.result(ValueCodec.decodeSync(value, version, p));
    }

    // ----------------------------------------------------------------- history

    /**
     * The history key: a list of {@code [timeline, lsn, reason]} or
     * {@code [timeline, lsn, reason, timestamp, new leader]}, timestamps as the entries hold them.
     */
    public static String encodeHistory(TimelineHistory history) {
        return ValueCodec.encodeHistory(Objects.requireNonNull(history, "history"));
    }

    /**
     * The history key. One unusable line makes the whole value unusable: it reads as
     * {@link TimelineHistory#EMPTY} (timeline unknown) rather than as a shorter history that would
     * name an older timeline. Timestamps are kept as stored, in any ISO-8601 form.
     */
    public static Decoded<TimelineHistory> decodeHistory(String value) {
        Problems p = new Problems();
        return p.result(ValueCodec.decodeHistory(value, p));
    }

    // ------------------------------------------------------------------ status

    /**
     * The status key as Patroni 4 writes it: {@code {"optime":N}}, plus {@code "slots":{name:N}} and
     * {@code "retain_slots":[...]} when not empty.
     */
    public static String encodeStatus(ClusterStatus status) {
        return ValueCodec.encodeStatus(Objects.requireNonNull(status, "status"));
    }

    /**
     * The status key; {@link ClusterStatus#EMPTY} when not a JSON object. Unusable slot entries and
     * retained names are skipped; {@code slots} and {@code retain_slots} may also be JSON text.
     */
    public static Decoded<ClusterStatus> decodeStatus(String value) {
        Problems p = new Problems();
        return p.result(ValueCodec.decodeStatus(value, p));
    }

    /** Patroni's pre-2.1 {@code optime/leader} key: a decimal WAL position; {@link ClusterStatus#EMPTY} otherwise. */
    public static Decoded<ClusterStatus> decodeLegacyOptime(String value) {
        Problems p = new Problems();
        return p.result(ValueCodec.decodeLegacyOptime(value, p));
    }

    // ---------------------------------------------------------------- failsafe

    /** The failsafe key: member name to {@code api_url}, as a JSON object. */
    public static String encodeFailsafe(Map<String, String> failsafe) {
        return ValueCodec.encodeFailsafe(Objects.requireNonNull(failsafe, "failsafe"));
    }

    /** The failsafe key; entries without a string value are skipped, and a value that is not a JSON object reads as empty. */
    public static Decoded<Map<String, String>> decodeFailsafe(String value) {
        Problems p = new Problems();
        return p.result(ValueCodec.decodeFailsafe(value, p));
    }
}
