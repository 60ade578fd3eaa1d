package io.raftkv.node;

import io.raftkv.raft.Role;

import java.util.concurrent.locks.StampedLock;

/**
 * Where a node's thread publishes its status: written in place by that one thread, read by any thread
 * as a consistent {@link NodeStatus}. Publishing allocates nothing, because it happens on every pass
 * that moves an index (before the pass answers anyone); reading builds the record, and is rare (tools,
 * tests, leader lookups). Readers never block the node: they read optimistically and try again if a
 * write overlapped.
 */
final class StatusBoard {
    private final StampedLock lock = new StampedLock();
    private final int id;
    // Written only under the write lock, by one thread; that thread may read them without it.
    private boolean alive;
    private Role role = Role.FOLLOWER;
    private long term;
    private int leader;
    private long lastIndex;
    private long commitIndex;
    private long appliedIndex;

    StatusBoard(int id) {
        this.id = id;
    }

    /** Publishes a new status; by the writing thread only. */
    void publish(boolean alive, Role role, long term, int leader, long lastIndex, long commitIndex, long appliedIndex) {
        long stamp = lock.writeLock();
        this.alive = alive;
        this.role = role;
        this.term = term;
        this.leader = leader;
        this.lastIndex = lastIndex;
        this.commitIndex = commitIndex;
        this.appliedIndex = appliedIndex;
        lock.unlockWrite(stamp);
    }

    /** Whether the published status is this one; by the writing thread only. */
    boolean shows(Role role, long term, int leader, long lastIndex, long commitIndex, long appliedIndex) {
        return this.role == role && this.term == term && this.leader == leader && this.lastIndex == lastIndex
                && this.commitIndex == commitIndex && this.appliedIndex == appliedIndex;
    }

    /** Whether the published role, term and leader are these; by the writing thread only. */
    boolean showsLeadership(Role role, long term, int leader) {
        return this.role == role && this.term == term && this.leader == leader;
    }

    /** The status last published, as one consistent record; from any thread. */
    NodeStatus read() {
        while (true) {
            long stamp = lock.tryOptimisticRead();
            NodeStatus s = new NodeStatus(id, alive, role, term, leader, lastIndex, commitIndex, appliedIndex);
            if (stamp != 0 && lock.validate(stamp)) return s;
            Thread.onSpinWait(); // a write (a few field stores) was under way
        }
    }
}
