package dev.pgha.testing;

/**
 * Values exactly as Patroni 3.0.2 writes them to its DCS, observed from a running Patroni cluster
 * on etcd: three member keys (a primary, a replica, a stopped member), the {@code config} key and
 * the {@code history} key. Adapter tests write them to a real store and read them back; codec
 * tests decode and encode them. A custom DCS adapter can use them the same way.
 */
public final class PatroniSamples {

    /** The member key of the primary {@code node1}. */
    public static final String NODE1 = "{\"conn_url\":\"postgres://127.0.0.1:55431/postgres\",\"api_url\":"
            + "\"http://127.0.0.1:58001/patroni\",\"state\":\"running\",\"role\":\"master\",\"version\":\"3.0.2\","
            + "\"xlog_location\":151090208,\"timeline\":13}";
    /** The member key of the streaming replica {@code node2}. */
    public static final String NODE2 = "{\"conn_url\":\"postgres://127.0.0.1:55432/postgres\",\"api_url\":"
            + "\"http://127.0.0.1:58002/patroni\",\"state\":\"running\",\"role\":\"replica\",\"version\":\"3.0.2\","
            + "\"xlog_location\":151080096,\"timeline\":13}";
    /** The member key of {@code node3}, stopped after a demotion. */
    public static final String NODE3_DOWN = "{\"conn_url\":\"postgres://127.0.0.1:55433/postgres\",\"api_url\":"
            + "\"http://127.0.0.1:58003/patroni\",\"state\":\"stopped\",\"role\":\"demoted\",\"version\":\"3.0.2\"}";
    /** The {@code config} key after bootstrap, with PostgreSQL parameters. */
    public static final String CONFIG = "{\"ttl\":30,\"loop_wait\":10,\"retry_timeout\":10,\"maximum_lag_on_failover\":1048576,"
            + "\"postgresql\":{\"use_pg_rewind\":true,\"use_slots\":true,\"parameters\":{\"wal_level\":\"replica\","
            + "\"hot_standby\":\"on\",\"wal_log_hints\":\"on\",\"max_wal_senders\":10,\"max_replication_slots\":10,"
            + "\"max_connections\":50,\"wal_keep_size\":\"128MB\"}}}";
    /** The {@code history} key after two failovers. */
    public static final String HISTORY = "[[1,67309192,\"no recovery target specified\",\"2026-11-21T13:20:37.104383+00:00\","
            + "\"node3\"],[2,67359592,\"no recovery target specified\",\"2026-11-21T13:21:48.636385+00:00\",\"node1\"]]";

    private PatroniSamples() {
    }
}
