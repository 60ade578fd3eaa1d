package io.raftkv.kv.net;

import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvLimits;
import io.raftkv.transport.tcp.LoopbackPorts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Membership by address in socket mode: the first voters' addresses are the first configuration entry, nodes
 * join with only a seed's address, every member learns a new one's address from the log, a removed node is
 * dropped by the others' transports, and a client made from one seed follows the members as they change.
 */
class MembershipByAddressTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final SocketNode.Options OPTIONS = SocketNode.Options.defaults().withSync(false);
    private final List<SocketNode> nodes = new ArrayList<>();

    @AfterEach
    void stopAll() {
        for (SocketNode n : nodes) n.close();
    }

    @Test
    void aClusterGrowsByJoiningWithASeedAndShrinksUntilNoneOfItsFirstMembersIsLeft(@TempDir Path dir) {
        Map<Integer, InetSocketAddress> all = LoopbackPorts.reserve(List.of(1, 2, 3, 4, 5));
        Map<Integer, InetSocketAddress> first = new TreeMap<>(all);
        first.keySet().retainAll(Set.of(1, 2, 3));
        Map<Integer, SocketNode> byId = new TreeMap<>();
        for (int id = 1; id <= 3; id++) byId.put(id, start(SocketNode.start(id, first, dir.resolve("n" + id), OPTIONS, () -> { })));
        assertFalse(Files.exists(dir.resolve("n1").resolve(SocketNode.FIRST_VOTERS_FILE)), "the first voters are in the log");

        try (TcpKvConnector connector = TcpKvConnector.discover(List.of(all.get(2)), "raftkv", WAIT)) {
            assertEquals(List.of(1, 2, 3), connector.nodes());
            KvClient kv = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            kv.put("before", "3");

            // Nodes 4 and 5 know only node 1's address.
            for (int id = 4; id <= 5; id++) {
                byId.put(id, start(SocketNode.join(id, all.get(id), List.of(all.get(1)), dir.resolve("n" + id), OPTIONS,
                        () -> { }, WAIT)));
            }
            assertEquals("voters [1, 2, 3, 4, 5]", connector.membership(MembershipOp.MEMBERS, 0, WAIT));
            for (SocketNode n : byId.values()) {
                int id = n.id();
                await("node " + id + " to have every member as a peer", () -> n.peers().equals(all));
            }
            kv.put("five", "5");

            for (int id = 1; id <= 3; id++) {
                connector.membership(MembershipOp.REMOVE, id, WAIT);
                kv.put("without-" + id, "yes");
            }
            assertEquals("voters [4, 5]", connector.membership(MembershipOp.MEMBERS, 0, WAIT));
            Map<Integer, InetSocketAddress> last = Map.of(4, all.get(4), 5, all.get(5));
            for (int id = 4; id <= 5; id++) {
                SocketNode n = byId.get(id);
                await("node " + n.id() + " to drop the removed nodes as peers", () -> n.peers().equals(last));
            }
            for (int id = 1; id <= 3; id++) byId.get(id).close();

            assertEquals(Optional.of("3"), kv.get("before"));
            assertEquals(Optional.of("5"), kv.get("five"));
            kv.put("after", "2");
            assertEquals(Optional.of("2"), kv.get("after"));
            await("the client to follow the members", () -> connector.nodes().equals(List.of(4, 5)));
        }

        // A client started later with the address of a member that joined finds the others.
        try (TcpKvConnector late = TcpKvConnector.discover(List.of(all.get(5)), "raftkv", WAIT)) {
            assertEquals(List.of(4, 5), late.nodes());
            assertEquals(Optional.of("yes"), new KvClient(late, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500)).get("without-3"));
        }
    }

    @Test
    void aMemberListRoundTripsAsText() {
        MemberList m = new MemberList(new java.util.TreeSet<>(Set.of(1, 2)), new java.util.TreeSet<>(Set.of(4)),
                new TreeMap<>(Map.of(1, new InetSocketAddress("127.0.0.1", 7001), 4, InetSocketAddress.createUnresolved("::1", 7004))));
        assertEquals("voter 1 127.0.0.1:7001,voter 2 -,learner 4 [::1]:7004", m.encode());
        MemberList back = MemberList.parse(m.encode());
        assertEquals(m.voters(), back.voters());
        assertEquals(m.learners(), back.learners());
        assertEquals("127.0.0.1:7001", MemberAddress.format(back.addresses().get(1)));
        assertTrue(back.contains(4) && !back.contains(3));
    }

    private SocketNode start(SocketNode n) {
        nodes.add(n);
        return n;
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting for " + what);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // published state: nothing to wait on
        }
    }
}
