package io.raftkv.cluster;

import io.raftkv.kv.KvConnector;
import io.raftkv.kv.net.internal.KvSocketServer;
import io.raftkv.kv.net.TcpKvConnector;
import io.raftkv.transport.InMemoryNetwork;
import io.raftkv.transport.TlsConfig;
import io.raftkv.transport.tcp.FrameCodec;
import io.raftkv.transport.tcp.LoopbackPorts;
import io.raftkv.transport.tcp.TcpTransport;

import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Nodes on loopback TCP ports, each port shared by its peers and its key-value clients, as socket mode
 * runs them; partitions and cuts as the in-memory network keeps them, which each transport asks.
 */
final class TcpWiring implements ClusterWiring {
    private final InMemoryNetwork cuts;
    private final boolean platformThreads;
    /** Each node's address, by id: reserved at start, and for a node added later when it first joins. */
    private final Map<Integer, InetSocketAddress> addresses;
    private final String clusterId;
    private final TcpKvConnector connector;
    /** TLS for the nodes and the clients, or null: in clear. */
    private final TlsConfig tls;
    /** Each running node's transport, for {@link #describe}. */
    private final AtomicReferenceArray<TcpTransport> transports = new AtomicReferenceArray<>(Cluster.MAX_NODE_ID + 1);

    TcpWiring(int nodes, InMemoryNetwork cuts, SplittableRandom seeds, boolean platformThreads, TlsConfig tls) {
        this.cuts = cuts;
        this.tls = tls;
        this.platformThreads = platformThreads;
        this.addresses = new ConcurrentHashMap<>(LoopbackPorts.reserve(nodes));
        this.clusterId = "raftkv-embedded-" + Long.toHexString(seeds.nextLong());
        // On platform threads the clients' connection readers are too: the OS wakes one directly when an answer lands.
        this.connector = platformThreads
                ? new TcpKvConnector(addresses, clusterId, Thread.ofPlatform().daemon().factory())
                : new TcpKvConnector(addresses, clusterId);
        connector.tls(tls);
    }

    @Override
    public Joint join(int id, ThreadFactory threads) {
        if (!addresses.containsKey(id)) {
            // A node added to the running cluster: a port of its own, which the running nodes (all in this JVM) and
            // the clients learn at once. Its configuration entry carries the address too (Cluster.addNode).
            InetSocketAddress a = LoopbackPorts.reserve(List.of(id)).get(id);
            addresses.put(id, a);
            for (int other = 1; other < transports.length(); other++) {
                TcpTransport t = transports.get(other);
                if (t != null && other != id) t.setPeer(id, a);
            }
            connector.setNode(id, a);
        }
        Map<Integer, InetSocketAddress> known = Map.copyOf(addresses);
        KvSocketServer server = new KvSocketServer(id, clusterId, FrameCodec.DEFAULT_MAX_FRAME_BYTES);
        return new Joint(sink -> {
            TcpTransport t = new TcpTransport(id, known, clusterId, sink).serveAlso(server).threadFactory(threads);
            if (tls != null) t.secure(tls);
            // On platform threads the node's thread serves its connections itself, as a socket-mode node does.
            if (platformThreads) server.servedBy(t.pollInbound());
            t.linkFilter(cuts::linked);
            transports.set(id, t);
            return t.start();
        }, server);
    }

    @Override
    public void left(int id) {
        // The node's transport closed with it; the cut table keeps what the test set.
    }

    @Override
    public KvConnector clients(KvConnector inProcess) {
        return connector;
    }

    @Override
    public String describe(Collection<Integer> members) {
        StringBuilder b = new StringBuilder();
        for (int id : members) {
            TcpTransport t = transports.get(id);
            b.append(t == null ? "node " + id + ": no transport" : t.describe()).append('\n');
        }
        return b.toString();
    }

    @Override
    public Optional<InetSocketAddress> address(int id) {
        return Optional.ofNullable(addresses.get(id));
    }

    @Override
    public Optional<String> clusterId() {
        return Optional.of(clusterId);
    }

    @Override
    public void close() {
        connector.close();
    }
}
