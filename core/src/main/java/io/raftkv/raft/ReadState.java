package io.raftkv.raft;

/**
 * A linearizable read that the leader has confirmed: once the state machine has applied
 * {@code index}, the read identified by {@code context} may be served from it.
 */
public record ReadState(long context, long index) {}
