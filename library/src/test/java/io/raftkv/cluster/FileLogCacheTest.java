package io.raftkv.cluster;

import io.raftkv.kv.KvClient;
import io.raftkv.node.SnapshotPolicy;
import io.raftkv.node.SnapshotStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With file storage, the log a node keeps on the heap is bounded by its log cache, not by the snapshot interval:
 * these clusters never snapshot, yet no node holds more than the cache plus what is in flight, and a follower
 * that fell behind by many times the cache catches up from entries its leader reads back from its store. Not
 * timed: every client looks at every node's published log size after each of its puts.
 */
class FileLogCacheTest {
    private static final int CLIENTS = 8;
    private static final String VALUE = "v".repeat(128);
    private static final long CACHE = 64 << 10;
    /** An entry: 24 bytes of bookkeeping, the command's header and key, the value. */
    private static final long ENTRY_BYTES = 24 + 30 + 8 + VALUE.length();

    private static Cluster.Builder neverSnapshotting(Path dir) {
        return Cluster.builder().nodes(3).storage(dir).logCacheBytes(CACHE)
                .snapshots(SnapshotPolicy.defaults().withLogBytes(Long.MAX_VALUE));
    }

    @Test
    void theHeapHoldsTheCacheAndWhatIsInFlightWhileTwentyTimesItIsWritten(@TempDir Path dir) throws InterruptedException {
        int putsEach = (int) (20 * CACHE / ENTRY_BYTES / CLIENTS) + 1;
        AtomicLong mostInAPass = new AtomicLong();
        try (Cluster cluster = neverSnapshotting(dir)
                .passObserver(p -> mostInAPass.accumulateAndGet(Math.max(p.entriesApplied(), p.entriesPersisted()), Math::max))
                .start()) {
            cluster.awaitLeader(Duration.ofSeconds(5));
            long largest = HeapLogWatch.putAndWatch(cluster, CLIENTS, putsEach, VALUE);
            // Past the cache, a node releases down to half of it after each pass; what it may not release is what is
            // not yet applied or durable: at most what two passes bring (one persisted, one applied) and the clients'
            // requests in flight.
            long bound = CACHE + (2 * mostInAPass.get() + 2L * CLIENTS + 16) * ENTRY_BYTES;
            System.out.println("FileLogCacheTest: at most " + largest + " bytes of log on a node's heap; bound " + bound
                    + " (the cache, " + CACHE + ", and in flight; most in one pass " + mostInAPass.get() + " entries)");
            for (int node : cluster.nodeIds()) {
                SnapshotStats s = cluster.snapshotStats(node).orElseThrow();
                assertEquals(0, s.taken(), "this cluster never snapshots");
                assertTrue(s.logEntries() * ENTRY_BYTES > 10 * CACHE, "node " + node + " has " + s.logEntries() + " entries since"
                        + " its (no) snapshot, ten times the cache or more");
            }
            assertTrue(largest <= bound, "a node held " + largest + " bytes of log on its heap; the bound is " + bound);
            assertTrue(largest > CACHE / 2, "the heap log never reached the cache: " + largest + " bytes at most");
        }
    }

    @Test
    void aFollowerFarBehindCatchesUpFromEntriesTheLeaderReadsBackFromItsStore(@TempDir Path dir) {
        try (Cluster cluster = neverSnapshotting(dir).start()) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(5));
            int behind = cluster.nodeIds().stream().filter(id -> id != leader).findFirst().orElseThrow();
            KvClient client = cluster.newClient();
            client.put("before", "1");
            cluster.isolate(behind);
            int puts = (int) (10 * CACHE / ENTRY_BYTES);
            for (int i = 0; i < puts; i++) client.put("k" + (i & 255), VALUE + i);
            long leaderApplied = cluster.status(leader).appliedIndex();
            long missed = leaderApplied - cluster.status(behind).appliedIndex();
            assertTrue(missed * ENTRY_BYTES > 5 * CACHE, "the follower missed " + missed + " entries");
            assertTrue(cluster.snapshotStats(leader).orElseThrow().logBytes() < missed * ENTRY_BYTES / 2,
                    "the leader released most of what the follower missed from its heap");

            cluster.heal();
            Await.until("node " + behind + " applies what it missed", Duration.ofSeconds(30),
                    () -> cluster.status(behind).appliedIndex() >= leaderApplied, () -> cluster.statuses());
            assertEquals(0, cluster.snapshotStats(behind).orElseThrow().installed(), "entries, not a snapshot");
            assertEquals(0, cluster.snapshotStats(leader).orElseThrow().taken());
            // The follower's copy is whole: led by it, the cluster answers what was written last.
            cluster.transferLeadership(behind);
            assertEquals(Optional.of(VALUE + (puts - 1)), client.get("k" + ((puts - 1) & 255)));
            assertEquals(Optional.of("1"), client.get("before"));
        }
    }
}
