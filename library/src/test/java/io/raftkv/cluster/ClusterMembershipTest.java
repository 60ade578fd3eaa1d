package io.raftkv.cluster;

import io.raftkv.kv.KvClient;
import io.raftkv.lincheck.CheckResult;
import io.raftkv.lincheck.HistorySummary;
import io.raftkv.lincheck.LinearizabilityChecker;
import io.raftkv.lincheck.Operation;
import io.raftkv.lincheck.RecordingClient;
import io.raftkv.node.SnapshotPolicy;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Role;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** Membership changes in a running cluster, one server at a time (issue 7). */
class ClusterMembershipTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final List<String> KEYS = List.of("a", "b", "c", "d");
    private static final SnapshotPolicy SMALL = SnapshotPolicy.defaults().withLogBytes(32 << 10).withTrailingEntries(0)
            .withChunkBytes(8 << 10);

    private static long seed() {
        String s = System.getProperty("membership.seed");
        return s != null ? Long.parseLong(s) : System.nanoTime();
    }

    @Test
    void aClusterGrowsToFiveAndShrinksToThreeUnderLoadLosingNothingAndStayingLinearizable() throws Exception {
        long seed = seed();
        System.out.println("ClusterMembershipTest: seed " + seed + "; replay with -Dmembership.seed=" + seed);
        SnapshotPolicy often = SMALL.withLogBytes(8 << 10);
        try (Cluster cluster = Cluster.builder().nodes(3).seed(seed).snapshots(often).start()) {
            cluster.awaitLeader(WAIT);
            List<Operation> history;
            try (LeaderSampler sampler = LeaderSampler.start(cluster)) {
                Workload load = new Workload(cluster, seed, TimeUnit.MICROSECONDS.toNanos(500));
                awaitCommits(cluster, 300);
                int four = cluster.addNode();
                awaitCommits(cluster, 300);
                int five = cluster.addNode();
                assertEquals(Set.of(1, 2, 3, four, five), cluster.configuration().voters());
                assertTrue(cluster.configuration().learners().isEmpty(), cluster.configuration().toString());
                awaitCommits(cluster, 300);
                // Out go the leader, then a follower: three voters, none of them the first leader.
                int leader = cluster.awaitLeader(WAIT);
                cluster.removeNode(leader);
                awaitCommits(cluster, 300);
                int follower = cluster.nodeIds().stream().filter(id -> id != cluster.awaitLeader(WAIT)).findFirst().orElseThrow();
                cluster.removeNode(follower);
                awaitCommits(cluster, 300);
                assertEquals(3, cluster.configuration().voters().size(), cluster.configuration().toString());
                assertEquals(cluster.configuration().voters(), Set.copyOf(cluster.nodeIds()));

                history = load.finish(cluster);
                sampler.assertOneLeaderPerTerm();
                HistorySummary summary = HistorySummary.of(history, load.workers);
                System.out.println("ClusterMembershipTest: seed " + seed + "; " + summary + "; snapshots installed on "
                        + four + " and " + five + ": " + cluster.snapshotStats(four).map(Object::toString).orElse("(removed)")
                        + ", " + cluster.snapshotStats(five).map(Object::toString).orElse("(removed)"));
                assertTrue(summary.completed() > 0, summary.toString());
            }
            Workload.check(history, seed, "");
        }
    }

    /** Four recording clients on a cluster, stopped and checked the same way by the tests here. */
    private static final class Workload {
        final List<RecordingClient> workers = new ArrayList<>();
        private final List<Thread> threads = new ArrayList<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final long seed;

        Workload(Cluster cluster, long seed, long pacingNanos) {
            this.seed = seed;
            for (int c = 0; c < 4; c++) {
                workers.add(new RecordingClient(c, cluster.newClient(Duration.ofMillis(500)), KEYS,
                        new SplittableRandom(seed + 1 + c), stop, pacingNanos));
            }
            for (RecordingClient w : workers) threads.add(Thread.ofVirtual().name("membership-client-" + w.id()).start(w));
        }

        /** Stops the clients and, once the cluster agrees, reads every key: the whole history. */
        List<Operation> finish(Cluster cluster) throws InterruptedException {
            stop.set(true);
            for (Thread t : threads) if (!t.join(WAIT)) fail(t.getName() + " did not stop");
            List<Operation> history = new ArrayList<>();
            for (RecordingClient w : workers) {
                if (w.failure() != null) throw new AssertionError("client " + w.id() + " failed (seed " + seed + ")", w.failure());
                history.addAll(w.history());
            }
            Agreement.awaitLeader(cluster, WAIT);
            history.addAll(RecordingClient.finalReads(workers.size(), cluster.newClient(), KEYS));
            Agreement.awaitApplied(cluster, WAIT);
            return history;
        }

        /** No acknowledged write lost, and the history linearizable; {@code context} goes into the failure message. */
        static void check(List<Operation> history, long seed, String context) {
            List<String> lost = RecordingClient.lostWrites(history, KEYS, 4);
            assertTrue(lost.isEmpty(), "seed " + seed + ": acknowledged writes lost: " + lost + context);
            CheckResult result = LinearizabilityChecker.check(history);
            assertTrue(result.ok(), "seed " + seed + ": " + result.verdict() + " (key " + result.key() + "): "
                    + result.explanation() + context);
        }
    }

    /** Lets the clients' load go on until the leader has committed {@code entries} more entries. */
    private static void awaitCommits(Cluster cluster, long entries) {
        long from = cluster.status(cluster.awaitLeader(WAIT)).commitIndex();
        Await.until(entries + " more entries committed", WAIT,
                () -> cluster.leader().isPresent() && cluster.status(cluster.leader().getAsInt()).commitIndex() >= from + entries,
                cluster::statuses);
    }

    @Test
    void overTcpNodesAreAddedAtAddressesOfTheirOwnUntilNoneOfTheFirstIsLeftAndTheHistoryIsLinearizable() throws Exception {
        replaceEveryNodeOverTcp(Cluster.builder(), "TCP");
    }

    /** The same under mutual TLS, the nodes' own threads serving their connections as socket mode does by default. */
    @Test
    void overTlsToo() throws Exception {
        java.nio.file.Path dir = java.nio.file.Path.of("src/test/resources/tls");
        io.raftkv.transport.TlsConfig tls = io.raftkv.transport.TlsConfig.fromPkcs12(dir.resolve("node.p12"),
                "changeit".toCharArray(), dir.resolve("ca.pem"));
        replaceEveryNodeOverTcp(Cluster.builder().tls(tls).platformThreads(true), "TLS");
    }

    @Test
    void tlsIsRefusedInMemory() {
        java.nio.file.Path dir = java.nio.file.Path.of("src/test/resources/tls");
        io.raftkv.transport.TlsConfig tls = io.raftkv.transport.TlsConfig.fromPkcs12(dir.resolve("node.p12"),
                "changeit".toCharArray(), dir.resolve("ca.pem"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Cluster.builder().tls(tls).start());
        assertTrue(e.getMessage().contains("TLS is for TCP mode"), e.getMessage());
    }

    private static void replaceEveryNodeOverTcp(Cluster.Builder builder, String mode) throws Exception {
        long seed = seed();
        System.out.println("ClusterMembershipTest (" + mode + "): seed " + seed + "; replay with -Dmembership.seed=" + seed);
        try (Cluster cluster = builder.nodes(3).seed(seed).transport(ClusterTransport.TCP).electionTicks(50).start()) {
            cluster.awaitLeader(WAIT);
            Workload load = new Workload(cluster, seed, TimeUnit.MILLISECONDS.toNanos(1));
            int four = cluster.addNode();
            int five = cluster.addNode();
            assertEquals(Set.of(1, 2, 3, four, five), cluster.configuration().voters());
            String at = cluster.address(four).map(io.raftkv.kv.net.MemberAddress::format).orElseThrow();
            assertEquals(at, cluster.configuration().context(four), "the configuration keeps where it listens");
            cluster.removeNode(1);
            int six = cluster.addNode();
            cluster.removeNode(2);
            cluster.removeNode(3);
            assertEquals(Set.of(four, five, six), cluster.configuration().voters());
            awaitCommits(cluster, 100);
            List<Operation> history = load.finish(cluster);
            System.out.println("ClusterMembershipTest (" + mode + "): seed " + seed + "; " + HistorySummary.of(history, load.workers));
            Workload.check(history, seed, "");
        }
    }

    @Test
    void aNewNodeCatchesUpBySnapshotWhenTheLeaderHasCompacted() {
        try (Cluster cluster = Cluster.builder().nodes(3).snapshots(SMALL).start()) {
            KvClient client = cluster.newClient();
            for (int i = 0; i < 1_000; i++) client.put("k" + (i % 50), "v" + i + "-".repeat(60));
            int four = cluster.addNode();
            assertTrue(cluster.configuration().isVoter(four));
            assertTrue(cluster.snapshotStats(four).orElseThrow().installed() >= 1, "node 4 started from a snapshot: "
                    + cluster.snapshotStats(four));
            Agreement.awaitApplied(cluster, WAIT);
            cluster.transferLeadership(four);
            for (int i = 950; i < 1_000; i++) assertEquals(Optional.of("v" + i + "-".repeat(60)), client.get("k" + (i % 50)));
        }
    }

    @Test
    void aLeaderThatRemovesItselfStepsDownOnceTheChangeCommitsAndTheOthersGoOn() {
        try (Cluster cluster = Cluster.builder().nodes(3).start()) {
            KvClient client = cluster.newClient();
            client.put("k", "before");
            int leader = cluster.awaitLeader(WAIT);
            cluster.removeNode(leader);
            assertFalse(cluster.nodeIds().contains(leader));
            assertFalse(cluster.configuration().contains(leader));
            int next = cluster.awaitLeader(WAIT);
            assertTrue(next != leader);
            assertEquals(Optional.of("before"), client.get("k"));
            client.put("k", "after");
            assertEquals(Optional.of("after"), client.get("k"));
            assertThrows(IllegalArgumentException.class, () -> cluster.status(leader), "a removed node's id is retired");
        }
    }

    @Test
    void membershipChangesGoThroughTheMajoritySideOfAPartition() {
        try (Cluster cluster = Cluster.builder().nodes(5).start()) {
            KvClient client = cluster.newClient();
            client.put("k", "v1");
            int old = cluster.awaitLeader(WAIT);
            int buddy = old == 1 ? 2 : 1;
            Set<Integer> minority = Set.of(old, buddy);
            cluster.partition(minority);
            // The majority elects a leader of its own, removes the cut-off leader and adds a node.
            Await.until("the majority side elects its own leader", WAIT,
                    () -> cluster.leader().isPresent() && !minority.contains(cluster.leader().getAsInt()), cluster::statuses);
            cluster.removeNode(old);
            int added = cluster.addNode();
            client.put("k", "v2");
            cluster.heal();
            long applied = Agreement.awaitApplied(cluster, WAIT);
            Configuration c = cluster.configuration();
            assertFalse(c.contains(old), c.toString());
            assertTrue(c.isVoter(added), c.toString());
            assertEquals(5, c.voters().size(), c.toString());
            for (int id : cluster.nodeIds()) {
                assertEquals(applied, cluster.status(id).appliedIndex(), "node " + id);
                assertTrue(cluster.status(id).role() != Role.LEADER || id == cluster.awaitLeader(WAIT));
            }
            assertEquals(Optional.of("v2"), client.get("k"));
        }
    }

    @Test
    void leadershipCanBeHandedToAVoterButNotToAStranger() {
        try (Cluster cluster = Cluster.builder().nodes(3).start()) {
            int leader = cluster.awaitLeader(WAIT);
            int target = leader % 3 + 1;
            cluster.transferLeadership(target);
            assertEquals(target, cluster.awaitLeader(WAIT));
            cluster.newClient().put("k", "v");
            assertThrows(IllegalArgumentException.class, () -> cluster.transferLeadership(9), "no node 9");
        }
    }

    /**
     * Nodes added and removed while a nemesis partitions, isolates, kills and restarts: a change that
     * cannot commit (no majority) fails after its timeout and the test goes on; at the end every history
     * must be linearizable and lose no acknowledged write, with one leader per term throughout.
     */
    @Test
    void membershipChangesUnderPartitionsAndCrashesKeepTheHistoryLinearizable() throws Exception {
        long seed = seed();
        System.out.println("ClusterMembershipTest nemesis: seed " + seed + "; replay with -Dmembership.seed=" + seed);
        SplittableRandom random = new SplittableRandom(seed);
        List<String> schedule = new ArrayList<>();
        try (Cluster cluster = Cluster.builder().nodes(5).seed(seed).snapshots(SMALL.withLogBytes(16 << 10)).start()) {
            cluster.awaitLeader(WAIT);
            List<Operation> history;
            Set<Integer> dead = new java.util.TreeSet<>();
            try (LeaderSampler sampler = LeaderSampler.start(cluster)) {
                Workload load = new Workload(cluster, seed, TimeUnit.MILLISECONDS.toNanos(1));
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(6);
                while (System.nanoTime() - end < 0) {
                    awaitCommitsOrTimeout(cluster, 50);
                    List<Integer> ids = new ArrayList<>(cluster.nodeIds());
                    int voters = cluster.configuration().voters().size();
                    int dice = random.nextInt(100);
                    String done;
                    try {
                        if (dice < 15 && ids.size() < 7) {
                            done = "add node " + cluster.addNode(Duration.ofSeconds(2));
                        } else if (dice < 30 && voters > 3) {
                            List<Integer> live = ids.stream().filter(id -> !dead.contains(id)).toList();
                            int id = live.get(random.nextInt(live.size()));
                            cluster.removeNode(id, Duration.ofSeconds(2));
                            done = "remove node " + id;
                        } else if (dice < 45) {
                            int id = ids.get(random.nextInt(ids.size()));
                            cluster.partition(new java.util.TreeSet<>(List.of(id, ids.get(random.nextInt(ids.size())))));
                            done = "partition off " + id + " (and maybe one more)";
                        } else if (dice < 60 && dead.size() < 2) {
                            List<Integer> live = ids.stream().filter(id -> !dead.contains(id)).toList();
                            int id = live.get(random.nextInt(live.size()));
                            cluster.kill(id);
                            dead.add(id);
                            done = "kill " + id;
                        } else if (dice < 75 && !dead.isEmpty()) {
                            int id = dead.iterator().next();
                            cluster.restart(id);
                            dead.remove(id);
                            done = "restart " + id;
                        } else {
                            cluster.heal();
                            done = "heal";
                        }
                    } catch (IllegalStateException e) {
                        // A change without a majority behind it times out: that is the point of the partition.
                        done = "failed: " + e.getMessage().lines().findFirst().orElse("");
                        if (done.length() > 160) done = done.substring(0, 160) + "...";
                    }
                    schedule.add(done);
                }
                cluster.heal();
                for (int id : dead) cluster.restart(id);
                dead.clear();
                // A node whose addition timed out may sit outside the configuration or as a learner: finish or undo it.
                Await.until("a leader after healing", WAIT, () -> cluster.leader().isPresent(), cluster::statuses);
                for (int id : cluster.nodeIds()) {
                    Configuration c = cluster.configuration();
                    if (!c.isVoter(id)) {
                        cluster.removeNode(id, WAIT);
                        schedule.add("recovery: remove " + id + " (it was " + (c.isLearner(id) ? "a learner" : "outside") + ")");
                    }
                }
                history = load.finish(cluster);
                sampler.assertOneLeaderPerTerm();
                System.out.println("ClusterMembershipTest nemesis: seed " + seed + "; " + HistorySummary.of(history, load.workers)
                        + "; final " + cluster.configuration() + "; schedule " + schedule);
                assertEquals(Set.copyOf(cluster.nodeIds()), cluster.configuration().voters());
            }
            Workload.check(history, seed, "; schedule " + schedule);
        }
    }

    /** The clients' load for {@code entries} more commits, or 300 ms when nothing commits (no majority). */
    private static void awaitCommitsOrTimeout(Cluster cluster, long entries) {
        java.util.OptionalInt l = cluster.leader();
        long from = l.isPresent() ? cluster.status(l.getAsInt()).commitIndex() : Long.MAX_VALUE;
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
        while (System.nanoTime() - deadline < 0) {
            java.util.OptionalInt now = cluster.leader();
            if (now.isPresent() && from != Long.MAX_VALUE && cluster.status(now.getAsInt()).commitIndex() >= from + entries) return;
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
        }
    }
}
