package io.raftkv.cluster;

import java.time.Duration;
import java.util.OptionalInt;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waits on a cluster's leadership without polling: the nodes signal every change of role, term or leader
 * (and every stop), and a waiter looks again only then, or once a tick where the condition may turn on
 * time alone.
 */
final class LeaderWatch {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    /** Wakes every waiter to look again; from a node's thread, or whoever changed the cluster. */
    void signal() {
        lock.lock();
        try {
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until {@code leader} names one, and returns it.
     *
     * @throws NoLeaderException if none does within {@code timeout}, with {@code state} in the message
     */
    int awaitLeader(Duration timeout, Supplier<OptionalInt> leader, Supplier<?> state) {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (true) {
                OptionalInt l = leader.get();
                if (l.isPresent()) return l.getAsInt();
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new NoLeaderException("no leader recognised by a majority within " + timeout.toMillis()
                            + " ms; nodes: " + state.get());
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NoLeaderException("interrupted while waiting for a leader");
        } finally {
            lock.unlock();
        }
    }

    /** Waits until {@code condition} holds, looking on every change and every {@code tick}; false on timeout. */
    boolean await(Duration timeout, Duration tick, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        lock.lock();
        try {
            while (!condition.getAsBoolean()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                changed.awaitNanos(Math.min(left, tick.toNanos()));
            }
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return condition.getAsBoolean();
        } finally {
            lock.unlock();
        }
    }
}
