package io.raftkv.kv.net;

import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvLimits;
import io.raftkv.node.SnapshotPolicy;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.FileStorage;
import io.raftkv.transport.tcp.LoopbackPorts;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Upgrades must keep reading what earlier builds wrote. {@code golden-format-2} (beside this class, under test
 * resources) is the data directory of a one-node socket-mode cluster as a build of store format 2 wrote it: its
 * marker, a log segment, a snapshot of the key-value state and the log after it, the recorded first voters. It
 * is checked in as it was written and never regenerated: a change of the store's format, of the key-value
 * snapshot's or of the commands' encoding must keep this test passing (read the old, write the new).
 *
 * <p>It was written by {@link #writeTheGoldenStore}, which runs only when asked, with the directory to write:
 * <pre>
 * ./mvn21 -o -q test -pl core,library -Dtest=GoldenStoreTest#writeTheGoldenStore \
 *     -Dsurefire.failIfNoSpecifiedTests=false \
 *     -Draftkv.goldenStore=$PWD/library/src/test/resources/io/raftkv/kv/net/golden-format-N
 * </pre>
 * When the store's format version goes up, write a {@code golden-format-N} of the new version that way, keep the
 * old ones, and give each a test like {@link #theStoreOfFormat2OpensWithAllItsData}.
 */
class GoldenStoreTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** The keys written: k00..k29, then (after a snapshot) k30..k34; k00 replaced at the end. */
    private static final int KEYS = 35;
    private static final int BEFORE_SNAPSHOT = 30;

    @Test
    void theStoreOfFormat2OpensWithAllItsData(@TempDir Path tmp) throws Exception {
        Path data = copyOf("golden-format-2", tmp);
        assertEquals(2, ByteBuffer.wrap(Files.readAllBytes(data.resolve("raftkv.store"))).getInt(8),
                "the fixture is of format 2, whatever this build writes");
        try (FileStorage store = FileStorage.open(data, FileStorage.Options.defaults().withClusterId("raftkv"))) {
            SnapshotMeta snapshot = store.snapshot().orElseThrow(() -> new AssertionError("the fixture has a snapshot"));
            assertTrue(store.lastIndex() > snapshot.index(), "and entries after it: " + snapshot + ", last " + store.lastIndex());
        }
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(List.of(1));
        try (SocketNode node = SocketNode.start(1, peers, data, SocketNode.Options.defaults().withSync(false), () -> { });
             TcpKvConnector connector = new TcpKvConnector(peers, "raftkv")) {
            KvClient kv = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            assertEquals(Optional.of("replaced"), kv.get(key(0)));
            for (int i = 1; i < KEYS; i++) assertEquals(Optional.of(value(i)), kv.get(key(i)), key(i));
            kv.put("after", "upgrade"); // and it goes on writing, in whatever format this build writes
            assertEquals(Optional.of("upgrade"), kv.get("after"));
            assertTrue(node.status().appliedIndex() > 0);
        }
    }

    /** Writes a golden store into the directory named by {@code -Draftkv.goldenStore}, which must not exist yet. */
    @Test
    @EnabledIfSystemProperty(named = "raftkv.goldenStore", matches = ".+")
    void writeTheGoldenStore() {
        Path data = Path.of(System.getProperty("raftkv.goldenStore"));
        if (Files.exists(data)) fail(data + " exists: a golden store is written once, into a new directory");
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(List.of(1));
        // Snapshots after a kilobyte of log, so that a few dozen small writes leave one and a log after it.
        SocketNode.Options options = SocketNode.Options.defaults().withSnapshots(SnapshotPolicy.defaults().withLogBytes(1024));
        try (SocketNode node = SocketNode.start(1, peers, data, options, () -> { });
             TcpKvConnector connector = new TcpKvConnector(peers, "raftkv")) {
            KvClient kv = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            for (int i = 0; i < BEFORE_SNAPSHOT; i++) kv.put(key(i), value(i));
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (node.snapshotStats().taken() == 0) {
                if (System.nanoTime() > deadline) fail("no snapshot was taken");
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // a published figure: nothing to wait on
            }
            for (int i = BEFORE_SNAPSHOT; i < KEYS; i++) kv.put(key(i), value(i));
            assertTrue(kv.replace(key(0), "replaced"));
        }
        try (FileStorage store = FileStorage.open(data, FileStorage.Options.defaults().withClusterId("raftkv"))) {
            long snapshot = store.snapshot().orElseThrow().index();
            assertTrue(store.lastIndex() > snapshot, "the last writes are in the log after the snapshot at " + snapshot);
        }
    }

    private static String key(int i) {
        return String.format("k%02d", i);
    }

    private static String value(int i) {
        return "value of key " + i;
    }

    /** A copy of fixture {@code name} in {@code tmp}: opening a store writes to it. */
    private static Path copyOf(String name, Path tmp) throws IOException, URISyntaxException {
        Path fixture = Path.of(GoldenStoreTest.class.getResource(name).toURI());
        Path copy = tmp.resolve(name);
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(fixture)) {
            for (Path p : files.toList()) Files.copy(p, copy.resolve(p.getFileName()));
        }
        return copy;
    }
}
