package io.raftkv.cluster;

import io.raftkv.junit.RaftCluster;
import com.sun.management.HotSpotDiagnosticMXBean;
import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvLimits;
import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.node.NodeStatus;
import io.raftkv.raft.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The scenarios the system raftkv descends from was tested with, each on a 5-node cluster and
 * through the public API only, once with the in-memory network and once over TCP on loopback
 * (nodes and clients alike). Every scenario also samples the nodes' statuses throughout and
 * checks that no term ever had two leaders.
 */
@ParameterizedClass(name = "{0}")
@EnumSource(ClusterTransport.class)
class ClusterScenarioTest {
    /** Read by {@link io.raftkv.junit.RaftClusterExtension} for every {@code @RaftCluster} parameter, and used by the builders below. */
    @Parameter
    ClusterTransport transport;

    /** Generous: the tests must pass on a loaded 2-core machine. */
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration SHORT_DEADLINE = Duration.ofMillis(500);

    // ---------------------------------------------------------------- leader election

    @Test
    void startsWithExactlyOneLeaderAndEveryNodeAgreesOnItsTerm(@RaftCluster(nodes = 5, awaitLeader = false) Cluster cluster) {
        try (LeaderSampler sampler = LeaderSampler.start(cluster)) {
            // One snapshot of all five statuses in which they agree (checked again below, plainly).
            List<NodeStatus> statuses = Await.value("every node agrees on one leader and its term", WAIT, () -> {
                List<NodeStatus> now = cluster.statuses();
                return Agreement.agreedLeader(now).isPresent() ? Optional.of(now) : Optional.empty();
            }, cluster::statuses);
            int leader = Agreement.agreedLeader(statuses).orElseThrow();
            assertEquals(5, statuses.size());
            assertEquals(1, statuses.stream().filter(s -> s.role() == Role.LEADER).count(), "exactly one leader: " + statuses);
            assertEquals(1, statuses.stream().map(NodeStatus::term).distinct().count(), "one term on every node: " + statuses);
            assertTrue(statuses.stream().allMatch(s -> s.alive() && s.leader() == leader), "every node names " + leader + ": " + statuses);

            assertEquals(leader, awaitLastLeader(cluster), "leader() and awaitLeader() find it");

            KvClient client = cluster.newClient();
            client.put("k", "v");
            assertEquals(Optional.of("v"), client.get("k"));
            sampler.assertOneLeaderPerTerm();
        }
    }

    @Test
    void findsTheLastLeaderAgainAfterChurn(@RaftCluster(nodes = 5) Cluster cluster) {
        try (LeaderSampler sampler = LeaderSampler.start(cluster)) {
            KvClient client = cluster.newClient();
            List<Integer> killed = new ArrayList<>();
            for (int round = 1; round <= 4; round++) {
                int leader = awaitLastLeader(cluster);
                sampler.sample(); // however short its reign, the sampler sees this leader
                client.put("churn", "round-" + round);
                cluster.kill(leader);
                killed.add(leader);
                assertFalse(cluster.status(leader).alive());
                awaitLeaderOtherThan(cluster, Set.of(leader));
                client.put("churn", "after-kill-" + round);
                cluster.restart(leader);
            }
            int last = awaitLastLeader(cluster);
            sampler.sample();
            client.put("churn", "final");
            assertEquals(Optional.of("final"), client.get("churn"));
            assertEquals(Optional.of("final"), cluster.newClient().get("churn"), "a new client finds the leader too");
            Agreement.awaitApplied(cluster, WAIT);
            assertTrue(cluster.statuses().stream().allMatch(NodeStatus::alive), "every killed node runs again: " + cluster.statuses());
            sampler.assertOneLeaderPerTerm();
            assertTrue(sampler.leadersByTerm().size() >= 5,
                    "killed leaders " + killed + ", last " + last + ": at least five terms had a leader, saw " + sampler.leadersByTerm());
        }
    }

    // ---------------------------------------------------------------- leader and follower failures

    @Test
    void anIsolatedLeaderIsReplacedAndStepsDownAfterHeal(@RaftCluster(nodes = 5) Cluster cluster) {
        try (LeaderSampler sampler = LeaderSampler.start(cluster)) {
            KvClient client = cluster.newClient();
            client.put("k", "before");
            int old = awaitLastLeader(cluster);
            long oldTerm = cluster.status(old).term();

            cluster.isolate(old);
            int next = awaitLeaderOtherThan(cluster, Set.of(old));
            assertTrue(cluster.status(next).term() > oldTerm, "the new leader's term is above " + oldTerm + ": " + cluster.statuses());
            client.put("k", "during-isolation");

            cluster.heal();
            Await.until("the old leader " + old + " is a FOLLOWER in a term above " + oldTerm, WAIT, () -> {
                NodeStatus s = cluster.status(old);
                return s.role() == Role.FOLLOWER && s.term() > oldTerm;
            }, cluster::statuses);
            assertEquals(Optional.of("during-isolation"), client.get("k"));
            Agreement.awaitLeader(cluster, WAIT);
            Agreement.awaitApplied(cluster, WAIT);
            sampler.assertOneLeaderPerTerm();
        }
    }

    @Test
    void aKilledLeaderIsReplacedAndTheNewOneServes(@RaftCluster(nodes = 5) Cluster cluster) {
        try (LeaderSampler sampler = LeaderSampler.start(cluster)) {
            KvClient client = cluster.newClient();
            client.put("a", "1");
            int old = awaitLastLeader(cluster);
            long oldTerm = cluster.status(old).term();

            cluster.kill(old);
            int next = awaitLeaderOtherThan(cluster, Set.of(old));
            assertTrue(cluster.status(next).term() > oldTerm);
            client.put("b", "2");
            assertTrue(client.replace("a", "1b"));
            assertEquals(Optional.of("1b"), client.get("a"));
            assertEquals(Optional.of("2"), client.get("b"));

            cluster.restart(old);
            Agreement.awaitLeader(cluster, WAIT);
            Agreement.awaitApplied(cluster, WAIT);
            sampler.assertOneLeaderPerTerm();
        }
    }

    @Test
    void writesGoOnWithOneFollowerKilled(@RaftCluster(nodes = 5) Cluster cluster) {
        try (LeaderSampler sampler = LeaderSampler.start(cluster)) {
            int leader = awaitLastLeader(cluster);
            int follower = cluster.nodeIds().stream().filter(id -> id != leader).findFirst().orElseThrow();
            cluster.kill(follower);
            assertFalse(cluster.status(follower).alive());

            KvClient client = cluster.newClient();
            for (int i = 0; i < 20; i++) client.put("f" + i, "v" + i);
            for (int i = 0; i < 20; i++) assertEquals(Optional.of("v" + i), client.get("f" + i));

            cluster.restart(follower);
            long applied = Agreement.awaitApplied(cluster, WAIT);
            assertTrue(applied >= 21, "20 writes and a session applied everywhere, the restarted follower included: " + applied);
            sampler.assertOneLeaderPerTerm();
        }
    }

    @Test
    void acknowledgedWritesSurviveACrashOfEveryNode(@RaftCluster(nodes = 5) Cluster cluster) {
        try (LeaderSampler sampler = LeaderSampler.start(cluster)) {
            KvClient client = cluster.newClient();
            for (int i = 0; i < 20; i++) client.put("d" + i, "v" + i);
            assertTrue(client.replace("d0", "v0b"));
            for (int id : cluster.nodeIds()) cluster.kill(id);
            assertTrue(cluster.statuses().stream().noneMatch(NodeStatus::alive));
            assertEquals(OptionalInt.empty(), cluster.leader());
            for (int id : cluster.nodeIds()) cluster.restart(id);

            awaitLastLeader(cluster);
            assertEquals(Optional.of("v0b"), client.get("d0"));
            for (int i = 1; i < 20; i++) assertEquals(Optional.of("v" + i), client.get("d" + i), "d" + i + " after every node restarted");
            client.put("after", "restart");
            assertEquals(Optional.of("restart"), client.get("after"), "the client's session survived too");
            Agreement.awaitApplied(cluster, WAIT);
            sampler.assertOneLeaderPerTerm();
        }
    }

    // ---------------------------------------------------------------- minority and majority partitions

    @ParameterizedTest(name = "the leader among them: {0}")
    @ValueSource(booleans = {false, true})
    void theOtherThreeServeWhileTwoServersAreIsolated(boolean leaderIsolated, @RaftCluster(nodes = 5) Cluster cluster) {
        try (LeaderSampler sampler = LeaderSampler.start(cluster)) {
            KvClient client = cluster.newClient();
            client.put("k", "before");
            int leader = awaitLastLeader(cluster);
            List<Integer> isolated = pick(cluster, leader, 2, leaderIsolated);
            isolated.forEach(cluster::isolate);

            awaitLeaderOtherThan(cluster, Set.copyOf(isolated));
            client.put("k", "during-isolation");
            assertEquals(Optional.of("during-isolation"), client.get("k"));

            cluster.heal();
            Agreement.awaitLeader(cluster, WAIT);
            long applied = Agreement.awaitApplied(cluster, WAIT);
            assertEquals(Optional.of("during-isolation"), client.get("k"), "isolated " + isolated + ", applied " + applied);
            sampler.assertOneLeaderPerTerm();
        }
    }

    @ParameterizedTest(name = "the leader among them: {0}")
    @ValueSource(booleans = {false, true})
    void noWriteIsAcknowledgedWhileThreeServersAreIsolated(boolean leaderIsolated, @RaftCluster(nodes = 5) Cluster cluster) {
        try (LeaderSampler sampler = LeaderSampler.start(cluster)) {
            KvClient client = cluster.newClient();
            KvClient impatient = cluster.newClient(SHORT_DEADLINE);
            client.put("k", "before");
            impatient.put("other", "before"); // opens its session while a majority can still commit it
            int leader = awaitLastLeader(cluster);
            long committedBefore = Agreement.awaitApplied(cluster, WAIT);
            List<Integer> isolated = pick(cluster, leader, 3, leaderIsolated);
            isolated.forEach(cluster::isolate);

            long start = System.nanoTime();
            OutcomeUnknownException put = assertThrows(OutcomeUnknownException.class, () -> impatient.put("k", "no-majority"),
                    "a PUT with no majority is never acknowledged");
            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertTrue(tookMillis >= SHORT_DEADLINE.toMillis() - 1, "it waited for its deadline, took " + tookMillis + " ms");
            assertTrue(put.getMessage().contains("may or may not have been applied"), put.getMessage());
            assertThrows(OutcomeUnknownException.class, () -> impatient.replace("k", "no-majority-replace"));
            assertThrows(OutcomeUnknownException.class, () -> impatient.get("k"), "a GET with no majority is not served either");
            for (NodeStatus s : cluster.statuses()) {
                assertEquals(committedBefore, s.commitIndex(), "nothing commits without a majority: " + cluster.statuses());
            }

            cluster.heal();
            Agreement.awaitLeader(cluster, WAIT);
            client.put("k", "after-heal");
            assertEquals(Optional.of("after-heal"), client.get("k"));
            assertTrue(impatient.replace("other", "after-heal"), "the impatient client works again too");
            long applied = Agreement.awaitApplied(cluster, WAIT);
            assertTrue(applied > committedBefore);

            // Every node holds the same state: whoever leads next still reads it.
            int current = awaitLastLeader(cluster);
            cluster.kill(current);
            awaitLeaderOtherThan(cluster, Set.of(current));
            assertEquals(Optional.of("after-heal"), client.get("k"));
            assertEquals(Optional.of("after-heal"), client.get("other"));
            cluster.restart(current);
            Agreement.awaitApplied(cluster, WAIT);
            sampler.assertOneLeaderPerTerm();
        }
    }

    // ---------------------------------------------------------------- load

    @Test
    void loadsAHundredKeysFromTenClientsThenEveryGetReturnsTheLastWrite(@RaftCluster(nodes = 5) Cluster cluster) throws Exception {
        int clients = 10;
        int keysPerClient = 10;
        int opsPerClient = 200;
        long seed = System.nanoTime();
        System.out.println("loadsAHundredKeys...: workload seed " + seed);
        try (LeaderSampler sampler = LeaderSampler.start(cluster)) {
            // Phase 1: 100 keys, written by 10 clients at once.
            runConcurrently(clients, c -> {
                KvClient kv = cluster.newClient();
                for (int k = 0; k < keysPerClient; k++) kv.put(key(c, k), "initial-" + c + "-" + k);
                return null;
            });
            KvClient reader = cluster.newClient();
            for (int c = 0; c < clients; c++) {
                for (int k = 0; k < keysPerClient; k++) assertEquals(Optional.of("initial-" + c + "-" + k), reader.get(key(c, k)));
            }

            // Phase 2: 25% PUT, 75% GET; each client is the only writer of its own ten keys, so it knows the last write.
            List<Map<String, String>> lastWrites = runConcurrently(clients, c -> {
                SplittableRandom random = new SplittableRandom(seed + c);
                KvClient kv = cluster.newClient();
                Map<String, String> last = new HashMap<>();
                for (int k = 0; k < keysPerClient; k++) last.put(key(c, k), "initial-" + c + "-" + k);
                for (int i = 0; i < opsPerClient; i++) {
                    String key = key(c, random.nextInt(keysPerClient));
                    if (random.nextInt(4) == 0) {
                        String value = "v-" + c + "-" + i;
                        kv.put(key, value);
                        last.put(key, value);
                    } else {
                        Optional<String> got = kv.get(key);
                        if (!got.equals(Optional.of(last.get(key)))) {
                            throw new AssertionError("client " + c + ", op " + i + ": GET " + key + " returned " + got
                                    + ", but the last write was " + last.get(key));
                        }
                    }
                }
                return last;
            });
            Map<String, String> expected = new TreeMap<>();
            lastWrites.forEach(expected::putAll);
            assertEquals(clients * keysPerClient, expected.size());
            for (Map.Entry<String, String> e : expected.entrySet()) {
                assertEquals(Optional.of(e.getValue()), reader.get(e.getKey()), "a fresh read of " + e.getKey());
            }
            Agreement.awaitApplied(cluster, WAIT);
            sampler.assertOneLeaderPerTerm();
        }
    }

    // ---------------------------------------------------------------- semantics

    @Test
    void putGetAndReplaceDoWhatTheySay(@RaftCluster(nodes = 5) Cluster cluster) {
        KvClient client = cluster.newClient();
        KvClient other = cluster.newClient();

        assertEquals(Optional.empty(), client.get("k"), "a key never written is absent");
        assertFalse(client.replace("k", "r0"), "REPLACE of a missing key replaces nothing");
        assertEquals(Optional.empty(), client.get("k"), "and does not create it");
        assertEquals(Optional.empty(), other.get("k"));

        client.put("k", "v1");
        assertEquals(Optional.of("v1"), client.get("k"));
        assertEquals(Optional.of("v1"), other.get("k"), "another client sees the write");
        client.put("k", "v2");
        assertEquals(Optional.of("v2"), other.get("k"), "PUT overwrites");
        assertTrue(other.replace("k", "v3"), "REPLACE of a present key replaces");
        assertEquals(Optional.of("v3"), client.get("k"));
        assertTrue(client.replace("k", "v3"), "REPLACE with the same value still says it replaced");
        assertEquals(Optional.of("v3"), client.get("k"));

        assertFalse(client.replace("K", "upper"), "keys are case-sensitive: K is missing");
        assertEquals(Optional.empty(), client.get("K"));
        client.put("", "empty key");
        client.put("empty value", "");
        assertEquals(Optional.of("empty key"), client.get(""));
        assertEquals(Optional.of(""), client.get("empty value"), "an empty value is a value, not an absent key");
        assertTrue(client.replace("empty value", "filled"));
        assertEquals(Optional.of("filled"), client.get("empty value"));
        client.put("ключ-鍵-🔑", "значение-値-✓");
        assertEquals(Optional.of("значение-値-✓"), other.get("ключ-鍵-🔑"), "keys and values are Unicode strings");
        assertEquals(Optional.of("v3"), other.get("k"), "other keys are untouched");
    }

    // ---------------------------------------------------------------- bad input

    @Test
    void nullKeysAndValuesAreRefusedAndNothingIsApplied(@RaftCluster(nodes = 5) Cluster cluster) {
        KvClient client = cluster.newClient();
        client.put("k", "v");
        IndexAtTerm before = IndexAtTerm.of(cluster);

        assertMessage(NullPointerException.class, () -> client.put(null, "x"), "key", "null");
        assertMessage(NullPointerException.class, () -> client.put("k", null), "value", "null");
        assertMessage(NullPointerException.class, () -> client.put("fresh", null), "value", "null");
        assertMessage(NullPointerException.class, () -> client.replace(null, "x"), "key", "null");
        assertMessage(NullPointerException.class, () -> client.replace("k", null), "value", "null");
        assertMessage(NullPointerException.class, () -> client.get(null), "key", "null");

        assertEquals(Optional.of("v"), client.get("k"));
        assertEquals(Optional.empty(), client.get("fresh"));
        before.assertNothingAppliedSince(cluster);
    }

    @Test
    void oversizedKeysAndValuesAreRefusedAndNothingIsApplied(@RaftCluster(nodes = 5) Cluster cluster) {
        KvLimits limits = KvLimits.DEFAULT;
        KvClient client = cluster.newClient();
        String longestKey = "k".repeat(limits.maxKeyBytes());
        String largestValue = "v".repeat(limits.maxValueBytes());
        client.put(longestKey, largestValue);
        assertEquals(Optional.of(largestValue), client.get(longestKey), "the limits themselves are allowed");
        client.put("k", "v");
        IndexAtTerm before = IndexAtTerm.of(cluster);

        String keyTooLong = "k".repeat(limits.maxKeyBytes() + 1);
        // Limits count UTF-8 bytes, not chars: 513 two-byte chars are 1026 bytes.
        String keyTooLongInBytes = "é".repeat(limits.maxKeyBytes() / 2 + 1);
        String valueTooLong = "v".repeat(limits.maxValueBytes() + 1);
        String limitWords = "limit is " + limits.maxKeyBytes();
        assertMessage(IllegalArgumentException.class, () -> client.put(keyTooLong, "x"), "key", (limits.maxKeyBytes() + 1) + " bytes", limitWords);
        assertMessage(IllegalArgumentException.class, () -> client.put(keyTooLongInBytes, "x"), "key", (limits.maxKeyBytes() + 2) + " bytes", limitWords);
        assertMessage(IllegalArgumentException.class, () -> client.get(keyTooLong), "key", limitWords);
        assertMessage(IllegalArgumentException.class, () -> client.replace(keyTooLong, "x"), "key", limitWords);
        assertMessage(IllegalArgumentException.class, () -> client.put("k", valueTooLong), "value",
                (limits.maxValueBytes() + 1) + " bytes", "limit is " + limits.maxValueBytes());
        assertMessage(IllegalArgumentException.class, () -> client.put("fresh", valueTooLong), "value");
        assertMessage(IllegalArgumentException.class, () -> client.replace("k", valueTooLong), "value");

        assertEquals(Optional.of("v"), client.get("k"), "the oversized value did not replace it");
        assertEquals(Optional.empty(), client.get("fresh"));
        before.assertNothingAppliedSince(cluster);
    }

    @Test
    void configuredLimitsAreEnforced() {
        try (Cluster cluster = Cluster.builder().nodes(5).transport(transport).limits(new KvLimits(4, 8)).start()) {
            cluster.awaitLeader(WAIT);
            KvClient client = cluster.newClient();
            client.put("abcd", "12345678");
            assertMessage(IllegalArgumentException.class, () -> client.put("abcde", "x"), "key is 5 bytes", "limit is 4");
            assertMessage(IllegalArgumentException.class, () -> client.put("abcd", "123456789"), "value is 9 bytes", "limit is 8");
            assertEquals(Optional.of("12345678"), client.get("abcd"));
        }
    }

    @Test
    void unknownNodeIdsAreRefusedAndChangeNothing(@RaftCluster(nodes = 5) Cluster cluster) {
        for (int id : new int[] {0, -1, 6, 99, Integer.MAX_VALUE, Integer.MIN_VALUE}) {
            String[] words = {"no node " + id, "[1, 2, 3, 4, 5]"};
            assertMessage(IllegalArgumentException.class, () -> cluster.status(id), words);
            assertMessage(IllegalArgumentException.class, () -> cluster.kill(id), words);
            assertMessage(IllegalArgumentException.class, () -> cluster.restart(id), words);
            assertMessage(IllegalArgumentException.class, () -> cluster.isolate(id), words);
            assertMessage(IllegalArgumentException.class, () -> cluster.isAlive(id), words);
            assertMessage(IllegalArgumentException.class, () -> cluster.partition(Set.of(id)), words);
            assertMessage(IllegalArgumentException.class, () -> cluster.partition(Set.of(1, 2), Set.of(3, id)), words);
        }
        // Nothing half-applied: no partition, no isolation, every node up, the same leader serving.
        for (int from : cluster.nodeIds()) {
            for (int to : cluster.nodeIds()) assertTrue(cluster.linked(from, to), from + " -> " + to);
        }
        assertTrue(cluster.statuses().stream().allMatch(NodeStatus::alive));
        awaitLastLeader(cluster);
        KvClient client = cluster.newClient();
        client.put("k", "v");
        assertEquals(Optional.of("v"), client.get("k"));
    }

    @Test
    void misusedFaultsAreRefusedWithAClearMessage(@RaftCluster(nodes = 5) Cluster cluster) {
        int leader = awaitLastLeader(cluster);
        int follower = cluster.nodeIds().stream().filter(id -> id != leader).findFirst().orElseThrow();
        assertMessage(IllegalStateException.class, () -> cluster.restart(follower), "node " + follower, "running");
        cluster.kill(follower);
        assertMessage(IllegalStateException.class, () -> cluster.kill(follower), "node " + follower, "down");
        cluster.restart(follower);
        assertMessage(IllegalArgumentException.class, () -> cluster.partition(Set.of(1, 2), Set.of(2, 3)), "node 2", "overlap");
        assertMessage(IllegalArgumentException.class, () -> cluster.partition(Set.of(1, 2), Set.of()), "empty");
        assertMessage(IllegalArgumentException.class, () -> cluster.newClient(Duration.ZERO), "deadline", "positive");
        assertMessage(NullPointerException.class, () -> cluster.newClient((Duration) null), "deadline");
        assertMessage(NullPointerException.class, () -> cluster.awaitLeader(null), "timeout");
        for (int from : cluster.nodeIds()) {
            for (int to : cluster.nodeIds()) assertTrue(cluster.linked(from, to), from + " -> " + to);
        }
        Agreement.awaitLeader(cluster, WAIT);
        KvClient client = cluster.newClient();
        client.put("k", "v");
        assertEquals(Optional.of("v"), client.get("k"));
    }

    @Test
    void badBuilderSettingsAreRefusedWithAClearMessage() {
        assertMessage(IllegalArgumentException.class, () -> Cluster.builder().nodes(0), "nodes", "between 1 and 99", "0");
        assertMessage(IllegalArgumentException.class, () -> Cluster.builder().nodes(100), "nodes", "100");
        assertMessage(IllegalArgumentException.class, () -> Cluster.builder().tickInterval(Duration.ZERO), "tickInterval", "positive");
        assertMessage(NullPointerException.class, () -> Cluster.builder().tickInterval(null), "tickInterval");
        assertMessage(IllegalArgumentException.class, () -> Cluster.builder().electionTicks(1), "electionTicks", ">= 2");
        assertMessage(IllegalArgumentException.class, () -> Cluster.builder().clientDeadline(Duration.ofMillis(-1)), "clientDeadline");
        assertMessage(IllegalArgumentException.class, () -> Cluster.builder().nodes(5).electionTicks(4).heartbeatTicks(4).start(),
                "heartbeatTicks (4)", "below electionTicks (4)");
        assertMessage(IllegalArgumentException.class, () -> new KvLimits(0, 10), "maxKeyBytes", ">= 1");
    }

    @Test
    void aClosedClusterAndItsClientsRefuseEveryCall() {
        Cluster cluster = Cluster.builder().nodes(5).transport(transport).start();
        cluster.awaitLeader(WAIT);
        KvClient client = cluster.newClient();
        client.put("k", "v");
        KvClient closedEarly = cluster.newClient();
        closedEarly.close();
        assertMessage(IllegalStateException.class, () -> closedEarly.put("k", "x"), "client", "closed");
        assertMessage(IllegalStateException.class, () -> closedEarly.replace("k", "x"), "client", "closed");
        assertMessage(IllegalStateException.class, () -> closedEarly.get("k"), "client", "closed");
        assertEquals(Optional.of("v"), client.get("k"), "closing one client leaves the others working");

        cluster.close();
        cluster.close(); // closing twice does nothing

        List<Executable> calls = List.of(
                () -> cluster.status(1), cluster::statuses, cluster::leader, () -> cluster.awaitLeader(WAIT),
                cluster::newClient, () -> cluster.newClient(WAIT), () -> cluster.kill(1), () -> cluster.restart(1),
                () -> cluster.isolate(1), () -> cluster.partition(Set.of(1, 2)), cluster::heal, cluster::network,
                () -> cluster.linked(1, 2), () -> cluster.address(1), cluster::clusterId,
                () -> cluster.isAlive(1), () -> cluster.status(99));
        for (Executable call : calls) assertMessage(IllegalStateException.class, call, "closed");
        assertMessage(IllegalStateException.class, () -> client.put("k", "x"), "closed");
        assertMessage(IllegalStateException.class, () -> client.replace("k", "x"), "closed");
        assertMessage(IllegalStateException.class, () -> client.get("k"), "closed");
    }

    // ---------------------------------------------------------------- threads

    @Test
    void closeLeavesNoThreadBehind() throws IOException {
        Map<Long, String> before = raftkvThreads();
        Cluster cluster = Cluster.builder().nodes(5).transport(transport).start();
        Map<Long, String> running;
        try {
            cluster.awaitLeader(WAIT);
            KvClient client = cluster.newClient();
            client.put("k", "v");
            int leader = cluster.awaitLeader(WAIT);
            cluster.kill(leader);
            cluster.restart(leader);
            if (transport == ClusterTransport.IN_MEMORY) {
                cluster.network().delay(Duration.ZERO, Duration.ofMillis(1)); // starts the network's delay thread
            } else {
                cluster.partition(Set.of(leader)); // cuts links inside the TCP transports
            }
            client.put("k", "v2");
            cluster.heal();
            assertEquals(Optional.of("v2"), client.get("k"));
            running = without(raftkvThreads(), before);
        } catch (RuntimeException | Error e) {
            cluster.close();
            throw e;
        }
        // The thread dump must see the cluster's virtual threads, or the check after close proves nothing.
        List<String> expected = new ArrayList<>(IntStream.rangeClosed(1, 5).mapToObj(i -> "raftkv-node-" + i).toList());
        IntStream.rangeClosed(1, 5).mapToObj(i -> "raftkv-ticker-" + i).forEach(expected::add);
        if (transport == ClusterTransport.IN_MEMORY) {
            expected.add("raftkv-network-delays");
            assertEquals(expected.stream().sorted().toList(), running.values().stream().sorted().toList(),
                    "a node thread and a ticker per node (the killed incarnation's are gone) and the delay thread");
        } else {
            // Each transport's acceptor and a writer per peer; the clients' connections come and go.
            for (int id = 1; id <= 5; id++) {
                expected.add("raftkv-tcp-" + id + "-accept");
                for (int peer = 1; peer <= 5; peer++) if (peer != id) expected.add("raftkv-tcp-" + id + "-out-" + peer);
            }
            List<String> names = running.values().stream().sorted().toList();
            assertTrue(names.containsAll(expected), "expected " + expected + " among " + names);
            assertEquals(expected.size(), names.stream().filter(expected::contains).count(),
                    "one of each: the killed incarnation's threads are gone; " + names);
        }

        cluster.close();
        assertEquals(Map.of(), without(raftkvThreads(), before), "raftkv threads still alive after close");
        assertMessage(IllegalStateException.class, () -> cluster.status(1), "closed");
        if (!before.isEmpty()) System.out.println("closeLeavesNoThreadBehind: raftkv threads alive before the test (not ours): " + before);
    }

    /**
     * The live threads named raftkv-*, by id: platform threads from {@link Thread#getAllStackTraces},
     * virtual ones (which it does not list) from a HotSpot thread dump.
     */
    private static Map<Long, String> raftkvThreads() throws IOException {
        Map<Long, String> found = new TreeMap<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.isAlive() && t.getName().startsWith("raftkv-")) found.put(t.threadId(), t.getName());
        }
        Path dir = Files.createTempDirectory("raftkv-threads");
        Path dump = dir.resolve("threads.txt");
        try {
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .dumpThreads(dump.toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.TEXT_PLAIN);
            Matcher m = Pattern.compile("(?m)^#(\\d+) \"(raftkv-[^\"]*)\"").matcher(Files.readString(dump));
            while (m.find()) found.put(Long.parseLong(m.group(1)), m.group(2));
        } finally {
            Files.deleteIfExists(dump);
            Files.deleteIfExists(dir);
        }
        return found;
    }

    private static Map<Long, String> without(Map<Long, String> threads, Map<Long, String> earlier) {
        Map<Long, String> left = new TreeMap<>(threads);
        left.keySet().removeAll(earlier.keySet());
        return left;
    }

    // ---------------------------------------------------------------- helpers

    /** Waits until the nodes agree on one leader and {@link Cluster#leader()} and awaitLeader find that same node. */
    private static int awaitLastLeader(Cluster cluster) {
        return Await.value("the cluster's leader() is the leader every node agrees on", WAIT, () -> {
            Optional<Integer> agreed = Agreement.agreedLeader(cluster.statuses());
            if (agreed.isEmpty() || !cluster.leader().equals(OptionalInt.of(agreed.get()))) return Optional.empty();
            return cluster.awaitLeader(WAIT) == agreed.get() ? agreed : Optional.empty();
        }, () -> cluster.statuses() + "\nnetwork:\n" + cluster.describeNetwork());
    }

    /** Waits for a leader recognised by a majority that is none of {@code excluded}. */
    private static int awaitLeaderOtherThan(Cluster cluster, Set<Integer> excluded) {
        return Await.value("a leader recognised by a majority other than " + excluded, WAIT, () -> {
            OptionalInt l = cluster.leader();
            return l.isPresent() && !excluded.contains(l.getAsInt()) ? Optional.of(l.getAsInt()) : Optional.empty();
        }, cluster::statuses);
    }

    /** {@code count} nodes: the leader and followers, or followers only. */
    private static List<Integer> pick(Cluster cluster, int leader, int count, boolean withLeader) {
        List<Integer> out = new ArrayList<>();
        if (withLeader) out.add(leader);
        for (int id : cluster.nodeIds()) if (id != leader && out.size() < count) out.add(id);
        return out;
    }

    private static String key(int client, int k) {
        return "key-" + client + "-" + k;
    }

    private interface ClientWork<T> {
        T run(int client) throws Exception;
    }

    /** Runs {@code work} for clients 0..n-1, each on its own virtual thread, and returns their results in order. */
    private static <T> List<T> runConcurrently(int n, ClientWork<T> work) throws Exception {
        List<Callable<T>> tasks = new ArrayList<>();
        for (int c = 0; c < n; c++) {
            int client = c;
            tasks.add(() -> work.run(client));
        }
        List<T> results = new ArrayList<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<T>> futures = executor.invokeAll(tasks, 60, TimeUnit.SECONDS);
            for (int c = 0; c < n; c++) {
                Future<T> f = futures.get(c);
                if (f.isCancelled()) fail("client " + c + " did not finish within 60 s");
                try {
                    results.add(f.get());
                } catch (java.util.concurrent.ExecutionException e) {
                    if (e.getCause() instanceof Error err) throw err;
                    throw new AssertionError("client " + c + " failed: " + e.getCause(), e.getCause());
                }
            }
        }
        return results;
    }

    /** Asserts that {@code call} throws {@code type} with a message containing every one of {@code words}. */
    private static <T extends Throwable> void assertMessage(Class<T> type, Executable call, String... words) {
        T thrown = assertThrows(type, call);
        String message = thrown.getMessage();
        assertTrue(message != null, "a " + type.getSimpleName() + " with no message");
        for (String w : words) {
            assertTrue(message.contains(w), "the message should mention \"" + w + "\": " + message);
        }
    }

    /** The applied index of a quiet cluster, with the term it was reached in. */
    private record IndexAtTerm(long applied, long term) {
        static IndexAtTerm of(Cluster cluster) {
            Agreement.awaitLeader(cluster, WAIT);
            long applied = Agreement.awaitApplied(cluster, WAIT);
            return new IndexAtTerm(applied, cluster.statuses().getFirst().term());
        }

        /** Refused calls never reach the log: the applied index has not moved (unless a new term added its no-op). */
        void assertNothingAppliedSince(Cluster cluster) {
            IndexAtTerm now = of(cluster);
            if (now.term == term) {
                assertEquals(applied, now.applied, "refused calls appended nothing: " + cluster.statuses());
            } else {
                assertTrue(now.applied <= applied + (now.term - term),
                        "only new terms' no-op entries were added: before " + this + ", now " + now);
            }
        }
    }
}
