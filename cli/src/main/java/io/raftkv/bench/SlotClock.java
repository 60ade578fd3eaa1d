package io.raftkv.bench;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The open-loop schedule's clock: one thread releases the slots {@code 0 .. total-1} at their intended
 * times {@code start + slot * period} and wakes the worker waiting on each. Workers wait without a timer
 * of their own.
 *
 * <p>Why one clock and not a timed park per worker: at 300,000 writes/s, a timed park per write is
 * 300,000 timer operations a second, which in a JDK 25 virtual thread go through the scheduler's delay
 * thread and then a hand-off to a carrier. On a small machine those took the cores the cluster under test
 * needs and made sends late by milliseconds. The clock wakes once per timer tick (tens of microseconds
 * late, as any timer here is) and releases every slot that has come due since in one step. It never
 * spins. Run it on a virtual thread: its timed park then goes through the JDK scheduler's own timer
 * rather than the kernel's (whose 50 µs slack made a platform clock's sends late by p50 ~60 µs). A slot is released at or after its intended time, never before; how late the clock runs is in
 * every run's send delay, and latency is timed from the intended time, so it is in the figures too.
 *
 * <p>Each worker says which slot it waits for in its own place; on each release the clock wakes those
 * whose slot has come (a few dozen places to look at, once per tick).
 */
final class SlotClock implements Runnable {
    private static final long NONE = Long.MAX_VALUE;

    private final long start;
    private final double periodNanos;
    private final long total;
    /** Per worker: the slot it waits for, or {@link #NONE}. */
    private final AtomicLongArray awaiting;
    private final Thread[] threads;
    /** Slots below this have been released. */
    private volatile long released;
    private volatile boolean stopped;
    /** The thread running the clock, once it runs. */
    private volatile Thread runner;

    /**
     * @param start   the intended time of slot 0 (a {@link System#nanoTime} value)
     * @param workers how many workers will wait, numbered 0 .. workers-1
     */
    SlotClock(long start, double periodNanos, long total, int workers) {
        if (!(periodNanos > 0)) throw new IllegalArgumentException("periodNanos must be > 0, was " + periodNanos);
        if (workers < 1) throw new IllegalArgumentException("workers must be >= 1, was " + workers);
        this.start = start;
        this.periodNanos = periodNanos;
        this.total = total;
        this.awaiting = new AtomicLongArray(workers);
        for (int i = 0; i < workers; i++) awaiting.set(i, NONE);
        this.threads = new Thread[workers];
    }

    long intendedTime(long slot) {
        return start + (long) (slot * periodNanos);
    }

    /**
     * Returns once {@code slot} is released; at once if the clock was stopped or the thread is interrupted.
     * Each worker calls it with its own number, from one thread.
     */
    void awaitRelease(int worker, long slot) {
        if (slot < released) return;
        Thread me = Thread.currentThread();
        threads[worker] = me; // published by the volatile write below
        awaiting.set(worker, slot);
        while (slot >= released && !stopped && !me.isInterrupted()) LockSupport.park(this);
        awaiting.set(worker, NONE);
    }

    /** Stops the clock, even one parked until a slot far ahead; waiting workers return. */
    void stop() {
        stopped = true;
        wake(NONE);
        // Both fields are volatile: either run() sees stopped before it parks, or this sees its thread.
        Thread r = runner;
        if (r != null) LockSupport.unpark(r);
    }

    /** Wakes every worker waiting for a slot below {@code end} ({@link #NONE}: every waiting worker). */
    private void wake(long end) {
        for (int i = 0, n = threads.length; i < n; i++) {
            if (awaiting.get(i) < end) LockSupport.unpark(threads[i]);
        }
    }

    @Override
    public void run() {
        runner = Thread.currentThread();
        long next = 0;
        while (next < total && !stopped) {
            long now = System.nanoTime();
            long due = Math.min(total, dueBy(now));
            if (due > next) {
                released = due;
                wake(due);
                next = due;
                continue;
            }
            long wait = intendedTime(next) - now;
            if (wait > 0) LockSupport.parkNanos(this, wait);
        }
    }

    /** How many slots have an intended time at or before {@code now}. */
    private long dueBy(long now) {
        if (now - start < 0) return 0;
        long n = (long) ((now - start) / periodNanos) + 1;
        // Rounding of the division: the slot counted last must really be due, and the next one not.
        while (n > 0 && intendedTime(n - 1) - now > 0) n--;
        while (intendedTime(n) - now <= 0) n++;
        return n;
    }
}
