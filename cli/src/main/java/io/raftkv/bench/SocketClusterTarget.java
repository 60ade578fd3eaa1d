package io.raftkv.bench;

import io.raftkv.client.ReadFrom;
import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvLimits;
import io.raftkv.kv.net.TcpKvConnector;
import io.raftkv.node.NodeStatus;
import io.raftkv.raft.Role;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadFactory;

/**
 * A cluster in socket mode (node processes, reached over TCP) as a {@link CommitTarget}: what the harness
 * measures when a write crosses real sockets between processes. The writers share one connection per node.
 */
public final class SocketClusterTarget implements CommitTarget {
    private static final Duration DEADLINE = Duration.ofSeconds(5);
    private static final Duration ATTEMPT = Duration.ofMillis(500);

    private final TcpKvConnector connector;
    private final Queue<KvClient> clients = new ConcurrentLinkedQueue<>();

    /** Connects to the nodes at {@code addresses} of cluster {@code clusterId}; nothing is dialled until the first write. */
    public SocketClusterTarget(Map<Integer, InetSocketAddress> addresses, String clusterId) {
        this(addresses, clusterId, Thread.ofVirtual().factory());
    }

    /** As {@link #SocketClusterTarget(Map, String)}, the connections' reader threads made by {@code threads}. */
    public SocketClusterTarget(Map<Integer, InetSocketAddress> addresses, String clusterId, ThreadFactory threads) {
        this.connector = new TcpKvConnector(addresses, clusterId, threads);
    }

    @Override
    public String name() {
        return "raftkv-tcp";
    }

    /** The node that says it leads, or 0 if none answers so. */
    public int leader() {
        for (int id : connector.nodes()) {
            try {
                NodeStatus s = connector.status(id, Duration.ofSeconds(1));
                if (s.role() == Role.LEADER) return id;
            } catch (RuntimeException e) {
                // down or unreachable: ask the next
            }
        }
        return 0;
    }

    @Override
    public Writer newWriter() {
        KvClient client = new KvClient(connector, KvLimits.DEFAULT, DEADLINE, ATTEMPT);
        clients.add(client);
        return client::put;
    }

    @Override
    public Reader newReader() {
        return newReader(ReadFrom.LEADER);
    }

    /** A reader that sends its reads to the leader, or to every node in turn. */
    public Reader newReader(ReadFrom readFrom) {
        KvClient client = new KvClient(connector, KvLimits.DEFAULT, DEADLINE, ATTEMPT).readFrom(readFrom);
        clients.add(client);
        return key -> client.get(key).orElse(null);
    }

    /** Closes the clients and their connections; the nodes go on running. */
    @Override
    public void close() {
        for (KvClient c; (c = clients.poll()) != null; ) c.close();
        connector.close();
    }
}
