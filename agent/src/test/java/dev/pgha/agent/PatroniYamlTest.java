package dev.pgha.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.ClusterSettings;
import dev.pgha.HaListener;
import dev.pgha.agent.AgentSettings.AgentSettingsException;
import dev.pgha.fencing.PostmasterGuard;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The agent's {@code patroni.yml}: Patroni's layout loads into the same settings as the
 * equivalent properties file, {@code PATRONI_*} variables override it, and every problem names
 * the key (and the line).
 */
class PatroniYamlTest {

    /** A Patroni 3 file in the shape of Patroni's postgres0.yml (minus what pgha refuses). */
    static final String PATRONI_YML = """
            scope: batman
            namespace: /service/
            name: postgresql0

            restapi:
              listen: 127.0.0.1:8008
              connect_address: 127.0.0.1:8008
              authentication:
                username: admin
                password: api-secret

            ctl:
              insecure: false

            etcd3:
              hosts:
              - 10.0.0.1:2379
              - 10.0.0.2:2379
              username: pgha
              password: etcd-secret

            bootstrap:
              dcs:
                ttl: 30
                loop_wait: 10
                retry_timeout: 10
                maximum_lag_on_failover: 1048576
                primary_start_timeout: 300
                synchronous_mode: false
                synchronous_node_count: 1
                postgresql:
                  use_pg_rewind: true
                  use_slots: true
                  parameters:
                    max_connections: 200
                    wal_log_hints: "on"
                    archive_mode: "on"
              initdb:
              - encoding: UTF8
              - data-checksums
              pg_hba:
              - host replication replicator 127.0.0.1/32 md5
              - host all all 0.0.0.0/0 md5

            postgresql:
              listen: 127.0.0.1:5432
              connect_address: 127.0.0.1:5432
              data_dir: data/postgresql0
              bin_dir: /usr/lib/postgresql/15/bin
              pgpass: /tmp/pgpass0
              authentication:
                replication:
                  username: replicator
                  password: rep-pass
                superuser:
                  username: postgres
                  password: zalando
                rewind:
                  username: rewind_user
                  password: rewind_password
              parameters:
                work_mem: 8MB
                pg_stat_statements.max: 5000
              callbacks:
                on_role_change: /usr/local/bin/role-change
              remove_data_directory_on_rewind_failure: true

            watchdog:
              mode: automatic
              safety_margin: 5

            tags:
                nofailover: false
                noloadbalance: false
                clonefrom: false
                nosync: false
                zone: a
            """;

    /** The same settings as a properties file (passwords from the environment). */
    static final String PROPERTIES = """
            scope=batman
            namespace=/service/
            name=postgresql0
            restapi.listen=127.0.0.1:8008
            restapi.connect_address=127.0.0.1:8008
            restapi.authentication.username=admin
            restapi.authentication.password_env=API_PW
            ctl.insecure=false
            etcd3.hosts=10.0.0.1:2379,10.0.0.2:2379
            etcd3.username=pgha
            etcd3.password_env=ETCD_PW
            bootstrap.dcs.ttl=30
            bootstrap.dcs.loop_wait=10
            bootstrap.dcs.retry_timeout=10
            bootstrap.dcs.maximum_lag_on_failover=1048576
            bootstrap.dcs.primary_start_timeout=300
            bootstrap.dcs.synchronous_mode=false
            bootstrap.dcs.synchronous_node_count=1
            bootstrap.dcs.postgresql.use_pg_rewind=true
            bootstrap.dcs.postgresql.use_slots=true
            bootstrap.dcs.postgresql.parameters.max_connections=200
            bootstrap.dcs.postgresql.parameters.wal_log_hints=on
            bootstrap.dcs.postgresql.parameters.archive_mode=on
            bootstrap.initdb=encoding=UTF8,data-checksums
            bootstrap.pg_hba=host replication replicator 127.0.0.1/32 md5; host all all 0.0.0.0/0 md5
            postgresql.listen=127.0.0.1
            postgresql.port=5432
            postgresql.connect_address=127.0.0.1
            postgresql.data_dir=data/postgresql0
            postgresql.bin_dir=/usr/lib/postgresql/15/bin
            postgresql.pgpass=/tmp/pgpass0
            postgresql.authentication.replication.username=replicator
            postgresql.authentication.replication.password_env=REPL_PW
            postgresql.authentication.superuser.username=postgres
            postgresql.authentication.superuser.password_env=SU_PW
            postgresql.authentication.rewind.username=rewind_user
            postgresql.authentication.rewind.password_env=REWIND_PW
            postgresql.parameters.work_mem=8MB
            postgresql.parameters.pg_stat_statements.max=5000
            postgresql.callbacks.on_role_change=/usr/local/bin/role-change
            postgresql.remove_data_directory_on_rewind_failure=true
            watchdog.mode=automatic
            watchdog.safety_margin=5
            tags.nofailover=false
            tags.noloadbalance=false
            tags.clonefrom=false
            tags.nosync=false
            tags.zone=a
            """;

    private static final Map<String, String> PASSWORDS = Map.of("API_PW", "api-secret", "ETCD_PW", "etcd-secret",
            "REPL_PW", "rep-pass", "SU_PW", "zalando", "REWIND_PW", "rewind_password");

    @Test
    void aPatroniYmlLoadsIntoTheSameSettingsAsTheEquivalentPropertiesFile(@TempDir Path dir) throws IOException {
        Path yml = Files.writeString(dir.resolve("patroni.yml"), PATRONI_YML);
        Path props = Files.writeString(dir.resolve("patroni.properties"), PROPERTIES);

        AgentSettings fromYaml = AgentSettings.load(yml, Map.of(), true);
        AgentSettings fromProperties = AgentSettings.load(props, PASSWORDS, true);

        assertThat(fromYaml).isEqualTo(fromProperties);
        // and they are what the file says
        assertThat(fromYaml.scope()).isEqualTo("batman");
        assertThat(fromYaml.etcdHosts()).containsExactly("10.0.0.1:2379", "10.0.0.2:2379");
        assertThat(fromYaml.etcdUser()).isEqualTo("pgha");
        assertThat(fromYaml.etcdPassword()).isEqualTo("etcd-secret");
        assertThat(fromYaml.ha().bootstrapDcs().usePgRewind()).isTrue();
        assertThat(fromYaml.ha().bootstrapDcs().synchronousMode()).isEqualTo(ClusterSettings.SynchronousMode.OFF);
        assertThat(fromYaml.ha().bootstrapDcs().postgresqlParameters()).containsEntry("max_connections", "200")
                .containsEntry("archive_mode", "on");
        assertThat(fromYaml.postgres().port()).isEqualTo(5432);
        assertThat(fromYaml.postgres().listenAddresses()).isEqualTo("127.0.0.1");
        assertThat(fromYaml.postgres().superuser().password()).isEqualTo("zalando");
        assertThat(fromYaml.postgres().rewind().username()).isEqualTo("rewind_user");
        assertThat(fromYaml.postgres().parameters()).containsEntry("pg_stat_statements.max", "5000");
        assertThat(fromYaml.postgres().hbaLines()).containsExactly("host replication replicator 127.0.0.1/32 md5",
                "host all all 0.0.0.0/0 md5");
        assertThat(fromYaml.postgres().dataChecksums()).isTrue();
        assertThat(fromYaml.postgres().encoding()).isEqualTo("UTF8");
        assertThat(fromYaml.postgres().callbacks()).containsEntry(HaListener.Callback.ON_ROLE_CHANGE,
                "/usr/local/bin/role-change");
        assertThat(fromYaml.ha().removeDataDirectoryOnRewindFailure()).isTrue();
        assertThat(fromYaml.rest().password()).isEqualTo("api-secret");
        assertThat(fromYaml.ha().tags().custom()).containsEntry("zone", "a");
        assertThat(fromYaml.watchdogMode()).isEqualTo(PostmasterGuard.Mode.AUTOMATIC);
        assertThat(fromYaml.warnings()).containsExactly(
                "ignoring setting ctl: settings of patronictl, not of the agent",
                "ignoring setting postgresql.pgpass: pgha writes its own 0600 password file in postgresql.work_dir");
        assertThat(fromYaml.toString()).doesNotContain("zalando", "rep-pass", "etcd-secret", "api-secret");
    }

    @Test
    void patroniEnvironmentVariablesOverrideTheFile(@TempDir Path dir) throws IOException {
        Path yml = Files.writeString(dir.resolve("patroni.yaml"), PATRONI_YML);
        Map<String, String> env = Map.ofEntries(
                Map.entry("PATRONI_NAME", "node7"),
                Map.entry("PATRONI_SCOPE", "gotham"),
                Map.entry("PATRONI_NAMESPACE", "/pg/"),
                Map.entry("PATRONI_ETCD3_HOSTS", "'10.1.0.1:2379','10.1.0.2:2379'"),
                Map.entry("PATRONI_RESTAPI_LISTEN", "0.0.0.0:8009"),
                Map.entry("PATRONI_RESTAPI_CONNECT_ADDRESS", "10.1.0.7:8009"),
                Map.entry("PATRONI_POSTGRESQL_DATA_DIR", "/var/lib/pgha/data"),
                Map.entry("PATRONI_POSTGRESQL_LISTEN", "0.0.0.0:5433"),
                Map.entry("PATRONI_POSTGRESQL_CONNECT_ADDRESS", "10.1.0.7:5433"),
                Map.entry("PATRONI_SUPERUSER_USERNAME", "admin"),
                Map.entry("PATRONI_SUPERUSER_PASSWORD", "from-env-su"),
                Map.entry("PATRONI_REPLICATION_PASSWORD", "from-env-repl"),
                Map.entry("PATRONI_LOG_LEVEL", "DEBUG"),
                Map.entry("PATRONI_CONFIGURATION", "ignored, not a setting"),
                Map.entry("HOME", "/root"));

        AgentSettings s = AgentSettings.load(yml, env, true);

        assertThat(s.name()).isEqualTo("node7");
        assertThat(s.scope()).isEqualTo("gotham");
        assertThat(s.namespace()).isEqualTo("/pg/");
        assertThat(s.etcdHosts()).containsExactly("10.1.0.1:2379", "10.1.0.2:2379");
        assertThat(s.rest().listen()).isEqualTo("0.0.0.0:8009");
        assertThat(s.ha().apiUrl()).isEqualTo("http://10.1.0.7:8009/patroni");
        assertThat(s.postgres().dataDir()).isEqualTo(Path.of("/var/lib/pgha/data"));
        assertThat(s.postgres().port()).isEqualTo(5433);
        assertThat(s.postgres().connectAddress()).isEqualTo("10.1.0.7");
        assertThat(s.postgres().superuser().username()).isEqualTo("admin");
        assertThat(s.postgres().superuser().password()).isEqualTo("from-env-su");
        assertThat(s.postgres().replication().password()).isEqualTo("from-env-repl");
        assertThat(s.warnings()).contains("ignoring setting log: pgha logs through slf4j-simple on stdout "
                + "(see the README: org.slf4j.simpleLogger.* properties)");

        // the environment's passwords are accepted with a properties file too (which itself may not hold them)
        Path props = Files.writeString(dir.resolve("node.properties"), "scope=a\nname=b\npostgresql.data_dir=/d\n");
        AgentSettings p = AgentSettings.load(props, Map.of("PATRONI_SUPERUSER_PASSWORD", "su"), true);
        assertThat(p.postgres().superuser().password()).isEqualTo("su");

        // an error in a variable names it
        assertThatThrownBy(() -> AgentSettings.load(yml, Map.of("PATRONI_POSTGRESQL_LISTEN", "0.0.0.0:x"), true))
                .hasMessageContaining("environment variable PATRONI_POSTGRESQL_LISTEN");
        assertThatThrownBy(() -> AgentSettings.load(yml, Map.of("PATRONI_ZOOKEEPER_HOSTS", "z1:2181"), true))
                .isInstanceOfSatisfying(AgentSettingsException.class, e -> assertThat(e.key()).isEqualTo("zookeeper"))
                .hasMessageContaining("etcd (v3) only");
    }

    /** One row per problem: the YAML, the key the error must name, and a part of its message. */
    static Stream<Arguments> problems() {
        String base = "scope: s\nname: n\npostgresql:\n  data_dir: /d\n";
        return Stream.of(
                Arguments.of("malformed: unclosed quote", base + "tags:\n  zone: \"a\n", "tags.zone", "line "),
                Arguments.of("malformed: bad indentation", "scope: s\nname: n\n  bad: x\n", "name", "line 3"),
                Arguments.of("malformed: tab", base + "bootstrap:\n\tdcs: 1\n", "bootstrap", "line 6, column 1: found character"),
                Arguments.of("not a mapping", "- a\n- b\n", "(file)", "expected a mapping of settings"),
                Arguments.of("empty file", "", "(file)", "empty"),
                Arguments.of("wrong type: text for seconds", base + "bootstrap:\n  dcs:\n    ttl: thirty\n",
                        "bootstrap.dcs.ttl", "not a whole number of seconds (line 7)"),
                Arguments.of("wrong type: mapping for a value", base + "bootstrap:\n  dcs:\n    loop_wait:\n      a: 1\n",
                        "bootstrap.dcs.loop_wait", "line 7: expected a whole number of seconds, not a mapping"),
                Arguments.of("wrong type: list for a value", base + "watchdog:\n  safety_margin: [1, 2]\n",
                        "watchdog.safety_margin", "line 6: expected a whole number of seconds, not a list"),
                Arguments.of("wrong type: value for a section", base + "restapi: 8008\n", "restapi",
                        "line 5: expected a mapping"),
                Arguments.of("wrong type: boolean", base + "  use_pg_rewind: sometimes\n", "postgresql.use_pg_rewind",
                        "'sometimes' is not true or false (line 5)"),
                Arguments.of("wrong type: port", base + "  listen: 127.0.0.1:99999\n", "postgresql.port", ""),
                Arguments.of("unknown key", base + "  data_dirr: /x\n", "postgresql.data_dirr",
                        "unknown setting"),
                Arguments.of("unsupported: standby_cluster", base + "bootstrap:\n  dcs:\n    standby_cluster:\n"
                        + "      host: 10.0.0.1\n", "bootstrap.dcs.standby_cluster", "standby clusters are not supported"),
                Arguments.of("unsupported: another DCS", base + "consul:\n  host: 127.0.0.1:8500\n", "consul",
                        "etcd (v3) only"),
                Arguments.of("unsupported: bootstrap users", base + "bootstrap:\n  users:\n    admin:\n"
                        + "      password: x\n", "bootstrap.users", "creates no users"),
                Arguments.of("unsupported: sslmode", base + "  authentication:\n    superuser:\n      sslmode: require\n",
                        "postgresql.authentication.superuser.sslmode", "TLS options of PostgreSQL connections"),
                Arguments.of("unsupported: allowlist", base + "restapi:\n  allowlist_include_members: true\n",
                        "restapi.allowlist_include_members", "no allowlist"),
                Arguments.of("etcd3: cert without key", base + "etcd3:\n  hosts: a:1\n  cert: /etc/pgha/c.pem\n",
                        "etcd3.key", "etcd3.cert and etcd3.key go together"),
                Arguments.of("etcd3: bad protocol", base + "etcd3:\n  hosts: a:1\n  protocol: grpc\n",
                        "etcd3.protocol", "must be http or https, not 'grpc' (line 7)"),
                Arguments.of("missing scope", "name: n\npostgresql:\n  data_dir: /d\n", "scope", "required"),
                Arguments.of("missing name", "scope: s\npostgresql:\n  data_dir: /d\n", "name", "required"),
                Arguments.of("missing data_dir", "scope: s\nname: n\npostgresql:\n  listen: 127.0.0.1\n",
                        "postgresql.data_dir", "required"),
                Arguments.of("duplicate key", base + "name: m\n", "name", "given twice, at lines 2 and 5"),
                Arguments.of("etcd and etcd3", base + "etcd:\n  hosts: a:1\netcd3:\n  hosts: b:1\n", "etcd3.hosts",
                        "given twice"),
                Arguments.of("password given twice", base + "  authentication:\n    superuser:\n      password: x\n"
                        + "      password_env: PW\n", "postgresql.authentication.superuser.password", "not several"),
                Arguments.of("initdb: option pgha sets", base + "bootstrap:\n  initdb:\n  - pgdata: /x\n",
                        "bootstrap.initdb", "set by pgha"),
                Arguments.of("connect_address port differs", base + "  listen: 0.0.0.0:5432\n"
                        + "  connect_address: 10.0.0.1:5433\n", "postgresql.connect_address", "differs"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("problems")
    void everyProblemNamesTheKeyAndTheLine(String title, String yaml, String key, String message) {
        assertThatThrownBy(() -> AgentSettings.parseYaml(yaml, Map.<String, String>of()::get))
                .isInstanceOfSatisfying(AgentSettingsException.class, e -> assertThat(e.key()).as(e.getMessage())
                        .isEqualTo(key))
                .hasMessageContaining(key)
                .hasMessageContaining(message);
    }

    @Test
    void aMisplacedPasswordIsNotRepeatedInTheError() {
        assertThatThrownBy(() -> AgentSettings.parseYaml("scope: s\nname: n\npostgresql:\n  data_dir: /d\n"
                + "  authentication: hunter2\n", Map.<String, String>of()::get))
                .hasMessageContaining("postgresql.authentication").hasMessageContaining("line 5")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void theDistributionsExamplePatroniYmlIsValid() {
        AgentSettings s = AgentSettings.load(Path.of("src/main/dist/patroni.yml"), Map.of(), false);
        assertThat(s.scope()).isEqualTo("demo");
        assertThat(s.etcdHosts()).hasSize(3);
        assertThat(s.postgres().port()).isEqualTo(5432);
        assertThat(s.postgres().connectAddress()).isEqualTo("10.0.0.11");
        assertThat(s.warnings()).isEmpty();
    }

    @Test
    void ignoredKeysAreWarnedOnceByNameAndChangeNothing() {
        String yaml = "scope: s\nname: n\npostgresql:\n  data_dir: /d\nlog:\n  level: DEBUG\n  dir: /var/log\n"
                + "watchdog:\n  device: /dev/watchdog\n";
        AgentSettings s = AgentSettings.parseYaml(yaml, Map.<String, String>of()::get);
        assertThat(s.warnings()).containsExactly(
                "ignoring setting log: pgha logs through slf4j-simple on stdout (see the README: "
                        + "org.slf4j.simpleLogger.* properties)",
                "ignoring setting watchdog.device: pgha fences with PostmasterGuard, not a watchdog device");
        assertThat(s.watchdogMode()).isEqualTo(PostmasterGuard.Mode.AUTOMATIC);
    }

    @Test
    void theCommandsNameTheIgnoredKeysToo(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("patroni.yml"), "scope: s\nname: n\npostgresql:\n  data_dir: /d\n"
                + "etcd3:\n  hosts: 127.0.0.1:2379\nlog:\n  level: DEBUG\n");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        AgentSettings s = Agent.commandSettings(file, "list", new PrintStream(err, true, StandardCharsets.UTF_8));
        assertThat(s).isNotNull();
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(file + ": ignoring setting log: pgha logs through "
                + "slf4j-simple on stdout (see the README: org.slf4j.simpleLogger.* properties)" + System.lineSeparator());
    }

    @Test
    void yamlScalarsListsAndNullsFlattenIntoDottedKeys() throws IOException {
        PatroniYaml.Flat flat = PatroniYaml.read(new StringReader("""
                etcd3:
                  hosts: a:1,b:2
                  host:
                postgresql:
                  pg_hba:
                  - local all all peer
                  - host all all 10.0.0.0/8 md5
                  parameters:
                    max_connections: 100
                    hot_standby: on
                bootstrap:
                  dcs:
                    ttl: 20
                """));
        assertThat(flat.values()).containsExactly(Map.entry("etcd3.hosts", "a:1,b:2"),
                Map.entry("postgresql.pg_hba", "local all all peer;host all all 10.0.0.0/8 md5"),
                Map.entry("postgresql.parameters.max_connections", "100"),
                Map.entry("postgresql.parameters.hot_standby", "on"),
                Map.entry("bootstrap.dcs.ttl", "20"));
        assertThat(flat.lines()).containsEntry("bootstrap.dcs.ttl", 13).containsEntry("etcd3.hosts", 2);
        AgentSettings s = AgentSettings.parseYaml("scope: s\nname: n\npostgresql: {data_dir: /d}\n"
                + "etcd3: {host: '10.0.0.9:2379', protocol: https}\nbootstrap: {dcs: {ttl: 20, loop_wait: 5, retry_timeout: 5}}\n",
                Map.<String, String>of()::get);
        assertThat(s.etcdHosts()).isEqualTo(List.of("https://10.0.0.9:2379"));
        assertThat(s.ha().bootstrapDcs().ttl()).isEqualTo(Duration.ofSeconds(20));
    }
}
