package io.raftkv.raft;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** A message between two Raft nodes; every message carries the sender's term. */
public sealed interface Message {
    int from();

    int to();

    long term();

    /** RequestVote, or its PreVote probe; {@code transfer} marks a campaign started by TimeoutNow. */
    record VoteRequest(int from, int to, long term, long lastLogIndex, long lastLogTerm,
                       boolean preVote, boolean transfer) implements Message {}

    /** The answer to a {@link VoteRequest}. */
    record VoteResponse(int from, int to, long term, boolean granted, boolean preVote) implements Message {}

    /** AppendEntries: entries that follow (prevLogIndex, prevLogTerm), and the leader's commit index. */
    record AppendRequest(int from, int to, long term, long prevLogIndex, long prevLogTerm,
                         List<Entry> entries, long leaderCommit) implements Message {
        public AppendRequest {
            entries = EntrySlice.immutable(entries);
        }
    }

    /**
     * The answer to an {@link AppendRequest}. On success {@code index} is the last index now known to
     * match the leader's log. On rejection {@code index} is the prevLogIndex that failed and
     * ({@code hintIndex}, {@code hintTerm}) tell the leader where to probe next (thesis §5.3's
     * conflict optimisation).
     */
    record AppendResponse(int from, int to, long term, boolean success, long index,
                          long hintIndex, long hintTerm) implements Message {}

    /** A leader's heartbeat: asserts leadership, carries the commit index and a read-confirmation round. */
    record Heartbeat(int from, int to, long term, long commit, long readRound) implements Message {}

    /** The answer to a {@link Heartbeat}, echoing its read round. */
    record HeartbeatResponse(int from, int to, long term, long readRound) implements Message {}

    /**
     * A follower's request for a read index on behalf of a read it serves itself (etcd's MsgReadIndex):
     * {@code context} names the read, and the leader's {@link ReadIndexResponse} repeats it.
     */
    record ReadIndexRequest(int from, int to, long term, long context) implements Message {}

    /**
     * The leader's answer to a {@link ReadIndexRequest}: once the follower has applied {@code index}, the read
     * named by {@code context} may be served from its state machine. An {@code index} of 0 is a refusal (the
     * sender does not lead, or no longer does): the follower reports the read as dropped, and its reader tries
     * again. A leader grants only once it has committed an entry of its term, so a granted index is at least 1.
     */
    record ReadIndexResponse(int from, int to, long term, long context, long index) implements Message {
        /** Whether the leader confirmed the read (rather than refused it). */
        public boolean granted() {
            return index > 0;
        }
    }

    /** Tells a caught-up follower to start an election at once, to take over leadership (thesis §3.10). */
    record TimeoutNow(int from, int to, long term) implements Message {}

    /**
     * Tells a follower to take the leader's snapshot in place of the log up to it (Raft §7). The core emits
     * and receives only this; the snapshot's bytes travel beside it as {@link SnapshotChunk}s, which the
     * runtimes stream and reassemble. A leader's core emits it when a follower needs an entry it has
     * compacted; the follower's runtime steps it into its core once it holds all the bytes.
     */
    record InstallSnapshot(int from, int to, long term, SnapshotMeta snapshot) implements Message {
        public InstallSnapshot {
            Objects.requireNonNull(snapshot, "snapshot");
        }
    }

    /**
     * A run of a snapshot's bytes from {@code offset}, of {@code size} in all, with the CRC32C of
     * {@code data}. Runtime traffic: never stepped into a core.
     */
    record SnapshotChunk(int from, int to, long term, SnapshotMeta snapshot, long size, long offset, byte[] data,
                         int crc) implements Message {
        public SnapshotChunk {
            Objects.requireNonNull(snapshot, "snapshot");
            Objects.requireNonNull(data, "data");
            if (offset < 0 || size < 0 || offset + data.length > size) {
                throw new IllegalArgumentException("a chunk of " + data.length + " bytes at offset " + offset
                        + " does not fit a snapshot of " + size + " bytes");
            }
        }

        /** Whether this chunk ends the snapshot. */
        public boolean last() {
            return offset + data.length == size;
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof SnapshotChunk c && c.from == from && c.to == to && c.term == term
                    && c.snapshot.equals(snapshot) && c.size == size && c.offset == offset && c.crc == crc
                    && Arrays.equals(c.data, data);
        }

        @Override
        public int hashCode() {
            return Objects.hash(from, to, term, snapshot, size, offset, crc) * 31 + Arrays.hashCode(data);
        }

        @Override
        public String toString() {
            return "SnapshotChunk[" + from + "->" + to + " term " + term + " " + snapshot + " bytes " + offset + ".."
                    + (offset + data.length) + " of " + size + "]";
        }
    }

    /**
     * A follower runtime's answer to {@link SnapshotChunk}s: it holds the first {@code received} bytes of the
     * snapshot ending at {@code snapshotIndex}, and wants what follows. Runtime traffic: never stepped into a core.
     */
    record SnapshotChunkAck(int from, int to, long term, long snapshotIndex, long received) implements Message {}
}
