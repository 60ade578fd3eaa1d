package io.raftkv.cluster;

import io.raftkv.kv.KvClient;
import io.raftkv.node.NodeReport;
import io.raftkv.raft.Progress;
import io.raftkv.raft.Role;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Node reports on request, and the listener that is told of changes instead of polling. */
class NodeReportTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void aLeadersReportShowsEachPeersReplicationAndAFollowersShowsNone() {
        try (Cluster cluster = Cluster.builder().nodes(3).start()) {
            int leader = cluster.awaitLeader(WAIT);
            KvClient client = cluster.newClient();
            for (int i = 0; i < 20; i++) client.put("k" + i, "v");
            long last = cluster.status(leader).lastIndex();
            // Followers acknowledge in their own time: wait until the leader has heard from both.
            NodeReport r = Await.value("the leader hears both followers match its log", WAIT, () -> {
                NodeReport now = cluster.report(leader);
                return now.peers().values().stream().allMatch(p -> p.matchIndex() >= last)
                        ? java.util.Optional.of(now) : java.util.Optional.empty();
            }, () -> cluster.report(leader));
            assertEquals(Role.LEADER, r.role());
            assertEquals(leader, r.leader());
            assertTrue(r.alive());
            assertEquals(Set.copyOf(cluster.nodeIds().stream().filter(id -> id != leader).toList()), r.peers().keySet());
            for (NodeReport.PeerReport p : r.peers().values()) {
                assertEquals(Progress.State.REPLICATE, p.state(), p.toString());
                assertTrue(p.nextIndex() > p.matchIndex(), p.toString());
            }
            assertEquals(Set.of(1, 2, 3), r.configuration().voters());
            assertEquals(r.configuration(), r.committedConfiguration());
            int follower = cluster.nodeIds().stream().filter(id -> id != leader).findFirst().orElseThrow();
            NodeReport f = cluster.report(follower);
            assertEquals(Role.FOLLOWER, f.role());
            assertEquals(leader, f.leader());
            assertEquals(java.util.Map.of(), f.peers());
            cluster.kill(follower);
            NodeReport down = cluster.report(follower);
            assertFalse(down.alive());
            assertTrue(down.lastIndex() >= 1, down.toString());
        }
    }

    @Test
    void theListenerIsToldOfElectionsMembershipAndStopsWithoutPolling() {
        ConcurrentLinkedQueue<NodeReport> told = new ConcurrentLinkedQueue<>();
        try (Cluster cluster = Cluster.builder().nodes(3).listener(told::add).start()) {
            int leader = cluster.awaitLeader(WAIT);
            // The leader told of its own election, with its peers.
            Await.until("the leader reports its election", WAIT,
                    () -> told.stream().anyMatch(r -> r.id() == leader && r.role() == Role.LEADER && r.alive()), () -> told);
            NodeReport elected = told.stream().filter(r -> r.id() == leader && r.role() == Role.LEADER).findFirst().orElseThrow();
            assertEquals(2, elected.peers().size(), elected.toString());

            int added = cluster.addNode();
            Await.until("every node reports the configuration with node " + added + " a voter", WAIT,
                    () -> cluster.nodeIds().stream().allMatch(id -> told.stream().anyMatch(
                            r -> r.id() == id && r.configuration().voters().contains(added))), () -> told);
            // It went through being a learner first, and the new node was told who leads.
            assertTrue(told.stream().anyMatch(r -> r.configuration().learners().contains(added)), told.toString());
            assertTrue(told.stream().anyMatch(r -> r.id() == added && r.leader() == leader), told.toString());

            int follower = cluster.nodeIds().stream().filter(id -> id != leader && id != added).findFirst().orElseThrow();
            cluster.kill(follower);
            assertTrue(told.stream().anyMatch(r -> r.id() == follower && !r.alive()), "told of the stop: " + told);
        }
    }

    @Test
    void aListenerThatThrowsDoesNotStopTheNodes() {
        AtomicInteger calls = new AtomicInteger();
        try (Cluster cluster = Cluster.builder().nodes(3).listener(r -> {
            calls.incrementAndGet();
            throw new IllegalStateException("a careless listener");
        }).start()) {
            int leader = cluster.awaitLeader(WAIT);
            KvClient client = cluster.newClient();
            client.put("k", "v");
            assertEquals(java.util.Optional.of("v"), client.get("k"));
            assertTrue(calls.get() >= 1);
            for (int id : List.of(1, 2, 3)) assertTrue(cluster.isAlive(id), "node " + id + " runs; leader " + leader);
        }
    }
}
