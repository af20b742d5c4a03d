package dev.pgha.rest;

import dev.pgha.testing.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The server over real HTTP and HTTPS (with a generated certificate), with basic authentication. */
class RestServerTest {

    private static final String AUTH = "Basic " + Base64.getEncoder()
            .encodeToString("admin:s3cret".getBytes(StandardCharsets.UTF_8));

    @Test
    void servesOverHttpWithBasicAuthentication() throws Exception {
        Cluster c = Cluster.converged(RestSettings.builder().listen("127.0.0.1:0").authentication("admin", "s3cret")
                .build());
        try (RestServer server = RestServer.start(c.api(c.leader()))) {
            String base = "http://127.0.0.1:" + server.port();
            HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
            HttpResponse<String> patroni = http.send(HttpRequest.newBuilder(URI.create(base + "/patroni")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(patroni.statusCode()).isEqualTo(200);
            assertThat(patroni.headers().firstValue("Content-Type")).contains("application/json");
            assertThat(patroni.body()).contains("\"role\":\"master\"");

            HttpResponse<String> options = http.send(HttpRequest.newBuilder(URI.create(base + "/primary"))
                    .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(options.statusCode()).isEqualTo(200);
            assertThat(options.body()).isEmpty();
            HttpResponse<String> replica = http.send(HttpRequest.newBuilder(URI.create(base + "/replica?lag=1MB"))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(replica.statusCode()).isEqualTo(503);

            HttpResponse<String> denied = http.send(HttpRequest.newBuilder(URI.create(base + "/reload"))
                    .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(denied.statusCode()).isEqualTo(401);
            assertThat(denied.headers().firstValue("WWW-Authenticate")).contains("Basic realm=\"Patroni\"");
            HttpResponse<String> reload = http.send(HttpRequest.newBuilder(URI.create(base + "/reload"))
                    .header("Authorization", AUTH).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(reload.statusCode()).isEqualTo(202);
            assertThat(reload.body()).isEqualTo("reload scheduled");

            HttpResponse<String> bad = http.send(HttpRequest.newBuilder(URI.create(base + "/config"))
                    .header("Authorization", AUTH).method("PATCH", HttpRequest.BodyPublishers.ofString("{oops"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(bad.statusCode()).isEqualTo(400);
        }
    }

    @Test
    void servesOverHttpsAndChecksClientCertificates(@TempDir Path dir) throws Exception {
        TestCertificates certs = TestCertificates.create(dir);
        Cluster c = Cluster.converged(RestSettings.builder().listen("127.0.0.1:0").certfile(certs.serverCert())
                .keyfile(certs.serverKey()).cafile(certs.caCert()).verifyClient(RestSettings.VerifyClient.OPTIONAL)
                .authentication("admin", "s3cret").build());
        try (RestServer server = RestServer.start(c.api(c.leader()))) {
            String base = "https://127.0.0.1:" + server.port();
            HttpClient anonymous = HttpClient.newBuilder().sslContext(client(certs, false)).build();
            HttpResponse<String> health = anonymous.send(HttpRequest.newBuilder(URI.create(base + "/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            HttpResponse<String> noCert = anonymous.send(HttpRequest.newBuilder(URI.create(base + "/reload"))
                    .header("Authorization", AUTH).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(noCert.statusCode()).isEqualTo(403);
            assertThat(noCert.body()).isEqualTo("client certificate required");

            HttpClient withCert = HttpClient.newBuilder().sslContext(client(certs, true)).build();
            HttpResponse<String> reload = withCert.send(HttpRequest.newBuilder(URI.create(base + "/reload"))
                    .header("Authorization", AUTH).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(reload.statusCode()).isEqualTo(202);
            assertThat(c.api(c.leader()).settings().apiUrl()).startsWith("https://127.0.0.1:0/");
        }
    }

    @Test
    void aKeyThatIsNotPemIsRefusedNamingTheSetting(@TempDir Path dir) throws Exception {
        Path junk = Files.writeString(dir.resolve("junk.pem"), "not a key");
        TestCertificates certs = TestCertificates.create(dir.resolve("certs"));
        Cluster c = Cluster.converged(RestSettings.builder().listen("127.0.0.1:0").certfile(certs.serverCert())
                .keyfile(junk).build());
        assertThatThrownBy(() -> RestServer.start(c.api(c.leader()))).isInstanceOf(dev.pgha.HaConfigException.class)
                .hasMessageContaining("restapi.keyfile");
    }

    /** A client context trusting the test CA, presenting the client certificate when asked to. */
    private static SSLContext client(TestCertificates certs, boolean withCertificate) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        KeyStore trust = KeyStore.getInstance("PKCS12");
        trust.load(null, null);
        trust.setCertificateEntry("ca", cf.generateCertificate(new ByteArrayInputStream(Files.readAllBytes(certs.caCert()))));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        KeyManagerFactory kmf = null;
        if (withCertificate) {
            String pem = Files.readString(certs.clientKey()).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            Certificate cert = cf.generateCertificate(new ByteArrayInputStream(Files.readAllBytes(certs.clientCert())));
            keys.setKeyEntry("client", KeyFactory.getInstance("EC").generatePrivate(
                    new PKCS8EncodedKeySpec(Base64.getDecoder().decode(pem))), new char[0], new Certificate[] {cert});
            kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, new char[0]);
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
        return ctx;
    }
}
