package io.raftkv.micrometer;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.raftkv.cluster.Cluster;
import io.raftkv.kv.KvClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A cluster's nodes as meters: their status, their changes, and the commit path's stages. */
class RaftkvMetersTest {
    @Test
    void aClusterShowsItsStatusChangesAndStages() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RaftkvMeters meters = new RaftkvMeters(registry);
        try (Cluster cluster = Cluster.builder().nodes(3).listener(meters).passObserver(meters).start()) {
            meters.watch(cluster);
            int leader = cluster.awaitLeader(Duration.ofSeconds(10));
            KvClient client = cluster.newClient();
            for (int i = 0; i < 50; i++) client.put("k" + i, "v" + i);
            String node = Integer.toString(leader);

            assertEquals(1.0, registry.get("raftkv.node.leader").tag("node", node).gauge().value());
            double leaders = registry.get("raftkv.node.leader").gauges().stream().mapToDouble(g -> g.value()).sum();
            assertEquals(1.0, leaders, "one leader among " + cluster.statuses());
            double commit = registry.get("raftkv.node.commit.index").tag("node", node).gauge().value();
            assertTrue(commit >= 50, "the leader's commit index after 50 writes: " + commit);
            assertEquals(cluster.status(leader).term(), (long) registry.get("raftkv.node.term").tag("node", node).gauge().value());
            assertTrue(registry.get("raftkv.node.changes").tag("node", node).counter().count() >= 1, "its election was reported");

            // The leader's passes took the proposals, persisted and applied them, each stage timed.
            assertTrue(registry.get("raftkv.node.pass.proposals").tag("node", node).summary().totalAmount() >= 50);
            assertTrue(registry.get("raftkv.node.pass.entries.applied").tag("node", node).summary().totalAmount() >= 50);
            for (String stage : List.of("inbox", "ready", "send", "persist", "apply", "answer")) {
                Timer t = registry.get("raftkv.node.pass.stage").tag("node", node).tag("stage", stage).timer();
                assertTrue(t.count() > 0, stage + " timed");
            }

            cluster.kill(leader);
            assertEquals(0.0, registry.get("raftkv.node.alive").tag("node", node).gauge().value());
            assertEquals(0.0, registry.get("raftkv.node.leader").tag("node", node).gauge().value());
        }
    }

    @Test
    void nodesAddedLaterGetTheirMeters() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RaftkvMeters meters = new RaftkvMeters(registry);
        try (Cluster cluster = Cluster.builder().nodes(3).listener(meters).passObserver(meters).start()) {
            meters.watch(cluster);
            int added = cluster.addNode();
            double alive = registry.get("raftkv.node.alive").tag("node", Integer.toString(added)).gauge().value();
            assertEquals(1.0, alive);
        }
    }
}
