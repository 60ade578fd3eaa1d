package io.raftkv.cluster;

import io.raftkv.kv.KvConnector;
import io.raftkv.kv.net.internal.KvSocketServer;
import io.raftkv.transport.MessageSink;
import io.raftkv.transport.Transport;

import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;
import java.util.function.Function;

/**
 * How a cluster's nodes reach each other, and its key-value clients the nodes: in memory, or over TCP on
 * loopback ports. Either way the in-memory network's table of partitions and cuts says which links pass.
 */
sealed interface ClusterWiring permits MemoryWiring, TcpWiring {
    /** How node {@code id} joins: its transport, made when the node connects, and the server of its clients' port. */
    Joint join(int id, ThreadFactory threads);

    /** Node {@code id} is down: its links go. */
    void left(int id);

    /** How key-value clients reach the nodes: {@code inProcess} (straight to the nodes' services), or a socket connector. */
    KvConnector clients(KvConnector inProcess);

    /** Each member's links and counters, for a failure message. */
    String describe(Collection<Integer> members);

    /** Node {@code id}'s address for clients in another process; empty in memory. */
    Optional<InetSocketAddress> address(int id);

    /** The cluster id the TCP handshakes carry; empty in memory. */
    Optional<String> clusterId();

    /** Closes what the wiring holds beyond the nodes (the clients' connections). */
    void close();

    /**
     * A node's way in.
     *
     * @param connect given the node's sink, its transport
     * @param server  the server of the node's client port, or null in memory
     */
    record Joint(Function<MessageSink, Transport> connect, KvSocketServer server) {}
}
