package io.raftkv.node;

import io.raftkv.cluster.Cluster;
import io.raftkv.kv.KvClient;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The commit path's stages as JFR events: off by default, and when a recording takes them, every stage is there. */
class NodePassEventTest {

    @Test
    void aRecordingSeesTheLeaderAppendAndEveryNodePersistApplyAndTheLeaderAnswer(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("passes.jfr");
        try (Cluster cluster = Cluster.builder().nodes(3).start()) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(5));
            KvClient client = cluster.newClient();
            client.put("before", "the recording"); // no recording: nothing to see, and nothing breaks
            try (Recording recording = new Recording()) {
                recording.enable("io.raftkv.NodePass");
                recording.start();
                for (int i = 0; i < 50; i++) client.put("k" + i, "v" + i);
                // Every node has stored and applied all of it (a follower learns the last commit with the
                // next heartbeat) before the recording ends.
                long last = cluster.status(leader).commitIndex();
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (cluster.statuses().stream().anyMatch(s -> s.appliedIndex() < last)) {
                    if (System.nanoTime() - deadline > 0) throw new AssertionError("not all applied: " + cluster.statuses());
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000);
                }
                recording.stop();
                recording.dump(file);
            }
            List<RecordedEvent> events = RecordingFile.readAllEvents(file);
            assertTrue(!events.isEmpty(), "no io.raftkv.NodePass events recorded");
            long proposals = 0;
            long leaderAnswers = 0;
            long[] applied = new long[4];
            long[] persisted = new long[4];
            for (RecordedEvent e : events) {
                assertEquals("io.raftkv.NodePass", e.getEventType().getName());
                int node = e.getInt("node");
                applied[node] += e.getInt("entriesApplied");
                persisted[node] += e.getInt("entriesPersisted");
                if (e.getBoolean("leader")) {
                    assertEquals(leader, node);
                    proposals += e.getInt("proposals");
                    leaderAnswers += e.getInt("answers");
                }
                for (String stage : List.of("inboxNanos", "readyNanos", "sendNanos", "persistNanos", "applyNanos", "answerNanos")) {
                    assertTrue(e.getLong(stage) >= 0, stage + " < 0 in " + e);
                    assertTrue(e.getLong(stage) <= e.getDuration().toNanos(), stage + " longer than the pass in " + e);
                }
            }
            assertEquals(50, proposals, "the leader took each of the 50 proposals once");
            assertEquals(50, leaderAnswers, "the leader answered each of the 50 puts once");
            for (int node = 1; node <= 3; node++) {
                assertTrue(persisted[node] >= 50, "node " + node + " persisted " + persisted[node] + " entries");
                assertTrue(applied[node] >= 50, "node " + node + " applied " + applied[node] + " entries");
            }
        }
    }
}
