package io.raftkv.raft;

import java.util.List;

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
            entries = List.copyOf(entries);
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

    /** Tells a caught-up follower to start an election at once, to take over leadership (thesis §3.10). */
    record TimeoutNow(int from, int to, long term) implements Message {}
}
