package io.raftkv.node;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.FeatureLevel;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.Role;
import io.raftkv.transport.Transport;

import java.lang.System.Logger.Level;
import java.util.concurrent.CompletableFuture;

/**
 * A node's side of the cluster's {@link FeatureLevel feature level}: the members' supported levels come from
 * the transport (its peer handshakes), the level in force from the committed configuration. A leader raises it
 * a tick at a time, never on the commit path, once every member supports more; every node tells its transport
 * when it rises (peers that support less are refused from then on) and logs it. The node's thread calls all of
 * it but {@link #rising()}.
 */
final class FeatureLevels {
    /** Under RaftNode's name, as the rest of the node logs. */
    private static final System.Logger LOG = System.getLogger(RaftNode.class.getName());

    private final int id;
    private final Transport transport;
    /** What {@link #rising()} says: set by the leader's ticks while the level is below this build's. */
    private volatile boolean rising;

    FeatureLevels(int id, Transport transport) {
        this.id = id;
        this.transport = transport;
    }

    /**
     * Tells the transport the level the node's store says the cluster runs at.
     *
     * @throws IllegalStateException naming both levels if this build (or its test cap) supports less: the level
     *                               never goes down, and this build could not read that log
     */
    void start(int committedLevel) {
        int supported = transport.featureLevel(id);
        if (committedLevel > supported) {
            throw new IllegalStateException("node " + id + " cannot start on this data: "
                    + FeatureLevel.tooLow(id, supported, committedLevel));
        }
        transport.clusterFeatureLevel(committedLevel);
    }

    /** Whether this node, leading, is raising the level: every member supports more than the committed one. */
    boolean rising() {
        return rising;
    }

    /**
     * On each tick: a leader proposes raising the level once every member, voters and learners, is known to
     * support a higher one, and no configuration change is under way: from its entry on, the log may hold
     * what only such builds read.
     */
    void tick(RaftCore core) {
        Configuration committed = core.committedConfiguration();
        if (core.role() != Role.LEADER || committed.featureLevel() >= FeatureLevel.SUPPORTED) return;
        Configuration c = core.configuration();
        int level = c.featureLevel();
        int least = leastSupported(c);
        rising = least > committed.featureLevel();
        if (least <= level || c != committed) return; // nothing to raise, or a change under way
        try {
            int to = Math.min(least, FeatureLevel.SUPPORTED);
            if (core.proposeFeatureLevel(to) != RaftCore.REJECTED) {
                LOG.log(Level.INFO, () -> "node " + id + " proposes raising the cluster's feature level from " + level
                        + " to " + to + ": every member supports it");
            }
        } catch (IllegalStateException notYet) {
            // This leader has not committed in its term yet; a later tick tries again.
        }
    }

    /**
     * Fails {@code done} with an {@link IllegalStateException} (ask again shortly) and returns true if this
     * leader's cluster runs below the level a member's address needs but every member supports it: the entry
     * raising it is proposed or about to be. Otherwise false (a member does not support it yet: the core
     * refuses the change, naming the levels).
     */
    boolean refuseWhileRising(RaftCore c, CompletableFuture<Configuration> done) {
        int level = c.committedConfiguration().featureLevel();
        if (c.role() != Role.LEADER || level >= FeatureLevel.DELETE_CAS_AND_ADDRESSES
                || leastSupported(c.configuration()) < FeatureLevel.DELETE_CAS_AND_ADDRESSES) return false;
        done.completeExceptionally(new IllegalStateException("the cluster's feature level is being raised from " + level
                + " to " + FeatureLevel.DELETE_CAS_AND_ADDRESSES + ", which adding a member with its address needs; ask"
                + " again shortly"));
        return true;
    }

    /** The committed level went from {@code from} to {@code to}. */
    void rose(int from, int to) {
        rising = false;
        transport.clusterFeatureLevel(to);
        LOG.log(Level.INFO, () -> "node " + id + ": the cluster's feature level rose from " + from + " to " + to
                + (to >= FeatureLevel.DELETE_CAS_AND_ADDRESSES && from < FeatureLevel.DELETE_CAS_AND_ADDRESSES
                ? " (DELETE, CAS and members added by address are allowed now)" : "")
                + "; it never goes down, and a node whose build supports less is refused from now on");
    }

    /** The least of the feature levels every member of {@code c}, this node included, is known to support. */
    private int leastSupported(Configuration c) {
        int least = transport.featureLevel(id);
        for (int m : c.voters()) least = Math.min(least, transport.featureLevel(m));
        for (int m : c.learners()) least = Math.min(least, transport.featureLevel(m));
        return least;
    }
}
