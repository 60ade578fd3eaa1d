package io.raftkv.raft;

/** The role a node plays in its current term. */
public enum Role {
    FOLLOWER,
    /** Asking whether it could win an election, without disturbing anyone's term (PreVote, thesis §9.6). */
    PRE_CANDIDATE,
    CANDIDATE,
    LEADER
}
