package io.raftkv.client;

/**
 * Which nodes a client sends its reads to; every node serves a read linearizably, so this chooses only
 * where the work and the latency go. Writes always go to the leader.
 */
public enum ReadFrom {
    /**
     * The node the client takes for the leader (the default): the fewest hops, the whole read load on one node.
     * Should a read reach a follower anyway, the follower serves it as under {@link #ANY}.
     */
    LEADER,
    /**
     * Every node in turn: a follower asks the leader for its read index and serves the read once it has applied
     * that far, so reads spread over the cluster at the cost of a round trip to the leader (and waiting for the
     * follower to catch up).
     */
    ANY
}
