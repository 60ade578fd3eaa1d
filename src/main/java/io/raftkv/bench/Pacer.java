package io.raftkv.bench;

import java.util.concurrent.locks.LockSupport;

/**
 * Waits until a write's intended send time without burning a core: it only parks. One per worker thread;
 * not thread-safe.
 *
 * <p>A park does not end when asked: on a 2-core VM (JDK 25), {@code parkNanos} of a virtual thread
 * returns about 100 µs late (p50 90–125 µs, p99 130–210 µs, rare millisecond outliers), whatever the
 * length asked for; the kernel's 50 µs timer slack is part of that. So each pacer learns how late its
 * parks end (a moving average) and parks that much short of the target; what is left, less than that,
 * it parks too, and is late by about the timer's lateness. It never yields or spins: 64 workers doing so
 * for the last microseconds before each send took the carrier threads that the cluster under test runs
 * on, and their wait counted against the cluster. Every run records how late sends were
 * ({@link RateResult#sendDelay}), and latency is timed from the intended send time, so what the pacer
 * adds is in the figures and shown beside them.
 */
final class Pacer {
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
            if (left > margin) {
                long asked = left - margin;
                LockSupport.parkNanos(asked);
                learn(System.nanoTime() - now - asked);
            } else {
                LockSupport.parkNanos(left);
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
