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
        }
        try (Cluster again = Cluster.builder().nodes(3).storage(dir).start()) {
            KvClient client = again.newClient();
            assertEquals(Optional.of("replaced"), client.get("k0"));
            for (int i = 1; i < 20; i++) assertEquals(Optional.of("v" + i), client.get("k" + i));
            client.put("after", "restart");
            assertEquals(Optional.of("restart"), client.get("after"));
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
