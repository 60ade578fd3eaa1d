package io.raftkv.cluster;

import io.raftkv.app.AppClient;
import io.raftkv.app.AppSpec;
import io.raftkv.app.Application;
import io.raftkv.app.Codec;
import io.raftkv.client.ReadFrom;
import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvLimits;
import io.raftkv.kv.net.TcpKvConnector;
import io.raftkv.node.NodeStatus;
import io.raftkv.raft.ReadPolicy;
import io.raftkv.raft.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads by lease and reads served by followers, in embedded clusters, through the public API. */
class ClusterReadsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static Cluster start(Cluster.Builder builder) {
        long seed = System.nanoTime();
        System.out.println("ClusterReadsTest seed " + seed);
        Cluster cluster = builder.seed(seed).start();
        cluster.awaitLeader(WAIT);
        return cluster;
    }

    @ParameterizedTest
    @EnumSource(ReadPolicy.class)
    void readsFromAnyNodeSeeEveryWriteThatCompletedBeforeThem(ReadPolicy policy) {
        try (Cluster cluster = start(Cluster.builder().nodes(3).readPolicy(policy))) {
            KvClient writer = cluster.newClient();
            KvClient reader = cluster.newClient().readFrom(ReadFrom.ANY);
            KvClient leaderReader = cluster.newClient();
            for (int i = 0; i < 60; i++) { // each node in turn answers some twenty of them
                writer.put("k", "v" + i);
                assertEquals(Optional.of("v" + i), reader.get("k"), "read " + i + " from any node");
                assertEquals(Optional.of("v" + i), leaderReader.get("k"), "read " + i + " from the leader");
            }
        }
    }

    /** An application whose every node's copy answers "who" with a number of its own: which copy served a read. */
    private static AppSpec<Long, String, Long> whoServes(AtomicLong copies) {
        return AppSpec.of(() -> new Application<Long, String, Long>() {
            private final long copy = copies.incrementAndGet();
            private long total;

            @Override
            public Long apply(Long delta) {
                total += delta;
                return total;
            }

            @Override
            public Long query(String what) {
                return what.equals("who") ? copy : total;
            }
        }, Codec.longs(), Codec.strings(), Codec.longs());
    }

    @ParameterizedTest
    @EnumSource(ReadPolicy.class)
    void readsFromAnyNodeSpreadOverTheClusterAndReadsFromTheLeaderDoNot(ReadPolicy policy) {
        AppSpec<Long, String, Long> spec = whoServes(new AtomicLong());
        // Elections after 250-500 ms: a pause of a loaded machine must not change the leader under the test.
        try (Cluster cluster = start(Cluster.builder().nodes(3).electionTicks(50).readPolicy(policy).app(spec))) {
            AppClient<Long, String, Long> anyNode = cluster.newClient(spec).readFrom(ReadFrom.ANY);
            AppClient<Long, String, Long> leaderOnly = cluster.newClient(spec);
            leaderOnly.apply(5L); // finds the leader
            Set<Long> spread = new HashSet<>();
            Set<Long> fromLeader = new HashSet<>();
            for (int i = 0; i < 12; i++) {
                spread.add(anyNode.read("who"));
                fromLeader.add(leaderOnly.read("who"));
                assertEquals(5L + i, anyNode.read("total"), "a follower's answer is as fresh as the leader's");
                anyNode.apply(1L);
            }
            assertEquals(3, spread.size(), "every node's copy answered some: " + spread);
            assertEquals(1, fromLeader.size(), "only the leader's copy answered: " + fromLeader);
        }
    }

    @Test
    void aPartitionedOldLeaderServesNoStaleLeaseReadOnceTheMajorityHasElectedAnotherAndWritten() throws Exception {
        try (Cluster cluster = start(Cluster.builder().nodes(3).readPolicy(ReadPolicy.LEASE))) {
            KvClient oldSide = cluster.newClient();
            oldSide.put("k", "before"); // this client now takes the leader of the moment for the leader
            int old = cluster.awaitLeader(WAIT);
            long oldTerm = cluster.status(old).term();
            Set<Integer> rest = new HashSet<>(cluster.nodeIds());
            rest.remove(old);
            cluster.partition(Set.of(old), rest);

            AtomicLong writtenAt = new AtomicLong(Long.MAX_VALUE);
            CompletableFuture<Integer> newLeader = CompletableFuture.supplyAsync(() -> {
                int next = Await.value("the majority elects another leader", WAIT, () -> rest.stream()
                        .filter(id -> { NodeStatus s = cluster.status(id); return s.role() == Role.LEADER && s.term() > oldTerm; })
                        .findFirst(), cluster::statuses);
                try (KvClient newSide = cluster.newClient()) {
                    newSide.put("k", "after");
                }
                writtenAt.set(System.nanoTime());
                return next;
            }, task -> Thread.ofVirtual().start(task));

            // Read all along, the old leader first: "before" until the write completes, and "after" from then on.
            int reads = 0;
            while (true) {
                long start = System.nanoTime();
                Optional<String> v = oldSide.get("k");
                reads++;
                if (start > writtenAt.get()) {
                    assertEquals(Optional.of("after"), v, "a stale read, begun after the write completed (node "
                            + newLeader.join() + " leads now, node " + old + " did)");
                    break;
                }
                assertTrue(v.equals(Optional.of("before")) || v.equals(Optional.of("after")), String.valueOf(v));
                if (newLeader.isCompletedExceptionally()) newLeader.join();
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // pacing: some hundred reads in all
            }
            System.out.println("ClusterReadsTest: " + reads + " reads while node " + old + " was cut off and node "
                    + newLeader.join() + " took over");
            cluster.heal();
        }
    }

    @Test
    void aClusterRefusesALeaseWithNoTimeLeftAfterTheDriftBound() {
        Cluster.Builder b = Cluster.builder().electionTicks(4).readPolicy(ReadPolicy.LEASE).clockDriftTicks(4);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::start);
        assertTrue(e.getMessage().contains("clockDriftTicks (4) below electionTicks (4)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Cluster.builder().clockDriftTicks(0));
    }

    @ParameterizedTest
    @EnumSource(ReadPolicy.class)
    void overSocketsAFollowerAnswersAGetItselfRatherThanRedirect(ReadPolicy policy) {
        // Elections after 250-500 ms: a pause of a loaded machine must not change the leader under the test.
        try (Cluster cluster = start(Cluster.builder().nodes(3).transport(ClusterTransport.TCP).electionTicks(50)
                .readPolicy(policy))) {
            int leader = cluster.awaitLeader(WAIT);
            int follower = Await.value("a follower that knows the leader", WAIT, () -> cluster.nodeIds().stream()
                    .filter(id -> id != leader && cluster.status(id).leader() == leader).findFirst(), cluster::statuses);
            KvClient writer = cluster.newClient();
            // A client that knows of the follower alone: only it can answer.
            try (TcpKvConnector connector = new TcpKvConnector(Map.of(follower, cluster.address(follower).orElseThrow()),
                    cluster.clusterId().orElseThrow());
                 KvClient reader = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofSeconds(1)).readFrom(ReadFrom.ANY)) {
                for (int i = 0; i < 20; i++) {
                    writer.put("k", "v" + i);
                    assertEquals(Optional.of("v" + i), reader.get("k"), "read " + i + " from node " + follower);
                }
            }
        }
    }
}
