package io.raftkv.cluster;

import io.raftkv.kv.KvClient;
import io.raftkv.kv.OutcomeUnknownException;
import io.raftkv.lincheck.CheckResult;
import io.raftkv.lincheck.HistoryJson;
import io.raftkv.lincheck.LinearizabilityChecker;
import io.raftkv.lincheck.OpKind;
import io.raftkv.lincheck.Operation;
import io.raftkv.raft.Role;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Clients on virtual threads read and write a few keys while a nemesis partitions, isolates, kills,
 * restarts, heals and degrades the network of a real 5-node cluster; the recorded history must be
 * linearizable, and no acknowledged write may be lost.
 *
 * <p>{@code -Dnemesis.seed=N} replays the nemesis's schedule (which fault, on which nodes, after what
 * pause) and seeds the cluster; thread timing still differs from run to run. {@code -Dnemesis.seconds=S}
 * sets how long the nemesis runs (default 10).
 */
class NemesisTest {
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
        System.out.println("NemesisTest: seed " + seed + ", nemesis for " + duration.toMillis() + " ms; replay with"
                + " ./mvn21 test -Dtest=NemesisTest -Dnemesis.seed=" + seed);

        try (Cluster cluster = Cluster.builder().nodes(NODES).seed(seed).start()) {
            cluster.awaitLeader(WAIT);
            List<Operation> history = new ArrayList<>();
            Nemesis nemesis = new Nemesis(cluster, new SplittableRandom(seed));
            try (LeaderSampler sampler = LeaderSampler.start(cluster)) {
                AtomicBoolean stop = new AtomicBoolean();
                List<Worker> workers = new ArrayList<>();
                for (int c = 0; c < CLIENTS; c++) workers.add(new Worker(c, cluster.newClient(CLIENT_DEADLINE), new SplittableRandom(seed + 1 + c), stop));
                List<Thread> threads = new ArrayList<>();
                for (Worker w : workers) threads.add(Thread.ofVirtual().name("nemesis-client-" + w.id).start(w));

                nemesis.run(duration);
                stop.set(true);
                for (Thread t : threads) {
                    if (!t.join(WAIT)) fail(t.getName() + " did not stop within " + WAIT.toMillis() + " ms: " + Arrays.toString(t.getStackTrace()));
                }
                for (Worker w : workers) {
                    if (w.failure != null) throw new AssertionError("client " + w.id + " failed (seed " + seed + ")", w.failure);
                    history.addAll(w.history);
                }

                // Recovery: every fault undone, every node up, one leader that all agree on.
                nemesis.recover();
                Agreement.awaitLeader(cluster, WAIT);
                KvClient reader = cluster.newClient();
                for (String key : KEYS) {
                    long call = System.nanoTime();
                    Optional<String> value = reader.get(key);
                    history.add(Operation.get(FINAL_READER, call, System.nanoTime(), key, value.orElse(null)));
                }
                long applied = Agreement.awaitApplied(cluster, WAIT);
                sampler.assertOneLeaderPerTerm();

                Summary summary = Summary.of(history, workers);
                System.out.println("NemesisTest: seed " + seed + "; " + summary + "; faults injected " + nemesis.counts
                        + " (" + nemesis.schedule.size() + " in all); leaders by term " + sampler.leadersByTerm().size()
                        + " terms, final applied index " + applied);
                System.out.println("NemesisTest: schedule " + nemesis.schedule);
                assertTrue(summary.completed > 0, "no operation completed at all: " + summary);
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
        for (String key : KEYS) {
            Set<String> written = new HashSet<>();
            boolean acknowledged = false;
            Operation last = null;
            for (Operation op : history) {
                if (!op.key().equals(key)) continue;
                if (op.clientId() == FINAL_READER) last = op;
                else if (op.kind() != OpKind.GET) {
                    written.add(op.input());
                    if (!op.pending() && (op.kind() == OpKind.PUT || "true".equals(op.output()))) acknowledged = true;
                }
            }
            assertTrue(last != null, "no final read of " + key);
            if (last.output() == null) {
                assertTrue(!acknowledged, "seed " + seed + ": key " + key + " is absent at the end, but a write of it was acknowledged");
            } else {
                assertTrue(written.contains(last.output()), "seed " + seed + ": key " + key + " ends as " + last.output()
                        + ", which no write of it wrote");
            }
        }
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

    /** One client: random PUT, GET and REPLACE on the few keys, with values no other write uses, until stopped. */
    private static final class Worker implements Runnable {
        final int id;
        final KvClient client;
        final SplittableRandom random;
        final AtomicBoolean stop;
        final List<Operation> history = new ArrayList<>();
        int droppedGets;
        volatile Throwable failure;

        Worker(int id, KvClient client, SplittableRandom random, AtomicBoolean stop) {
            this.id = id;
            this.client = client;
            this.random = random;
            this.stop = stop;
        }

        @Override
        public void run() {
            try {
                for (int n = 0; !stop.get(); n++) {
                    String key = KEYS.get(random.nextInt(KEYS.size()));
                    String value = "c" + id + "-" + n;
                    int dice = random.nextInt(100);
                    long call = System.nanoTime();
                    try {
                        if (dice < 40) {
                            Optional<String> got = client.get(key);
                            history.add(Operation.get(id, call, System.nanoTime(), key, got.orElse(null)));
                        } else if (dice < 75) {
                            client.put(key, value);
                            history.add(Operation.put(id, call, System.nanoTime(), key, value));
                        } else {
                            boolean replaced = client.replace(key, value);
                            history.add(Operation.replace(id, call, System.nanoTime(), key, value, replaced));
                        }
                    } catch (OutcomeUnknownException e) {
                        // A read nobody saw constrains nothing; a write may take effect at any time after its call, or never.
                        if (dice < 40) droppedGets++;
                        else if (dice < 75) history.add(Operation.pendingPut(id, call, key, value));
                        else history.add(Operation.pendingReplace(id, call, key, value));
                    }
                    // Workload pacing, not a wait: it keeps the history (and the time to check it) bounded.
                    LockSupport.parkNanos(random.nextLong(PACING_MAX_NANOS + 1));
                }
            } catch (Throwable t) {
                failure = t;
            }
        }
    }

    /** Injects faults from a seeded schedule, and undoes them all at the end. */
    private static final class Nemesis {
        final Cluster cluster;
        final SplittableRandom random;
        final Set<Integer> dead = new TreeSet<>();
        final Map<Fault, Integer> counts = new EnumMap<>(Fault.class);
        final List<String> schedule = new ArrayList<>();

        Nemesis(Cluster cluster, SplittableRandom random) {
            this.cluster = cluster;
            this.random = random;
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

    /** What the clients did, in numbers. */
    private record Summary(int operations, int completed, int pendingWrites, int droppedGets, int gets, int puts, int replaces) {
        static Summary of(List<Operation> history, List<Worker> workers) {
            int completed = 0, pending = 0, gets = 0, puts = 0, replaces = 0;
            for (Operation op : history) {
                if (op.pending()) pending++;
                else completed++;
                switch (op.kind()) {
                    case GET -> gets++;
                    case PUT -> puts++;
                    case REPLACE -> replaces++;
                }
            }
            int dropped = workers.stream().mapToInt(w -> w.droppedGets).sum();
            return new Summary(history.size() + dropped, completed, pending, dropped, gets, puts, replaces);
        }

        @Override
        public String toString() {
            return operations + " operations (" + gets + " GET, " + puts + " PUT, " + replaces + " REPLACE recorded): "
                    + completed + " completed, " + pendingWrites + " writes pending (outcome unknown), " + droppedGets
                    + " GETs dropped (failed)";
        }
    }
}
