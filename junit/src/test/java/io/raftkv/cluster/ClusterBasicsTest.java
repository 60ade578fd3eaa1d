package io.raftkv.cluster;

import io.raftkv.junit.RaftCluster;
import io.raftkv.kv.KvClient;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterBasicsTest {
    @Test
    void putGetReplaceOnAFiveNodeCluster(@RaftCluster(nodes = 5) Cluster cluster) {
        KvClient client = cluster.newClient();
        assertEquals(Optional.empty(), client.get("k"));
        assertFalse(client.replace("k", "v0"), "REPLACE of a missing key replaces nothing");
        assertEquals(Optional.empty(), client.get("k"));
        client.put("k", "v1");
        assertEquals(Optional.of("v1"), client.get("k"));
        assertTrue(client.replace("k", "v2"));
        assertEquals(Optional.of("v2"), client.get("k"));
    }

    @Test
    void deleteAndCompareAndSetOnAThreeNodeCluster(@RaftCluster(nodes = 3) Cluster cluster) {
        KvClient client = cluster.newClient();
        assertFalse(client.delete("k"), "nothing to delete");
        assertFalse(client.compareAndSet("k", "v0", "v1"), "an absent key holds no value to match");
        assertTrue(client.compareAndSet("k", null, "v1"), "expecting absence creates the key");
        assertFalse(client.compareAndSet("k", null, "v2"));
        assertFalse(client.compareAndSet("k", "v0", "v2"));
        assertEquals(Optional.of("v1"), client.get("k"));
        assertTrue(client.compareAndSet("k", "v1", "v2"));
        assertEquals(Optional.of("v2"), cluster.newClient().get("k"), "another client reads it");
        assertTrue(client.delete("k"));
        assertEquals(Optional.empty(), client.get("k"));
        assertFalse(client.replace("k", "v3"), "a deleted key is absent");
    }

    @Test
    void anAcknowledgedWriteIsAlreadyInItsLeadersPublishedStatus(@RaftCluster(nodes = 3) Cluster cluster) {
        KvClient client = cluster.newClient();
        client.put("warm", "up"); // opens the session
        for (int i = 0; i < 50; i++) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(5));
            long before = cluster.status(leader).lastIndex();
            client.put("k", "v" + i);
            if (cluster.leader().orElse(-1) != leader) continue; // leadership moved: nothing to compare
            assertTrue(cluster.status(leader).commitIndex() > before,
                    "write " + i + " acknowledged, but its leader's status still shows commit "
                            + cluster.status(leader).commitIndex() + " <= " + before);
        }
    }

    @Test
    void aClientWhoseSessionWasEvictedGoesOnUnderANewOne() {
        // Two sessions at most: a third client's registration evicts the least recently used one.
        try (Cluster cluster = Cluster.builder().nodes(3).maxSessions(2).start()) {
            KvClient first = cluster.newClient();
            first.put("a", "1");
            cluster.newClient().put("b", "1");
            cluster.newClient().put("c", "1"); // evicts the first client's session
            // Refused for the evicted session on its only try, so not applied: sent again under a new session.
            first.put("a", "2");
            assertEquals(Optional.of("2"), first.get("a"));
            first.put("a", "3");
            assertEquals(Optional.of("3"), cluster.newClient().get("a"));
        }
    }

    @Test
    void nodesThatSpinBeforeParkingServeTheSame() {
        try (Cluster cluster = Cluster.builder().nodes(3).spinsBeforePark(100).start()) {
            KvClient client = cluster.newClient();
            for (int i = 0; i < 100; i++) client.put("k" + i, "v" + i);
            assertTrue(client.replace("k0", "w"));
            assertEquals(Optional.of("w"), client.get("k0"));
            assertEquals(Optional.of("v99"), client.get("k99"));
        }
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Cluster.builder().spinsBeforePark(-1));
    }

    @Test
    void killTheLeaderAndANewOneServes(@RaftCluster(nodes = 5) Cluster cluster) {
        KvClient client = cluster.newClient();
        client.put("a", "1");
        int leader = cluster.awaitLeader(Duration.ofSeconds(5));
        cluster.kill(leader);
        client.put("b", "2");
        int next = cluster.awaitLeader(Duration.ofSeconds(5));
        assertNotEquals(leader, next);
        assertEquals(Optional.of("1"), client.get("a"));
        assertEquals(Optional.of("2"), client.get("b"));
        cluster.restart(leader);
        client.put("c", "3");
        assertEquals(Optional.of("3"), client.get("c"));
    }
}
