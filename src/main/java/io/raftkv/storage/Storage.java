package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;

import java.util.List;

/**
 * Where a node keeps what must survive a crash: its hard state (term, vote, commit) and its log.
 * Used by one thread at a time, the node's own.
 */
public interface Storage extends AutoCloseable {
    /** The hard state last persisted, or {@link HardState#INITIAL} for a new node. */
    HardState hardState();

    /** The persisted log, in index order, starting at index 1. */
    List<Entry> entries();

    /**
     * Makes {@code hardState} (if not null) and {@code entries} durable before returning. Entries
     * stored at or after the first given index are dropped first: they are a conflicting suffix
     * the leader has overwritten. A call that changes only the commit index may return before it is
     * durable: commit is volatile state in Raft, and a crash may lose it.
     */
    void persist(HardState hardState, List<Entry> entries);

    @Override
    void close();
}
