package io.raftkv.cluster;

import io.raftkv.lincheck.CheckResult;
import io.raftkv.lincheck.HistoryJson;
import io.raftkv.lincheck.HistorySummary;
import io.raftkv.lincheck.LinearizabilityChecker;
import io.raftkv.lincheck.Operation;
import io.raftkv.lincheck.RecordingClient;
import io.raftkv.client.ReadFrom;
import io.raftkv.raft.ReadPolicy;
import io.raftkv.raft.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Clients on virtual threads read and write a few keys while a nemesis partitions, isolates, kills,
 * restarts, heals and degrades the network of a real 5-node cluster; the recorded history must be
 * linearizable, and no acknowledged write may be lost. One mode reads by lease, the clients sending their
 * reads to every node in turn, so that followers serve them.
 *
 * <p>{@code -Dnemesis.seed=N} replays the nemesis's schedule (which fault, on which nodes, after what
 * pause) and seeds the cluster; thread timing still differs from run to run. {@code -Dnemesis.seconds=S}
 * sets how long the nemesis runs (default 10).
 */
@ParameterizedClass(name = "{0}, platform threads {1}, reads by {2} from {3}")
@MethodSource("modes")
class NemesisTest {
    /** In memory and over TCP on loopback; over TCP the network's drop, delay, duplicate and reorder are not there. */
    @Parameter(0)
    ClusterTransport transport;
    /** Over TCP on platform threads, each node's own thread serves its connections (a selector, no reader threads). */
    @Parameter(1)
    boolean platformThreads;
    /** How the leader confirms reads. */
    @Parameter(2)
    ReadPolicy readPolicy;
    /** Where the clients send their reads: with ANY, followers serve reads with the leader's read index. */
    @Parameter(3)
    ReadFrom readFrom;

    static Stream<Arguments> modes() {
        return Stream.of(Arguments.of(ClusterTransport.IN_MEMORY, false, ReadPolicy.READ_INDEX, ReadFrom.LEADER),
                Arguments.of(ClusterTransport.TCP, false, ReadPolicy.READ_INDEX, ReadFrom.LEADER),
                Arguments.of(ClusterTransport.TCP, true, ReadPolicy.READ_INDEX, ReadFrom.LEADER),
                Arguments.of(ClusterTransport.IN_MEMORY, false, ReadPolicy.LEASE, ReadFrom.ANY));
    }

    private static final int NODES = 5;
    private static final int CLIENTS = 5;
    private static final List<String> KEYS = List.of("a", "b", "c", "d");
    /** Short enough that clients give up (and record pending writes) while there is no majority. */
    private static final Duration CLIENT_DEADLINE = Duration.ofMillis(500);
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** At most this many nodes are down at once: a majority may crash (storage is kept), not every node. */
    private static final int MAX_DEAD = 3;
    private static final int FINAL_READER = CLIENTS;
    /** Each client pauses up to this long between operations: some 5,000 operations a second in all. */
    private static final long PACING_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

    private enum Fault { PARTITION, ISOLATE, KILL, RESTART, HEAL, FLAKY_NETWORK }

    @Test
    void historiesUnderANemesisAreLinearizableAndLoseNoAcknowledgedWrite() throws Exception {
        long seed = seedProperty();
        Duration duration = Duration.ofMillis((long) (Double.parseDouble(System.getProperty("nemesis.seconds", "10")) * 1000));
        System.out.println("NemesisTest (" + transport + (platformThreads ? ", platform threads" : "") + ", reads by "
                + readPolicy + " from " + readFrom + "): seed " + seed + ", nemesis for " + duration.toMillis() + " ms; replay with"
                + " ./mvn21 test -Dtest=NemesisTest -Dnemesis.seed=" + seed);

        try (Cluster cluster = Cluster.builder().nodes(NODES).seed(seed).transport(transport).platformThreads(platformThreads)
                .readPolicy(readPolicy).start()) {
            cluster.awaitLeader(WAIT);
            List<Operation> history = new ArrayList<>();
            Nemesis nemesis = new Nemesis(cluster, new SplittableRandom(seed), transport == ClusterTransport.IN_MEMORY);
            try (LeaderSampler sampler = LeaderSampler.start(cluster)) {
                AtomicBoolean stop = new AtomicBoolean();
                List<RecordingClient> workers = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) {
                    workers.add(new RecordingClient(c, cluster.newClient(CLIENT_DEADLINE).readFrom(readFrom), KEYS, new SplittableRandom(seed + 1 + c),
                            stop, PACING_MAX_NANOS));
                }
                List<Thread> threads = new ArrayList<>();
                for (RecordingClient w : workers) threads.add(Thread.ofVirtual().name("nemesis-client-" + w.id()).start(w));

                nemesis.run(duration);
                stop.set(true);
                for (Thread t : threads) {
                    if (!t.join(WAIT)) fail(t.getName() + " did not stop within " + WAIT.toMillis() + " ms: " + Arrays.toString(t.getStackTrace()));
                }
                for (RecordingClient w : workers) {
                    if (w.failure() != null) throw new AssertionError("client " + w.id() + " failed (seed " + seed + ")", w.failure());
                    history.addAll(w.history());
                }

                // Recovery: every fault undone, every node up, one leader that all agree on.
                nemesis.recover();
                Agreement.awaitLeader(cluster, WAIT);
                history.addAll(RecordingClient.finalReads(FINAL_READER, cluster.newClient(), KEYS));
                long applied = Agreement.awaitApplied(cluster, WAIT);
                sampler.assertOneLeaderPerTerm();

                HistorySummary summary = HistorySummary.of(history, workers);
                System.out.println("NemesisTest: seed " + seed + "; " + summary + "; faults injected " + nemesis.counts
                        + " (" + nemesis.schedule.size() + " in all); leaders by term " + sampler.leadersByTerm().size()
                        + " terms, final applied index " + applied);
                System.out.println("NemesisTest: schedule " + nemesis.schedule);
                assertTrue(summary.completed() > 0, "no operation completed at all: " + summary);
            }

            assertNoAcknowledgedWriteLost(history, seed);
            long checkStart = System.nanoTime();
            CheckResult result = LinearizabilityChecker.check(history);
            System.out.println("NemesisTest: seed " + seed + ": " + result.verdict() + " (checked in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - checkStart) + " ms): " + result.explanation());
            if (!result.ok()) {
                Path file = writeHistory(history, seed);
                fail("seed " + seed + ": the history is " + result.verdict() + " (key " + result.key() + "); written to "
                        + file + "\n" + result.explanation() + "\nschedule: " + nemesis.schedule);
            }
        }
    }

    /**
     * The final read of each key must return a value some write of that key put there, and a key any
     * write was acknowledged on cannot be absent. The linearizability check covers this too; this
     * says it plainly.
     */
    private static void assertNoAcknowledgedWriteLost(List<Operation> history, long seed) {
        List<String> lost = RecordingClient.lostWrites(history, KEYS, FINAL_READER);
        assertTrue(lost.isEmpty(), "seed " + seed + ": " + String.join("; ", lost));
    }

    private static Path writeHistory(List<Operation> history, long seed) throws IOException {
        Path file = Path.of(System.getProperty("basedir", "."), "target", "nemesis-history-" + seed + ".json");
        Files.createDirectories(file.getParent());
        try (Writer out = Files.newBufferedWriter(file)) {
            HistoryJson.write(history, out);
        }
        return file;
    }

    private static long seedProperty() {
        String s = System.getProperty("nemesis.seed", "").trim();
        if (s.isEmpty()) return System.nanoTime();
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("nemesis.seed must be a long, was \"" + s + "\"", e);
        }
    }

    /** Injects faults from a seeded schedule, and undoes them all at the end. */
    private static final class Nemesis {
        final Cluster cluster;
        final SplittableRandom random;
        final Set<Integer> dead = new TreeSet<>();
        final Map<Fault, Integer> counts = new EnumMap<>(Fault.class);
        final List<String> schedule = new ArrayList<>();

        /** Whether the network can drop, duplicate, reorder and delay: the in-memory one can, TCP cannot. */
        final boolean flakyNetwork;

        Nemesis(Cluster cluster, SplittableRandom random, boolean flakyNetwork) {
            this.cluster = cluster;
            this.random = random;
            this.flakyNetwork = flakyNetwork;
        }

        void run(Duration duration) throws InterruptedException {
            long start = System.nanoTime();
            long end = start + duration.toNanos();
            while (System.nanoTime() - end < 0) {
                // The pacing of the workload, not a wait for a condition.
                long pause = Math.min(random.nextLong(50, 400), TimeUnit.NANOSECONDS.toMillis(Math.max(0, end - System.nanoTime())));
                Thread.sleep(pause);
                if (System.nanoTime() - end >= 0) break;
                String done = inject(choose());
                schedule.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + "ms " + done);
            }
        }

        private Fault choose() {
            int dice = random.nextInt(100);
            Fault f = dice < 20 ? Fault.PARTITION : dice < 35 ? Fault.ISOLATE : dice < 50 ? Fault.KILL
                    : dice < 65 ? Fault.RESTART : dice < 85 ? Fault.HEAL : Fault.FLAKY_NETWORK;
            if (f == Fault.KILL && dead.size() >= MAX_DEAD) f = Fault.RESTART;
            if (f == Fault.RESTART && dead.isEmpty()) f = Fault.HEAL;
            if (f == Fault.FLAKY_NETWORK && !flakyNetwork) f = Fault.HEAL;
            return f;
        }

        private String inject(Fault fault) {
            counts.merge(fault, 1, Integer::sum);
            switch (fault) {
                case PARTITION -> {
                    List<Integer> ids = new ArrayList<>(cluster.nodeIds());
                    shuffle(ids);
                    int cut = 1 + random.nextInt(NODES - 1);
                    Set<Integer> one = new TreeSet<>(ids.subList(0, cut));
                    Set<Integer> other = new TreeSet<>(ids.subList(cut, NODES));
                    cluster.partition(one, other);
                    return "partition " + one + " | " + other;
                }
                case ISOLATE -> {
                    int id = 1 + random.nextInt(NODES);
                    cluster.isolate(id);
                    return "isolate " + id;
                }
                case KILL -> {
                    List<Integer> alive = new ArrayList<>(cluster.nodeIds());
                    alive.removeAll(dead);
                    int id = alive.get(random.nextInt(alive.size()));
                    boolean wasLeader = cluster.status(id).role() == Role.LEADER;
                    cluster.kill(id);
                    dead.add(id);
                    return "kill " + id + (wasLeader ? " (leader)" : "");
                }
                case RESTART -> {
                    List<Integer> down = new ArrayList<>(dead);
                    int id = down.get(random.nextInt(down.size()));
                    cluster.restart(id);
                    dead.remove(id);
                    return "restart " + id;
                }
                case HEAL -> {
                    cluster.heal();
                    return "heal";
                }
                case FLAKY_NETWORK -> {
                    double drop = random.nextInt(11) / 100.0;
                    double duplicate = random.nextInt(11) / 100.0;
                    double reorder = random.nextInt(11) / 100.0;
                    long maxDelayMicros = random.nextLong(0, 3001);
                    cluster.network().dropProbability(drop);
                    cluster.network().duplicateProbability(duplicate);
                    cluster.network().reorderProbability(reorder);
                    cluster.network().delay(Duration.ZERO, Duration.ofNanos(maxDelayMicros * 1000));
                    return "flaky network: drop " + drop + ", duplicate " + duplicate + ", reorder " + reorder
                            + ", delay 0-" + maxDelayMicros + "us";
                }
            }
            throw new IllegalStateException("unknown fault " + fault);
        }

        private void shuffle(List<Integer> ids) {
            for (int i = ids.size() - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                Integer t = ids.get(i);
                ids.set(i, ids.get(j));
                ids.set(j, t);
            }
        }

        /** Heals the network and restarts every dead node. */
        void recover() {
            cluster.heal();
            for (int id : dead) cluster.restart(id);
            dead.clear();
            assertEquals(NODES, cluster.statuses().stream().filter(s -> s.alive()).count(), "every node runs: " + cluster.statuses());
        }
    }
}
