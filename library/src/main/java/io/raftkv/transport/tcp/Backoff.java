package io.raftkv.transport.tcp;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * How long a peer link waits before it dials again: 10 ms, doubling after each wait to at most 100 ms,
 * and 10 ms again once a dial succeeds. A wait ends early when its caller says so (the transport closes,
 * or the peer dialled this node: it is back).
 */
final class Backoff {
    static final long MIN_NANOS = TimeUnit.MILLISECONDS.toNanos(10);
    /** Below an election timeout's usual range, so a restarted peer is heard from before it campaigns. */
    static final long MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private long nanos = MIN_NANOS;

    /**
     * Sleeps for the current backoff, or until {@code cutShort} holds (asked before each park, and after
     * each wake-up: whoever makes it hold must unpark this thread), then doubles the next one up to the
     * maximum. {@code blocker} is what a thread dump shows the thread parked on.
     */
    void pause(Object blocker, BooleanSupplier cutShort) {
        long deadline = System.nanoTime() + nanos;
        long left;
        while (!cutShort.getAsBoolean() && (left = deadline - System.nanoTime()) > 0) LockSupport.parkNanos(blocker, left);
        nanos = Math.min(MAX_NANOS, nanos * 2);
    }

    /** A dial succeeded: the next backoff is the shortest again. */
    void reset() {
        nanos = MIN_NANOS;
    }

    /** How long the next {@link #pause} lasts if nothing cuts it short. */
    long nanos() {
        return nanos;
    }
}
