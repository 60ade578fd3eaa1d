package io.raftkv.bench.jraft;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Knows which node of the group leads, from each node's own state machine callbacks (onLeaderStart once
 * the new leader's first entry is applied, so it is ready for writes; onLeaderStop when it steps down),
 * and lets clients wait for a leader instead of polling the nodes. Also keeps the highest term any node
 * has led or followed in, so a benchmark can count the elections during its window.
 */
final class Leaders {
    /** No node is known to lead. */
    static final int NONE = -1;

    // A lock and condition rather than synchronized/wait: writers may be virtual threads, which
    // Object.wait pins to their carrier on JDK 21.
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition elected = lock.newCondition();
    private volatile int leader = NONE;
    private long leaderTerm;
    private volatile long highestTerm;

    void started(int node, long term) {
        lock.lock();
        try {
            termSeenLocked(term);
            // A callback of an older term, delivered late by its node's thread, must not displace a newer leader.
            if (term >= leaderTerm) {
                leader = node;
                leaderTerm = term;
                elected.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    void stopped(int node) {
        lock.lock();
        try {
            if (leader == node) {
                leader = NONE;
            }
        } finally {
            lock.unlock();
        }
    }

    void termSeen(long term) {
        lock.lock();
        try {
            termSeenLocked(term);
        } finally {
            lock.unlock();
        }
    }

    private void termSeenLocked(long term) {
        if (term > highestTerm) {
            highestTerm = term;
        }
    }

    /** The highest term a node has led or followed in (0 before the first election). */
    long highestTerm() {
        return highestTerm;
    }

    /** The leading node's index, without waiting: {@link #NONE} during an election. */
    int current() {
        return leader;
    }

    /** The leading node's index, waiting until the given System.nanoTime() deadline for one to be elected. */
    int await(long deadlineNanos) {
        int known = leader;
        if (known != NONE) {
            return known;
        }
        lock.lock();
        try {
            while ((known = leader) == NONE) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("jraft elected no leader in time");
                }
                elected.awaitNanos(left);
            }
            return known;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a jraft leader", e);
        } finally {
            lock.unlock();
        }
    }

    static long deadline(Duration timeout) {
        return System.nanoTime() + TimeUnit.NANOSECONDS.convert(timeout);
    }
}
