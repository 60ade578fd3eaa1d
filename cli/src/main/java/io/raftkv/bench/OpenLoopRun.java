package io.raftkv.bench;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One rate of a sweep: writes scheduled at fixed intervals, sent by a pool of workers, each
 * measured from the time it was meant to be sent, so that a stall delays, and shows in, every
 * write scheduled behind it (no coordinated omission).
 *
 * <p>The schedule is one sequence of intended times {@code start + i / rate}: first the warm-up's
 * slots (sent, not recorded), then the measured ones. A free worker claims the next slot, waits
 * for its time if that is still ahead (a {@link SlotClock} releases the slots), sends and records. When every worker is busy, the next
 * slots wait unclaimed and their wait counts as latency: an open-loop client would have sent them.
 * A target that cannot keep up builds a backlog; the run sends it until one measured duration
 * past the measured period, then stops and reports the writes it never sent.
 */
final class OpenLoopRun {
    /** Lets the workers start before the first intended time, so that slot 0 is not late by construction. */
    private static final long START_LEAD_NANOS = 2_000_000;
    /**
     * The histograms' range; a longer latency is recorded as this. A fixed range means recording
     * never allocates, and two shared recorders (not one histogram per worker: 64 workers would keep
     * ~20 MB of them live, which each young GC copies, pausing the run for tens of ms) stay small.
     */
    static final long HIGHEST_NANOS = 3_600_000_000_000L;

    private final long rate;
    private final double periodNanos;
    private final long warmupSlots;
    private final long measuredSlots;
    private final long durationNanos;
    private final List<CommitTarget.Writer> writers;
    private final String[] keys;
    private final String value;
    private final AtomicLong nextSlot = new AtomicLong();
    private final Recorder latency = new Recorder(HIGHEST_NANOS, 3);
    private final Recorder sendDelay = new Recorder(HIGHEST_NANOS, 3);
    // Set before the workers start; Thread.start publishes them.
    private SlotClock clock;
    private long measureStart;
    private long stopSendingAt;

    /** What a run measured; the histograms are kept for the .hgrm files and the plot. */
    record Outcome(RateResult result, Histogram latency) {}

    /**
     * @param keys a power-of-two number of keys; slot {@code i} writes {@code keys[i % keys.length]}
     */
    OpenLoopRun(long rate, Duration warmup, Duration duration, List<CommitTarget.Writer> writers, String[] keys,
                String value) {
        if (Integer.bitCount(keys.length) != 1) throw new IllegalArgumentException("keys.length must be a power of two");
        this.rate = rate;
        this.periodNanos = 1e9 / rate;
        this.warmupSlots = slots(rate, warmup);
        this.measuredSlots = Math.max(1, slots(rate, duration));
        this.durationNanos = duration.toNanos();
        this.writers = List.copyOf(writers);
        this.keys = keys;
        this.value = value;
    }

    private static long slots(long rate, Duration d) {
        return Math.round(rate * (d.toNanos() / 1e9));
    }

    Outcome run() throws InterruptedException {
        clock = new SlotClock(System.nanoTime() + START_LEAD_NANOS, periodNanos, warmupSlots + measuredSlots, writers.size());
        measureStart = clock.intendedTime(warmupSlots);
        long measureEnd = measureStart + durationNanos;
        stopSendingAt = measureEnd + durationNanos;

        List<Tally> tallies = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers.size(); w++) {
            Tally tally = new Tally();
            CommitTarget.Writer writer = writers.get(w);
            tallies.add(tally);
            int worker = w;
            threads.add(Thread.ofVirtual().name("harness-" + rate + "-" + w).start(() -> work(worker, writer, tally)));
        }
        Thread ticking = Thread.ofVirtual().name("harness-clock-" + rate).start(clock);
        try {
            for (Thread t : threads) t.join();
            ticking.join();
        } catch (InterruptedException e) {
            clock.stop();
            threads.forEach(Thread::interrupt);
            throw e;
        }
        return merge(tallies, measureEnd);
    }

    /**
     * The value for a slot: {@code value} with the slot's number in hex over its last 16 chars, so that no
     * two writes carry the same value (a store could not answer a repeated one from a cache). Values under
     * 16 chars are sent as they are.
     */
    @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int): exact for the harness's ASCII values
    static String distinct(String value, long slot) {
        int n = value.length();
        if (n < 16) return value;
        byte[] chars = new byte[n];
        value.getBytes(0, n - 16, chars, 0); // ASCII: the harness makes its values of 'x'
        for (int d = n - 1; d >= n - 16; d--, slot >>>= 4) chars[d] = (byte) "0123456789abcdef".charAt((int) (slot & 15));
        return new String(chars, java.nio.charset.StandardCharsets.ISO_8859_1);
    }

    private void work(int worker, CommitTarget.Writer writer, Tally tally) {
        try {
            long total = warmupSlots + measuredSlots;
            for (long slot = nextSlot.getAndIncrement(); slot < total; slot = nextSlot.getAndIncrement()) {
                long intended = clock.intendedTime(slot);
                clock.awaitRelease(worker, slot);
                long sent = System.nanoTime();
                // Past the drain limit the rest stay unsent (and are reported), or a hopeless rate would run for ever.
                if (sent - stopSendingAt > 0 || Thread.currentThread().isInterrupted()) return;
                boolean measured = slot >= warmupSlots;
                try {
                    writer.put(keys[(int) (slot & (keys.length - 1))], distinct(value, slot));
                } catch (RuntimeException e) {
                    tally.failed(e, measured);
                    continue;
                }
                if (measured) {
                    long done = System.nanoTime();
                    latency.recordValue(Math.min(done - intended, HIGHEST_NANOS));
                    sendDelay.recordValue(Math.min(sent - intended, HIGHEST_NANOS));
                    tally.succeeded(done);
                }
            }
        } catch (Throwable t) {
            tally.crash = t; // an Error, or a bug here: the run is void, and says so after the join
        }
    }

    private Outcome merge(List<Tally> tallies, long measureEnd) {
        long count = 0, errors = 0, warmupErrors = 0;
        long lastCompletion = measureEnd;
        Optional<String> firstError = Optional.empty();
        long firstErrorAt = 0;
        for (Tally t : tallies) {
            if (t.crash != null) throw new IllegalStateException("a harness worker failed at rate " + rate, t.crash);
            count += t.count;
            errors += t.errors;
            warmupErrors += t.warmupErrors;
            if (t.count > 0 && t.lastCompletion - lastCompletion > 0) lastCompletion = t.lastCompletion;
            if (t.firstError != null && (firstError.isEmpty() || t.firstErrorAt - firstErrorAt < 0)) {
                firstErrorAt = t.firstErrorAt;
                firstError = Optional.of(t.firstError.toString());
            }
        }
        double seconds = (lastCompletion - measureStart) / 1e9;
        long unsent = measuredSlots - count - errors;
        Histogram latencies = latency.getIntervalHistogram();
        RateResult result = new RateResult(rate, count / seconds, count, errors, warmupErrors, unsent,
                Percentiles.of(latencies), Percentiles.of(sendDelay.getIntervalHistogram()), firstError);
        return new Outcome(result, latencies);
    }

    /** One worker's counts: no sharing while the run lasts, merged after it. */
    private static final class Tally {
        long count;
        long errors;
        long warmupErrors;
        long lastCompletion;
        Throwable firstError;
        long firstErrorAt;
        Throwable crash;

        void succeeded(long done) {
            count++;
            lastCompletion = done;
        }

        void failed(RuntimeException e, boolean measured) {
            if (measured) errors++;
            else warmupErrors++;
            if (firstError == null) {
                firstError = e;
                firstErrorAt = System.nanoTime();
            }
        }
    }
}
