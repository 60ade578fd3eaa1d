package io.raftkv.cluster;

import io.raftkv.kv.KvClient;
import io.raftkv.node.SnapshotPolicy;
import io.raftkv.node.SnapshotStats;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Snapshots and log compaction in a running cluster: catch-up by snapshot, restart from one, a log and a
 * heap that stay bounded however much is written (issue 7). In memory and over TCP, where the chunks go
 * through the codec and real sockets.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(ClusterTransport.class)
class ClusterSnapshotTest {
    @Parameter
    ClusterTransport transport;

    private static final Duration WAIT = Duration.ofSeconds(20);
    /** A snapshot every 16 KiB of log with nothing kept behind it, in chunks small enough that one takes several. */
    private static final SnapshotPolicy SMALL = SnapshotPolicy.defaults().withLogBytes(16 << 10).withTrailingEntries(0)
            .withChunkBytes(4 << 10);

    private static String value(int i) {
        return "value-" + i + "-" + "x".repeat(100);
    }

    /** Writes {@code n} values over {@code keys} keys, returning what each key should hold. */
    private static Map<String, String> write(KvClient client, int n, int keys, Map<String, String> expected) {
        for (int i = 0; i < n; i++) {
            String k = "k" + (i % keys);
            String v = value(i);
            client.put(k, v);
            expected.put(k, v);
        }
        return expected;
    }

    private static void assertHolds(KvClient client, Map<String, String> expected) {
        for (Map.Entry<String, String> e : expected.entrySet()) {
            assertEquals(Optional.of(e.getValue()), client.get(e.getKey()), e.getKey());
        }
    }

    @Test
    void aFollowerFarBehindCatchesUpBySnapshotAndServesTheSameData() {
        try (Cluster cluster = Cluster.builder().nodes(3).transport(transport).snapshots(SMALL).start()) {
            KvClient client = cluster.newClient();
            Map<String, String> expected = write(client, 50, 20, new HashMap<>());
            Agreement.awaitApplied(cluster, WAIT);
            cluster.kill(3);
            write(client, 2_000, 200, expected);
            int leader = cluster.awaitLeader(WAIT);
            SnapshotStats ls = cluster.snapshotStats(leader).orElseThrow();
            assertTrue(ls.taken() > 0, "the leader has snapshotted: " + ls);

            cluster.restart(3);
            long applied = Agreement.awaitApplied(cluster, WAIT);
            assertTrue(cluster.isAlive(3), () -> "node 3 died: " + cluster.failure(3));
            SnapshotStats s3 = cluster.snapshotStats(3).orElseThrow();
            assertTrue(s3.installed() >= 1, "node 3 was brought up by a snapshot: " + s3);
            assertEquals(applied, cluster.status(3).appliedIndex());

            // Node 3 now leads and answers every read from the state the snapshot gave it.
            cluster.transferLeadership(3);
            assertHolds(client, expected);
            write(client, 100, 20, expected);
            assertHolds(client, expected);
        }
    }

    @Test
    void aFollowerThatMissedAnElectionCatchesUpByTheNewLeadersSnapshot() {
        try (Cluster cluster = Cluster.builder().nodes(3).transport(transport).snapshots(SMALL).start()) {
            KvClient client = cluster.newClient();
            Map<String, String> expected = write(client, 20, 20, new HashMap<>());
            // Node 3 misses a new leader's election and its writes: the first it hears of that term is the snapshot.
            cluster.kill(3);
            int leader = cluster.awaitLeader(WAIT);
            cluster.kill(leader);
            cluster.restart(leader);
            cluster.awaitLeader(WAIT);
            write(client, 1_000, 100, expected);
            cluster.restart(3);
            Agreement.awaitApplied(cluster, WAIT);
            assertTrue(cluster.isAlive(3), () -> "node 3 died: " + cluster.failure(3));
            assertTrue(cluster.snapshotStats(3).orElseThrow().installed() >= 1, String.valueOf(cluster.snapshotStats(3)));
            assertTrue(cluster.failure(3).isEmpty(), () -> "node 3 failed: " + cluster.failure(3));
            assertHolds(client, expected);
        }
    }

    @Test
    void nodesRestartedFromTheirSnapshotsServeTheSameData() {
        try (Cluster cluster = Cluster.builder().nodes(3).transport(transport).snapshots(SMALL).start()) {
            KvClient client = cluster.newClient();
            Map<String, String> expected = write(client, 1_000, 100, new HashMap<>());
            Agreement.awaitApplied(cluster, WAIT);
            for (int id : cluster.nodeIds()) {
                assertTrue(cluster.snapshotStats(id).orElseThrow().snapshotIndex() > 0, "node " + id + " has a snapshot");
            }
            for (int id : cluster.nodeIds()) cluster.kill(id);
            for (int id : cluster.nodeIds()) cluster.restart(id);
            cluster.awaitLeader(WAIT);
            for (int id : cluster.nodeIds()) assertTrue(cluster.isAlive(id), "node " + id + " died: " + cluster.failure(id));
            assertHolds(client, expected);
            write(client, 100, 100, expected);
            assertHolds(client, expected);
        }
    }

    @Test
    void theLogAndTheHeapStayBoundedWhenFarMoreIsWrittenThanTheSnapshotThreshold() {
        // 64 keys overwritten again and again: the state stays small, the log would grow without end.
        SnapshotPolicy policy = SnapshotPolicy.defaults().withLogBytes(256 << 10).withTrailingEntries(100);
        int writes = transport == ClusterTransport.TCP ? 20_000 : 60_000;
        String pad = "p".repeat(200);
        try (Cluster cluster = Cluster.builder().nodes(3).transport(transport).snapshots(policy).start()) {
            KvClient client = cluster.newClient();
            // Entries per snapshot: the threshold over an entry's size (~250 B with the command's framing).
            long bound = (256 << 10) / 200 + 100 + 1_000;
            long maxEntries = 0;
            long heapAfterWarmUp = 0;
            for (int i = 0; i < writes; i++) {
                client.put("k" + (i % 64), i + pad);
                if (i % 1_000 == 999) {
                    for (int id : cluster.nodeIds()) {
                        maxEntries = Math.max(maxEntries, cluster.snapshotStats(id).orElseThrow().logEntries());
                    }
                }
                if (i == writes / 4) heapAfterWarmUp = usedHeapAfterGc();
            }
            long heapAtEnd = usedHeapAfterGc();
            long written = (long) writes * (pad.length() + 30);
            System.out.printf("ClusterSnapshotTest (%s): %,d writes (%,d bytes of values); largest in-memory log %,d entries"
                    + " (bound %,d); heap after GC %,d KiB at a quarter, %,d KiB at the end; snapshots taken by node 1: %s%n",
                    transport, writes, written, maxEntries, bound, heapAfterWarmUp >> 10, heapAtEnd >> 10,
                    cluster.snapshotStats(1).orElseThrow());
            assertTrue(maxEntries <= bound, "the in-memory log reached " + maxEntries + " entries, bound " + bound);
            // Three quarters of the writes later, the heap holds about what it held: nothing grows with the log.
            assertTrue(heapAtEnd < heapAfterWarmUp + (16 << 20), "heap grew from " + (heapAfterWarmUp >> 10) + " KiB to "
                    + (heapAtEnd >> 10) + " KiB while " + (written * 3 / 4 >> 10) + " KiB more were written");
        }
    }

    private static long usedHeapAfterGc() {
        java.lang.management.MemoryMXBean memory = java.lang.management.ManagementFactory.getMemoryMXBean();
        memory.gc();
        memory.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }
}
