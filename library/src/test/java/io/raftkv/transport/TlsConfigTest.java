package io.raftkv.transport;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Loading TLS settings: each kind of file that should load does, and each mistake is named with its file. */
class TlsConfigTest {
    static final Path DIR = Path.of("src/test/resources/tls");
    static final char[] PASSWORD = "changeit".toCharArray();

    @Test
    void loadsPemAndPkcs12IdentitiesWithEitherKindOfTrust() {
        TlsConfig pem = TlsConfig.fromPem(DIR.resolve("node.pem"), DIR.resolve("node-key.pem"), DIR.resolve("ca.pem"));
        assertTrue(pem.hasIdentity());
        assertTrue(pem.toString().contains("CN=raftkv node"), pem.toString());
        TlsConfig p12 = TlsConfig.fromPkcs12(DIR.resolve("node.p12"), PASSWORD, DIR.resolve("ca.p12"));
        assertTrue(p12.hasIdentity());
        TlsConfig mixed = TlsConfig.fromPkcs12(DIR.resolve("client.p12"), PASSWORD, DIR.resolve("ca.pem"));
        assertTrue(mixed.toString().contains("CN=operator"), mixed.toString());
        TlsConfig trustOnly = TlsConfig.trusting(DIR.resolve("ca.pem"));
        assertFalse(trustOnly.hasIdentity());
        assertTrue(pem.serverEngine().getWantClientAuth());
        assertTrue(pem.clientEngine("127.0.0.1", 1).getUseClientMode());
    }

    @Test
    void aMissingFileIsNamed() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> TlsConfig.fromPem(DIR.resolve("nope.pem"), DIR.resolve("node-key.pem"), DIR.resolve("ca.pem")));
        assertTrue(e.getMessage().contains("no such file") && e.getMessage().contains("nope.pem"), e.getMessage());
    }

    @Test
    void aKeyThatIsNotTheCertificatesIsRefused() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> TlsConfig.fromPem(DIR.resolve("node.pem"), DIR.resolve("client-key.pem"), DIR.resolve("ca.pem")));
        assertTrue(e.getMessage().contains("does not belong") && e.getMessage().contains("client-key.pem"), e.getMessage());
    }

    @Test
    void aWrongPasswordIsRefusedNamingTheFile() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> TlsConfig.fromPkcs12(DIR.resolve("node.p12"), "wrong".toCharArray(), DIR.resolve("ca.pem")));
        assertTrue(e.getMessage().contains("node.p12"), e.getMessage());
    }

    @Test
    void filesOfTheWrongKindAreRefused(@TempDir Path tmp) throws IOException {
        Path traditional = tmp.resolve("rsa.pem");
        Files.writeString(traditional, "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n");
        var e = assertThrows(IllegalArgumentException.class,
                () -> TlsConfig.fromPem(DIR.resolve("node.pem"), traditional, DIR.resolve("ca.pem")));
        assertTrue(e.getMessage().contains("openssl pkcs8 -topk8"), e.getMessage());
        // A key where the trusted certificates should be: no certificate to trust.
        e = assertThrows(IllegalArgumentException.class, () -> TlsConfig.trusting(DIR.resolve("node-key.pem")));
        assertTrue(e.getMessage().contains("node-key.pem"), e.getMessage());
        Path garbage = tmp.resolve("garbage");
        Files.writeString(garbage, "not a certificate");
        e = assertThrows(IllegalArgumentException.class, () -> TlsConfig.trusting(garbage));
        assertEquals(true, e.getMessage().contains("garbage"), e.getMessage());
        // A store with only a key entry trusts nothing.
        e = assertThrows(IllegalArgumentException.class,
                () -> TlsConfig.fromPem(DIR.resolve("node.pem"), DIR.resolve("node-key.pem"), DIR.resolve("node.pem").resolveSibling("node.p12")));
        assertTrue(e.getMessage().contains("node.p12"), e.getMessage());
    }
}
