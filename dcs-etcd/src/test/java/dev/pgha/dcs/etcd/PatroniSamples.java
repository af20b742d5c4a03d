package dev.pgha.dcs.etcd;

/**
 * Values exactly as Patroni 3.0.2 writes them to etcd, observed from a running Patroni cluster
 * (the same samples as {@code dev.pgha.dcs.values.PatroniValuesTest}, which checks the codecs on
 * them; here they are written to a real etcd).
 */
final class PatroniSamples {

    static final String NODE1 = "{\"conn_url\":\"postgres://127.0.0.1:55431/postgres\",\"api_url\":"
            + "\"http://127.0.0.1:58001/patroni\",\"state\":\"running\",\"role\":\"master\",\"version\":\"3.0.2\","
            + "\"xlog_location\":151090208,\"timeline\":13}";
    static final String NODE2 = "{\"conn_url\":\"postgres://127.0.0.1:55432/postgres\",\"api_url\":"
            + "\"http://127.0.0.1:58002/patroni\",\"state\":\"running\",\"role\":\"replica\",\"version\":\"3.0.2\","
            + "\"xlog_location\":151080096,\"timeline\":13}";
    static final String NODE3_DOWN = "{\"conn_url\":\"postgres://127.0.0.1:55433/postgres\",\"api_url\":"
            + "\"http://127.0.0.1:58003/patroni\",\"state\":\"stopped\",\"role\":\"demoted\",\"version\":\"3.0.2\"}";
    static final String CONFIG = "{\"ttl\":30,\"loop_wait\":10,\"retry_timeout\":10,\"maximum_lag_on_failover\":1048576,"
            + "\"postgresql\":{\"use_pg_rewind\":true,\"use_slots\":true,\"parameters\":{\"wal_level\":\"replica\","
            + "\"hot_standby\":\"on\",\"wal_log_hints\":\"on\",\"max_wal_senders\":10,\"max_replication_slots\":10,"
            + "\"max_connections\":50,\"wal_keep_size\":\"128MB\"}}}";
    static final String HISTORY = "[[1,67309192,\"no recovery target specified\",\"2026-11-21T13:20:37.104383+00:00\","
            + "\"node3\"],[2,67359592,\"no recovery target specified\",\"2026-11-21T13:21:48.636385+00:00\",\"node1\"]]";

    private PatroniSamples() {
    }
}
