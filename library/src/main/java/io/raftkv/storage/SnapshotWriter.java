package io.raftkv.storage;

import io.raftkv.raft.SnapshotMeta;

import java.io.InputStream;
import java.io.OutputStream;

/**
 * A snapshot being written: nothing in the store changes until {@link #install()}. Closing a writer
 * that was not installed discards what it wrote.
 */
public interface SnapshotWriter extends AutoCloseable {
    /** What the snapshot covers. */
    SnapshotMeta meta();

    /** Where the snapshot's bytes go, in order. Its {@code close} does not install. */
    OutputStream output();

    /** The number of bytes written so far. */
    long size();

    /** The bytes written so far, from the start (a follower restores its state machine from them before installing). */
    InputStream readBack();

    /**
     * Makes the snapshot durable and the store's newest, then drops the log it covers: if the log holds
     * the snapshot's last entry (same index and term) the entries after it stay, otherwise the whole log
     * goes (it was a follower's log the leader's snapshot overrides). The previous snapshot is deleted only
     * once this one is durable. Installing a snapshot older than the store's newest is refused.
     *
     * @throws IllegalStateException if already installed or closed, or the store holds a newer snapshot
     * @throws StorageException      on an I/O error; the store keeps its previous snapshot and log
     */
    void install();

    /** Discards the snapshot unless it was installed. */
    @Override
    void close();
}
