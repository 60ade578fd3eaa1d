package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Writes a store's log into its {@link SegmentSet}: each {@link FileStorage#persist} as one write of its entries
 * and a closing hard-state record, forced to disk once for the whole write (group commit) unless it moves the commit
 * index alone; and the segments that open with a hard state alone or with a reset to a snapshot. A write goes to the
 * end of the current segment, or opens the next one when the current one is full: every segment opens with the
 * hard state last written, so older ones are never needed for it. Records are encoded by {@link LogFormat}.
 *
 * <p>It keeps the hard state last written, and whether the current segment ends in a commit-only record not yet
 * forced (the next write goes in its place). A write that fails leaves the log refusing further writes: what is
 * on disk may no longer be what it believes, and only recovery can tell.
 */
final class LogWriter {
    private static final int INITIAL_BUFFER_BYTES = 64 << 10;
    private static final int KEPT_BUFFER_BYTES = 16 << 20;

    private final SegmentSet segments;
    /** The size past which the log moves on to a new segment; see {@link FileStorage.Options#segmentBytes()}. */
    private final long segmentBytes;
    private final CRC32C crc = new CRC32C();
    private ByteBuffer buffer = ByteBuffer.allocateDirect(INITIAL_BUFFER_BYTES);
    private HardState hardState;
    /** The current segment holds a commit-only write that was not forced. */
    private boolean unforced;
    private StorageException failure;

    /** A writer of the log in {@code segments}, whose last write left {@code hardState}. */
    LogWriter(SegmentSet segments, long segmentBytes, HardState hardState) {
        this.segments = segments;
        this.segmentBytes = segmentBytes;
        this.hardState = hardState;
    }

    /** The hard state last written. */
    HardState hardState() {
        return hardState;
    }

    /** @throws StorageException if an earlier write failed */
    void checkWritable() {
        if (failure != null) {
            throw new StorageException("an earlier write to " + segments.currentFile() + " failed; reopen the store", failure);
        }
    }

    /** Refuses further writes, for {@code cause}: the log on disk may no longer be what this writer believes. */
    void fail(StorageException cause) {
        failure = cause;
    }

    /**
     * Writes {@code batch} and then {@code after}, in one write, which a caller has checked against the log. Forces
     * it unless it moves the commit index alone. Returns where the record of each entry of {@code batch} begins, in
     * order: its byte offset in the current segment after the write (a write is never split between segments).
     *
     * @throws IllegalArgumentException if the write is more than a segment can hold; nothing is written
     * @throws StorageException         on an I/O error; further writes are refused
     */
    long[] append(HardState after, List<Entry> batch) {
        long bytes = LogFormat.HARD_STATE_RECORD_BYTES;
        for (Entry e : batch) bytes += LogFormat.entryRecordBytes(e);
        long rollBytes = SegmentSet.OPENING_BYTES;
        if (bytes + rollBytes > LogFormat.MAX_SEGMENT_FILE_BYTES) {
            throw new IllegalArgumentException("a write of " + bytes + " bytes is more than one segment file can hold ("
                    + (LogFormat.MAX_SEGMENT_FILE_BYTES - rollBytes) + ")");
        }
        boolean roll = segments.size() >= segmentBytes
                || segments.size() + bytes > LogFormat.MAX_SEGMENT_FILE_BYTES;
        ensureCapacity((int) (bytes + (roll ? rollBytes : 0)));
        buffer.clear();
        if (roll) {
            // The new segment opens with the current (durable) hard state, so older ones are never needed for it.
            putOpening();
        }
        // Where each record begins in the buffer; once the write's place in the file is known, in the file.
        long[] offsets = new long[batch.size()];
        for (int i = 0; i < offsets.length; i++) {
            offsets[i] = buffer.position();
            LogFormat.putEntry(buffer, batch.get(i), crc);
        }
        // Its first index and count let recovery tell this write, whole, from the tail of one a crash tore.
        LogFormat.putHardState(buffer, after, batch.isEmpty() ? 0 : batch.get(0).index(), batch.size(), crc);
        buffer.flip();
        long at = 0; // where the buffer goes in the segment it is written to: a new segment starts with it
        try {
            if (roll) {
                rollOver(buffer);
            } else {
                // An unforced commit-only record is replaced, not followed: what this write says supersedes it,
                // and a cut could otherwise lose it yet keep this write after it, which recovery would have to
                // take for damage before a complete write.
                at = unforced ? segments.size() - LogFormat.HARD_STATE_RECORD_BYTES : segments.size();
                segments.writeAt(at, buffer);
                // A change of the commit index alone promises nothing (commit is volatile state in
                // Raft; etcd's MustSync skips it too): it rides on the next forced write. Forcing it
                // would cost every node a second sync per commit, on the client's path.
                boolean mustSync = !batch.isEmpty() || after.term() != hardState.term()
                        || after.votedFor() != hardState.votedFor();
                if (mustSync) segments.force();
                unforced = !mustSync;
            }
        } catch (StorageException e) {
            failure = e;
            throw e;
        }
        hardState = after;
        if (!batch.isEmpty()) segments.wrote(batch.get(batch.size() - 1).index());
        // One huge write should not pin its buffer for the life of the store.
        if (buffer.capacity() > KEPT_BUFFER_BYTES) buffer = ByteBuffer.allocateDirect(INITIAL_BUFFER_BYTES);
        for (int i = 0; i < offsets.length; i++) offsets[i] += at;
        return offsets;
    }

    /**
     * Forces a commit-only write not yet forced: the store comes back as some call left it, so such a write goes to
     * disk before a snapshot does, or a cut could keep the snapshot and lose that write.
     */
    void forceUnforced() {
        if (unforced) {
            try {
                segments.force();
            } catch (StorageException e) {
                failure = e;
                throw e;
            }
            unforced = false;
        }
    }

    /**
     * Moves on to a new segment that opens with the hard state alone: the first segment of a new store, or the
     * first of this format in a store of an older one.
     */
    void startSegment() {
        buffer.clear();
        putOpening();
        rollOver(buffer.flip());
    }

    /**
     * Rolls over to a new segment that opens with the current hard state and a reset to {@code meta}: the
     * log before it is void, and it continues after the snapshot. Older segments are then all compactable.
     *
     * @throws StorageException on an I/O error; further writes are refused
     */
    void startSegmentWithReset(SnapshotMeta meta) {
        try {
            buffer.clear();
            putOpening();
            LogFormat.putLogReset(buffer, meta.index(), meta.term(), crc);
            rollOver(buffer.flip());
            segments.resetTo(meta.index());
        } catch (StorageException e) {
            failure = e; // the roll-over may have got half-way: the store is as it was on disk, not in memory
            throw e;
        }
    }

    /** Cuts the reset that {@link #startSegmentWithReset} wrote, for a snapshot that did not go in place. */
    void undoReset(StorageException cause) {
        try {
            segments.cutToOpening();
        } catch (IOException | StorageException e) {
            // Recovery cuts a reset whose snapshot is not in place; until then, no writes.
            cause.addSuppressed(e);
            failure = cause;
        }
    }

    /** Puts the opening of the next segment into the buffer: its header and the hard state last written. */
    private void putOpening() {
        LogFormat.putSegmentHeader(buffer, segments.current() + 1, crc);
        LogFormat.putHardState(buffer, hardState, 0, 0, crc);
    }

    /** Moves on to the next segment, whose {@code contents} are its header, the current hard state and this write. */
    private void rollOver(ByteBuffer contents) {
        // The new segment opens with the current hard state: whatever the old one holds must be on
        // disk before it, or a crash could leave a newer segment after a torn older one.
        if (unforced) segments.force();
        unforced = false;
        segments.rollOver(contents);
    }

    private void ensureCapacity(int bytes) {
        if (buffer.capacity() < bytes) {
            int doubled = (int) Math.min(Integer.MAX_VALUE, 2L * buffer.capacity());
            buffer = ByteBuffer.allocateDirect(Math.max(bytes, doubled));
        }
    }
}
