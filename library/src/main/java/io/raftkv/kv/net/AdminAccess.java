package io.raftkv.kv.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * Who a socket-mode node lets make admin requests (membership changes, leadership transfer, backups): clients that
 * present the cluster's admin token, or, on a node started without one, clients on its own host only
 * (unless told to trust every client); and, on a node that runs TLS, clients that present a certificate the
 * node trusts, whatever else. Listing the members is not an admin request: anyone may.
 *
 * <p>Loopback only is the default because a node without a token has no way to tell an operator from
 * anyone else who reaches its port, removing voters or moving leadership can take a cluster down, and a
 * backup hands out all its data;
 * an operator on the node's own host is someone who could stop the process anyway.
 */
public final class AdminAccess {
    /** What a refusal tells a client without the token, on a node that has one. */
    static final String NEED_TOKEN = "admin requests need the cluster's admin token; this node was started with"
            + " --admin-token-file (give the client the same token: raftkv client --admin-token-file FILE, or"
            + " RAFTKV_ADMIN_TOKEN_FILE; or, on a cluster that runs TLS, a client certificate the cluster trusts)";

    private enum Mode { TOKEN, LOOPBACK_ONLY, ANYONE }

    private final Mode mode;
    /** SHA-256 of the token, so that comparisons take the same time whatever the length presented. */
    private final byte[] tokenDigest;

    private AdminAccess(Mode mode, byte[] tokenDigest) {
        this.mode = mode;
        this.tokenDigest = tokenDigest;
    }

    /** Admin requests only from clients on the node's own host (a loopback address): the default. */
    public static AdminAccess loopbackOnly() {
        return new AdminAccess(Mode.LOOPBACK_ONLY, null);
    }

    /** Admin requests from any client that reaches the node: for a network where every client is trusted. */
    public static AdminAccess anyone() {
        return new AdminAccess(Mode.ANYONE, null);
    }

    /**
     * Admin requests only from clients that present {@code token}, from any address.
     *
     * @throws IllegalArgumentException if it is blank
     */
    public static AdminAccess token(String token) {
        Objects.requireNonNull(token, "token");
        if (token.isBlank()) throw new IllegalArgumentException("an admin token must not be blank");
        return new AdminAccess(Mode.TOKEN, digest(token));
    }

    /**
     * The token in {@code file} ({@link #readToken}): admin requests only from clients that present it.
     *
     * @throws UncheckedIOException     if it cannot be read
     * @throws IllegalArgumentException if it holds no token
     */
    public static AdminAccess tokenFile(Path file) {
        return token(readToken(file));
    }

    /**
     * The token a file holds: its text, UTF-8, without surrounding white space (a trailing newline, say).
     *
     * @throws UncheckedIOException     if it cannot be read
     * @throws IllegalArgumentException if it holds only white space
     */
    public static String readToken(Path file) {
        Objects.requireNonNull(file, "file");
        String token;
        try {
            token = Files.readString(file, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the admin token file " + file + ": " + e, e);
        }
        if (token.isEmpty()) throw new IllegalArgumentException("the admin token file " + file + " is empty");
        return token;
    }

    /** Whether it asks for a token. */
    public boolean needsToken() {
        return mode == Mode.TOKEN;
    }

    /**
     * Why node {@code nodeId} refuses an admin request from {@code remote} that carries {@code token} (null:
     * none), or null if it takes it. The token is compared in constant time.
     */
    public String refusal(int nodeId, String token, InetAddress remote) {
        return refusal(nodeId, token, remote, false);
    }

    /**
     * As {@link #refusal(int, String, InetAddress)}, for a client that {@code certified}: presented, over
     * TLS, a certificate the node trusts. Such a client is an administrator whatever the mode: the cluster's
     * certificate authority vouches for it as it does for the nodes.
     */
    public String refusal(int nodeId, String token, InetAddress remote, boolean certified) {
        if (certified) return null;
        return switch (mode) {
            case ANYONE -> null;
            case LOOPBACK_ONLY -> remote != null && remote.isLoopbackAddress() ? null
                    : "node " + nodeId + " takes admin requests only from its own host, since it was started without"
                    + " --admin-token-file; start the nodes with --admin-token-file (and give clients the same token),"
                    + " or with --allow-unauthenticated-admin on a network where every client is trusted";
            case TOKEN -> {
                if (token == null) yield NEED_TOKEN + ", and this request carried none";
                yield MessageDigest.isEqual(tokenDigest, digest(token)) ? null
                        : NEED_TOKEN + ", and the token this request carried is not it";
            }
        };
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError("every JDK has SHA-256", e);
        }
    }

    @Override
    public String toString() {
        return switch (mode) {
            case TOKEN -> "admin requests with the admin token";
            case LOOPBACK_ONLY -> "admin requests from loopback only";
            case ANYONE -> "admin requests from anyone";
        };
    }
}
