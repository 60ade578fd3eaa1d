package io.raftkv.kv.net;

/** A membership operation a client asks of a socket-mode cluster's leader ({@link TcpKvConnector#membership}). */
public enum MembershipOp {
    /** The configuration in force: voters and learners. */
    MEMBERS,
    /** Make a node a voter: a learner first, promoted once it has caught up. */
    ADD_VOTER,
    /** Take a node out of the configuration. */
    REMOVE,
    /** Hand leadership to a voter. */
    TRANSFER,
    /** Make a node a voter, as {@link #ADD_VOTER}, at the address it gives: every member learns it from the log. */
    ADD_VOTER_AT,
    /**
     * The configuration this node has in force, with every member's address ({@link MemberList}): answered by any
     * node, so that a client or a joining node that knows one address finds the rest.
     */
    ADDRESSES
}
