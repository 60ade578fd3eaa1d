package io.raftkv.transport.tcp;

import io.raftkv.transport.TlsConfig;

import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the parts of one node's transport share: which node and cluster it is, its peers and codec, the
 * link filter, the counters that {@link TcpTransport#describe()} and its getters report, the accepted
 * connections still open, and whether it is closed. The arguments are checked by {@link TcpTransport}.
 */
final class TransportState {
    final int selfId;
    final String clusterId;
    /** The cluster id in UTF-8, as the handshake carries it. */
    final byte[] clusterIdBytes;
    /** Every node's address by id, this node's included. */
    final Map<Integer, InetSocketAddress> peers;
    final FrameCodec codec;

    /** Messages dropped on the sending side: queue full, unknown destination, too large, or sent after close. */
    final AtomicLong dropped = new AtomicLong();
    /** Messages dropped, sent or received, because the link filter cut their peer off. */
    final AtomicLong cut = new AtomicLong();
    /** Inbound connections refused at the handshake. */
    final AtomicLong refusedConnections = new AtomicLong();
    /** Inbound connections closed because of a bad frame. */
    final AtomicLong badFrames = new AtomicLong();
    /** Inbound messages dropped because their {@code to} or {@code from} did not fit the connection. */
    final AtomicLong misaddressed = new AtomicLong();

    /** Accepted connections that no one else has taken over: the transport's close closes them. */
    final Set<Socket> inbound = ConcurrentHashMap.newKeySet();
    /** TLS for every connection, in and out, or null: in clear. Set before the transport starts. */
    volatile TlsConfig tls;
    /** Which links pass messages: every one unless a test cuts some. */
    volatile TcpTransport.LinkFilter linked = (from, to) -> true;
    /**
     * The highest feature level this node advertises in its handshakes: its build's, unless a test caps it to stand
     * in for an older build (at 1 it speaks handshake version 1 only, as builds from before feature levels do).
     */
    volatile int advertisedLevel = io.raftkv.raft.FeatureLevel.SUPPORTED;
    /** The cluster's committed feature level, as the node last told it: a peer that supports less is refused. */
    volatile int clusterLevel = io.raftkv.raft.FeatureLevel.BASE;
    /** The highest feature level each peer said it supports in its last handshake, by id. */
    final Map<Integer, Integer> peerLevels = new ConcurrentHashMap<>();
    /** Set once, by the transport's close; every part stops when it sees it. */
    volatile boolean closed;

    TransportState(int selfId, String clusterId, byte[] clusterIdBytes, Map<Integer, InetSocketAddress> peers,
                   FrameCodec codec) {
        this.selfId = selfId;
        this.clusterId = clusterId;
        this.clusterIdBytes = clusterIdBytes;
        this.peers = peers;
        this.codec = codec;
    }
}
