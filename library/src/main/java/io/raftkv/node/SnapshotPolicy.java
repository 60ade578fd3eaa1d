package io.raftkv.node;

/**
 * When a node snapshots its state machine, and how a leader streams a snapshot to a follower.
 *
 * @param logBytes        take a snapshot once the entries applied since the last one pass this many bytes
 *                        (payload plus 24 bytes each) and the size of the last snapshot, whichever is
 *                        larger (so a large state is not rewritten for every few MiB of log);
 *                        {@link Long#MAX_VALUE} never snapshots
 * @param trailingEntries entries kept in memory before a new snapshot's index, so that a follower a little
 *                        behind is sent entries rather than the whole snapshot (the store keeps only what
 *                        follows the snapshot)
 * @param chunkBytes      bytes of snapshot per chunk message, 1 to {@value #MAX_CHUNK_BYTES}
 * @param chunksInFlight  chunks a leader sends ahead of the follower's acknowledgements
 */
public record SnapshotPolicy(long logBytes, long trailingEntries, int chunkBytes, int chunksInFlight) {
    /** Fits a chunk and its header in the TCP transport's default 16 MiB frame. */
    public static final int MAX_CHUNK_BYTES = 8 << 20;

    public SnapshotPolicy {
        if (logBytes < 1) throw new IllegalArgumentException("logBytes must be >= 1, was " + logBytes);
        if (trailingEntries < 0) throw new IllegalArgumentException("trailingEntries must be >= 0, was " + trailingEntries);
        if (chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) {
            throw new IllegalArgumentException("chunkBytes must be 1.." + MAX_CHUNK_BYTES + ", was " + chunkBytes);
        }
        if (chunksInFlight < 1) throw new IllegalArgumentException("chunksInFlight must be >= 1, was " + chunksInFlight);
    }

    /**
     * A snapshot per 1 MiB of log (or per the last snapshot's size, if larger), 1,024 entries kept behind
     * it, 256 KiB chunks, four in flight. The log a node keeps in memory stays within about twice the
     * first plus the second (and what is in flight): small, so that young collections do not copy a
     * growing log; a state machine that can {@linkplain StateMachine#freeze() freeze} its state is written
     * off the node's thread, so frequent snapshots do not stall commits.
     */
    public static SnapshotPolicy defaults() {
        return new SnapshotPolicy(1L << 20, 1024, 256 << 10, 4);
    }

    public SnapshotPolicy withLogBytes(long bytes) {
        return new SnapshotPolicy(bytes, trailingEntries, chunkBytes, chunksInFlight);
    }

    public SnapshotPolicy withTrailingEntries(long entries) {
        return new SnapshotPolicy(logBytes, entries, chunkBytes, chunksInFlight);
    }

    public SnapshotPolicy withChunkBytes(int bytes) {
        return new SnapshotPolicy(logBytes, trailingEntries, bytes, chunksInFlight);
    }
}
