package io.raftkv.transport;

import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * TLS for socket mode: this side's certificate and key (its identity), and the certificates it trusts,
 * loaded from PEM or PKCS#12 files with the JDK's own TLS (TLS 1.3 and 1.2).
 *
 * <p>A node needs an identity and the cluster's trusted certificates: peers authenticate each other with
 * them (mutual TLS), and clients check the node's. A client needs the trusted certificates, and an
 * identity only to present a certificate (one the nodes trust makes it an administrator). Certificates
 * are checked against the trusted ones (the chain), not against host names: every certificate the
 * trusted certificate authority signs is a member of the cluster, so give the cluster a CA of its own.
 *
 * <p>Files: PEM certificates (a chain, the leaf first, for an identity); PEM private keys in PKCS#8,
 * unencrypted ({@code BEGIN PRIVATE KEY}: RSA, EC or EdDSA); PKCS#12 key stores (an identity: the first
 * key entry; trusted certificates: every certificate entry). A file that is none of these, or a key that
 * does not match its certificate, fails here, with the file named, not at the first connection.
 */
public final class TlsConfig {
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z0-9 ]+)-----\\s*([A-Za-z0-9+/=\\s]+?)\\s*-----END \\1-----");
    private static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

    private final SSLContext context;
    private final boolean hasIdentity;
    private final String description;

    private TlsConfig(SSLContext context, boolean hasIdentity, String description) {
        this.context = context;
        this.hasIdentity = hasIdentity;
        this.description = description;
    }

    /**
     * An identity from PEM files (the certificate chain, leaf first, and its PKCS#8 private key) and the
     * certificates to trust ({@code trusted}: a PEM file of certificates or a PKCS#12 trust store without
     * a password).
     *
     * @throws IllegalArgumentException naming the file, if one cannot be read or is not what it should be
     */
    public static TlsConfig fromPem(Path certificateChain, Path privateKey, Path trusted) {
        List<X509Certificate> chain = certificates(certificateChain);
        PrivateKey key = privateKey(privateKey);
        KeyStore identity = emptyStore();
        try {
            identity.setKeyEntry("identity", key, new char[0], chain.toArray(new Certificate[0]));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("the key in " + privateKey + " cannot go with the certificates in "
                    + certificateChain + ": " + e.getMessage(), e);
        }
        checkKeyMatches(chain.get(0), key, certificateChain, privateKey);
        return build(identity, new char[0], trustStore(trusted, null),
                "identity " + subject(chain.get(0)) + " from " + certificateChain + ", trusting " + trusted);
    }

    /**
     * An identity from a PKCS#12 key store (its first key entry, whose password is the store's) and the
     * certificates to trust ({@code trusted}: a PEM file, or a PKCS#12 trust store opened with
     * {@code password} too).
     *
     * @throws IllegalArgumentException naming the file, if one cannot be read or is not what it should be
     */
    public static TlsConfig fromPkcs12(Path keyStore, char[] password, Path trusted) {
        Objects.requireNonNull(password, "password");
        KeyStore identity = pkcs12(keyStore, password);
        String subject = "?";
        try {
            String alias = null;
            for (String a : Collections.list(identity.aliases())) {
                if (identity.isKeyEntry(a)) {
                    alias = a;
                    break;
                }
            }
            if (alias == null) throw new IllegalArgumentException(keyStore + " holds no private key entry");
            if (identity.getCertificate(alias) instanceof X509Certificate c) subject = subject(c);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read " + keyStore + ": " + e.getMessage(), e);
        }
        return build(identity, password, trustStore(trusted, password),
                "identity " + subject + " from " + keyStore + ", trusting " + trusted);
    }

    /**
     * No identity, only the certificates to trust (a PEM file or a PKCS#12 trust store without a
     * password): a client that checks the nodes' certificates and presents none.
     *
     * @throws IllegalArgumentException naming the file, if it cannot be read or holds no certificate
     */
    public static TlsConfig trusting(Path trusted) {
        return build(null, null, trustStore(trusted, null), "no identity, trusting " + trusted);
    }

    /** Whether this side has a certificate to present. */
    public boolean hasIdentity() {
        return hasIdentity;
    }

    /** The JDK's context these settings made. */
    public SSLContext context() {
        return context;
    }

    /**
     * An engine for the side that accepts connections: it asks the other side for a certificate (a peer
     * must present one; a client may), and checks any it gets.
     */
    public SSLEngine serverEngine() {
        SSLEngine e = context.createSSLEngine();
        e.setUseClientMode(false);
        e.setEnabledProtocols(PROTOCOLS);
        e.setWantClientAuth(true);
        return e;
    }

    /** An engine for the side that dials {@code host}:{@code port}: it checks the certificate it is shown. */
    public SSLEngine clientEngine(String host, int port) {
        SSLEngine e = context.createSSLEngine(host, port);
        e.setUseClientMode(true);
        e.setEnabledProtocols(PROTOCOLS);
        return e;
    }

    /**
     * Layers TLS over {@code connected} (a socket this side dialled) and runs the handshake, within the
     * socket's {@code SO_TIMEOUT}.
     *
     * @throws IOException if the handshake fails; the socket is then closed
     */
    public SSLSocket dial(Socket connected, String host, int port) throws IOException {
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(connected, host, port, true);
        try {
            s.setUseClientMode(true);
            SSLParameters p = s.getSSLParameters();
            p.setProtocols(PROTOCOLS);
            s.setSSLParameters(p);
            s.startHandshake();
            return s;
        } catch (IOException | RuntimeException e) {
            try {
                s.close();
            } catch (IOException ignored) {
                // Unusable either way.
            }
            throw e;
        }
    }

    @Override
    public String toString() {
        return "TLS (" + description + ")";
    }

    private static TlsConfig build(KeyStore identity, char[] password, KeyStore trust, String description) {
        try {
            KeyManager[] keys = null;
            if (identity != null) {
                KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(identity, password);
                keys = kmf.getKeyManagers();
            }
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext c = SSLContext.getInstance("TLS");
            c.init(keys, tmf.getTrustManagers(), null);
            return new TlsConfig(c, identity != null, description);
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot set up TLS (" + description + "): " + e.getMessage(), e);
        }
    }

    private static KeyStore trustStore(Path trusted, char[] password) {
        byte[] bytes = read(trusted);
        KeyStore store;
        if (looksLikePem(bytes)) {
            store = emptyStore();
            int i = 0;
            for (X509Certificate c : certificates(trusted, bytes)) {
                try {
                    store.setCertificateEntry("trusted-" + i++, c);
                } catch (GeneralSecurityException e) {
                    throw new IllegalArgumentException("cannot trust a certificate of " + trusted + ": " + e.getMessage(), e);
                }
            }
        } else {
            store = pkcs12(trusted, bytes, password == null ? new char[0] : password);
        }
        try {
            boolean any = false;
            for (String a : Collections.list(store.aliases())) any |= store.isCertificateEntry(a);
            if (!any) {
                throw new IllegalArgumentException(trusted + " holds no trusted certificate (a PEM file of CA certificates,"
                        + " or a PKCS#12 store of trusted certificate entries, as keytool -importcert makes)");
            }
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read " + trusted + ": " + e.getMessage(), e);
        }
        return store;
    }

    private static KeyStore pkcs12(Path file, char[] password) {
        return pkcs12(file, read(file), password);
    }

    private static KeyStore pkcs12(Path file, byte[] bytes, char[] password) {
        try (InputStream in = new ByteArrayInputStream(bytes)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, password);
            return store;
        } catch (IOException | GeneralSecurityException e) {
            String why = e.getCause() instanceof java.security.UnrecoverableKeyException || String.valueOf(e.getMessage())
                    .contains("password") ? " (is the password right?)" : "";
            throw new IllegalArgumentException("cannot read " + file + " as PEM or PKCS#12: " + e.getMessage() + why, e);
        }
    }

    private static List<X509Certificate> certificates(Path file) {
        return certificates(file, read(file));
    }

    private static List<X509Certificate> certificates(Path file, byte[] bytes) {
        if (!looksLikePem(bytes)) {
            throw new IllegalArgumentException(file + " is not a PEM file (it should hold -----BEGIN CERTIFICATE----- blocks)");
        }
        Collection<? extends Certificate> read;
        try {
            read = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bytes));
        } catch (CertificateException e) {
            throw new IllegalArgumentException("cannot read the certificates in " + file + ": " + e.getMessage(), e);
        }
        List<X509Certificate> out = new ArrayList<>();
        for (Certificate c : read) out.add((X509Certificate) c);
        if (out.isEmpty()) throw new IllegalArgumentException(file + " holds no certificate");
        return out;
    }

    private static PrivateKey privateKey(Path file) {
        String text = new String(read(file), StandardCharsets.US_ASCII);
        Matcher m = PEM.matcher(text);
        while (m.find()) {
            String type = m.group(1);
            if (type.equals("PRIVATE KEY")) {
                byte[] der = Base64.getMimeDecoder().decode(m.group(2));
                for (String algorithm : new String[]{"EC", "RSA", "Ed25519", "Ed448", "RSASSA-PSS"}) {
                    try {
                        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
                    } catch (InvalidKeySpecException | java.security.NoSuchAlgorithmException e) {
                        // try the next algorithm
                    }
                }
                throw new IllegalArgumentException(file + " holds a PKCS#8 private key of an algorithm this JDK cannot read"
                        + " (RSA, EC and EdDSA are read)");
            }
            if (type.equals("ENCRYPTED PRIVATE KEY")) {
                throw new IllegalArgumentException(file + " holds an encrypted private key; give an unencrypted PKCS#8 key"
                        + " (openssl pkcs8 -topk8 -nocrypt) in a file only the node's user can read, or a PKCS#12 store");
            }
            if (type.endsWith("PRIVATE KEY")) { // RSA PRIVATE KEY, EC PRIVATE KEY: the older formats
                throw new IllegalArgumentException(file + " holds a " + type + " (a traditional OpenSSL key); convert it to"
                        + " PKCS#8 with: openssl pkcs8 -topk8 -nocrypt -in " + file + " -out key.pem");
            }
        }
        throw new IllegalArgumentException(file + " holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
    }

    private static void checkKeyMatches(X509Certificate leaf, PrivateKey key, Path chainFile, Path keyFile) {
        String keyAlgorithm = key.getAlgorithm();
        String certAlgorithm = leaf.getPublicKey().getAlgorithm();
        if (!keyAlgorithm.equals(certAlgorithm) && !(keyAlgorithm.startsWith("Ed") && certAlgorithm.startsWith("Ed"))) {
            throw new IllegalArgumentException("the key in " + keyFile + " is " + keyAlgorithm + " but the first certificate in "
                    + chainFile + " (" + subject(leaf) + ") holds a " + certAlgorithm + " key: they are not a pair");
        }
        try {
            String signature = switch (keyAlgorithm) {
                case "EC" -> "SHA256withECDSA";
                case "RSA" -> "SHA256withRSA";
                default -> keyAlgorithm; // Ed25519, Ed448
            };
            byte[] probe = "raftkv".getBytes(StandardCharsets.US_ASCII);
            java.security.Signature s = java.security.Signature.getInstance(signature);
            s.initSign(key);
            s.update(probe);
            byte[] signed = s.sign();
            s.initVerify(leaf.getPublicKey());
            s.update(probe);
            if (!s.verify(signed)) {
                throw new IllegalArgumentException("the key in " + keyFile + " does not belong to the first certificate in "
                        + chainFile + " (" + subject(leaf) + ")");
            }
        } catch (GeneralSecurityException e) {
            // An algorithm this check does not know: the handshake will tell.
        }
    }

    private static KeyStore emptyStore() {
        try {
            KeyStore s = KeyStore.getInstance("PKCS12");
            s.load(null, null);
            return s;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot make a PKCS#12 key store", e);
        }
    }

    private static byte[] read(Path file) {
        Objects.requireNonNull(file, "file");
        try {
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("no such file: " + file, e);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + file + ": " + e, e);
        }
    }

    private static boolean looksLikePem(byte[] bytes) {
        String head = new String(bytes, 0, Math.min(bytes.length, 4096), StandardCharsets.US_ASCII);
        return head.contains("-----BEGIN ");
    }

    private static String subject(X509Certificate c) {
        return c.getSubjectX500Principal().getName();
    }
}
