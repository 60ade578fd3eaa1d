package io.raftkv.storage;

import io.raftkv.raft.SnapshotMeta;

import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * The bytes of one stored snapshot, open for reading. It stays readable until closed, even if a newer
 * snapshot replaces it in the store meanwhile (a leader may be streaming it to a follower).
 */
public interface SnapshotReader extends AutoCloseable {
    /** What the snapshot covers. */
    SnapshotMeta meta();

    /** The number of bytes. */
    long size();

    /**
     * Reads bytes from {@code position} into {@code dst} up to its limit or the end of the snapshot.
     *
     * @return the number of bytes read, -1 if {@code position} is at or past the end
     * @throws StorageException on an I/O error
     */
    int read(long position, ByteBuffer dst);

    /** All the bytes, from the start, as a stream (for restoring a state machine); the reader closes it. */
    InputStream stream();

    @Override
    void close();
}
