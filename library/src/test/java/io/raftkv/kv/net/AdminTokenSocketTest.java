package io.raftkv.kv.net;

import io.raftkv.kv.KvException;
import io.raftkv.transport.tcp.LoopbackPorts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Nodes started with an admin token: a client without it, or with another, cannot change the membership (and is
 * told what is missing), while it can still list the members; a client with it can.
 */
class AdminTokenSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final List<SocketNode> nodes = new ArrayList<>();

    @AfterEach
    void stopAll() {
        for (SocketNode n : nodes) n.close();
    }

    @Test
    void onlyAClientWithTheTokenRemovesANode(@TempDir Path dir) {
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(List.of(1, 2, 3));
        SocketNode.Options options = SocketNode.Options.defaults().withSync(false).withAdminAccess(AdminAccess.token("s3cret"));
        for (int id = 1; id <= 3; id++) nodes.add(SocketNode.start(id, peers, dir.resolve("node-" + id), options, () -> { }));
        try (TcpKvConnector plain = new TcpKvConnector(peers, "raftkv");
             TcpKvConnector wrong = new TcpKvConnector(peers, "raftkv").adminToken("guess");
             TcpKvConnector admin = new TcpKvConnector(peers, "raftkv").adminToken("s3cret")) {
            assertEquals("voters [1, 2, 3]", plain.membership(MembershipOp.MEMBERS, 0, WAIT), "anyone may list the members");

            KvException none = assertThrows(KvException.class, () -> plain.membership(MembershipOp.REMOVE, 3, WAIT));
            assertEquals("admin requests need the cluster's admin token; this node was started with --admin-token-file"
                    + " (give the client the same token: raftkv client --admin-token-file FILE, or RAFTKV_ADMIN_TOKEN_FILE;"
                    + " or, on a cluster that runs TLS, a client certificate the cluster trusts), and this request carried none",
                    none.getMessage());
            KvException other = assertThrows(KvException.class, () -> wrong.membership(MembershipOp.REMOVE, 3, WAIT));
            assertTrue(other.getMessage().endsWith("and the token this request carried is not it"), other.getMessage());
            assertThrows(KvException.class, () -> plain.membership(MembershipOp.TRANSFER, 2, WAIT));
            assertEquals("voters [1, 2, 3]", plain.membership(MembershipOp.MEMBERS, 0, WAIT), "nothing changed");

            assertEquals("voters [1, 2]", admin.membership(MembershipOp.REMOVE, 3, WAIT));
            assertEquals("voters [1, 2]", plain.membership(MembershipOp.MEMBERS, 0, WAIT));
        }
    }
}
