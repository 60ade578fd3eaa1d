package io.raftkv.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.stream.Stream;

/**
 * How fast the machine is right now, for a benchmark to print beside its figures: an instance probes the
 * memory (nanoseconds per load of a pointer chase through a random cycle over a buffer far larger than the
 * caches, so that every load waits for memory), {@link #cpuSample} the core, {@link #carrierSwitches} how
 * often the virtual-thread scheduler's threads parked. On a shared VM the first two can move from second to
 * second; printed beside a benchmark's figures they show whether a change of rate came with a change of the
 * machine's speed or not.
 *
 * <p>The buffer is off the heap (a direct buffer), so the heap figures a benchmark reports do not count it.
 * A sample takes the fastest of a few short chases: a chase the OS interrupted measures the interruption,
 * not the memory.
 */
public final class MachineProbe {
    /** 16 MiB of 4-byte slots: larger than the last-level cache of the machines this runs on. */
    static final int DEFAULT_BYTES = 16 << 20;

    private final ByteBuffer next;
    private final int slots;
    private int at;

    /** A probe over {@code bytes} of memory (a power of two, at least 4 KiB), its cycle drawn from {@code seed}. */
    public MachineProbe(int bytes, long seed) {
        if (bytes < 4096 || Integer.bitCount(bytes) != 1) {
            throw new IllegalArgumentException("bytes must be a power of two >= 4096, was " + bytes);
        }
        slots = bytes / 4;
        int[] order = new int[slots];
        for (int i = 0; i < slots; i++) order[i] = i;
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = slots - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
        next = ByteBuffer.allocateDirect(bytes).order(ByteOrder.nativeOrder());
        for (int i = 0; i < slots; i++) next.putInt(order[i] * 4, order[(i + 1) % slots]);
    }

    public MachineProbe() {
        this(DEFAULT_BYTES, 1);
    }

    /** The number of slots in the cycle, which visits every one of them. */
    int cycleLength() {
        int n = 0, x = at;
        do {
            x = next.getInt(x * 4);
            n++;
        } while (x != at && n <= slots);
        return n;
    }

    /** Nanoseconds per load: the fastest of {@code chases} chases of {@code loads} loads each. */
    public double sample(int chases, int loads) {
        if (chases < 1 || loads < 1) throw new IllegalArgumentException("chases and loads must be >= 1");
        long best = Long.MAX_VALUE;
        int x = at;
        for (int c = 0; c < chases; c++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < loads; i++) x = next.getInt(x * 4);
            best = Math.min(best, System.nanoTime() - t0);
        }
        at = x; // the next sample goes on from here; the load chain also keeps the JIT from removing the loop
        return (double) best / loads;
    }

    /** One sample sized for a benchmark's once-a-second look: about a millisecond of loads on this kind of machine. */
    public double sample() {
        return sample(5, 2_000);
    }

    /**
     * The core's own speed: nanoseconds per step of a dependent xorshift chain that stays in registers (the
     * fastest of {@code chases} chases of {@code steps} steps). A core shared with another tenant, or clocked
     * down, shows here; memory and caches do not.
     */
    public static double cpuSample(int chases, int steps) {
        if (chases < 1 || steps < 1) throw new IllegalArgumentException("chases and steps must be >= 1");
        long best = Long.MAX_VALUE;
        long x = System.nanoTime() | 1;
        for (int c = 0; c < chases; c++) {
            long t0 = System.nanoTime();
            for (int i = 0; i < steps; i++) {
                x ^= x << 13;
                x ^= x >>> 7;
                x ^= x << 17;
            }
            best = Math.min(best, System.nanoTime() - t0);
        }
        if (x == 0) throw new AssertionError("xorshift never reaches 0 from a non-zero state"); // keeps the chain
        return (double) best / steps;
    }

    /**
     * Voluntary context switches so far of this process's virtual-thread scheduler: the platform threads named
     * {@code ForkJoinPool-*}, that is its carriers and (from JDK 25) its timer thread, which parks between
     * timers; -1 where {@code /proc} does not say (not Linux). A carrier switches when it runs out of virtual
     * threads to run and parks; each such park is later a wake-up through the OS.
     */
    public static long carrierSwitches() {
        return carrierSwitches(Path.of("/proc/self/task"));
    }

    static long carrierSwitches(Path tasks) {
        if (!Files.isDirectory(tasks)) return -1;
        long sum = 0;
        try (Stream<Path> all = Files.list(tasks)) {
            for (Path t : (Iterable<Path>) all::iterator) {
                try {
                    if (!Files.readString(t.resolve("comm")).startsWith("ForkJoinPool-")) continue;
                    for (String line : Files.readAllLines(t.resolve("status"))) {
                        if (line.startsWith("voluntary_ctxt_switches:")) sum += Long.parseLong(line.substring(24).trim());
                    }
                } catch (IOException | RuntimeException gone) {
                    // the thread ended between the listing and the read
                }
            }
        } catch (IOException e) {
            return -1;
        }
        return sum;
    }
}
