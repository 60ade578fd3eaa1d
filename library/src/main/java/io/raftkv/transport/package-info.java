/**
 * How nodes send each other Raft messages: the {@link io.raftkv.transport.Transport} interface, with best
 * effort delivery (a message may be lost, and Raft retries) and a {@link io.raftkv.transport.MessageSink}
 * that takes delivery, and {@link io.raftkv.transport.InMemoryNetwork}, the network of a cluster inside one
 * JVM, which hands messages over without copying them and, on a seed, drops, delays, duplicates and
 * reorders them, partitions the nodes and heals them. A transport may let the node's own thread poll for
 * its messages ({@link io.raftkv.transport.PolledTransport}). The TCP transport, in
 * {@code io.raftkv.transport.tcp}, is not part of the API: a cluster over TCP is had through
 * {@link io.raftkv.cluster.ClusterTransport#TCP} or, one node per process, {@link io.raftkv.kv.net}.
 */
package io.raftkv.transport;
