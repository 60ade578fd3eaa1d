package io.raftkv.transport.tcp;

import io.raftkv.raft.FeatureLevel;
import io.raftkv.raft.Message;
import io.raftkv.raft.Message.Heartbeat;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The feature level in the peer handshake: version 2 carries each side's level, version 1 (an older build's) stands
 * for level 1 and is still spoken and accepted, and a peer below the cluster's level is refused either way.
 */
@Timeout(30)
class FeatureLevelHandshakeTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** What a build from before feature levels answers a version 2 handshake with. */
    private static final String OLD_BUILDS_REFUSAL =
            "it speaks peer handshake version 2, newer than the version 1 that node 2 speaks; node 2 cannot talk to it";

    private final List<TcpTransport> transports = new ArrayList<>();

    @AfterEach
    void closeAll() {
        transports.forEach(TcpTransport::close);
    }

    private TcpTransport transport(int id, Map<Integer, InetSocketAddress> peers, ConcurrentLinkedQueue<Message> inbox) {
        TcpTransport t = new TcpTransport(id, peers, "c", inbox::add);
        transports.add(t);
        return t;
    }

    @Test
    void aVersionOneDiallerIsAcceptedAsLevelOneAndRefusedNamingBothLevelsOnceTheClusterRunsAtTwo() throws IOException {
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(List.of(1, 2));
        TcpTransport node1 = transport(1, peers, new ConcurrentLinkedQueue<>()).start();
        assertEquals(0, node1.featureLevel(2), "not known before it says");
        assertEquals(FeatureLevel.SUPPORTED, node1.featureLevel(1), "its own");
        try (Socket s = new Socket()) {
            s.connect(peers.get(1));
            assertNull(dialVersionOne(s), "an older build's handshake is accepted");
        }
        assertEquals(1, node1.featureLevel(2), "a version 1 peer supports level 1");

        node1.clusterFeatureLevel(2);
        try (Socket s = new Socket()) {
            s.connect(peers.get(1));
            assertEquals("node 2 supports feature levels up to 1, but the cluster runs at feature level 2, which never goes"
                    + " down: upgrade node 2 to a build that supports level 2", dialVersionOne(s));
        }
        assertEquals(1, node1.refusedConnectionCount());
    }

    @Test
    void versionTwoPeersLearnEachOthersLevels() {
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(List.of(1, 2));
        ConcurrentLinkedQueue<Message> in1 = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Message> in2 = new ConcurrentLinkedQueue<>();
        TcpTransport node1 = transport(1, peers, in1).start();
        TcpTransport node2 = transport(2, peers, in2).start();
        node1.send(hb(1, 2));
        node2.send(hb(2, 1));
        await("both messages", () -> in1.size() == 1 && in2.size() == 1);
        await("the levels", () -> node1.featureLevel(2) == FeatureLevel.SUPPORTED && node2.featureLevel(1) == FeatureLevel.SUPPORTED);
        assertEquals(0, node1.refusedConnectionCount() + node2.refusedConnectionCount());
    }

    /** Node 2 is played by hand as a build from before feature levels: it refuses version 2, then takes version 1. */
    @Test
    void aDiallerRefusedForItsVersionByAnOlderBuildDialsAgainWithVersionOne() throws IOException {
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(List.of(1, 2));
        try (ServerSocket old = new ServerSocket()) {
            old.setReuseAddress(true);
            old.bind(peers.get(2));
            old.setSoTimeout((int) WAIT.toMillis());
            TcpTransport node1 = transport(1, peers, new ConcurrentLinkedQueue<>()).start();
            node1.send(hb(1, 2));
            try (Socket s = old.accept()) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                assertEquals(TcpTransport.HANDSHAKE_MAGIC, in.readInt());
                assertEquals(2, in.readUnsignedByte(), "it tries version 2 first");
                // An old build reads no further: it refuses on the version.
                HandshakeAnswer.refuse(new DataOutputStream(s.getOutputStream()), OLD_BUILDS_REFUSAL);
            }
            try (Socket s = old.accept()) {
                DataInputStream in = new DataInputStream(s.getInputStream());
                assertEquals(TcpTransport.HANDSHAKE_MAGIC, in.readInt());
                assertEquals(1, in.readUnsignedByte(), "then version 1, byte for byte an older build's");
                assertEquals("c", new String(in.readNBytes(in.readUnsignedByte()), StandardCharsets.UTF_8));
                assertEquals(1, in.readInt());
                assertEquals(2, in.readInt());
                s.getOutputStream().write(TcpTransport.ACCEPTED);
                s.getOutputStream().flush();
                s.setSoTimeout((int) WAIT.toMillis());
                assertTrue(in.read() >= 0, "then its frames: the message it had queued");
            }
            assertEquals(1, node1.featureLevel(2), "an older build supports level 1");
        }
    }

    @Test
    void aNodeCappedAtLevelOneTalksWithANewOneAsAnOlderBuildWould() {
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(List.of(1, 2));
        ConcurrentLinkedQueue<Message> in1 = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Message> in2 = new ConcurrentLinkedQueue<>();
        TcpTransport node1 = transport(1, peers, in1).start();
        TcpTransport node2 = transport(2, peers, in2).capFeatureLevel(1).start();
        assertEquals(1, node2.featureLevel(2), "its own, capped");
        node1.send(hb(1, 2));
        node2.send(hb(2, 1));
        await("both messages", () -> in1.size() == 1 && in2.size() == 1);
        assertEquals(1, node1.featureLevel(2));
        assertEquals(1, node2.featureLevel(1), "node 1 fell back to version 1, which carries no level");
        assertTrue(node2.refusedConnectionCount() >= 1, "node 2 refused node 1's version 2 as an older build does");
    }

    @Test
    void aPeerBelowTheClusterLevelIsRefusedBothWaysWithNoFallBack() {
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(List.of(1, 2));
        ConcurrentLinkedQueue<Message> in1 = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Message> in2 = new ConcurrentLinkedQueue<>();
        TcpTransport node1 = transport(1, peers, in1);
        node1.clusterFeatureLevel(2);
        node1.start();
        TcpTransport node2 = transport(2, peers, in2).capFeatureLevel(1).start();
        node1.send(hb(1, 2));
        node2.send(hb(2, 1));
        // Node 1 keeps dialling with version 2, which node 2 keeps refusing: it never falls back to version 1.
        await("node 1 to be refused again and again", () -> node2.refusedConnectionCount() >= 3);
        await("node 2 to be refused", () -> node1.refusedConnectionCount() >= 1);
        assertTrue(in1.isEmpty() && in2.isEmpty(), "nothing passed: " + in1 + " " + in2);
    }

    /** Dials with an older build's handshake on {@code s}; the refusal's reason, or null if accepted. */
    private static String dialVersionOne(Socket s) throws IOException {
        DataOutputStream d = TcpTransportTest.versionOneHandshake(s.getOutputStream(), 2, 1);
        d.flush();
        return HandshakeAnswer.read(new DataInputStream(s.getInputStream()));
    }

    private static Heartbeat hb(int from, int to) {
        return new Heartbeat(from, to, 1, 0, 1);
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting for " + what);
            // The transports' threads do the work, with nothing to wait on here: poll without spinning a core.
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}
