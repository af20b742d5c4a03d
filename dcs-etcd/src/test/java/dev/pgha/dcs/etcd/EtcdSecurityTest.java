package dev.pgha.dcs.etcd;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pgha.cluster.Member;
import dev.pgha.dcs.DcsException;
import dev.pgha.testing.EtcdServer;
import dev.pgha.testing.TestCertificates;
import io.etcd.jetcd.Auth;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The adapter against an etcd with role-based access control, and over TLS with client certificates. */
class EtcdSecurityTest {

    private static final Duration TTL = Duration.ofSeconds(5);

    @Test
    void userAndPasswordAuthenticationAndRefusedCredentials() throws Exception {
        try (EtcdServer etcd = EtcdServer.start()) {
            try (Client admin = Client.builder().endpoints(etcd.endpoints().toArray(String[]::new)).build()) {
                Auth auth = admin.getAuthClient();
                ByteSequence root = ByteSequence.from("root", UTF_8);
                auth.userAdd(root, ByteSequence.from("s3cret", UTF_8)).get(5, TimeUnit.SECONDS);
                auth.roleAdd(root).get(5, TimeUnit.SECONDS);
                auth.userGrantRole(root, root).get(5, TimeUnit.SECONDS);
                auth.authEnable().get(5, TimeUnit.SECONDS);
            }

            try (EtcdDcsClient good = builder(etcd).auth("root", "s3cret").build()) {
                assertThat(good.acquireLeader(TTL)).isTrue();
                good.touchMember(Member.named("node1"), TTL);
                assertThat(good.readCluster().leaderName()).contains("node1");
            }
            try (EtcdDcsClient wrong = builder(etcd).auth("root", "nope").build()) {
                assertThatThrownBy(wrong::readCluster).isInstanceOfSatisfying(DcsException.class,
                        e -> assertThat(e.reason()).isEqualTo(DcsException.Reason.AUTH));
            }
            try (EtcdDcsClient anonymous = builder(etcd).build()) {
                assertThatThrownBy(anonymous::readCluster).isInstanceOfSatisfying(DcsException.class,
                        e -> assertThat(e.reason()).isEqualTo(DcsException.Reason.AUTH));
            }
        }
    }

    @Test
    void tlsWithAClientCertificate(@TempDir Path dir) {
        TestCertificates certs = TestCertificates.create(dir.resolve("certs"));
        try (EtcdServer etcd = EtcdServer.builder()
                .tls(new EtcdServer.Tls(certs.caCert(), certs.serverCert(), certs.serverKey())).start()) {
            assertThat(etcd.endpoint(0)).startsWith("https://");
            String hostPort = etcd.endpoint(0).substring("https://".length());

            try (EtcdDcsClient tls = EtcdDcsClient.builder().endpoints(hostPort).scope("tls").member("node1")
                    .tlsCaFile(certs.caCert()).tlsClientCertificate(certs.clientCert(), certs.clientKey())
                    .retryTimeout(Duration.ofSeconds(3)).build()) {
                assertThat(tls.acquireLeader(TTL)).isTrue();
                assertThat(tls.readCluster().leaderName()).contains("node1");
            }
            try (EtcdDcsClient noClientCert = EtcdDcsClient.builder().endpoints(hostPort).scope("tls").member("node2")
                    .tlsCaFile(certs.caCert()).retryTimeout(Duration.ofSeconds(1)).build()) {
                assertThatThrownBy(noClientCert::readCluster).isInstanceOf(DcsException.class);
            }
            assertThatThrownBy(() -> EtcdDcsClient.builder().endpoints(hostPort).scope("tls").member("node3")
                    .tlsCaFile(dir.resolve("missing.pem")).build())
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("missing.pem");
        }
    }

    private static EtcdDcsClientBuilder builder(EtcdServer etcd) {
        return EtcdDcsClient.builder().endpoints(etcd.endpoints()).scope("auth").member("node1")
                .retryTimeout(Duration.ofSeconds(3));
    }
}
