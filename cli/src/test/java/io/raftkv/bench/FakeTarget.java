package io.raftkv.bench;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A {@link CommitTarget} whose writes take as long as a test says, by parking, and fail when it
 * says: no cluster, no I/O. Calls are counted across all writers, in the order they arrive.
 */
final class FakeTarget implements CommitTarget {
    private final long serviceNanos;
    private final long stallAtCall;
    private final long stallNanos;
    private final long failEvery;
    private final AtomicLong calls = new AtomicLong();
    private volatile long stalledUntil;

    private FakeTarget(long serviceNanos, long stallAtCall, long stallNanos, long failEvery) {
        this.serviceNanos = serviceNanos;
        this.stallAtCall = stallAtCall;
        this.stallNanos = stallNanos;
        this.failEvery = failEvery;
    }

    /** Every write returns at once. */
    static FakeTarget instant() {
        return new FakeTarget(0, -1, 0, 0);
    }

    /** Every write takes at least {@code service}. */
    static FakeTarget withServiceTime(Duration service) {
        return new FakeTarget(service.toNanos(), -1, 0, 0);
    }

    /**
     * The whole store pauses for {@code stall} when call number {@code call} (from 0) arrives, as
     * in a GC pause: that write and every write that arrives during the pause return when it ends.
     */
    static FakeTarget stallingAt(long call, Duration stall) {
        return new FakeTarget(0, call, stall.toNanos(), 0);
    }

    /** Calls 0, n, 2n... throw; the others return at once. */
    static FakeTarget failingEvery(long n) {
        return new FakeTarget(0, -1, 0, n);
    }

    long calls() {
        return calls.get();
    }

    @Override
    public String name() {
        return "fake";
    }

    @Override
    public Writer newWriter() {
        return (key, value) -> put();
    }

    private void put() {
        long call = calls.getAndIncrement();
        if (failEvery > 0 && call % failEvery == 0) throw new IllegalStateException("injected failure of call " + call);
        if (call == stallAtCall) stalledUntil = System.nanoTime() + stallNanos;
        parkUntil(stalledUntil);
        if (serviceNanos > 0) parkUntil(System.nanoTime() + serviceNanos);
    }

    private static void parkUntil(long deadline) {
        // parkNanos may return early; only the deadline ends the wait.
        for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
            LockSupport.parkNanos(left);
        }
    }

    @Override
    public void close() {}
}
