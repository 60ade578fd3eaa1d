/**
 * A whole Raft cluster inside one JVM, for tests, demos and embedding:
 * {@link io.raftkv.cluster.Cluster#builder() Cluster.builder()} sets the number of nodes, their timing,
 * storage ({@link io.raftkv.cluster.StorageFactory}, in memory or in directories), the transport between
 * them ({@link io.raftkv.cluster.ClusterTransport}: in memory, or TCP on loopback ports), the seed of
 * every random choice and the state machine they run, the key-value store or your own application. A
 * started cluster hands out clients, and injects faults while they run: nodes are killed and restarted,
 * isolated, partitioned and healed and, in memory, added and removed, and leadership is handed over.
 */
package io.raftkv.cluster;
