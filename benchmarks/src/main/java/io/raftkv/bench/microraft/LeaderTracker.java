package io.raftkv.bench.microraft;

import io.microraft.RaftEndpoint;
import io.microraft.RaftRole;
import io.microraft.report.RaftNodeReport;
import io.microraft.report.RaftNodeReportListener;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Knows which node leads, from the report each MicroRaft node publishes when its role changes,
 * and lets clients wait for a leader instead of polling the nodes.
 */
final class LeaderTracker implements RaftNodeReportListener {
    // A lock and condition rather than synchronized/wait: writers may be virtual threads, which
    // Object.wait pins to their carrier on JDK 21.
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition elected = lock.newCondition();
    private volatile RaftEndpoint leader;

    @Override
    public void accept(RaftNodeReport report) {
        lock.lock();
        try {
            // Only a node's own word that it leads counts: a follower's idea of the leader may be stale.
            if (report.getRole() == RaftRole.LEADER) {
                leader = report.getEndpoint();
                elected.signalAll();
            } else if (report.getEndpoint().equals(leader)) {
                leader = null;
            }
        } finally {
            lock.unlock();
        }
    }

    /** The leader, waiting until the given System.nanoTime() deadline for one to be elected. */
    RaftEndpoint await(long deadlineNanos) {
        RaftEndpoint known = leader;
        if (known != null) {
            return known;
        }
        lock.lock();
        try {
            while ((known = leader) == null) {
                long left = deadlineNanos - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("MicroRaft elected no leader in time");
                }
                elected.awaitNanos(left);
            }
            return known;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a MicroRaft leader", e);
        } finally {
            lock.unlock();
        }
    }

    static long deadline(Duration timeout) {
        return System.nanoTime() + TimeUnit.NANOSECONDS.convert(timeout);
    }
}
