package io.raftkv.raft;

/**
 * The cluster's feature level: which kinds of log entry its members may be sent. Each build supports the levels up
 * to {@link #SUPPORTED}; the cluster runs at the level its committed configuration carries, which the leader raises
 * once every member (voters and learners) supports a higher one, and which never goes down. An entry a build
 * could not read is written only while the cluster runs at its level, so a rolling upgrade never sends a node
 * what it cannot apply.
 *
 * <pre>
 * level  what it adds                                               written as
 * -----  ---------------------------------------------------------  ---------------------------------------------
 *   1    PUT, GET, REPLACE and sessions; configurations of ids      what builds from before feature levels wrote:
 *        (and the first voters' addresses a new socket-mode         KV command version 1, configuration format 1
 *        cluster starts with)                                       (2 for those first addresses)
 *   2    DELETE and CAS; membership changes that give a new         KV command version 2; configuration format 2,
 *        member's address (add-voter-at); the level itself in       and format 3 (which carries the level) for
 *        the configuration                                          every configuration at level 2 or more
 * </pre>
 * A peer handshake of version 1 (what builds from before feature levels speak) stands for level 1.
 */
public final class FeatureLevel {
    /** What builds from before feature levels wrote and read. */
    public static final int BASE = 1;
    /** DELETE and CAS commands, and configuration entries that add a member with its address. */
    public static final int DELETE_CAS_AND_ADDRESSES = 2;
    /** The highest level this build supports. */
    public static final int SUPPORTED = DELETE_CAS_AND_ADDRESSES;

    private FeatureLevel() {}

    /**
     * Why {@code what} is refused while the cluster runs at {@code clusterLevel}, below {@code needed}; for the
     * client's error.
     */
    public static String refusal(int clusterLevel, int needed, String what) {
        return "the cluster runs at feature level " + clusterLevel + " until every member supports level " + needed
                + "; " + what + " needs level " + needed;
    }

    /** Why node {@code node}, whose build supports levels up to {@code supported}, cannot be in a cluster at {@code clusterLevel}. */
    public static String tooLow(int node, int supported, int clusterLevel) {
        return "node " + node + " supports feature levels up to " + supported + ", but the cluster runs at feature level "
                + clusterLevel + ", which never goes down: upgrade node " + node + " to a build that supports level "
                + clusterLevel;
    }
}
