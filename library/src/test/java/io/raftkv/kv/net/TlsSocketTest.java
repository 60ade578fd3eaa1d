package io.raftkv.kv.net;

import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvException;
import io.raftkv.kv.KvLimits;
import io.raftkv.transport.TlsConfig;
import io.raftkv.transport.tcp.LoopbackPorts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Socket-mode nodes that run TLS: they elect a leader and commit over mutual TLS, on the node's own thread
 * (platform threads, the default) and on a thread per connection (virtual threads); clients must speak TLS
 * and check the nodes' certificates; a client's certificate that the cluster trusts makes it an
 * administrator, and a client without one is refused admin requests as on a cluster in clear.
 */
class TlsSocketTest {
    static final Path TLS = Path.of("src/test/resources/tls");
    static final char[] PASSWORD = "changeit".toCharArray();
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final List<SocketNode> nodes = new ArrayList<>();

    static TlsConfig node() {
        return TlsConfig.fromPkcs12(TLS.resolve("node.p12"), PASSWORD, TLS.resolve("ca.p12"));
    }

    static TlsConfig operator() {
        return TlsConfig.fromPem(TLS.resolve("client.pem"), TLS.resolve("client-key.pem"), TLS.resolve("ca.pem"));
    }

    @AfterEach
    void stopAll() {
        for (SocketNode n : nodes) n.close();
    }

    private Map<Integer, InetSocketAddress> start(Path dir, boolean platformThreads) {
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(List.of(1, 2, 3));
        // A token the clients below do not have: only a certificate can make them administrators.
        SocketNode.Options options = SocketNode.Options.defaults().withSync(false).withPlatformThreads(platformThreads)
                .withAdminAccess(AdminAccess.token("not-given-to-anyone")).withTls(node());
        for (int id = 1; id <= 3; id++) nodes.add(SocketNode.start(id, peers, dir.resolve("node-" + id), options, () -> { }));
        return peers;
    }

    @ParameterizedTest(name = "platform threads {0}")
    @ValueSource(booleans = {true, false})
    void aClusterCommitsOverTlsAndACertifiedClientIsAnAdministrator(boolean platformThreads, @TempDir Path dir) {
        Map<Integer, InetSocketAddress> peers = start(dir, platformThreads);
        try (TcpKvConnector anonymous = new TcpKvConnector(peers, "raftkv").tls(TlsConfig.trusting(TLS.resolve("ca.pem")));
             TcpKvConnector admin = new TcpKvConnector(peers, "raftkv").tls(operator())) {
            KvClient client = new KvClient(anonymous, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            // Enough values to cross many TLS records each way, on every node's connections.
            for (int i = 0; i < 500; i++) client.put("k" + i, "v" + i + "-".repeat(i));
            for (int i = 0; i < 500; i += 37) assertEquals(Optional.of("v" + i + "-".repeat(i)), client.get("k" + i));

            KvException refused = assertThrows(KvException.class, () -> anonymous.membership(MembershipOp.REMOVE, 3, WAIT));
            assertTrue(refused.getMessage().contains("a client certificate the cluster trusts"), refused.getMessage());
            assertEquals("voters [1, 2, 3]", anonymous.membership(MembershipOp.MEMBERS, 0, WAIT), "anyone may list them");

            assertEquals("voters [1, 2]", admin.membership(MembershipOp.REMOVE, 3, WAIT), "the certificate is the credential");
            KvClient adminClient = new KvClient(admin, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            adminClient.put("after", "removal");
            assertEquals(Optional.of("removal"), client.get("after"));
        }
    }

    @Test
    void aClientInClearIsRefusedAndOneThatDoesNotTrustTheNodesCannotConnect(@TempDir Path dir) {
        Map<Integer, InetSocketAddress> peers = start(dir, true);
        try (TcpKvConnector clear = new TcpKvConnector(peers, "raftkv")) {
            KvException e = assertThrows(KvException.class, () -> clear.membership(MembershipOp.MEMBERS, 0, WAIT));
            assertTrue(e.getMessage().contains("takes only TLS connections"), e.getMessage());
        }
        // A client that trusts another CA refuses the nodes' certificates: it never sends them a request.
        TlsConfig elsewhere = TlsConfig.fromPkcs12(TLS.resolve("stranger.p12"), PASSWORD, TLS.resolve("stranger.pem"));
        try (TcpKvConnector wrongTrust = new TcpKvConnector(peers, "raftkv").tls(elsewhere)) {
            KvClient client = new KvClient(wrongTrust, KvLimits.DEFAULT, Duration.ofSeconds(2), Duration.ofMillis(500));
            // Outcome unknown, as for any node that cannot be reached: the reason is the last problem it names.
            RuntimeException e = assertThrows(RuntimeException.class, () -> client.put("k", "v"));
            assertTrue(String.valueOf(e.getMessage()).contains("the TLS handshake failed"), e.getMessage());
            assertTrue(e.getMessage().contains("certification path"), e.getMessage());
        }
    }
}
