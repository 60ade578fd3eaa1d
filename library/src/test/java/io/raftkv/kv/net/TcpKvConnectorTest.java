package io.raftkv.kv.net;

import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.cluster.Cluster;
import io.raftkv.cluster.ClusterTransport;
import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvException;
import io.raftkv.kv.KvLimits;
import io.raftkv.kv.KvRequest;
import io.raftkv.kv.KvResponse;
import io.raftkv.kv.net.internal.ClientFrames;
import io.raftkv.node.NodeStatus;
import io.raftkv.raft.Role;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Clients over TCP, against a 3-node cluster whose nodes talk TCP on loopback. */
class TcpKvConnectorTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private Cluster cluster;
    private Map<Integer, InetSocketAddress> addresses;

    @BeforeEach
    void start() {
        long seed = System.nanoTime();
        System.out.println("TcpKvConnectorTest seed " + seed);
        // Elections after 250-500 ms rather than the default 50-100: a pause of a loaded machine must not
        // change the leader between the test's look at it and its assertions.
        cluster = builder().nodes(3).seed(seed).transport(ClusterTransport.TCP).electionTicks(50).start();
        cluster.awaitLeader(WAIT);
        addresses = new HashMap<>();
        for (int id : cluster.nodeIds()) addresses.put(id, cluster.address(id).orElseThrow());
    }

    /** The cluster the tests run against, before its size, seed and transport are set. */
    Cluster.Builder builder() {
        return Cluster.builder();
    }

    /** The TLS the cluster runs, or null: in clear (the TLS subclass runs every test again under TLS). */
    io.raftkv.transport.TlsConfig tls() {
        return null;
    }

    /** A connector to {@code nodes} of {@code clusterId}, under {@link #tls()} if there is one. */
    final TcpKvConnector connector(Map<Integer, InetSocketAddress> nodes, String clusterId) {
        return new TcpKvConnector(nodes, clusterId).tls(tls());
    }

    /** A connection to {@code to}, as a test plays a client by hand: under TLS, with its handshake done. */
    final Socket dial(InetSocketAddress to) throws java.io.IOException {
        Socket s = new Socket();
        s.connect(to, 2000);
        if (tls() == null) return s;
        s.setSoTimeout(10_000);
        return tls().dial(s, to.getHostString(), to.getPort());
    }

    @AfterEach
    void stop() {
        cluster.close();
    }

    @Test
    void aClientOfItsOwnFollowsRedirectsFromAnyNode() {
        int leader = cluster.awaitLeader(WAIT);
        // A majority knows the leader; wait for a follower that does too, or it would rightly answer "no leader known".
        int follower = awaitFollowerThatKnows(leader);
        try (TcpKvConnector connector = connector(Map.of(follower, addresses.get(follower), leader,
                addresses.get(leader)), cluster.clusterId().orElseThrow())) {
            CompletableFuture<KvResponse> answer = new CompletableFuture<>();
            connector.send(follower, new KvRequest(KvRequest.Kind.REGISTER, 0, 0, null, null), answer::complete);
            KvResponse r = answer.orTimeout(10, TimeUnit.SECONDS).join();
            assertEquals(new KvResponse.NotLeader(leader), r, "a follower names the leader for a write");
            CompletableFuture<KvResponse> read = new CompletableFuture<>();
            connector.send(follower, new KvRequest(KvRequest.Kind.GET, 0, 0, "k", null), read::complete);
            assertEquals(KvResponse.Ok.NONE, read.orTimeout(10, TimeUnit.SECONDS).join(),
                    "a read it serves itself, with the leader's read index");

            KvClient client = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            client.put("k", "v");
            assertTrue(client.replace("k", "w"));
            assertEquals(Optional.of("w"), client.get("k"));
            assertEquals(Optional.of("w"), cluster.newClient().get("k"), "the cluster's own client sees it");
        }
    }

    private int awaitFollowerThatKnows(int leader) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            for (int id : cluster.nodeIds()) {
                if (id != leader && cluster.status(id).leader() == leader) return id;
            }
            // Nothing to wait on across the nodes' statuses: poll, without spinning a core.
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
        throw new AssertionError("no follower learned that node " + leader + " leads within " + WAIT);
    }

    @Test
    void statusComesFromTheNodeAndADownNodeIsReportedClearly() {
        int leader = cluster.awaitLeader(WAIT);
        try (TcpKvConnector connector = connector(addresses, cluster.clusterId().orElseThrow())) {
            NodeStatus s = connector.status(leader, WAIT);
            assertEquals(leader, s.id());
            assertEquals(Role.LEADER, s.role());
            int follower = cluster.nodeIds().stream().filter(id -> id != leader).findFirst().orElseThrow();
            cluster.kill(follower);
            KvException e = assertThrows(KvException.class, () -> connector.status(follower, WAIT));
            assertTrue(e.getMessage().contains("node " + follower) && e.getMessage().contains(addresses.get(follower).toString()),
                    e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> connector.status(9, WAIT));
        }
    }

    @Test
    void aClientOfAnotherClusterIsRefusedWithTheReason() {
        try (TcpKvConnector connector = connector(addresses, "some-other-cluster")) {
            CompletableFuture<KvResponse> answer = new CompletableFuture<>();
            connector.send(1, new KvRequest(KvRequest.Kind.GET, 0, 0, "k", null), answer::complete);
            // A refused handshake is final: Refused, not Unavailable, so a client stops at once.
            KvResponse.Refused u = assertInstanceOf(KvResponse.Refused.class,
                    answer.orTimeout(10, TimeUnit.SECONDS).join());
            assertTrue(u.reason().contains("refused") && u.reason().contains("some-other-cluster"), u.reason());
        }
    }

    @Test
    void deleteAndCompareAndSetGoOverTheSocketProtocol() {
        try (TcpKvConnector connector = connector(addresses, cluster.clusterId().orElseThrow())) {
            KvClient client = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            assertTrue(client.compareAndSet("k", null, "created"));
            assertEquals(false, client.compareAndSet("k", null, "again"));
            assertEquals(false, client.compareAndSet("k", "other", "x"));
            assertTrue(client.compareAndSet("k", "created", "välue ✓"));
            assertEquals(Optional.of("välue ✓"), cluster.newClient().get("k"), "the cluster's own client sees it");
            assertTrue(client.delete("k"));
            assertEquals(false, client.delete("k"));
            assertEquals(Optional.empty(), client.get("k"));
        }
    }

    /**
     * A client of an earlier protocol version (before DELETE and CAS, before the admin token) is refused at the handshake, and told
     * both versions and which side to upgrade; so is one newer than the node. Raw sockets, since every client
     * of this build speaks the current version.
     */
    @Test
    void aClientOfAnotherProtocolVersionIsRefusedAtTheHandshakeNamingBothVersions() throws Exception {
        int leader = cluster.awaitLeader(WAIT);
        String older = handshakeAnswer(leader, 1);
        assertEquals("it speaks client protocol version 1, and this node speaks only version 3: the client is older than"
                + " the node; upgrade the client (version 3 added the admin token, membership by address and backups,"
                + " version 2 DELETE and CAS)", older);
        assertTrue(handshakeAnswer(leader, 2).startsWith("it speaks client protocol version 2, and this node speaks only"
                + " version 3: the client is older than the node; upgrade the client"));
        String newer = handshakeAnswer(leader, 4);
        assertTrue(newer.startsWith("it speaks client protocol version 4, and this node speaks only version 3: the client"
                + " is newer than the node; upgrade the node"), newer);
        assertEquals(null, handshakeAnswer(leader, ClientFrames.PROTOCOL_VERSION), "the current version is accepted");
        KvClient client = cluster.newClient();
        client.put("still", "serving");
        assertEquals(Optional.of("serving"), client.get("still"));
    }

    /** The node's answer to a handshake naming {@code version}: null if accepted, else its reason. */
    private String handshakeAnswer(int node, int version) throws Exception {
        try (Socket s = dial(addresses.get(node))) {
            s.setSoTimeout(10_000);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            byte[] id = cluster.clusterId().orElseThrow().getBytes(StandardCharsets.UTF_8);
            out.writeInt(ClientFrames.MAGIC);
            out.writeByte(version);
            out.writeByte(id.length);
            out.write(id);
            out.flush();
            return io.raftkv.transport.tcp.HandshakeAnswer.read(new DataInputStream(s.getInputStream()));
        }
    }

    @Test
    void aNodeThatNeverAnswersTheHandshakeCostsACallItsDeadlineAndNoMore() throws Exception {
        // A bound port that never accepts: the kernel completes the TCP handshake, raftkv's never comes
        // (a stopped process looks like this). The dial must not hold the caller past its deadline.
        try (java.net.ServerSocket silent = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
             TcpKvConnector connector = connector(Map.of(1, new InetSocketAddress("127.0.0.1",
                     silent.getLocalPort())), "c");
             KvClient client = new KvClient(connector, KvLimits.DEFAULT, Duration.ofMillis(200), Duration.ofMillis(100))) {
            long start = System.nanoTime();
            assertThrows(io.raftkv.client.OutcomeUnknownException.class, () -> client.get("k"));
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(tookMillis < 700, "a 200 ms deadline took " + tookMillis + " ms");
        }
    }

    @Test
    void manyClientsSharingOneConnectionEachGetTheirOwnAnswers() throws Exception {
        cluster.awaitLeader(WAIT);
        int clients = 32;
        int rounds = 100;
        try (TcpKvConnector connector = connector(addresses, cluster.clusterId().orElseThrow());
             var threads = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            var done = new java.util.ArrayList<java.util.concurrent.Future<?>>();
            for (int c = 0; c < clients; c++) {
                String key = "client-" + c;
                done.add(threads.submit(() -> {
                    KvClient client = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
                    for (int i = 0; i < rounds; i++) {
                        // Every write and read of every client shares the connection to the leader: an answer
                        // given to the wrong caller shows up as another client's value, or another round's.
                        client.put(key, key + "/" + i);
                        assertEquals(Optional.of(key + "/" + i), client.get(key));
                    }
                    return null;
                }));
            }
            for (var f : done) f.get(60, TimeUnit.SECONDS);
        }
        KvClient check = cluster.newClient();
        for (int c = 0; c < clients; c++) assertEquals(Optional.of("client-" + c + "/" + (rounds - 1)), check.get("client-" + c));
    }

    @Test
    void aReplyConsumerThatThrowsDoesNotTakeTheConnectionDown() {
        int leader = cluster.awaitLeader(WAIT);
        try (TcpKvConnector connector = connector(addresses, cluster.clusterId().orElseThrow())) {
            CompletableFuture<KvResponse> first = new CompletableFuture<>();
            connector.send(leader, new KvRequest(KvRequest.Kind.GET, 0, 0, "k", null), r -> {
                first.complete(r);
                throw new IllegalStateException("a careless consumer");
            });
            first.orTimeout(10, TimeUnit.SECONDS).join();
            CompletableFuture<KvResponse> second = new CompletableFuture<>();
            connector.send(leader, new KvRequest(KvRequest.Kind.GET, 0, 0, "k", null), second::complete);
            assertEquals(new KvResponse.Ok(null), second.orTimeout(10, TimeUnit.SECONDS).join());
        }
    }

    @Test
    void aClientThatClosesItsSendingSideStillGetsEveryAnswer() throws Exception {
        int leader = cluster.awaitLeader(WAIT);
        try (Socket s = dial(addresses.get(leader))) {
            s.setSoTimeout(10_000);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            byte[] id = cluster.clusterId().orElseThrow().getBytes(StandardCharsets.UTF_8);
            out.writeInt(ClientFrames.MAGIC);
            out.writeByte(ClientFrames.PROTOCOL_VERSION);
            out.writeByte(id.length);
            out.write(id);
            out.write(ClientFrames.encode(new ClientFrames.Request(1, new KvRequest(KvRequest.Kind.GET, 0, 0, "k", null)),
                    1 << 20));
            out.write(ClientFrames.encode(new ClientFrames.StatusRequest(2), 1 << 20));
            out.flush();
            s.shutdownOutput();
            DataInputStream in = new DataInputStream(s.getInputStream());
            assertEquals(ClientFrames.ACCEPTED, in.readUnsignedByte());
            assertEquals(leader, in.readInt());
            io.raftkv.transport.tcp.FrameReader frames = new io.raftkv.transport.tcp.FrameReader(in, 1 << 20);
            java.util.Set<Long> answered = new java.util.HashSet<>();
            for (java.nio.ByteBuffer f; (f = frames.readFrame()) != null; ) {
                answered.add(ClientFrames.decode(f, 1 << 20).correlation());
            }
            assertEquals(java.util.Set.of(1L, 2L), answered);
        }
    }

    @Test
    void aClientThatReadsNothingForAWhileLosesNoAnswerAndOthersAreStillServed() throws Exception {
        int leader = cluster.awaitLeader(WAIT);
        int requests = 300_000; // about 5 MB of requests and 15 MB of answers: far beyond what the sockets buffer
        try (Socket s = dial(addresses.get(leader))) {
            s.setSoTimeout(10_000);
            DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(s.getOutputStream()));
            byte[] id = cluster.clusterId().orElseThrow().getBytes(StandardCharsets.UTF_8);
            out.writeInt(ClientFrames.MAGIC);
            out.writeByte(ClientFrames.PROTOCOL_VERSION);
            out.writeByte(id.length);
            out.write(id);
            // Sent without reading a single answer: past MAX_IN_FLIGHT the node stops reading and TCP holds
            // the sender back (that the node's memory stays bounded is by construction, not asserted here).
            Thread sender = Thread.ofVirtual().start(() -> {
                try {
                    for (int i = 1; i <= requests; i++) out.write(ClientFrames.encode(new ClientFrames.StatusRequest(i), 1 << 20));
                    out.flush();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            KvClient other = cluster.newClient();
            other.put("others", "still served");
            assertEquals(Optional.of("still served"), other.get("others"));

            DataInputStream in = new DataInputStream(new java.io.BufferedInputStream(s.getInputStream()));
            assertEquals(ClientFrames.ACCEPTED, in.readUnsignedByte());
            assertEquals(leader, in.readInt());
            io.raftkv.transport.tcp.FrameReader frames = new io.raftkv.transport.tcp.FrameReader(in, 1 << 20);
            java.util.BitSet answered = new java.util.BitSet();
            for (int i = 0; i < requests; i++) answered.set((int) ClientFrames.decode(frames.readFrame(), 1 << 20).correlation());
            assertEquals(requests, answered.cardinality(), "every request answered once");
            sender.join(10_000);
            assertTrue(!sender.isAlive(), "the sender got through once answers were read");
        }
    }

    @Test
    void garbageOnAClientConnectionClosesOnlyThatConnection() throws Exception {
        int leader = cluster.awaitLeader(WAIT);
        try (Socket s = dial(addresses.get(leader))) {
            s.setSoTimeout(10_000);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            byte[] cluster = this.cluster.clusterId().orElseThrow().getBytes(StandardCharsets.UTF_8);
            out.writeInt(ClientFrames.MAGIC);
            out.writeByte(ClientFrames.PROTOCOL_VERSION);
            out.writeByte(cluster.length);
            out.write(cluster);
            out.flush();
            DataInputStream in = new DataInputStream(s.getInputStream());
            assertEquals(ClientFrames.ACCEPTED, in.readUnsignedByte());
            assertEquals(leader, in.readInt());
            out.writeInt(20);
            out.write(new byte[20]); // version 0, CRC wrong: a bad frame
            out.flush();
            assertEquals(-1, in.read(), "the node closes the connection");
        }
        KvClient client = this.cluster.newClient();
        client.put("still", "serving");
        assertEquals(Optional.of("serving"), client.get("still"));
    }
}
