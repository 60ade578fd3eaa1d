package io.raftkv.cluster;

import io.raftkv.kv.KvClient;
import io.raftkv.storage.NotAStoreException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A cluster whose nodes keep their logs on disk: kill, restart and a whole restart go through the files. */
class FileClusterTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void eachNodeHasItsOwnFolderAndARestartedNodeRecoversFromDisk(@TempDir Path dir) {
        try (Cluster cluster = Cluster.builder().nodes(3).storage(dir).start()) {
            KvClient client = cluster.newClient();
            client.put("a", "1");
            for (int id = 1; id <= 3; id++) assertTrue(Files.isDirectory(dir.resolve("node-" + id)), "node-" + id);
            int leader = cluster.awaitLeader(WAIT);
            cluster.kill(leader);
            client.put("b", "2");
            cluster.restart(leader); // reopens its store and replays its log from disk
            Agreement.awaitApplied(cluster, WAIT);
            cluster.kill(cluster.awaitLeader(WAIT));
            assertEquals(Optional.of("1"), client.get("a"));
            assertEquals(Optional.of("2"), client.get("b"));
        }
    }

    @Test
    void aWholeClusterClosedAndStartedAgainOnItsDirectoryHasItsData(@TempDir Path dir) {
        try (Cluster cluster = Cluster.builder().nodes(3).storage(dir).start()) {
            KvClient client = cluster.newClient();
            for (int i = 0; i < 20; i++) client.put("k" + i, "v" + i);
            assertTrue(client.replace("k0", "replaced"));
            assertTrue(client.delete("k1"));
            assertTrue(client.compareAndSet("k2", "v2", "swapped"));
            assertTrue(client.compareAndSet("new", null, "created"));
        }
        try (Cluster again = Cluster.builder().nodes(3).storage(dir).start()) {
            KvClient client = again.newClient();
            assertEquals(Optional.of("replaced"), client.get("k0"));
            assertEquals(Optional.empty(), client.get("k1"), "the delete was replayed from the log");
            assertEquals(Optional.of("swapped"), client.get("k2"));
            assertEquals(Optional.of("created"), client.get("new"));
            for (int i = 3; i < 20; i++) assertEquals(Optional.of("v" + i), client.get("k" + i));
            client.put("after", "restart");
            assertEquals(Optional.of("restart"), client.get("after"));
        }
    }

    @Test
    void snapshotsOnDiskKeepTheDirectoryBoundedAndBringNodesBack(@TempDir Path dir) throws Exception {
        io.raftkv.node.SnapshotPolicy policy = io.raftkv.node.SnapshotPolicy.defaults().withLogBytes(32 << 10)
                .withTrailingEntries(0).withChunkBytes(8 << 10);
        io.raftkv.storage.FileStorage.Options files = io.raftkv.storage.FileStorage.Options.defaults()
                .withSegmentBytes(16 << 10).withSync(false);
        String pad = "x".repeat(100);
        long[] dirBytes = new long[2];
        try (Cluster cluster = Cluster.builder().nodes(3).storage(dir, files).snapshots(policy).start()) {
            KvClient client = cluster.newClient();
            for (int i = 0; i < 1_000; i++) client.put("k" + (i % 50), i + pad);
            dirBytes[0] = size(dir);
            // Node 3 misses far more than the leader keeps, and comes back by the leader's snapshot, from disk.
            cluster.kill(3);
            for (int i = 1_000; i < 4_000; i++) client.put("k" + (i % 50), i + pad);
            cluster.restart(3);
            Agreement.awaitApplied(cluster, WAIT);
            assertTrue(cluster.isAlive(3), () -> "node 3 died: " + cluster.failure(3));
            assertTrue(cluster.snapshotStats(3).orElseThrow().installed() >= 1, () -> "node 3 did not install a snapshot: "
                    + cluster.nodeIds().stream().map(id -> id + ": " + cluster.snapshotStats(id).orElseThrow() + " "
                    + cluster.status(id)).toList());
            dirBytes[1] = size(dir);
        }
        System.out.printf("FileClusterTest: the three nodes' directories held %,d bytes after 1,000 writes and %,d after"
                + " 4,000 (%,d bytes of values)%n", dirBytes[0], dirBytes[1], 4_000L * (pad.length() + 4));
        assertTrue(dirBytes[1] < 2 * dirBytes[0] + (256 << 10), "the directories grew with the log: " + dirBytes[0]
                + " then " + dirBytes[1] + " bytes");
        // Every node starts again from its snapshot on disk plus its log tail.
        try (Cluster again = Cluster.builder().nodes(3).storage(dir, files).snapshots(policy).start()) {
            KvClient client = again.newClient();
            for (int i = 3_950; i < 4_000; i++) assertEquals(Optional.of(i + pad), client.get("k" + (i % 50)));
            for (int id : again.nodeIds()) {
                assertTrue(again.snapshotStats(id).orElseThrow().snapshotIndex() > 0, "node " + id + " started from a snapshot");
            }
        }
    }

    private static long size(Path dir) throws java.io.IOException {
        try (var files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
    }

    @Test
    void aDirectoryThatIsNotAStoreIsRefused(@TempDir Path dir) throws Exception {
        Files.createDirectories(dir.resolve("node-1"));
        Files.writeString(dir.resolve("node-1").resolve("notes.txt"), "not a raftkv store");
        assertThrows(NotAStoreException.class, () -> Cluster.builder().nodes(3).storage(dir).start());
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        assertThrows(IllegalArgumentException.class, () -> Cluster.builder().storage(file));
    }
}
