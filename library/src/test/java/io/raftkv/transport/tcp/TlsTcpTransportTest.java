package io.raftkv.transport.tcp;

import io.raftkv.raft.Message;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.transport.TlsConfig;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLSocket;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every test of {@link TcpTransportTest} again under mutual TLS, with the peers' connections read by
 * threads of their own; and what TLS adds: a peer whose certificate the cluster does not trust, one that
 * presents none, and one that speaks in clear, are each refused, and say why.
 */
class TlsTcpTransportTest extends TcpTransportTest {
    static final Path DIR = Path.of("src/test/resources/tls");
    static final char[] PASSWORD = "changeit".toCharArray();
    static final TlsConfig NODE = TlsConfig.fromPkcs12(DIR.resolve("node.p12"), PASSWORD, DIR.resolve("ca.p12"));

    @Override
    TlsConfig tls() {
        return NODE;
    }

    @Test
    void aPeerWithACertificateTheClusterDoesNotTrustIsRefusedBothWays() throws IOException {
        Map<Integer, InetSocketAddress> peers = addresses(1, 2);
        ConcurrentLinkedQueue<Message> in1 = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Message> in2 = new ConcurrentLinkedQueue<>();
        TcpTransport node1 = transport(1, peers, "c", in1).start();
        // Node 2 has a certificate of another CA, and trusts only that CA.
        TlsConfig stranger = TlsConfig.fromPem(DIR.resolve("stranger.pem"), DIR.resolve("stranger-key.pem"),
                DIR.resolve("stranger.pem"));
        TcpTransport node2 = closedAfter(new TcpTransport(2, peers, "c", in2::add).secure(stranger)).start();
        node2.send(new Heartbeat(2, 1, 1, 1, 1));
        node1.send(new Heartbeat(1, 2, 1, 1, 1));
        await("both refusals", () -> node1.refusedConnectionCount() >= 1 && node2.refusedConnectionCount() >= 1);
        assertTrue(in1.isEmpty() && in2.isEmpty(), "nothing passes between them");
    }

    @Test
    void aPeerThatPresentsNoCertificateIsRefusedWithTheReason() throws IOException {
        Map<Integer, InetSocketAddress> peers = addresses(1, 2);
        TcpTransport node1 = transport(1, peers, "c", new ConcurrentLinkedQueue<>()).start();
        TlsConfig noIdentity = TlsConfig.trusting(DIR.resolve("ca.pem"));
        Socket plain = new Socket();
        plain.connect(peers.get(1));
        plain.setSoTimeout(5000);
        try (SSLSocket s = noIdentity.dial(plain, "127.0.0.1", peers.get(1).getPort())) {
            DataOutputStream d = versionOneHandshake(s.getOutputStream(), 2, 1);
            d.flush();
            String refusal = HandshakeAnswer.read(new DataInputStream(s.getInputStream()));
            assertNotNull(refusal);
            assertEquals("node 2 presented no certificate; peers must present one that the cluster trusts (mutual TLS)",
                    refusal);
        }
        assertEquals(1, node1.refusedConnectionCount());
    }

    @Test
    void aPeerInClearIsToldThatTheNodeTakesOnlyTls() throws IOException {
        Map<Integer, InetSocketAddress> peers = addresses(1, 2);
        TcpTransport node1 = transport(1, peers, "c", new ConcurrentLinkedQueue<>()).start();
        try (Socket s = new Socket()) {
            s.connect(peers.get(1));
            DataOutputStream d = new DataOutputStream(s.getOutputStream());
            d.writeInt(TcpTransport.HANDSHAKE_MAGIC);
            d.writeByte(TcpTransport.HANDSHAKE_VERSION_1);
            d.flush();
            String refusal = HandshakeAnswer.read(new DataInputStream(s.getInputStream()));
            assertEquals("it speaks in clear, and node 1 takes only TLS connections; give it the cluster's TLS settings",
                    refusal);
        }
        assertEquals(1, node1.refusedConnectionCount());
        // A node in clear that dials it is refused the same way: nothing is delivered.
        ConcurrentLinkedQueue<Message> in1 = new ConcurrentLinkedQueue<>();
        Map<Integer, InetSocketAddress> more = addresses(3, 4);
        TcpTransport tls3 = transport(3, more, "c", in1).start();
        TcpTransport clear4 = closedAfter(new TcpTransport(4, more, "c", m -> { })).start();
        clear4.send(new Heartbeat(4, 3, 1, 1, 1));
        await("the refusal", () -> tls3.refusedConnectionCount() >= 1);
        assertTrue(in1.isEmpty());
    }

    @Test
    void aNodeNeedsItsOwnCertificateToRunTls() {
        TcpTransport t = closedAfter(new TcpTransport(1, addresses(1), "c", m -> { }));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> t.secure(TlsConfig.trusting(DIR.resolve("ca.pem"))));
        assertTrue(e.getMessage().contains("needs its own certificate"), e.getMessage());
    }
}
