package io.raftkv.raft;

/**
 * How a leader confirms that it still leads before it serves a linearizable read (thesis §6.4). Chosen per
 * cluster with {@link RaftConfig.Builder#readPolicy}; every node of a cluster should use the same one.
 */
public enum ReadPolicy {
    /**
     * ReadIndex (thesis §6.4): a read waits for a round of heartbeats sent after it arrived, acknowledged
     * by a majority. It costs a round trip to a majority per batch of reads, and assumes nothing about
     * clocks. The default.
     */
    READ_INDEX,
    /**
     * Lease reads (thesis §6.4.1): a leader that a majority acknowledged recently answers at once, with no
     * round of its own. It rests on CheckQuorum's promise that a voter which heard from the leader refuses
     * to vote for another for an election timeout, and so on the nodes' clocks: no clock may run slower
     * than another's by more than {@link RaftConfig.Builder#clockDriftTicks} ticks over an election
     * timeout, and a leader's clock must not stop while the leader is paused. See
     * {@link RaftCore#readIndex} for the rule.
     */
    LEASE
}
