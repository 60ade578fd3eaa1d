package io.raftkv.bench;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MachineProbeTest {
    @Test
    void theChaseIsOneCycleThroughEverySlot() {
        // One cycle, not several short ones: a short cycle would stay in the cache and measure the cache.
        for (long seed = 1; seed <= 5; seed++) assertEquals(1024, new MachineProbe(4096, seed).cycleLength(), "seed " + seed);
    }

    @Test
    void aSampleIsATimePerLoad() {
        MachineProbe probe = new MachineProbe(1 << 16, 7);
        double ns = probe.sample(3, 1_000);
        assertTrue(ns > 0 && Double.isFinite(ns), "ns per load: " + ns);
        assertEquals(1 << 14, probe.cycleLength(), "sampling leaves the cycle whole");
    }

    @Test
    void aCoreSampleIsATimePerStep() {
        double ns = MachineProbe.cpuSample(2, 10_000);
        assertTrue(ns > 0 && Double.isFinite(ns), "ns per step: " + ns);
        assertThrows(IllegalArgumentException.class, () -> MachineProbe.cpuSample(1, 0));
    }

    @Test
    void carrierSwitchesSumTheCarriersOnly(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tasks) throws Exception {
        task(tasks, "101", "ForkJoinPool-1-worker-1", 40);
        task(tasks, "102", "ForkJoinPool-1-worker-2", 2);
        task(tasks, "103", "main", 1000);
        java.nio.file.Files.createDirectories(tasks.resolve("104")); // a thread that ended before it was read
        assertEquals(42, MachineProbe.carrierSwitches(tasks));
        assertEquals(-1, MachineProbe.carrierSwitches(tasks.resolve("absent")));
    }

    private static void task(java.nio.file.Path tasks, String tid, String name, long switches) throws Exception {
        java.nio.file.Path t = java.nio.file.Files.createDirectories(tasks.resolve(tid));
        java.nio.file.Files.writeString(t.resolve("comm"), name + "\n");
        java.nio.file.Files.writeString(t.resolve("status"), "Name:\t" + name + "\nvoluntary_ctxt_switches:\t" + switches
                + "\nnonvoluntary_ctxt_switches:\t7\n");
    }

    @Test
    void badSizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new MachineProbe(4095, 1));
        assertThrows(IllegalArgumentException.class, () -> new MachineProbe(6144, 1));
        assertThrows(IllegalArgumentException.class, () -> new MachineProbe(1 << 12, 1).sample(0, 10));
    }

    @Test
    void correlationAndMedian() {
        assertEquals(1.0, ClosedLoopBench.correlation(new long[] {1, 2, 3, 4}, new double[] {10, 20, 30, 40}), 1e-12);
        assertEquals(-1.0, ClosedLoopBench.correlation(new long[] {1, 2, 3, 4}, new double[] {8, 6, 4, 2}), 1e-12);
        assertTrue(Double.isNaN(ClosedLoopBench.correlation(new long[] {5, 5, 5}, new double[] {1, 2, 3})), "constant series");
        assertTrue(Double.isNaN(ClosedLoopBench.correlation(new long[] {1, 2}, new double[] {1, 2})), "too short");
        assertEquals(2.5, ClosedLoopBench.median(new double[] {4, 1, 3, 2}), 1e-12);
        assertEquals(3.0, ClosedLoopBench.median(new double[] {5, 1, 3}), 1e-12);
    }
}
