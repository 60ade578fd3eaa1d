package io.raftkv.transport.tcp;

import io.raftkv.raft.Entry;
import io.raftkv.raft.Message;
import io.raftkv.transport.TlsConfig;
import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.VoteRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

@Timeout(20)
class TcpTransportTest {
    private static final Duration WAIT = Duration.ofSeconds(5);

    private final List<TcpTransport> transports = new ArrayList<>();

    @AfterEach
    void closeAll() {
        transports.forEach(TcpTransport::close);
    }

    /** Whether {@link #transport} makes transports whose peers' connections the node's thread reads: no reader threads. */
    boolean readersOnNodeThread() {
        return false;
    }

    /** The transports made so far. */
    final List<TcpTransport> transports() {
        return transports;
    }

    /** Keeps a transport made here closed along with the others at the end of a test. */
    final TcpTransport closedAfter(TcpTransport t) {
        transports.add(t);
        return t;
    }

    /** Free loopback ports, one per id; the sockets are closed just before the transports bind them. */
    static Map<Integer, InetSocketAddress> addresses(int... ids) {
        return LoopbackPorts.reserve(java.util.Arrays.stream(ids).boxed().toList());
    }

    TcpTransport transport(int id, Map<Integer, InetSocketAddress> peers, String cluster,
                           ConcurrentLinkedQueue<Message> inbox) {
        return closedAfter(secured(new TcpTransport(id, peers, cluster, inbox::add)));
    }

    /** The TLS the transports run, or null: in clear. The TLS subclasses run every test again under TLS. */
    TlsConfig tls() {
        return null;
    }

    /** {@code t}, set to run {@link #tls()} if there is one. */
    final TcpTransport secured(TcpTransport t) {
        return tls() == null ? t : t.secure(tls());
    }

    /** A connection to {@code to} as a test plays a peer or a client by hand: under TLS, with the handshake done. */
    final Socket dial(InetSocketAddress to) throws IOException {
        Socket s = new Socket();
        s.connect(to);
        if (tls() == null) return s;
        s.setSoTimeout((int) WAIT.toMillis());
        return tls().dial(s, to.getHostString(), to.getPort());
    }

    /** A connection a test accepted as a peer played by hand: under TLS, with the handshake done. */
    final Socket accepted(Socket s) throws IOException {
        if (tls() == null) return s;
        javax.net.ssl.SSLSocket server = (javax.net.ssl.SSLSocket) tls().context().getSocketFactory()
                .createSocket(s, null, false);
        server.setUseClientMode(false);
        server.setNeedClientAuth(true);
        s.setSoTimeout((int) WAIT.toMillis());
        server.startHandshake();
        return server;
    }

    static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting for " + what);
            // Messages arrive on the transports' threads with nothing to wait on here: poll, without spinning a core.
            java.util.concurrent.locks.LockSupport.parkNanos(100_000);
        }
    }

    /** Whether the condition holds within the time given. */
    private static boolean within(Duration time, BooleanSupplier condition) {
        long deadline = System.nanoTime() + time.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) return false;
            java.util.concurrent.locks.LockSupport.parkNanos(100_000);
        }
        return true;
    }

    /** Whether the other end closed {@code s}: an end of stream, or a reset (a socket closed with bytes unread may send one). */
    private static void assertClosed(Socket s) {
        try {
            assertEquals(-1, s.getInputStream().read(), "the connection should be closed");
        } catch (IOException e) {
            assertTrue(String.valueOf(e.getMessage()).contains("reset"), "the connection should be closed, but: " + e);
        }
    }

    private static Heartbeat hb(int from, int to, long round) {
        return new Heartbeat(from, to, 3, 7, round);
    }

    @Test
    void threeNodesExchangeMessagesBothWays() throws IOException {
        Map<Integer, InetSocketAddress> peers = addresses(1, 2, 3);
        Map<Integer, ConcurrentLinkedQueue<Message>> inboxes = new HashMap<>();
        Map<Integer, TcpTransport> ts = new HashMap<>();
        for (int id = 1; id <= 3; id++) {
            inboxes.put(id, new ConcurrentLinkedQueue<>());
            ts.put(id, transport(id, peers, "c1", inboxes.get(id)).start());
        }
        AppendRequest big = new AppendRequest(1, 2, 3, 4, 2, List.of(
                new Entry(5, 3, Entry.Kind.COMMAND, new byte[5000]),
                new Entry(6, 3, Entry.Kind.NOOP, new byte[0])), 4);
        ts.get(1).send(big);
        for (int from = 1; from <= 3; from++) {
            for (int to = 1; to <= 3; to++) {
                if (from == to) continue;
                for (int i = 0; i < 100; i++) ts.get(from).send(hb(from, to, i));
            }
        }
        await("every heartbeat", () -> inboxes.values().stream().mapToInt(ConcurrentLinkedQueue::size).sum() == 601);
        for (int to = 1; to <= 3; to++) {
            for (int from = 1; from <= 3; from++) {
                if (from == to) continue;
                int f = from;
                List<Long> rounds = inboxes.get(to).stream()
                        .filter(m -> m instanceof Heartbeat && m.from() == f)
                        .map(m -> ((Heartbeat) m).readRound()).toList();
                // One connection per direction: order is kept.
                assertEquals(java.util.stream.LongStream.range(0, 100).boxed().toList(), rounds);
            }
        }
        Message got = inboxes.get(2).stream().filter(m -> m instanceof AppendRequest).findFirst().orElseThrow();
        AppendRequest a = (AppendRequest) got;
        assertEquals(2, a.entries().size());
        assertEquals(5000, a.entries().get(0).data().length);
        assertEquals(0, ts.get(1).droppedCount());
    }

    @Test
    void aPeerOfAnotherClusterIsRefused() throws IOException {
        Map<Integer, InetSocketAddress> peers = addresses(1, 2);
        ConcurrentLinkedQueue<Message> in1 = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Message> in2 = new ConcurrentLinkedQueue<>();
        TcpTransport good = transport(1, peers, "prod", in1).start();
        TcpTransport stranger = transport(2, peers, "staging", in2).start();
        stranger.send(hb(2, 1, 1));
        good.send(hb(1, 2, 1));
        await("both refusals", () -> good.refusedConnectionCount() >= 1 && stranger.refusedConnectionCount() >= 1);
        stranger.send(hb(2, 1, 2));
        // The stranger keeps dialling with backoff and keeps being refused; nothing it sends gets through.
        long refused = good.refusedConnectionCount();
        await("another refusal", () -> good.refusedConnectionCount() > refused);
        assertTrue(in1.isEmpty(), "messages from another cluster arrived: " + in1);
        assertTrue(in2.isEmpty(), "messages from another cluster arrived: " + in2);
    }

    @Test
    void aPeerWithAnUnknownIdIsRefused() throws IOException {
        Map<Integer, InetSocketAddress> peers = addresses(1, 9);
        ConcurrentLinkedQueue<Message> in1 = new ConcurrentLinkedQueue<>();
        TcpTransport good = transport(1, Map.of(1, peers.get(1)), "c", in1).start();
        TcpTransport unknown = transport(9, peers, "c", new ConcurrentLinkedQueue<>()).start();
        unknown.send(hb(9, 1, 1));
        await("the refusal", () -> good.refusedConnectionCount() >= 1);
        assertTrue(in1.isEmpty());
    }

    @Test
    void aPeerAddedWhileRunningIsReachedAndAcceptedAndOneRemovedIsDroppedAndRefused() throws IOException {
        Map<Integer, InetSocketAddress> all = addresses(1, 2);
        ConcurrentLinkedQueue<Message> in1 = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Message> in2 = new ConcurrentLinkedQueue<>();
        // Each knows only itself, as a node does before the configuration names the other.
        TcpTransport one = transport(1, Map.of(1, all.get(1)), "c", in1).start();
        TcpTransport two = transport(2, Map.of(2, all.get(2)), "c", in2).start();
        one.send(hb(1, 2, 0));
        assertEquals(1, one.droppedCount(), "not a peer yet");

        one.setPeer(2, all.get(2));
        two.setPeer(1, all.get(1));
        one.setPeer(2, all.get(2)); // the same again: nothing changes
        assertEquals(all, one.peers());
        one.send(hb(1, 2, 1));
        await("a message to the added peer", () -> !in2.isEmpty());
        two.send(hb(2, 1, 1));
        await("its answer", () -> !in1.isEmpty());

        long refusedBefore = one.refusedConnectionCount();
        one.removePeer(2);
        assertEquals(Map.of(1, all.get(1)), one.peers());
        long dropped = one.droppedCount();
        one.send(hb(1, 2, 2));
        assertEquals(dropped + 1, one.droppedCount(), "a removed peer's messages are dropped");
        // Node 2 still sends: its old connection may carry a message or two, but once it is gone, node 2 cannot dial in again.
        two.close();
        TcpTransport again = transport(2, all, "c", in2).start();
        again.send(hb(2, 1, 3));
        await("node 2's next connection refused", () -> one.refusedConnectionCount() > refusedBefore);
        assertThrows(IllegalArgumentException.class, () -> one.setPeer(1, all.get(2)));
    }

    @Test
    void aPeerThatStartsLateIsReachedAfterReconnecting() throws IOException {
        Map<Integer, InetSocketAddress> peers = addresses(1, 2);
        ConcurrentLinkedQueue<Message> in1 = new ConcurrentLinkedQueue<>();
        ConcurrentLinkedQueue<Message> in2 = new ConcurrentLinkedQueue<>();
        TcpTransport early = transport(1, peers, "c", in1).start();
        early.send(hb(1, 2, 1)); // queued while node 2 is down
        TcpTransport late = transport(2, peers, "c", in2);
        late.start();
        await("the queued message", () -> !in2.isEmpty());
        late.send(hb(2, 1, 1));
        await("the reply", () -> !in1.isEmpty());

        // Node 2 restarts: node 1's writer notices on a later write and reconnects.
        late.close();
        TcpTransport again = transport(2, peers, "c", in2).start();
        in2.clear();
        long round = 2;
        long deadline = System.nanoTime() + WAIT.toNanos();
        // Raft resends in the same way: the first writes may go to the dead connection and be lost.
        do {
            if (System.nanoTime() > deadline) fail("node 1 never reached the restarted node 2");
            early.send(hb(1, 2, round++));
        } while (!within(Duration.ofMillis(50), () -> !in2.isEmpty()));
        assertEquals(0, again.refusedConnectionCount());
    }

    @Test
    void garbageClosesThatConnectionOnly() throws Exception {
        Map<Integer, InetSocketAddress> peers = addresses(1, 2);
        ConcurrentLinkedQueue<Message> in1 = new ConcurrentLinkedQueue<>();
        TcpTransport node1 = transport(1, peers, "c", in1).start();
        TcpTransport node2 = transport(2, peers, "c", new ConcurrentLinkedQueue<>()).start();
        node2.send(hb(2, 1, 1));
        await("the first message", () -> in1.size() == 1);

        // Not a raftkv peer at all: refused at the handshake.
        try (Socket s = dial(peers.get(1))) {
            s.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.getOutputStream().flush();
            assertClosed(s);
        }
        // A valid handshake followed by a bad frame: the connection is closed after the handshake.
        try (Socket s = dial(peers.get(1))) {
            OutputStream out = s.getOutputStream();
            java.io.DataOutputStream d = versionOneHandshake(out, 2, 1); // an older build's handshake: still accepted
            byte[] frame = new FrameCodec().encode(hb(2, 1, 99));
            frame[frame.length - 1] ^= 1; // breaks the CRC
            d.write(frame);
            d.flush();
            assertEquals(TcpTransport.ACCEPTED, s.getInputStream().read());
            assertEquals(-1, s.getInputStream().read(), "the connection should be closed");
        }
        assertEquals(1, node1.refusedConnectionCount());
        await("the bad frame to be counted", () -> node1.badFrameCount() == 1);

        // The good peer's own connection was not touched.
        node2.send(hb(2, 1, 2));
        await("the second message", () -> in1.size() == 2);
        assertTrue(in1.stream().allMatch(m -> m instanceof Heartbeat h && h.readRound() != 99));
    }

    /** A node of a build whose peer handshake is newer is refused, with both versions in the answer. */
    @Test
    void aPeerOfANewerHandshakeVersionIsRefusedWithBothVersions() throws Exception {
        Map<Integer, InetSocketAddress> peers = addresses(1, 2);
        TcpTransport node1 = transport(1, peers, "c", new ConcurrentLinkedQueue<>()).start();
        try (Socket s = dial(peers.get(1))) {
            java.io.DataOutputStream d = new java.io.DataOutputStream(s.getOutputStream());
            d.writeInt(TcpTransport.HANDSHAKE_MAGIC);
            d.writeByte(TcpTransport.HANDSHAKE_VERSION + 1);
            d.flush(); // what follows the version in a newer handshake is not this build's to read
            String refusal = HandshakeAnswer.read(new java.io.DataInputStream(s.getInputStream()));
            assertEquals("it speaks peer handshake version " + (TcpTransport.HANDSHAKE_VERSION + 1) + ", newer than the"
                    + " version " + TcpTransport.HANDSHAKE_VERSION + " that node 1 speaks; node 1 cannot talk to it", refusal);
            assertClosed(s);
        }
        assertEquals(1, node1.refusedConnectionCount());
    }

    @Test
    void aPeerIsDialledFromItsLocalAddressAgainAfterARestart() throws Exception {
        Map<Integer, InetSocketAddress> peers = addresses(1, 2);
        InetSocketAddress from = addresses(9).get(9);
        try (ServerSocket node2 = new ServerSocket()) {
            node2.setReuseAddress(true);
            node2.bind(peers.get(2)); // node 2 played by hand, to see where node 1 dials from
            TcpTransport first = transport(1, peers, "c", new ConcurrentLinkedQueue<>()).dialFrom(Map.of(2, from)).start();
            try (Socket raw = node2.accept(); Socket s = accepted(raw)) {
                acceptHandshake(s);
                assertEquals(from.getPort(), raw.getPort(), "node 1 dials node 2 from the port it was given");
            }
            // Node 1 goes away first (its end of the connection lingers in TIME_WAIT) and starts again: it must
            // still be able to dial from the same port.
            first.close();
            transport(1, peers, "c", new ConcurrentLinkedQueue<>()).dialFrom(Map.of(2, from)).start();
            node2.setSoTimeout((int) WAIT.toMillis());
            try (Socket raw = node2.accept(); Socket s = accepted(raw)) {
                acceptHandshake(s);
                assertEquals(from.getPort(), raw.getPort(), "and again after its restart");
            }
        }
        ConcurrentLinkedQueue<Message> none = new ConcurrentLinkedQueue<>();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> transport(1, peers, "c", none).dialFrom(Map.of(3, from)));
        assertTrue(e.getMessage().contains("node 3 is not a peer of node 1"), e.getMessage());
    }

    /**
     * Writes, unflushed, an older build's peer handshake (version 1, no feature level): node {@code from} of
     * cluster "c" dialling node {@code to}; the stream to write what follows to.
     */
    static java.io.DataOutputStream versionOneHandshake(OutputStream out, int from, int to) throws IOException {
        java.io.DataOutputStream d = new java.io.DataOutputStream(out);
        d.writeInt(TcpTransport.HANDSHAKE_MAGIC);
        d.writeByte(TcpTransport.HANDSHAKE_VERSION_1);
        d.writeByte(1);
        d.write('c');
        d.writeInt(from);
        d.writeInt(to);
        return d;
    }

    /** Reads a peer's handshake and accepts it, as a raftkv node would. */
    private static void acceptHandshake(Socket s) throws IOException {
        java.io.DataInputStream in = new java.io.DataInputStream(s.getInputStream());
        assertEquals(TcpTransport.HANDSHAKE_MAGIC, in.readInt());
        int version = in.readUnsignedByte();
        in.readNBytes(in.readUnsignedByte()); // cluster id
        in.readInt(); // from
        in.readInt(); // to
        if (version > TcpTransport.HANDSHAKE_VERSION_1) in.readUnsignedByte(); // its feature level
        s.getOutputStream().write(TcpTransport.ACCEPTED);
        if (version > TcpTransport.HANDSHAKE_VERSION_1) s.getOutputStream().write(io.raftkv.raft.FeatureLevel.SUPPORTED);
        s.getOutputStream().flush();
    }

    @Test
    void twoOtherProtocolsShareThePortEachByItsMagic() throws Exception {
        Map<Integer, InetSocketAddress> peers = addresses(1);
        TcpTransport node = transport(1, peers, "c", new ConcurrentLinkedQueue<>())
                .serveAlso(new Answering(0x41414141, 'a')).serveAlso(new Answering(0x42424242, 'b')).start();
        for (String magic : List.of("AAAA", "BBBB", "AAAA")) {
            try (Socket s = dial(peers.get(1))) {
                s.getOutputStream().write(magic.getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                assertEquals(Character.toLowerCase(magic.charAt(0)), s.getInputStream().read());
            }
        }
        assertEquals(0, node.refusedConnectionCount());
        TcpTransport other = transport(1, peers, "c", new ConcurrentLinkedQueue<>()).serveAlso(new Answering(0x41414141, 'a'));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> other.serveAlso(new Answering(0x41414141, 'x')));
        assertTrue(e.getMessage().contains("41414141 is served already"), e.getMessage());
    }

    /** A protocol that answers one byte to a connection that opens with its magic. */
    private record Answering(int magic, int answer) implements InboundProtocol {
        @Override
        public void serve(Connection connection, java.io.DataInputStream in) throws IOException {
            connection.outputStream().write(answer);
            connection.outputStream().flush();
        }
    }

    @Test
    void misaddressedMessagesAreDropped() throws Exception {
        Map<Integer, InetSocketAddress> peers = addresses(1, 2, 3);
        ConcurrentLinkedQueue<Message> in1 = new ConcurrentLinkedQueue<>();
        TcpTransport node1 = transport(1, peers, "c", in1).start();
        try (Socket s = dial(peers.get(1))) {
            java.io.DataOutputStream d = versionOneHandshake(s.getOutputStream(), 2, 1); // an older build's handshake: still accepted
            FrameCodec codec = new FrameCodec();
            d.write(codec.encode(hb(3, 1, 1))); // from the wrong node
            d.write(codec.encode(hb(2, 3, 2))); // to another node
            d.write(codec.encode(hb(2, 1, 3))); // fine
            d.flush();
            await("the good message", () -> in1.size() == 1);
        }
        assertEquals(2, node1.misaddressedCount());
        assertEquals(3, ((Heartbeat) in1.peek()).readRound());
    }

    @Test
    void aFullQueueDropsAndCounts() throws IOException {
        Map<Integer, InetSocketAddress> peers = addresses(1, 2);
        TcpTransport t = new TcpTransport(1, peers, "c", m -> {}, new FrameCodec(), 4);
        transports.add(t);
        t.start(); // node 2 never starts: the writer cannot drain
        for (int i = 0; i < 100; i++) t.send(hb(1, 2, i));
        assertTrue(t.droppedCount() >= 90, "dropped " + t.droppedCount());
        t.send(hb(1, 7, 0)); // not a peer: dropped, not thrown
    }

    @Test
    void aPortInUseIsAClearError() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), taken.getLocalPort());
            TcpTransport t = transport(1, Map.of(1, address), "c", new ConcurrentLinkedQueue<>());
            UncheckedIOException e = assertThrows(UncheckedIOException.class, t::start);
            assertInstanceOf(BindException.class, e.getCause());
            assertTrue(e.getMessage().contains(String.valueOf(taken.getLocalPort())), e.getMessage());
            assertTrue(e.getMessage().contains("node 1"), e.getMessage());
        }
    }

    @Test
    void closeLeavesNoThread() throws IOException {
        Map<Integer, InetSocketAddress> peers = addresses(1, 2, 3);
        ConcurrentLinkedQueue<Message> in1 = new ConcurrentLinkedQueue<>();
        TcpTransport node1 = transport(1, peers, "c", in1).start();
        ConcurrentLinkedQueue<Message> in2 = new ConcurrentLinkedQueue<>();
        // Node 2 on platform threads (as raftkv node --threads platform): they must end at close just the same.
        TcpTransport node2 = transport(2, peers, "c", in2).threadFactory(Thread.ofPlatform().daemon().factory()).start();
        // Node 3 is down: node 1 and 2 are mid-backoff towards it when closed.
        node1.send(hb(1, 2, 1));
        node2.send(hb(2, 1, 1));
        node1.send(new VoteRequest(1, 3, 1, 0, 0, true, false));
        await("the messages", () -> !in1.isEmpty() && !in2.isEmpty());

        List<Thread> threads = new ArrayList<>(node1.threads());
        threads.addAll(node2.threads());
        // node 1: accept, out-2, out-3, and in-2 unless its own thread reads node 2; node 2 likewise
        assertTrue(threads.size() >= (readersOnNodeThread() ? 6 : 8), "threads: " + threads);
        for (Thread t : threads) {
            assertTrue(t.getName().startsWith("raftkv-tcp-1-") || t.getName().startsWith("raftkv-tcp-2-"), t.getName());
            assertEquals(t.getName().startsWith("raftkv-tcp-1-"), t.isVirtual(), t + ": the kind its factory makes");
        }
        node1.close();
        node2.close();
        for (Thread t : threads) assertFalse(t.isAlive(), t + " is still alive");
        assertTrue(node1.threads().isEmpty());
        assertTrue(node2.threads().isEmpty());
        assertTrue(Thread.getAllStackTraces().keySet().stream().noneMatch(t -> t.getName().startsWith("raftkv-tcp-")));
        node1.send(hb(1, 2, 2)); // after close: dropped, not thrown
        node1.close(); // idempotent
    }
}
