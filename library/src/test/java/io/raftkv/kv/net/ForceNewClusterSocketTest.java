package io.raftkv.kv.net;

import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvException;
import io.raftkv.kv.KvLimits;
import io.raftkv.node.ForceNewCluster;
import io.raftkv.node.NodeStatus;
import io.raftkv.raft.Role;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Disaster recovery in socket mode: a three-node cluster loses two nodes for good; the survivor is forced into a
 * cluster of its own from its data ({@link SocketNode#forceNewCluster}), keeps what it had, serves writes alone,
 * and a wiped node is added back as a new member.
 */
class ForceNewClusterSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final SocketNode.Options OPTIONS = SocketNode.Options.defaults().withSync(false);
    private final List<SocketNode> nodes = new ArrayList<>();

    @AfterEach
    void stopAll() {
        for (SocketNode n : nodes) n.close();
    }

    private SocketNode start(int id, Map<Integer, InetSocketAddress> peers, Path dir, SocketNode.Options options) {
        SocketNode n = SocketNode.start(id, peers, dir, options, () -> { });
        nodes.add(n);
        return n;
    }

    @Test
    void theSurvivorKeepsItsDataServesAloneAndTakesANewMember(@TempDir Path dir) {
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(List.of(1, 2, 3));
        List<SocketNode> three = new ArrayList<>();
        for (int id = 1; id <= 3; id++) three.add(start(id, peers, dir.resolve("node-" + id), OPTIONS));
        try (TcpKvConnector connector = new TcpKvConnector(peers, "raftkv")) {
            KvClient kv = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            for (int i = 0; i < 50; i++) kv.put("k" + i, "v" + i);
            // Node 1 must hold every write before the others go: it is the survivor.
            long commit = three.stream().mapToLong(n -> n.status().commitIndex()).max().orElseThrow();
            await("node 1 to apply up to " + commit, () -> three.get(0).status().appliedIndex() >= commit);
        }
        for (SocketNode n : three) n.close(); // two are lost for good; node 1 stops to be recovered

        ForceNewCluster.Outcome outcome = SocketNode.forceNewCluster(1, dir.resolve("node-1"), OPTIONS);
        assertTrue(outcome.rewritten(), outcome::describe);
        assertEquals(Set.of(1, 2, 3), outcome.before().voters());
        SocketNode survivor = start(1, peers, dir.resolve("node-1"), OPTIONS); // the same peers: others rejoin later
        try (TcpKvConnector connector = new TcpKvConnector(peers, "raftkv")) {
            KvClient kv = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            for (int i = 0; i < 50; i++) assertEquals(Optional.of("v" + i), kv.get("k" + i), "committed data is kept");
            kv.put("alone", "yes");
            assertEquals(Optional.of("yes"), kv.get("alone"));
            assertEquals(Role.LEADER, survivor.status().role());
            assertEquals("voters [1]", connector.membership(MembershipOp.MEMBERS, 0, WAIT));

            // Node 2 comes back wiped, knowing node 1 as the only first voter: it waits to be added, never campaigns.
            SocketNode rejoined = start(2, peers, dir.resolve("node-2-new"), OPTIONS.withInitialVoters(Set.of(1)));
            assertEquals("voters [1, 2]", connector.membership(MembershipOp.ADD_VOTER, 2, WAIT));
            long commit = survivor.status().commitIndex();
            await("node 2 to apply up to " + commit, () -> rejoined.status().appliedIndex() >= commit);
            kv.put("two", "members");
            assertEquals(Optional.of("members"), kv.get("two"));
        }
    }

    @Test
    void aNodeWithNoDataIsRefusedAndNothingIsCreated(@TempDir Path dir) {
        Path missing = dir.resolve("missing");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> SocketNode.forceNewCluster(1, missing, OPTIONS));
        assertTrue(e.getMessage().contains("there is no data in " + missing), e.getMessage());
        assertFalse(Files.exists(missing));

        Path fresh = dir.resolve("fresh");
        io.raftkv.storage.FileStorage.open(fresh, io.raftkv.storage.FileStorage.Options.defaults().withClusterId("raftkv"))
                .close(); // a store, with nothing in it yet
        e = assertThrows(IllegalStateException.class, () -> SocketNode.forceNewCluster(1, fresh, OPTIONS));
        assertTrue(e.getMessage().contains("node 1's store holds no log and no snapshot"), e.getMessage());
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out waiting for " + what);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // a node's published status: nothing to wait on
        }
    }
}
