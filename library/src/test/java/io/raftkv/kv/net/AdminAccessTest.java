package io.raftkv.kv.net;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Who a node takes admin requests from: the token holders, its own host, or anyone. */
class AdminAccessTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final InetAddress REMOTE = address(10, 0, 0, 7);

    @Test
    void withATokenOnlyThatTokenIsTakenFromAnyAddress() {
        AdminAccess access = AdminAccess.token("s3cret");
        assertTrue(access.needsToken());
        assertNull(access.refusal(1, "s3cret", REMOTE));
        assertNull(access.refusal(1, "s3cret", LOOPBACK));
        assertEquals(AdminAccess.NEED_TOKEN + ", and this request carried none", access.refusal(1, null, LOOPBACK),
                "a token is needed from the node's own host too");
        assertEquals(AdminAccess.NEED_TOKEN + ", and the token this request carried is not it",
                access.refusal(1, "s3cre", REMOTE));
        assertTrue(access.refusal(1, "s3cret2", REMOTE) != null, "a longer token is not it either");
        assertTrue(access.refusal(1, "", REMOTE) != null);
        assertTrue(access.refusal(1, null, REMOTE).startsWith("admin requests need the cluster's admin token; this node"
                + " was started with --admin-token-file"));
    }

    @Test
    void withoutATokenOnlyTheNodesOwnHostIsTakenUnlessEveryoneIsTrusted() {
        AdminAccess loopback = AdminAccess.loopbackOnly();
        assertFalse(loopback.needsToken());
        assertNull(loopback.refusal(2, null, LOOPBACK));
        assertNull(loopback.refusal(2, null, address(127, 0, 0, 2)));
        String why = loopback.refusal(2, null, REMOTE);
        assertTrue(why.startsWith("node 2 takes admin requests only from its own host, since it was started without"
                + " --admin-token-file"), why);
        assertTrue(why.contains("--allow-unauthenticated-admin"), why);
        assertNull(AdminAccess.anyone().refusal(2, null, REMOTE));
        assertTrue(SocketNode.Options.defaults().adminAccess().refusal(2, null, REMOTE) != null, "the default is loopback only");
    }

    @Test
    void aTokenFileIsReadWithoutSurroundingWhiteSpaceAndAnEmptyOrMissingOneIsRefused(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("token"), "  s3cret\n");
        assertNull(AdminAccess.tokenFile(file).refusal(1, "s3cret", REMOTE));
        Path empty = Files.writeString(dir.resolve("empty"), "\n");
        var e = assertThrows(IllegalArgumentException.class, () -> AdminAccess.tokenFile(empty));
        assertEquals("the admin token file " + empty + " is empty", e.getMessage());
        var missing = assertThrows(UncheckedIOException.class, () -> AdminAccess.tokenFile(dir.resolve("none")));
        assertTrue(missing.getMessage().startsWith("cannot read the admin token file " + dir.resolve("none")), missing.getMessage());
    }

    private static InetAddress address(int a, int b, int c, int d) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
