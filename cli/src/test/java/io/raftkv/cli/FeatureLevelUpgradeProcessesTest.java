package io.raftkv.cli;

import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvException;
import io.raftkv.kv.KvLimits;
import io.raftkv.kv.net.TcpKvConnector;
import io.raftkv.node.NodeStatus;
import io.raftkv.raft.Role;
import io.raftkv.transport.tcp.LoopbackPorts;
import io.raftkv.transport.tcp.TcpTransport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A rolling upgrade through the cluster's feature level, with {@code raftkv node} processes: node 3 stands in for
 * an older build (its advertised level capped at 1), so the cluster runs at level 1 and refuses a DELETE with an
 * error that names the levels; node 3 restarted on this build, the leader raises the level to 2 and the DELETE
 * works. A client writes without pause throughout, and every write acknowledged is there at the end.
 */
class FeatureLevelUpgradeProcessesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private final Process[] processes = new Process[4];
    private final List<String> output = new CopyOnWriteArrayList<>();
    private Map<Integer, InetSocketAddress> peers;
    private String peerList;
    private Path data;

    @AfterEach
    void stopAll() {
        NodeProcess.stopAll(processes);
    }

    @Test
    void aNodeOfAnOlderBuildHoldsTheClusterAtLevelOneUntilARollingUpgradeRaisesIt(@TempDir Path dir) throws Exception {
        data = dir;
        peers = LoopbackPorts.reserve(3);
        peerList = NodeProcess.peerList(peers);
        startNode(1, false);
        startNode(2, false);
        startNode(3, true);
        try (TcpKvConnector connector = new TcpKvConnector(peers, "raftkv")) {
            awaitCondition("a leader", () -> leader(connector) != 0);
            KvClient kv = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            kv.put("doomed", "x");
            WriterLoop writer = new WriterLoop("upgrade-writer",
                    new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500)), WAIT);
            writer.awaitMore(20);

            Run refused = run("client", "--peers", peerList, "del", "doomed");
            assertEquals(4, refused.code, "refused: " + refused.out + refused.err);
            assertTrue(refused.err.contains("the cluster runs at feature level 1 until every member supports level 2;"
                    + " a DELETE needs level 2"), refused.err);
            assertEquals(Optional.of("x"), kv.get("doomed"), "nothing applied");
            writer.awaitMore(20);

            // The rolling upgrade: node 3 stopped gracefully and started again on this build, on its data.
            processes[3].toHandle().destroy();
            assertTrue(processes[3].waitFor(30, TimeUnit.SECONDS), "SIGTERM stops node 3");
            writer.awaitMore(10);
            startNode(3, false);
            awaitCondition("a node to log that the level rose; output " + output, () -> output.stream()
                    .anyMatch(l -> l.contains("the cluster's feature level rose from 1 to 2")));

            Run deleted = run("client", "--peers", peerList, "del", "doomed");
            assertEquals(0, deleted.code, deleted.err);
            assertEquals("deleted", deleted.out.strip());
            assertEquals(Optional.empty(), kv.get("doomed"));
            writer.awaitMore(20);
            writer.stop();
            long acknowledged = writer.acknowledged();
            assertEquals(Optional.of(Long.toString(acknowledged - 1)), kv.get("w"), "every write acknowledged is there");
            System.out.println("FeatureLevelUpgradeProcessesTest: " + acknowledged + " writes through the upgrade");
        }
    }

    /** The leader every node that answers agrees on, or 0. */
    private int leader(TcpKvConnector connector) {
        for (int id : peers.keySet()) {
            try {
                NodeStatus s = connector.status(id, Duration.ofSeconds(1));
                if (s.role() == Role.LEADER) return s.id();
            } catch (KvException e) {
                // down or starting
            }
        }
        return 0;
    }

    /** Starts node {@code id}; {@code older}: capped at feature level 1, standing in for an older build. */
    private void startNode(int id, boolean older) throws IOException {
        processes[id] = NodeProcess.start(id, older ? List.of("-D" + TcpTransport.TEST_FEATURE_LEVEL_PROPERTY + "=1") : List.of(),
                List.of("--id", Integer.toString(id), "--peers", peerList, "--data", data.resolve("node-" + id).toString(),
                        "--no-fsync", "--snapshot-every", "16k"), output);
    }

    private static void awaitCondition(String what, BooleanSupplier condition) {
        NodeProcess.await(what, WAIT, condition);
    }

    private static Run run(String... args) {
        return Run.run(args);
    }
}
