package io.raftkv.cluster;

import io.raftkv.kv.KvClient;
import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.storage.SnapshotReader;
import io.raftkv.storage.SnapshotWriter;
import io.raftkv.storage.Storage;
import io.raftkv.raft.SnapshotMeta;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Killing, restarting, failing and closing: the cluster's own life cycle, beyond Raft. */
class ClusterLifecycleTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void aBuilderStartedTwiceGivesTwoSeparateClusters() {
        Cluster.Builder b = Cluster.builder().nodes(3).seed(42);
        try (Cluster first = b.start()) {
            first.newClient().put("k", "from the first cluster");
        }
        try (Cluster second = b.start()) {
            assertEquals(Optional.empty(), second.newClient().get("k"), "the second cluster has storage of its own");
        }
    }

    /** Memory storage whose next write fails, as a disk error would, while {@code failNext} is set. */
    private static final class BrokenDisk implements Storage {
        final MemoryStorage inner = new MemoryStorage();
        final AtomicBoolean failNext = new AtomicBoolean();

        @Override public HardState hardState() { return inner.hardState(); }
        @Override public List<Entry> entries() { return inner.entries(); }
        @Override public void persist(HardState hs, List<Entry> entries) {
            if (failNext.getAndSet(false)) throw new IllegalStateException("disk error (injected)");
            inner.persist(hs, entries);
        }
        @Override public Optional<SnapshotMeta> snapshot() { return inner.snapshot(); }
        @Override public SnapshotReader openSnapshot() { return inner.openSnapshot(); }
        @Override public SnapshotWriter createSnapshot(SnapshotMeta meta) { return inner.createSnapshot(meta); }
        @Override public void close() {}
    }

    @Test
    void aNodeWhoseThreadDiedOnAStorageErrorIsReportedDownWithItsCauseAndCanBeRestarted() {
        BrokenDisk disk = new BrokenDisk();
        try (Cluster cluster = Cluster.builder().nodes(3).storage(id -> id == 2 ? disk : new MemoryStorage()).start()) {
            KvClient client = cluster.newClient();
            client.put("a", "1");
            // Node 2 must hold "a" before its disk fails: a majority may commit it without node 2, and a node whose
            // very first write fails has nothing in its log to tell of.
            Agreement.awaitApplied(cluster, WAIT);
            disk.failNext.set(true);
            client.put("b", "2"); // node 2's next write fails; the other two commit it
            Await.until("node 2's thread to die on its disk error", WAIT, () -> !cluster.isAlive(2), cluster::statuses);
            assertFalse(cluster.status(2).alive());
            assertTrue(cluster.status(2).lastIndex() > 0, "a node that is down still tells how far its log came: "
                    + cluster.status(2));
            assertEquals("disk error (injected)", cluster.failure(2).orElseThrow().getMessage());

            cluster.restart(2);
            assertTrue(cluster.isAlive(2));
            client.put("c", "3");
            Agreement.awaitApplied(cluster, WAIT);
            assertEquals(Optional.of("2"), client.get("b"));
        }
    }

    @Test
    void closingAClientDuringAWriteTellsTheWriterItsOutcomeIsUnknownAtOnce() throws Exception {
        try (Cluster cluster = Cluster.builder().nodes(3).clientDeadline(Duration.ofSeconds(30)).start()) {
            int leader = cluster.awaitLeader(WAIT);
            KvClient client = cluster.newClient();
            client.put("warm", "up");
            long before = cluster.status(leader).lastIndex();
            for (int id : cluster.nodeIds()) if (id != leader) cluster.isolate(id);
            CompletableFuture<Throwable> thrown = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    client.put("k", "v");
                    thrown.complete(null);
                } catch (Throwable t) {
                    thrown.complete(t);
                }
            });
            // The write is in the leader's log, and cannot commit: its outcome is now unknown.
            Await.until("the write to reach the leader's log", WAIT,
                    () -> cluster.status(leader).lastIndex() > before, cluster::statuses);
            client.close();
            Throwable t = thrown.get(5, TimeUnit.SECONDS); // well before the 30 s deadline
            assertInstanceOf(OutcomeUnknownException.class, t);
            assertTrue(t.getMessage().contains("closed"), t.getMessage());
        }
    }

    /**
     * A leader stopped gracefully hands over before it goes: with an election timeout of two seconds at least, a
     * new leader one term on within less than that was handed the lead, not elected after a timeout.
     */
    @Test
    void aLeaderStoppedGracefullyHandsOverWithoutAnElectionTimeoutAndAFollowerJustStops() {
        Duration electionTimeout = Duration.ofSeconds(2);
        try (Cluster cluster = Cluster.builder().nodes(3).tickInterval(Duration.ofMillis(10)).electionTicks(200).start()) {
            int leader = cluster.awaitLeader(WAIT);
            KvClient client = cluster.newClient();
            client.put("before", "stop");
            long term = cluster.status(leader).term();

            long start = System.nanoTime();
            cluster.stop(leader);
            int next = cluster.awaitLeader(WAIT);
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(took.compareTo(electionTimeout) < 0, "a new leader after " + took.toMillis() + " ms");
            assertTrue(next != leader && !cluster.isAlive(leader), cluster.statuses()::toString);
            assertEquals(term + 1, cluster.status(next).term(), "one election, the one the leader asked for");
            client.put("after", "stop");

            cluster.restart(leader);
            int follower = cluster.nodeIds().stream().filter(id -> id != next).findFirst().orElseThrow();
            cluster.stop(follower);
            assertFalse(cluster.isAlive(follower));
            assertEquals(next, cluster.awaitLeader(WAIT), "a follower just stops");
            assertEquals(term + 1, cluster.status(next).term());
            assertEquals(Optional.of("stop"), client.get("after"));
        }
    }
}
