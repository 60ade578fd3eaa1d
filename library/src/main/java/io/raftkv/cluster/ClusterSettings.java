package io.raftkv.cluster;

import io.raftkv.transport.TlsConfig;

import io.raftkv.app.AppSpec;
import io.raftkv.kv.KvLimits;
import io.raftkv.node.NodeListener;
import io.raftkv.node.PassObserver;
import io.raftkv.node.SnapshotPolicy;
import io.raftkv.raft.ReadPolicy;

import java.time.Duration;

/**
 * A cluster's settings as {@link Cluster.Builder#start()} fixed them: immutable, so that later changes to
 * the builder do not reach a cluster that runs. Every value was checked as the builder took it.
 *
 * @param storage      how each node's store is opened (never null here: the builder fills in memory stores)
 * @param app          the application the nodes run, or null for the key-value store
 * @param listener     told of each node's changes, or null
 * @param passObserver told of each pass's stage times, or null
 */
record ClusterSettings(int nodes, Duration tickInterval, int electionTicks, int heartbeatTicks, ReadPolicy readPolicy,
                       int clockDriftTicks, long maxUncommittedBytes, long logCacheBytes,
                       long seed, StorageFactory storage, KvLimits limits, int maxSessions, Duration clientDeadline,
                       Duration clientAttemptTimeout, int spinsBeforePark, boolean platformThreads,
                       ClusterTransport transport, SnapshotPolicy snapshots, AppSpec<?, ?, ?> app, NodeListener listener,
                       PassObserver passObserver, TlsConfig tls) {

    /** How long one attempt of a client with {@code deadline} waits for a node: the attempt timeout, or less. */
    Duration attemptTimeout(Duration deadline) {
        return deadline.compareTo(clientAttemptTimeout) < 0 ? deadline : clientAttemptTimeout;
    }

    /** What a message about the cluster calls what it runs. */
    String runs() {
        return app == null ? "the key-value store" : String.valueOf(app);
    }
}
