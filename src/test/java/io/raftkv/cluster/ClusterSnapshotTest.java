package io.raftkv.cluster;

import io.raftkv.kv.KvClient;
import io.raftkv.node.SnapshotPolicy;
import io.raftkv.node.SnapshotStats;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Snapshots and log compaction in a running cluster: catch-up by snapshot, restart from one (issue 7). */
class ClusterSnapshotTest {
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
        try (Cluster cluster = Cluster.builder().nodes(3).snapshots(SMALL).start()) {
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
    void nodesRestartedFromTheirSnapshotsServeTheSameData() {
        try (Cluster cluster = Cluster.builder().nodes(3).snapshots(SMALL).start()) {
            KvClient client = cluster.newClient();
            Map<String, String> expected = write(client, 1_000, 100, new HashMap<>());
            Agreement.awaitApplied(cluster, WAIT);
            for (int id : cluster.nodeIds()) {
                assertTrue(cluster.snapshotStats(id).orElseThrow().snapshotIndex() > 0, "node " + id + " has a snapshot");
            }
            for (int id : cluster.nodeIds()) cluster.kill(id);
            for (int id : cluster.nodeIds()) cluster.restart(id);
            cluster.awaitLeader(WAIT);
            assertHolds(client, expected);
            write(client, 100, 100, expected);
            assertHolds(client, expected);
        }
    }
}
