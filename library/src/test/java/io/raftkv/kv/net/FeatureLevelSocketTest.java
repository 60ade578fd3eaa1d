package io.raftkv.kv.net;

import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvException;
import io.raftkv.kv.KvLimits;
import io.raftkv.node.SnapshotPolicy;
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
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The cluster's feature level in socket mode: a node standing in for an older build holds the cluster at level 1,
 * which refuses DELETE, CAS and members by address with a clear error and loses nothing; once that node is
 * upgraded the leader raises the level, and the level outlives restarts from snapshots.
 */
class FeatureLevelSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** Snapshots every few KiB, the whole log compacted: a restart comes back from a snapshot. */
    private static final SocketNode.Options OPTIONS = SocketNode.Options.defaults().withSync(false)
            .withSnapshots(SnapshotPolicy.defaults().withLogBytes(4096).withTrailingEntries(0));
    private static final String LEVEL_ONE = "the cluster runs at feature level 1 until every member supports level 2; ";
    private final SocketNode[] nodes = new SocketNode[4];

    @AfterEach
    void stopAll() {
        for (SocketNode n : nodes) if (n != null) n.close();
    }

    @Test
    void anOlderBuildHoldsTheLevelAtOneUntilItIsUpgradedThenTheLevelRisesAndOutlivesRestartsFromSnapshots(@TempDir Path dir) {
        Map<Integer, InetSocketAddress> all = LoopbackPorts.reserve(List.of(1, 2, 3, 4));
        Map<Integer, InetSocketAddress> peers = new TreeMap<>(all);
        peers.remove(4);
        for (int id = 1; id <= 2; id++) nodes[id] = SocketNode.start(id, peers, dir.resolve("n" + id), OPTIONS, () -> { });
        nodes[3] = SocketNode.start(3, peers, dir.resolve("n3"), OPTIONS, () -> { }, t -> t.capFeatureLevel(1));

        try (TcpKvConnector connector = new TcpKvConnector(peers, "raftkv")) {
            KvClient kv = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            kv.put("a", "1");
            kv.put("b", "2");
            assertEquals(LEVEL_ONE + "a DELETE needs level 2",
                    refusal(assertThrows(KvException.class, () -> kv.delete("a"))));
            assertEquals(LEVEL_ONE + "a CAS needs level 2",
                    refusal(assertThrows(KvException.class, () -> kv.compareAndSet("b", "2", "3"))));
            KvException byAddress = assertThrows(KvException.class, () -> connector.addVoterAt(4, all.get(4), WAIT));
            assertTrue(byAddress.getMessage().contains(LEVEL_ONE + "adding a member with its address needs level 2"),
                    byAddress.getMessage());
            assertEquals("voters [1, 2, 3]", connector.membership(MembershipOp.MEMBERS, 0, WAIT), "nothing was added");
            assertEquals(Optional.of("1"), kv.get("a"), "nothing was lost or applied");
            assertEquals(Optional.of("2"), kv.get("b"));
            for (int id = 1; id <= 3; id++) assertEquals(1, nodes[id].featureLevel(), "node " + id);

            // The rolling upgrade: node 3 restarts on this build.
            nodes[3].close();
            nodes[3] = SocketNode.start(3, peers, dir.resolve("n3"), OPTIONS, () -> { });
            await("every node to run at level 2", () -> level(1) == 2 && level(2) == 2 && level(3) == 2);
            assertTrue(kv.delete("a"));
            assertTrue(kv.compareAndSet("b", "2", "3"));
            assertEquals(Optional.empty(), kv.get("a"));
            assertEquals(Optional.of("3"), kv.get("b"));

            // Enough writes for every node to snapshot past the entry that raised the level.
            long raised = maxCommitIndex();
            for (int i = 0; i < 300; i++) kv.put("k" + i, "v".repeat(40));
            await("every node to snapshot past index " + raised, () -> {
                for (int id = 1; id <= 3; id++) if (nodes[id].snapshotStats().snapshotIndex() <= raised) return false;
                return true;
            });
        }
        for (int id = 1; id <= 3; id++) nodes[id].close();
        for (int id = 1; id <= 3; id++) {
            nodes[id] = SocketNode.start(id, peers, dir.resolve("n" + id), OPTIONS, () -> { });
            assertEquals(2, nodes[id].featureLevel(), "node " + id + " knows the level from its snapshot at once");
        }
        try (TcpKvConnector connector = new TcpKvConnector(peers, "raftkv")) {
            KvClient kv = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            assertEquals(Optional.of("3"), kv.get("b"));
            assertEquals(Optional.of("v".repeat(40)), kv.get("k299"));
            assertFalse(kv.delete("a"), "deleted before the restarts");
        }
        // An older build cannot come back: the level never goes down.
        nodes[3].close();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> SocketNode.start(3, peers, dir.resolve("n3"), OPTIONS, () -> { }, t -> t.capFeatureLevel(1)));
        assertEquals("node 3 cannot start on this data: node 3 supports feature levels up to 1, but the cluster runs at"
                + " feature level 2, which never goes down: upgrade node 3 to a build that supports level 2", e.getMessage());
        nodes[3] = SocketNode.start(3, peers, dir.resolve("n3"), OPTIONS, () -> { });
        assertEquals(2, nodes[3].featureLevel(), "and its data is as it was");
    }

    /** The reason a client was given, without what the client says of the request. */
    private static String refusal(KvException e) {
        String m = e.getMessage();
        return m.substring(m.indexOf("refused: ") + "refused: ".length());
    }

    private int level(int id) {
        return nodes[id].featureLevel();
    }

    private long maxCommitIndex() {
        long max = 0;
        for (int id = 1; id <= 3; id++) max = Math.max(max, nodes[id].status().commitIndex());
        return max;
    }

    private static void await(String what, BooleanSupplier condition) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out after " + WAIT.toSeconds() + " s waiting for " + what);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // the nodes' threads do the work: poll, do not spin
        }
    }
}
