package dev.pgha.dcs.values;

/**
 * The names of a cluster's keys relative to its prefix ({@code <namespace>/<scope>/}, e.g.
 * {@code /service/demo/}), as every Patroni DCS backend names them. How the prefix is built and
 * how a key is stored (etcd keys, ZooKeeper znodes, Consul KV paths) is the adapter's business.
 */
public final class PatroniKeys {

    /** The leader lock: the holder's member name. */
    public static final String LEADER = "leader";
    /** The prefix of the member keys, {@code members/<name>}. */
    public static final String MEMBERS = "members/";
    /** The dynamic configuration (JSON). */
    public static final String CONFIG = "config";
    /** The PostgreSQL system identifier, {@code ""} while a bootstrap runs. */
    public static final String INITIALIZE = "initialize";
    /** A requested switchover or failover (JSON). */
    public static final String FAILOVER = "failover";
    /** The synchronous replication state (JSON). */
    public static final String SYNC = "sync";
    /** The timeline history (a JSON list). */
    public static final String HISTORY = "history";
    /** The leader's last WAL position and slots (JSON). */
    public static final String STATUS = "status";
    /** Failsafe mode's member list (JSON). */
    public static final String FAILSAFE = "failsafe";
    /** Where Patroni before 2.1 kept the leader's WAL position; read when {@code status} is absent. */
    public static final String LEGACY_OPTIME = "optime/leader";

    private PatroniKeys() {
    }

    /** The relative key of a member: {@code members/<name>}. */
    public static String member(String name) {
        return MEMBERS + name;
    }

    /**
     * The member name of a relative key {@code members/<name>}, or null when it is not a member key:
     * another key, an empty name ({@code members/}), or a deeper path such as {@code members/a/b}
     * (as in Patroni).
     */
    public static String memberName(String relative) {
        if (relative == null || !relative.startsWith(MEMBERS)) {
            return null;
        }
        String name = relative.substring(MEMBERS.length());
        return name.isEmpty() || name.contains("/") ? null : name;
    }
}
