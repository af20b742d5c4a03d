package dev.pgha.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.HaListener;
import dev.pgha.agent.AgentSettings.AgentSettingsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent's properties: defaults, every kind of value, and errors that name the key. */
class AgentSettingsTest {

    private static Properties minimal() {
        Properties p = new Properties();
        p.setProperty("scope", "demo");
        p.setProperty("name", "node1");
        p.setProperty("postgresql.data_dir", "/var/lib/pgha/node1/data");
        return p;
    }

    private static AgentSettings parse(Properties p) {
        return AgentSettings.parse(p, Map.of("REPL_PW", "from-env")::get);
    }

    private static void fails(Properties p, String key, String text) {
        assertThatThrownBy(() -> parse(p)).isInstanceOf(AgentSettingsException.class)
                .hasMessageContaining(text)
                .satisfies(e -> assertThat(((AgentSettingsException) e).key()).isEqualTo(key));
    }

    @Test
    void defaultsArePatronis() {
        AgentSettings s = parse(minimal());
        assertThat(s.dcsType()).isEqualTo("etcd");
        assertThat(s.etcdHosts()).containsExactly("127.0.0.1:2379");
        assertThat(s.namespace()).isEqualTo("/service");
        assertThat(s.ha().bootstrapDcs().ttl()).isEqualTo(Duration.ofSeconds(30));
        assertThat(s.ha().bootstrapDcs().loopWait()).isEqualTo(Duration.ofSeconds(10));
        assertThat(s.ha().bootstrapDcs().retryTimeout()).isEqualTo(Duration.ofSeconds(10));
        assertThat(s.ha().bootstrapDcs().primaryStartTimeout()).isEqualTo(Duration.ofSeconds(300));
        assertThat(s.ha().bootstrapDcs().usePgRewind()).isFalse();
        assertThat(s.postgres().port()).isEqualTo(5432);
        assertThat(s.postgres().listenAddresses()).isEqualTo("127.0.0.1");
        assertThat(s.postgres().superuser().username()).isEqualTo("postgres");
        assertThat(s.postgres().superuser().hasPassword()).isFalse();
        assertThat(s.postgres().replication().username()).isEqualTo("replicator");
        assertThat(s.shutdownTimeout()).isEqualTo(Duration.ofSeconds(120));
        assertThat(s.watchdogMode()).isEqualTo(dev.pgha.fencing.PostmasterGuard.Mode.AUTOMATIC);
        assertThat(s.safetyMargin()).isEqualTo(Duration.ofSeconds(5));
        assertThat(s.ha().bootstrapDcs().useSlots()).isTrue();
        assertThat(s.ha().bootstrapDcs().memberSlotsTtl()).isEqualTo(Duration.ofMinutes(30));
        assertThat(s.rest().listen()).isEqualTo("127.0.0.1:8008");
        assertThat(s.rest().authentication()).isFalse();
        assertThat(s.rest().tls()).isFalse();
        assertThat(s.ha().apiUrl()).isEqualTo("http://127.0.0.1:8008/patroni");
    }

    @Test
    void restApiSettingsHavePatronisNamesAndPublishTheApiUrl(@TempDir Path dir) throws Exception {
        Path pw = Files.writeString(dir.resolve("api.pw"), "s3cret\n");
        Properties p = minimal();
        p.setProperty("restapi.listen", "0.0.0.0:8010");
        p.setProperty("restapi.connect_address", "10.0.0.7:8010");
        p.setProperty("restapi.authentication.username", "admin");
        p.setProperty("restapi.authentication.password_file", pw.toString());
        AgentSettings s = parse(p);
        assertThat(s.rest().listenHost()).isEqualTo("0.0.0.0");
        assertThat(s.rest().password()).isEqualTo("s3cret");
        assertThat(s.ha().apiUrl()).isEqualTo("http://10.0.0.7:8010/patroni");
        Properties noConnect = minimal();
        noConnect.setProperty("restapi.listen", "0.0.0.0:8010");
        fails(noConnect, "restapi.connect_address", "must be set");
        Properties bad = minimal();
        bad.setProperty("restapi.verify_client", "sometimes");
        fails(bad, "restapi.verify_client", "none, optional or required");
        Properties inFile = minimal();
        inFile.setProperty("restapi.authentication.password", "x");
        fails(inFile, "restapi.authentication.password", "passwords are not accepted");
    }

    @Test
    void readsEveryKindOfSetting(@TempDir Path dir) throws Exception {
        Path pw = dir.resolve("su.pw");
        Files.writeString(pw, "su-secret\n");
        Properties p = minimal();
        p.setProperty("dcs.type", "inmemory");
        p.setProperty("ttl", "10");
        p.setProperty("loop_wait", "1");
        p.setProperty("retry_timeout", "3");
        p.setProperty("primary_start_timeout", "0");
        p.setProperty("postgresql.use_pg_rewind", "true");
        p.setProperty("postgresql.port", "5433");
        p.setProperty("postgresql.authentication.superuser.password_file", pw.toString());
        p.setProperty("postgresql.authentication.replication.username", "repl");
        p.setProperty("postgresql.authentication.replication.password_env", "REPL_PW");
        p.setProperty("postgresql.parameters.shared_buffers", "64MB");
        p.setProperty("postgresql.pg_hba", "local all all peer; host replication repl 10.0.0.0/8 scram-sha-256");
        p.setProperty("postgresql.callbacks.on_role_change", "/usr/local/bin/role-change");
        p.setProperty("tags.nofailover", "true");
        p.setProperty("tags.failover_priority", "2");
        p.setProperty("tags.zone", "a");
        p.setProperty("watchdog.mode", "required");
        p.setProperty("postgresql.use_slots", "false");
        AgentSettings s = parse(p);
        assertThat(s.dcsType()).isEqualTo("inmemory");
        assertThat(s.watchdogMode()).isEqualTo(dev.pgha.fencing.PostmasterGuard.Mode.REQUIRED);
        assertThat(s.ha().bootstrapDcs().useSlots()).isFalse();
        assertThat(s.ha().bootstrapDcs().ttl()).isEqualTo(Duration.ofSeconds(10));
        assertThat(s.ha().bootstrapDcs().primaryStartTimeout()).isZero();
        assertThat(s.ha().bootstrapDcs().usePgRewind()).isTrue();
        assertThat(s.ha().tags().noFailover()).isTrue();
        assertThat(s.ha().tags().failoverPriority()).isEqualTo(2);
        assertThat(s.ha().tags().custom()).containsEntry("zone", "a");
        assertThat(s.postgres().port()).isEqualTo(5433);
        assertThat(s.postgres().superuser().password()).isEqualTo("su-secret");
        assertThat(s.postgres().replication().username()).isEqualTo("repl");
        assertThat(s.postgres().replication().password()).isEqualTo("from-env");
        assertThat(s.postgres().parameters()).containsEntry("shared_buffers", "64MB");
        assertThat(s.postgres().hbaLines()).containsExactly("local all all peer",
                "host replication repl 10.0.0.0/8 scram-sha-256");
        assertThat(s.postgres().callbacks()).containsEntry(HaListener.Callback.ON_ROLE_CHANGE, "/usr/local/bin/role-change");
        assertThat(s.toString()).doesNotContain("su-secret", "from-env");
    }

    @Test
    void errorsNameTheKey() {
        Properties p = minimal();
        p.remove("scope");
        fails(p, "scope", "required");

        p = minimal();
        p.setProperty("loop_wait", "ten");
        fails(p, "loop_wait", "not a whole number of seconds");

        p = minimal();
        p.setProperty("loop_wait", "25");
        fails(p, "loop_wait", "loop_wait + 2*retry_timeout <= ttl");

        p = minimal();
        p.setProperty("dcs.type", "zookeeper");
        fails(p, "dcs.type", "must be etcd or inmemory");

        p = minimal();
        p.setProperty("ttll", "30");
        fails(p, "ttll", "unknown setting");

        p = minimal();
        p.setProperty("postgresql.authentication.superuser.password", "secret");
        fails(p, "postgresql.authentication.superuser.password", "passwords are not accepted");

        p = minimal();
        p.setProperty("postgresql.authentication.replication.password_env", "NOT_SET");
        fails(p, "postgresql.authentication.replication.password_env", "NOT_SET is not set");

        p = minimal();
        p.setProperty("postgresql.authentication.superuser.password_file", "/nonexistent/pw");
        fails(p, "postgresql.authentication.superuser.password_file", "cannot read /nonexistent/pw");

        p = minimal();
        p.setProperty("tags.nofailover", "maybe");
        fails(p, "tags.nofailover", "not true or false");

        p = minimal();
        p.setProperty("watchdog.mode", "sometimes");
        fails(p, "watchdog.mode", "must be off, automatic or required");

        p = minimal();
        p.setProperty("postgresql.port", "99999");
        fails(p, "postgresql.port", "");
    }

    @Test
    void bootstrapDcsSettingsGoToTheDcsAndPostgresqlParametersStayThisMembers() {
        Properties p = minimal();
        p.setProperty("bootstrap.dcs.ttl", "12");
        p.setProperty("bootstrap.dcs.loop_wait", "2");
        p.setProperty("bootstrap.dcs.retry_timeout", "4");
        p.setProperty("bootstrap.dcs.maximum_lag_on_failover", "2097152");
        p.setProperty("bootstrap.dcs.postgresql.use_pg_rewind", "true");
        p.setProperty("bootstrap.dcs.postgresql.parameters.max_connections", "150");
        p.setProperty("bootstrap.dcs.postgresql.parameters.work_mem", "8MB");
        p.setProperty("postgresql.parameters.work_mem", "16MB");

        AgentSettings s = parse(p);

        assertThat(s.ha().bootstrapDcs().ttl()).isEqualTo(Duration.ofSeconds(12));
        assertThat(s.ha().bootstrapDcs().loopWait()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.ha().bootstrapDcs().retryTimeout()).isEqualTo(Duration.ofSeconds(4));
        assertThat(s.ha().bootstrapDcs().maximumLagOnFailover()).isEqualTo(2097152);
        assertThat(s.ha().bootstrapDcs().usePgRewind()).isTrue();
        assertThat(s.ha().bootstrapDcs().postgresqlParameters()).containsOnly(Map.entry("max_connections", "150"),
                Map.entry("work_mem", "8MB"));
        assertThat(s.postgres().parameters()).containsOnly(Map.entry("work_mem", "16MB"));
    }

    @Test
    void aBootstrapDcsSettingGivenAlsoByItsBareNameIsRefusedAndErrorsNameTheKeyAsGiven() {
        Properties p = minimal();
        p.setProperty("ttl", "30");
        p.setProperty("bootstrap.dcs.ttl", "20");
        fails(p, "bootstrap.dcs.ttl", "given twice, also as ttl");

        p = minimal();
        p.setProperty("bootstrap.dcs.loop_wait", "ten");
        fails(p, "bootstrap.dcs.loop_wait", "not a whole number of seconds");

        p = minimal();
        p.setProperty("bootstrap.dcs.loop_wait", "25");
        fails(p, "bootstrap.dcs.loop_wait", "loop_wait + 2*retry_timeout <= ttl");

        p = minimal();
        p.setProperty("bootstrap.dcs.postgresql.parameters.bad name", "1");
        fails(p, "bootstrap.dcs.postgresql.parameters", "invalid name");

        p = minimal();
        p.setProperty("bootstrap.dcs.no_such_setting", "1");
        fails(p, "bootstrap.dcs.no_such_setting", "unknown setting");
    }
}
