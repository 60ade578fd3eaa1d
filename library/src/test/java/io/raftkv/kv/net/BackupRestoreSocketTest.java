package io.raftkv.kv.net;

import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvException;
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

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A backup taken from a serving cluster's leader holds every acknowledged write; a new node restored from it
 * serves them; a damaged backup, or a data directory in use, is refused before anything is written.
 */
class BackupRestoreSocketTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final SocketNode.Options OPTIONS = SocketNode.Options.defaults().withSync(false)
            .withAdminAccess(AdminAccess.token("s3cret"));
    /** 300 values of this size make a state of about 3 MB: several chunks of a backup. */
    private static final String PADDING = "x".repeat(10_000);
    private final List<SocketNode> nodes = new ArrayList<>();

    @AfterEach
    void stopAll() {
        for (SocketNode n : nodes) n.close();
    }

    @Test
    void aBackupOfTheLeaderRestoresIntoANewClusterThatServesItsData(@TempDir Path dir) throws Exception {
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(List.of(1, 2, 3));
        for (int id = 1; id <= 3; id++) nodes.add(SocketNode.start(id, peers, dir.resolve("node-" + id), OPTIONS, () -> { }));
        Path file = dir.resolve("backup.rkvb");
        BackupFile taken;
        try (TcpKvConnector plain = new TcpKvConnector(peers, "raftkv");
             TcpKvConnector admin = new TcpKvConnector(peers, "raftkv").adminToken("s3cret")) {
            KvClient kv = new KvClient(plain, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            for (int i = 0; i < 300; i++) kv.put("k" + i, "v" + i + PADDING);
            kv.delete("k7");
            KvException refused = assertThrows(KvException.class, () -> plain.backup(WAIT));
            assertTrue(refused.getMessage().startsWith("admin requests need the cluster's admin token"), refused.getMessage());

            taken = admin.backup(WAIT);
            long commit = nodes.stream().mapToLong(n -> n.status().commitIndex()).max().orElseThrow();
            assertTrue(taken.index() >= 302 && taken.index() <= commit, taken::describe);
            assertEquals("raftkv", taken.clusterId());
            assertTrue(taken.state().length > 2 * (1 << 20), "more than two chunks of 1 MiB: " + taken.describe());
            taken.write(file);
            assertFalse(Files.exists(dir.resolve("backup.rkvb.tmp")), "written aside, then renamed");
            assertEquals(taken, BackupFile.read(file));
        }
        for (SocketNode n : nodes) n.close();
        nodes.clear();

        Map<Integer, InetSocketAddress> fresh = LoopbackPorts.reserve(List.of(1));
        String done = SocketNode.restore(1, file, dir.resolve("restored"), OPTIONS);
        assertTrue(done.startsWith("restored index " + taken.index() + " (term " + taken.term() + ") of cluster 'raftkv'"), done);
        nodes.add(SocketNode.start(1, fresh, dir.resolve("restored"), OPTIONS, () -> { }));
        try (TcpKvConnector connector = new TcpKvConnector(fresh, "raftkv")) {
            KvClient kv = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            for (int i = 0; i < 300; i++) assertEquals(i == 7 ? Optional.empty() : Optional.of("v" + i + PADDING), kv.get("k" + i));
            kv.put("after", "restore");
            assertEquals(Optional.of("restore"), kv.get("after"));
            assertEquals("voters [1]", connector.membership(MembershipOp.MEMBERS, 0, WAIT));
            assertTrue(nodes.getFirst().status().term() >= taken.term(), "its term does not go back");
        }

        var inUse = assertThrows(IllegalStateException.class, () -> SocketNode.restore(1, file, dir.resolve("restored"), OPTIONS));
        assertTrue(inUse.getMessage().endsWith("is not empty: a backup is restored only into a new, empty data directory"
                + " (a node's data is never overwritten)"), inUse.getMessage());

        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length / 2] ^= 0x10;
        Path damaged = Files.write(dir.resolve("damaged.rkvb"), bytes);
        var bad = assertThrows(IllegalArgumentException.class, () -> SocketNode.restore(1, damaged, dir.resolve("other"), OPTIONS));
        assertEquals(damaged + " is damaged: its CRC does not match its contents (a copy cut short or changed); use"
                + " another backup", bad.getMessage());
        assertFalse(Files.exists(dir.resolve("other")), "nothing was created");
    }
}
