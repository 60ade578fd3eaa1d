package io.raftkv.kv.net;

import io.raftkv.cluster.Cluster;
import io.raftkv.cluster.ClusterTransport;
import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvException;
import io.raftkv.kv.KvLimits;
import io.raftkv.kv.KvRequest;
import io.raftkv.kv.KvResponse;
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
        cluster = Cluster.builder().nodes(3).seed(seed).transport(ClusterTransport.TCP).start();
        cluster.awaitLeader(WAIT);
        addresses = new HashMap<>();
        for (int id : cluster.nodeIds()) addresses.put(id, cluster.address(id).orElseThrow());
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
        try (TcpKvConnector connector = new TcpKvConnector(Map.of(follower, addresses.get(follower), leader,
                addresses.get(leader)), cluster.clusterId().orElseThrow())) {
            CompletableFuture<KvResponse> answer = new CompletableFuture<>();
            connector.send(follower, new KvRequest(KvRequest.Kind.GET, 0, 0, "k", null), answer::complete);
            KvResponse r = answer.orTimeout(10, TimeUnit.SECONDS).join();
            assertEquals(new KvResponse.NotLeader(leader), r, "a follower names the leader");

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
        try (TcpKvConnector connector = new TcpKvConnector(addresses, cluster.clusterId().orElseThrow())) {
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
        try (TcpKvConnector connector = new TcpKvConnector(addresses, "some-other-cluster")) {
            CompletableFuture<KvResponse> answer = new CompletableFuture<>();
            connector.send(1, new KvRequest(KvRequest.Kind.GET, 0, 0, "k", null), answer::complete);
            KvResponse.Unavailable u = assertInstanceOf(KvResponse.Unavailable.class,
                    answer.orTimeout(10, TimeUnit.SECONDS).join());
            assertTrue(u.reason().contains("refused") && u.reason().contains("some-other-cluster"), u.reason());
        }
    }

    @Test
    void garbageOnAClientConnectionClosesOnlyThatConnection() throws Exception {
        int leader = cluster.awaitLeader(WAIT);
        try (Socket s = new Socket()) {
            s.connect(addresses.get(leader), 2000);
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
