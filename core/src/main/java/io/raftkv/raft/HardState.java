package io.raftkv.raft;

/** The state a node must persist before it answers: its current term, its vote in that term, and the commit index it knows. */
public record HardState(long term, int votedFor, long commit) {
    /** The state of a node that has never run. */
    public static final HardState INITIAL = new HardState(0, RaftCore.NONE, 0);

    public HardState {
        if (term < 0) throw new IllegalArgumentException("term must be >= 0, was " + term);
        if (votedFor < 0) throw new IllegalArgumentException("votedFor must be a node id or 0 (none), was " + votedFor);
        if (commit < 0) throw new IllegalArgumentException("commit must be >= 0, was " + commit);
    }
}
