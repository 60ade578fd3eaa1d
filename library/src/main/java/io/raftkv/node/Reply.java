package io.raftkv.node;

/** How a node answers a proposal or a read; called on the node's thread, so it must not block. */
public interface Reply {
    /** The command was committed and applied (or the read served), with this result. */
    void ok(Object result);

    /**
     * This node cannot serve it: it is not the leader, lost leadership before the command committed,
     * or is stopping. {@code leaderHint} is the leader it knows of, or 0. A write refused this way may
     * still commit later; retry it with the same client sequence number.
     */
    void notLeader(int leaderHint);

    /**
     * This node leads but cannot take the command now: it holds as many uncommitted entries as
     * {@link io.raftkv.raft.RaftConfig#maxUncommittedBytes()} allows (its followers lag, or it has lost its
     * majority). Nothing was appended; retry after a pause. {@code reason} says so for a person. By default
     * answered as {@link #notLeader notLeader(0)}: "no leader known here", which clients back off from.
     */
    default void unavailable(String reason) {
        notLeader(0);
    }
}
