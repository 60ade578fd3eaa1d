package io.raftkv.cli;

import io.raftkv.transport.TlsConfig;

import java.nio.file.Path;

/**
 * The TLS files a command line names, made into a {@link TlsConfig}: {@code --tls-cert} is a PEM chain
 * (with {@code --tls-key}, its PKCS#8 key) or a PKCS#12 store (with {@code --tls-password-file}, if it has
 * a password); {@code --tls-ca} is the certificates to trust, PEM or PKCS#12.
 */
record TlsFiles(Path cert, Path key, Path ca, Path passwordFile) {
    /** Whether any TLS option was given. */
    boolean any() {
        return cert != null || key != null || ca != null || passwordFile != null;
    }

    /**
     * The TLS these files give, or null if none was named. {@code needIdentity}: a node must present a
     * certificate.
     *
     * @throws IllegalArgumentException saying which option is missing or which file is wrong, and why
     */
    TlsConfig load(boolean needIdentity) {
        if (!any()) return null;
        if (ca == null) {
            throw new IllegalArgumentException("TLS needs --tls-ca FILE: the certificates to trust (the cluster's CA)");
        }
        if (cert == null) {
            if (needIdentity) {
                throw new IllegalArgumentException("a node's TLS needs --tls-cert FILE (and --tls-key FILE, for a PEM"
                        + " certificate): the certificate it presents to its peers and clients");
            }
            if (key != null || passwordFile != null) {
                throw new IllegalArgumentException("--tls-key and --tls-password-file go with --tls-cert");
            }
            return TlsConfig.trusting(ca);
        }
        if (isPkcs12(cert)) {
            if (key != null) {
                throw new IllegalArgumentException("--tls-cert " + cert + " is a PKCS#12 store, which holds its key:"
                        + " leave out --tls-key");
            }
            char[] password = passwordFile == null ? new char[0] : password(passwordFile);
            return TlsConfig.fromPkcs12(cert, password, ca);
        }
        if (key == null) {
            throw new IllegalArgumentException("--tls-cert " + cert + " is a PEM certificate: give its private key with"
                    + " --tls-key FILE (or use a PKCS#12 store, .p12)");
        }
        if (passwordFile != null) {
            throw new IllegalArgumentException("--tls-password-file is for a PKCS#12 --tls-cert; PEM keys are read"
                    + " unencrypted");
        }
        return TlsConfig.fromPem(cert, key, ca);
    }

    private static char[] password(Path file) {
        try {
            String text = java.nio.file.Files.readString(file, java.nio.charset.StandardCharsets.UTF_8).strip();
            if (text.isEmpty()) throw new IllegalArgumentException("the password file " + file + " is empty");
            return text.toCharArray();
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read the password file " + file + ": " + e, e);
        }
    }

    private static boolean isPkcs12(Path file) {
        String name = file.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        return name.endsWith(".p12") || name.endsWith(".pfx");
    }
}
