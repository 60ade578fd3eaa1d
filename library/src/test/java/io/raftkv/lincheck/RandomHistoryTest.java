package io.raftkv.lincheck;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Histories generated from the model must pass, and fail once one read is corrupted. */
class RandomHistoryTest {

    private static long seed;

    @BeforeAll
    static void chooseSeed() {
        String fixed = System.getProperty("lincheck.seed", "");
        seed = fixed.isBlank() ? new Random().nextLong() : Long.parseLong(fixed.trim());
        System.out.println("RandomHistoryTest: -Dlincheck.seed=" + seed);
    }

    /** A history shaped like a simulation run's: 300-2000 operations, 5-20 keys, 2-10 clients. */
    private static List<Operation> simulationSized(Random random) {
        return HistoryGenerator.linearizable(random,
                300 + random.nextInt(1701), 5 + random.nextInt(16), 2 + random.nextInt(9));
    }

    @Test
    void historiesGeneratedFromTheModelAreLinearizable() {
        Random random = new Random(seed);
        for (int i = 0; i < 200; i++) {
            List<Operation> history = simulationSized(random);
            CheckResult result = LinearizabilityChecker.check(history);
            assertEquals(CheckResult.Verdict.LINEARIZABLE, result.verdict(),
                    "seed " + seed + ", history " + i + ": " + result.explanation());
        }
    }

    @Test
    void aReadOfAValueNeverWrittenIsCaughtAndItsKeyNamed() {
        Random random = new Random(seed);
        for (int i = 0; i < 200; i++) {
            List<Operation> history = simulationSized(random);
            int victim = HistoryGenerator.randomCompletedGet(random, history);
            if (victim < 0) {
                continue;
            }
            List<Operation> corrupted = HistoryGenerator.withRead(history, victim, "never-written");
            CheckResult result = LinearizabilityChecker.check(corrupted);
            String context = "seed " + seed + ", history " + i + ", corrupted " + corrupted.get(victim);
            assertEquals(CheckResult.Verdict.NOT_LINEARIZABLE, result.verdict(), context);
            assertEquals(history.get(victim).key(), result.key(), context);
            assertTrue(result.explanation().contains("\"never-written\""), context + "\n" + result.explanation());
        }
    }

    @Test
    void aStaleReadIsCaught() {
        // Reads the value the key held before its last completed write, well after that write returned.
        Random random = new Random(seed);
        List<Operation> history = new ArrayList<>(HistoryGenerator.linearizable(random, 500, 5, 8));
        long end = 0;
        for (Operation op : history) {
            end = Math.max(end, op.pending() ? op.callTime() : op.returnTime());
        }
        history.add(Operation.put(100, end + 10, end + 20, "k0", "first"));
        history.add(Operation.put(100, end + 30, end + 40, "k0", "second"));
        history.add(Operation.get(101, end + 50, end + 60, "k0", "first"));
        CheckResult result = LinearizabilityChecker.check(history);
        assertEquals(CheckResult.Verdict.NOT_LINEARIZABLE, result.verdict(), "seed " + seed);
        assertEquals("k0", result.key(), "seed " + seed);
    }

    @Test
    void checkingAThousandSimulationSizedHistoriesIsQuick() {
        Random random = new Random(seed);
        int histories = 1000;
        long operations = 0;
        long totalNanos = 0;
        long worstNanos = 0;
        long corruptedNanos = 0;
        for (int i = 0; i < histories; i++) {
            List<Operation> history = simulationSized(random);
            operations += history.size();
            long start = System.nanoTime();
            CheckResult result = LinearizabilityChecker.check(history);
            long took = System.nanoTime() - start;
            totalNanos += took;
            worstNanos = Math.max(worstNanos, took);
            assertTrue(result.ok(), "seed " + seed + ", history " + i + ": " + result.explanation());
            int victim = HistoryGenerator.randomCompletedGet(random, history);
            if (victim >= 0) {
                List<Operation> corrupted = HistoryGenerator.withRead(history, victim, "never-written");
                start = System.nanoTime();
                CheckResult bad = LinearizabilityChecker.check(corrupted);
                corruptedNanos += System.nanoTime() - start;
                assertEquals(CheckResult.Verdict.NOT_LINEARIZABLE, bad.verdict(), "seed " + seed + ", history " + i);
            }
        }
        // Printed, not asserted: CI machines vary too much for a time limit.
        System.out.printf("RandomHistoryTest: checked %d linearizable histories (%d operations) in %.1f ms:"
                        + " mean %.3f ms, worst %.3f ms; their corrupted copies took %.1f ms in all%n",
                histories, operations, totalNanos / 1e6, totalNanos / 1e6 / histories, worstNanos / 1e6,
                corruptedNanos / 1e6);
    }
}
