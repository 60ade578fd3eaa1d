package io.raftkv.cluster;

import io.raftkv.kv.KvClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every write a file-backed cluster acknowledged survives SIGKILL of the whole process, many times
 * over: a child JVM ({@link CrashWorker}) runs the cluster with writing clients and is killed at a
 * random moment; then this JVM opens the same directory and reads back every write acknowledged in
 * any run so far, and the next child carries on with the same data.
 *
 * <p>{@code -Dcrash.seed=N} replays the kill timing of a run (when to kill; what the child had written
 * by then depends on the machine); {@code -Dcrash.seconds=S} sets how long to keep killing (default 20).
 */
class CrashRecoveryTest {
    private static final int CLIENTS = 4;
    /** Kill after this many acknowledged writes at most, or after at most this long. */
    private static final int MAX_ACKS_BEFORE_KILL = 200;
    private static final int MAX_MILLIS_BEFORE_KILL = 400;
    private static final int CHECKERS = 8;
    private static final Duration READY_WAIT = Duration.ofSeconds(30);
    private static final Duration ACKS_WAIT = Duration.ofSeconds(15);
    private static final Duration EXIT_WAIT = Duration.ofSeconds(15);
    private static final Duration LEADER_WAIT = Duration.ofSeconds(15);
    /** What {@link Process#exitValue()} reports on Linux and macOS for a process ended by signal 9. */
    private static final int KILLED_BY_SIGKILL = 128 + 9;

    @Test
    void everyAcknowledgedWriteSurvivesRepeatedSigkillOfTheWholeCluster(@TempDir Path tmp) throws Exception {
        Long given = Long.getLong("crash.seed");
        long seed = given != null ? given : new SplittableRandom().nextLong();
        long seconds = Long.getLong("crash.seconds", 20);
        System.out.println("CrashRecoveryTest seed " + seed + " (replay the kill timing: -Dcrash.seed=" + seed + ")");
        SplittableRandom random = new SplittableRandom(seed);
        Path data = tmp.resolve("data");
        Map<String, String> acknowledged = new LinkedHashMap<>();
        long start = System.nanoTime();
        long budget = TimeUnit.SECONDS.toNanos(seconds);
        int kills = 0;
        long reads = 0;
        while (kills == 0 || System.nanoTime() - start < budget) {
            int run = kills + 1;
            Path stderr = tmp.resolve("worker-" + run + ".err");
            int before = acknowledged.size();
            String how = runAndKill(run, data, stderr, random, acknowledged);
            kills++;
            long checkStart = System.nanoTime();
            checkEveryAcknowledgedWrite(data, random.nextLong(), acknowledged,
                    "after kill " + run + " (seed " + seed + "); the child's stderr ends with:\n" + tail(stderr));
            reads += acknowledged.size();
            System.out.printf("kill %d %s: %d new acknowledged writes, all %d read back in %d ms%n", run, how,
                    acknowledged.size() - before, acknowledged.size(),
                    TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - checkStart));
        }
        assertFalse(acknowledged.isEmpty(), "no write was acknowledged in " + kills + " runs (seed " + seed + ")");
        System.out.printf("CrashRecoveryTest seed %d: survived %d kills (SIGKILL); %d acknowledged writes, every one "
                        + "read back after each later kill (%d reads); %.1f s%n",
                seed, kills, acknowledged.size(), reads, (System.nanoTime() - start) / 1e9);
    }

    /**
     * Starts a worker on {@code data}, kills it with SIGKILL once it is ready and has acknowledged a
     * random number of writes (or a random time has passed), and adds every write it acknowledged to
     * {@code acknowledged}; returns when it killed it.
     */
    private static String runAndKill(int run, Path data, Path stderr, SplittableRandom random,
                                     Map<String, String> acknowledged) throws Exception {
        boolean byAcks = random.nextBoolean();
        int acksBeforeKill = random.nextInt(MAX_ACKS_BEFORE_KILL + 1);
        int millisBeforeKill = random.nextInt(MAX_MILLIS_BEFORE_KILL + 1);
        long workerSeed = random.nextLong();
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = List.of(java, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), CrashWorker.class.getName(),
                data.toString(), Integer.toString(run), Integer.toString(CLIENTS), Long.toString(workerSeed));
        Process worker = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
        try {
            BlockingQueue<Line> lines = new LinkedBlockingQueue<>();
            Thread.ofVirtual().name("worker-" + run + "-stdout").start(() -> forwardLines(worker.getInputStream(), lines));
            WorkerOutput output = new WorkerOutput(run, worker, stderr, lines, acknowledged);
            output.awaitReady();
            String how;
            if (byAcks) {
                output.awaitAcks(acksBeforeKill);
                how = "after " + acksBeforeKill + " acknowledged writes";
            } else {
                Thread.sleep(millisBeforeKill); // the kill's moment is the workload here, not a wait for a condition
                how = millisBeforeKill + " ms after READY";
            }
            assertTrue(worker.isAlive(), () -> "worker " + run + " ended before it was killed, exit value "
                    + worker.exitValue() + "; its stderr ends with:\n" + tail(stderr));
            worker.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no flush, no close
            assertTrue(worker.waitFor(EXIT_WAIT.toMillis(), TimeUnit.MILLISECONDS), "worker " + run + " did not die");
            assertEquals(KILLED_BY_SIGKILL, worker.exitValue(), "worker " + run + " was not ended by SIGKILL");
            output.readToEnd(); // the writes it acknowledged before it died are still in the pipe
            return how;
        } finally {
            if (worker.isAlive()) {
                worker.destroyForcibly();
                worker.waitFor(EXIT_WAIT.toMillis(), TimeUnit.MILLISECONDS);
            }
        }
    }

    /** Opens the store in this JVM and reads back every acknowledged write, several clients at once. */
    private static void checkEveryAcknowledgedWrite(Path data, long seed, Map<String, String> acknowledged,
                                                    String context) throws Exception {
        List<Map.Entry<String, String>> writes = new ArrayList<>(acknowledged.entrySet());
        try (Cluster cluster = Cluster.builder().nodes(3).seed(seed).storage(data).start()) {
            cluster.awaitLeader(LEADER_WAIT);
            List<Future<List<String>>> checks = new ArrayList<>();
            try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
                for (int c = 0; c < CHECKERS; c++) {
                    int first = c;
                    KvClient client = cluster.newClient();
                    checks.add(pool.submit(() -> {
                        List<String> wrong = new ArrayList<>();
                        for (int i = first; i < writes.size(); i += CHECKERS) {
                            Map.Entry<String, String> w = writes.get(i);
                            Optional<String> read = client.get(w.getKey());
                            if (!read.equals(Optional.of(w.getValue()))) {
                                wrong.add(w.getKey() + " = " + w.getValue() + " was acknowledged, but it reads " + read);
                            }
                        }
                        return wrong;
                    }));
                }
            }
            List<String> wrong = new ArrayList<>();
            for (Future<List<String>> f : checks) wrong.addAll(f.get());
            if (!wrong.isEmpty()) {
                fail(wrong.size() + " of " + writes.size() + " acknowledged writes are lost or changed " + context
                        + "\nfirst of them:\n" + String.join("\n", wrong.subList(0, Math.min(20, wrong.size()))));
            }
        }
    }

    /** One line of the worker's stdout, or {@link #END} once it closed. */
    private record Line(String text) {
        static final Line END = new Line(null);
    }

    /**
     * Hands each complete line of {@code in} to {@code lines}, then {@link Line#END}. A last line without
     * its newline was cut by the kill and is dropped: the worker prints a line only after its write was
     * acknowledged, so dropping one can only make the check weaker, never wrong.
     */
    private static void forwardLines(InputStream in, BlockingQueue<Line> lines) {
        try (InputStream s = new BufferedInputStream(in)) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            int b;
            while ((b = s.read()) >= 0) {
                if (b == '\n') {
                    lines.add(new Line(line.toString(StandardCharsets.UTF_8)));
                    line.reset();
                } else {
                    line.write(b);
                }
            }
        } catch (IOException e) {
            // The pipe broke when the worker died; what arrived before is all there is.
        } finally {
            lines.add(Line.END);
        }
    }

    /** What one worker printed, read with deadlines, its acknowledged writes added as they come. */
    private static final class WorkerOutput {
        private final int run;
        private final Process worker;
        private final Path stderr;
        private final BlockingQueue<Line> lines;
        private final Map<String, String> acknowledged;
        private int acks;
        private boolean ended;

        WorkerOutput(int run, Process worker, Path stderr, BlockingQueue<Line> lines, Map<String, String> acknowledged) {
            this.run = run;
            this.worker = worker;
            this.stderr = stderr;
            this.lines = lines;
            this.acknowledged = acknowledged;
        }

        void awaitReady() throws InterruptedException {
            String first = next(System.nanoTime() + READY_WAIT.toNanos(), "READY");
            assertEquals("READY", first, "worker " + run + " printed something before READY");
        }

        void awaitAcks(int n) throws InterruptedException {
            long deadline = System.nanoTime() + ACKS_WAIT.toNanos();
            while (acks < n) next(deadline, n + " acknowledged writes (had " + acks + ")");
        }

        /** Reads what the (dead) worker printed until its stdout ends. */
        void readToEnd() throws InterruptedException {
            long deadline = System.nanoTime() + EXIT_WAIT.toNanos();
            while (!ended) next(deadline, "the end of its stdout");
        }

        /** Takes the next line, recording an acknowledged write; fails if it is not there by the deadline. */
        private String next(long deadline, String waitingFor) throws InterruptedException {
            Line line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                fail("worker " + run + " printed no line in time while the test waited for " + waitingFor
                        + "; alive: " + worker.isAlive() + "; its stderr ends with:\n" + tail(stderr));
            }
            if (line == Line.END) {
                if (!waitingFor.startsWith("the end")) {
                    fail("worker " + run + " closed its stdout while the test waited for " + waitingFor
                            + "; its stderr ends with:\n" + tail(stderr));
                }
                ended = true;
                return null;
            }
            String text = line.text();
            if (text.equals("SHUTDOWN")) fail("worker " + run + " ran its shutdown hook: it was stopped, not killed");
            if (text.startsWith("ACK ")) record(text);
            else if (!text.equals("READY")) fail("worker " + run + " printed an unexpected line: " + text);
            return text;
        }

        private void record(String text) {
            String[] parts = text.split(" ");
            // Keys are k-r<run>c<client>-<n> and values v-<n>: a garbled line cannot pass for a write.
            boolean wellFormed = parts.length == 3 && parts[1].startsWith("k-r" + run + "c")
                    && parts[2].equals("v-" + parts[1].substring(parts[1].lastIndexOf('-') + 1));
            assertTrue(wellFormed, () -> "worker " + run + " printed a malformed ACK line: " + text);
            String previous = acknowledged.putIfAbsent(parts[1], parts[2]);
            assertTrue(previous == null, () -> "worker " + run + " acknowledged " + parts[1] + " twice");
            acks++;
        }
    }

    /** The last lines of a worker's stderr, for failure messages. */
    private static String tail(Path stderr) {
        try {
            if (!Files.exists(stderr)) return "(no stderr file)";
            String s = Files.readString(stderr, StandardCharsets.UTF_8);
            return s.isEmpty() ? "(empty)" : s.substring(Math.max(0, s.length() - 4000));
        } catch (IOException e) {
            return "(cannot read " + stderr + ": " + e + ")";
        }
    }
}
