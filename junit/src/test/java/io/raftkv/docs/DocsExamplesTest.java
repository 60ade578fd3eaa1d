package io.raftkv.docs;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.raftkv.client.ReadFrom;
import io.raftkv.cluster.Cluster;
import io.raftkv.junit.RaftCluster;
import io.raftkv.kv.KvClient;
import io.raftkv.micrometer.RaftkvMeters;
import io.raftkv.node.NodeStatus;
import io.raftkv.node.SnapshotPolicy;
import io.raftkv.raft.ReadPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Java examples of docs/ (but the tutorial's, which CounterTutorialTest runs), word for word: the
 * first test checks that every block of those pages is in this file, the others run them.
 */
class DocsExamplesTest {
    private static final String SOURCE = "src/test/java/io/raftkv/docs/DocsExamplesTest.java";
    private final List<String> logged = new CopyOnWriteArrayList<>();

    @Test
    void theDocsHoldOnlyCodeThisFileRuns() {
        for (String page : List.of("../docs/user-guide.md", "../docs/design.md", "../docs/commit-path.md")) {
            DocBlocks.assertEveryBlockIsIn(page, SOURCE);
        }
    }

    @Test
    void theUserGuidesTourOfACluster() {
        try (Cluster cluster = Cluster.builder().nodes(5).start()) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(2));
            KvClient client = cluster.newClient();
            client.put("k", "v");
            assertEquals(Optional.of("v"), client.get("k")); // linearizable (ReadIndex)
            assertTrue(client.replace("k", "v2"));          // false if "k" is absent
            cluster.kill(leader);                           // crash: volatile state lost, storage kept
            cluster.partition(Set.of(1, 2), Set.of(3, 4, 5));
            cluster.isolate(3);
            cluster.heal();
            cluster.restart(leader);
            NodeStatus s = cluster.status(2);               // alive, role, term, leader, last/commit/applied index
            int added = cluster.addNode();                  // membership: one server at a time, through the log
            cluster.removeNode(2);
            cluster.transferLeadership(added);
        }
    }

    @Test
    void theDesignsApiInShort() {
        try (Cluster cluster = Cluster.builder().nodes(5).start()) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(2));
            KvClient client = cluster.newClient();
            client.put("k", "v");
            assertEquals(Optional.of("v"), client.get("k"));
            assertTrue(client.replace("k", "v2"));
            cluster.kill(leader);                 // crash: volatile state lost, storage kept
            cluster.partition(Set.of(1, 2), Set.of(3, 4, 5));
            cluster.heal();
            cluster.restart(leader);
            NodeStatus s = cluster.status(2);
            int added = cluster.addNode();        // one server at a time, through the log
        }
    }

    @Test
    void readsByLeaseFromEveryNode() {
        try (Cluster cluster = Cluster.builder().nodes(3).readPolicy(ReadPolicy.LEASE).start()) {
            KvClient client = cluster.newClient().readFrom(ReadFrom.ANY); // reads go to every node in turn
            client.put("k", "v");
            assertEquals(Optional.of("v"), client.get("k"));             // linearizable, whichever node answers
        }
    }

    @Test
    void onDisk(@TempDir Path directory) {
        try (Cluster cluster = Cluster.builder().nodes(3).storage(directory).start()) {
            cluster.newClient().put("k", "v");              // in directory/node-1 .. node-3, forced before the answer
        }
        assertTrue(Files.isDirectory(directory.resolve("node-1")));
        try (Cluster again = Cluster.builder().nodes(3).storage(directory).start()) {
            assertEquals(Optional.of("v"), again.newClient().get("k"));
        }
    }

    @Test
    void survivesALeaderCrash(@RaftCluster(nodes = 5) Cluster cluster) {
        KvClient client = cluster.newClient();
        client.put("k", "v");
        cluster.kill(cluster.awaitLeader(Duration.ofSeconds(5)));
        assertEquals(Optional.of("v"), client.get("k"));
    }

    @Test
    void theKeyValueOperations(@RaftCluster(nodes = 3) Cluster cluster) {
        KvClient client = cluster.newClient();
        assertTrue(client.compareAndSet("lock", null, "owner-1"));      // created: "lock" was absent
        assertFalse(client.compareAndSet("lock", null, "owner-2"));     // it exists now
        assertFalse(client.compareAndSet("lock", "owner-2", "owner-3")); // it holds "owner-1"
        assertTrue(client.compareAndSet("lock", "owner-1", "owner-2"));
        assertTrue(client.delete("lock"));                              // it held a value
        assertFalse(client.delete("lock"));                             // nothing left to delete
    }

    @Test
    void aListener() {
        try (Cluster cluster = Cluster.builder()
                .listener(report -> log(report.id() + " is " + report.role() + " in term " + report.term())).start()) {
            cluster.awaitLeader(Duration.ofSeconds(5));     // the listener has heard of the election
        }
        assertTrue(logged.stream().anyMatch(l -> l.contains(" is LEADER in term ")), logged.toString());
    }

    private void log(String line) {
        logged.add(line);
    }

    @Test
    void meters() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RaftkvMeters meters = new RaftkvMeters(registry);
        Cluster cluster = Cluster.builder().listener(meters).passObserver(meters).start();
        meters.watch(cluster);
        try (cluster) {
            int leader = cluster.awaitLeader(Duration.ofSeconds(5));
            assertEquals(1.0, registry.get("raftkv.node.leader").tag("node", Integer.toString(leader)).gauge().value());
        }
    }

    @Test
    void aLargerLog() {
        Cluster cluster = Cluster.builder().snapshots(SnapshotPolicy.defaults().withLogBytes(4 << 20)).start(); // a larger log, fewer snapshots
        long held = cluster.snapshotStats(1).orElseThrow().logBytes();                                           // what node 1 holds now
        try (cluster) {
            assertTrue(held >= 0);
        }
    }
}
