package io.raftkv.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * Waits until a write's intended send time without burning a core: parks for most of the wait, then
 * yields, and spins only for the last {@link #SPIN_NANOS}. One per worker thread; not thread-safe.
 *
 * <p>A park does not end when asked: on the 2-core development VM (JDK 25), {@code parkNanos} of a
 * virtual thread returns about 100 µs late (p50 90–125 µs, p99 130–210 µs, rare millisecond
 * outliers), whatever the length asked for; the kernel's 50 µs timer slack is part of that. A
 * pacer that parked right up to the intended time would send every write ~100 µs late, and that
 * would count as latency. So each pacer learns how late its parks end (a moving average) and parks
 * that much short of the target. What is left it spends in {@link Thread#yield}, which hands the
 * carrier to the cluster's own virtual threads on the same two cores, and then spinning.
 *
 * <p>The resolution this gives, measured as the send delay of a run against a store that returns
 * at once (64 workers, 1,000 to 30,000 writes/s, same VM): p50 about 1 µs, p90 20–55 µs (the jitter
 * of the park's lateness, which the average cannot predict), p99 0.1–1.4 ms; the worst cases, a few
 * milliseconds, are GC pauses and descheduled carriers, which delay the store's own threads too.
 * Every run records it ({@link RateResult#sendDelay}), so a report shows what the harness added.
 */
final class Pacer {
    /** Spin, rather than yield, only this close to the target: a yield can take a few microseconds. */
    static final long SPIN_NANOS = 10_000;
    /** A park overshoot beyond this is an outlier (a descheduled VM, a GC), not the timer: not learned. */
    private static final long MAX_MARGIN_NANOS = 1_000_000;
    /** Where the estimate starts before the first park; a few parks replace it. */
    private static final long INITIAL_MARGIN_NANOS = 50_000;

    private long margin = INITIAL_MARGIN_NANOS;

    /**
     * Returns at {@code deadline} (a {@link System#nanoTime} value) or as soon after as it can; at
     * once if the thread is interrupted (parks would return at once anyway, and the caller stops).
     */
    void awaitUntil(long deadline) {
        while (true) {
            long now = System.nanoTime();
            long left = deadline - now;
            if (left <= 0 || Thread.currentThread().isInterrupted()) return;
            if (left > margin + SPIN_NANOS) {
                long asked = left - margin;
                LockSupport.parkNanos(asked);
                learn(System.nanoTime() - now - asked);
            } else if (left > SPIN_NANOS) {
                Thread.yield();
            } else {
                Thread.onSpinWait();
            }
        }
    }

    /** How early this pacer now ends its parks, in nanoseconds. */
    long margin() {
        return margin;
    }

    private void learn(long overshoot) {
        // A park that returns early (a spurious wake-up) says nothing about the timer's lateness.
        if (overshoot < 0 || overshoot > MAX_MARGIN_NANOS) return;
        margin += (overshoot - margin) / 8;
    }
}
