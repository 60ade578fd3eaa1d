package io.raftkv.cluster;

/** How the nodes of a {@link Cluster} (and its clients) talk to each other. */
public enum ClusterTransport {
    /**
     * Messages handed over as objects through lock-free queues: the fastest, and the only one with fine
     * faults (drop, delay, duplicate, reorder) through {@link Cluster#network()}.
     */
    IN_MEMORY,
    /**
     * Real TCP sockets on 127.0.0.1, one port per node, with the frames, handshake and client protocol of
     * socket mode: clients connect over TCP too. Partitions cut links inside each node's transport.
     */
    TCP
}
