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
    TRANSFER
}
