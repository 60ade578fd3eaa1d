package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;

import java.util.List;
import java.util.Optional;

/**
 * Where a node keeps what must survive a crash: its hard state (term, vote, commit), its newest snapshot
 * and the log that follows it. Used by one thread at a time, the node's own; a {@link SnapshotReader}
 * may be read from another.
 */
public interface Storage extends AutoCloseable {
    /** The hard state last persisted, or {@link HardState#INITIAL} for a new node. */
    HardState hardState();

    /** The persisted log, in index order, starting just after the newest snapshot (at index 1 without one). */
    List<Entry> entries();

    /**
     * Makes {@code hardState} (if not null) and {@code entries} durable before returning. Entries
     * stored at or after the first given index are dropped first: they are a conflicting suffix
     * the leader has overwritten. The first entry given must follow the snapshot and leave no gap. A call
     * that changes only the commit index may return before it is durable: commit is volatile state in
     * Raft, and a crash may lose it.
     */
    void persist(HardState hardState, List<Entry> entries);

    /** The newest snapshot, if any; {@link #entries()} follow it. */
    Optional<SnapshotMeta> snapshot();

    /**
     * Opens the newest snapshot's bytes.
     *
     * @throws IllegalStateException if there is no snapshot
     * @throws StorageException      on an I/O error
     */
    SnapshotReader openSnapshot();

    /** Starts writing a snapshot described by {@code meta}; see {@link SnapshotWriter#install()}. */
    SnapshotWriter createSnapshot(SnapshotMeta meta);

    @Override
    void close();
}
