package dev.pgha.rest;

import dev.pgha.HaConfigException;

import javax.crypto.Cipher;
import javax.crypto.EncryptedPrivateKeyInfo;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The server's TLS context from Patroni's PEM files, with the JDK alone: {@code restapi.certfile}
 * (the certificate and its chain), {@code restapi.keyfile} (a PKCS#8 key, unencrypted or encrypted
 * with {@code restapi.keyfile_password}) and {@code restapi.cafile} (the CAs client certificates are
 * checked against).
 */
final class Tls {

    private static final Pattern BLOCK = Pattern.compile("-----BEGIN ([A-Z ]+)-----([^-]+)-----END \\1-----");

    private Tls() {
    }

    static SSLContext context(RestSettings s) {
        try {
            Certificate[] chain = certificates("restapi.certfile", s.certfile()).toArray(Certificate[]::new);
            PrivateKey key = privateKey(s.keyfile(), s.keyfilePassword());
            char[] none = new char[0];
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("server", key, none, chain);
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, none);
            TrustManagerFactory tmf = null;
            if (s.cafile() != null) {
                KeyStore ts = KeyStore.getInstance("PKCS12");
                ts.load(null, null);
                int i = 0;
                for (Certificate c : certificates("restapi.cafile", s.cafile())) {
                    ts.setCertificateEntry("ca" + i++, c);
                }
                tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                tmf.init(ts);
            }
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(kmf.getKeyManagers(), tmf == null ? null : tmf.getTrustManagers(), null);
            return ctx;
        } catch (GeneralSecurityException | IOException e) {
            throw new HaConfigException("restapi.certfile", "cannot be used with restapi.keyfile: " + e.getMessage());
        }
    }

    private static Collection<? extends Certificate> certificates(String setting, Path file) {
        try {
            Collection<? extends Certificate> certs = CertificateFactory.getInstance("X.509")
                    .generateCertificates(new ByteArrayInputStream(Files.readAllBytes(file)));
            if (certs.isEmpty()) {
                throw new HaConfigException(setting, "holds no certificate: " + file);
            }
            return certs;
        } catch (IOException e) {
            throw new HaConfigException(setting, "cannot be read: " + file + ": " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new HaConfigException(setting, "holds no readable PEM certificate: " + file + ": " + e.getMessage());
        }
    }

    private static PrivateKey privateKey(Path file, String password) {
        String pem;
        try {
            pem = Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new HaConfigException("restapi.keyfile", "cannot be read: " + file + ": " + e.getMessage());
        }
        Matcher m = BLOCK.matcher(pem);
        while (m.find()) {
            String type = m.group(1);
            byte[] der = Base64.getMimeDecoder().decode(m.group(2));
            switch (type) {
                case "PRIVATE KEY":
                    return pkcs8(der);
                case "ENCRYPTED PRIVATE KEY":
                    if (password == null) {
                        throw new HaConfigException("restapi.keyfile_password", "is needed: " + file + " is encrypted");
                    }
                    return pkcs8(decrypt(der, password));
                case "RSA PRIVATE KEY", "EC PRIVATE KEY":
                    throw new HaConfigException("restapi.keyfile", "holds a " + type + " (PKCS#1/SEC1); convert it to "
                            + "PKCS#8 with: openssl pkcs8 -topk8 -nocrypt -in key.pem -out key8.pem");
                default:
                    break;
            }
        }
        throw new HaConfigException("restapi.keyfile", "holds no PEM private key: " + file);
    }

    private static byte[] decrypt(byte[] der, String password) {
        try {
            EncryptedPrivateKeyInfo info = new EncryptedPrivateKeyInfo(der);
            // PBES2 keys name their real algorithm in the parameters (PBEWithHmacSHA256AndAES_256)
            String alg = info.getAlgParameters() != null ? info.getAlgParameters().toString() : info.getAlgName();
            SecretKeyFactory f = SecretKeyFactory.getInstance(alg);
            Cipher cipher = Cipher.getInstance(alg);
            cipher.init(Cipher.DECRYPT_MODE, f.generateSecret(new PBEKeySpec(password.toCharArray())),
                    info.getAlgParameters());
            return info.getKeySpec(cipher).getEncoded();
        } catch (GeneralSecurityException | IOException e) {
            throw new HaConfigException("restapi.keyfile_password",
                    "does not decrypt restapi.keyfile (wrong password or unsupported encryption): " + e.getMessage());
        }
    }

    private static PrivateKey pkcs8(byte[] der) {
        for (String alg : new String[] {"RSA", "EC", "Ed25519", "Ed448", "RSASSA-PSS"}) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
            } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException e) {
                // try the next algorithm
            }
        }
        throw new HaConfigException("restapi.keyfile", "holds a PKCS#8 key of an unsupported algorithm");
    }
}
