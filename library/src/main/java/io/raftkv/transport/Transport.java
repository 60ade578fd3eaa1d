package io.raftkv.transport;

import io.raftkv.raft.FeatureLevel;
import io.raftkv.raft.Message;

/**
 * How one node sends Raft messages to the others. Delivery is best effort: a message may be lost,
 * and Raft retries. {@link #send} must not block the caller, and is called by one thread, the
 * node's own.
 */
public interface Transport extends AutoCloseable {
    void send(Message message);

    /**
     * The highest {@link FeatureLevel feature level} node {@code node} is known to support (this node's own for its
     * id), or 0 if it is not known yet; any thread. By default every node runs this build, as in one JVM; a transport
     * between processes, which may run different builds, says what each peer told it.
     */
    default int featureLevel(int node) {
        return FeatureLevel.SUPPORTED;
    }

    /**
     * The node tells its transport the cluster's committed feature level, at start and whenever it rises: from then
     * on a transport that knows its peers' levels refuses a peer that supports less (the level never goes down).
     */
    default void clusterFeatureLevel(int level) {
    }

    /** Stops sending; later messages are dropped. */
    @Override
    void close();
}
