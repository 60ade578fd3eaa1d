package io.raftkv.transport.tcp;

import io.raftkv.raft.FeatureLevel;
import io.raftkv.raft.Message;
import io.raftkv.transport.MessageSink;
import io.raftkv.transport.PolledTransport;
import io.raftkv.transport.TlsConfig;
import io.raftkv.transport.Transport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadFactory;
import java.util.function.Function;

/**
 * A {@link Transport} over TCP: blocking sockets on virtual threads, one outgoing connection to each peer.
 *
 * <p>How it works, and why:
 * <ul>
 * <li>Each node listens on its own address and dials every peer. Messages from node a to node b travel on
 *     the connection a dialled to b, so each direction of a peer pair has exactly one connection, and
 *     neither side ever has to decide which of two simultaneous dials wins.</li>
 * <li>{@link #send} never blocks and never throws. When the peer's connection is idle it writes the frame
 *     straight into the socket without blocking (saving the wake-up of another thread on the commit path);
 *     otherwise, or for what did not fit, it offers the message to the peer's bounded MPSC queue and wakes
 *     its writer. A full queue drops the message (Raft retries) and counts it.</li>
 * <li>A writer thread per peer dials, handshakes, then drains its queue into the socket in batches, so a
 *     burst goes out in few system calls. On any failure it closes the socket
 *     and dials again after an exponential backoff (10 ms doubling to 100 ms, reset by a good handshake,
 *     and cut short when the peer dials this node: it is back).</li>
 * <li>The handshake is the dialler's magic, version, cluster id, own id and the id it believes it dials,
 *     and (version 2) the highest feature level it supports; the acceptor answers one byte (accepted, then
 *     its own level in version 2) or a refusal with its reason, which both sides log. A refused dialler keeps
 *     retrying at the backoff's pace: the operator may fix the peer. An acceptor takes versions 1 and 2 (1:
 *     an older build, level 1); a dialler refused for its version by an older build dials it again with
 *     version 1, unless the cluster runs above level 1. Either side refuses a peer whose level is below the
 *     cluster's ({@link #clusterFeatureLevel}).</li>
 * <li>A reader thread per accepted connection decodes frames and hands them to the sink. A bad frame,
 *     EOF or an I/O error closes that connection only; the dialler will reconnect.</li>
 * <li>With {@link #secure}, every connection runs under TLS (a {@link Connection} of its own hides which):
 *     the TLS handshake comes first, on the same threads, and peers present certificates the cluster's CA
 *     signed; anything in clear is refused.</li>
 * <li>Or, with {@link #pollInbound()}, the node's own thread reads its peers' connections (a selector it
 *     waits on instead of parking, see {@link PolledTransport}): a message then wakes the node once, not
 *     a reader and then the node. The handshake still runs on a thread of its own, which hands the
 *     connection over once it is accepted.</li>
 * </ul>
 * Every thread's name starts with {@code raftkv-tcp-<self id>-}; {@link #close()} closes every socket
 * and joins every thread.
 *
 * <p>This class is the facade; each part is a package-private class of its own: {@code Acceptor} (the
 * listening socket, the handshake and telling peers from other protocols), {@code PeerLink} (the sending
 * end towards one peer) with its {@code PeerDialer} and {@code Backoff}, {@code PeerStreamReader} and
 * {@code PolledPeerReader} (reading a peer's connection on a thread of its own or on the node's),
 * {@code Inbox} (what is read, to the sink), {@code ConnectionPoller} (the node's thread's selector),
 * {@code TransportThreads}, and {@code TransportState} (what they share). All log under this class's name.
 */
public final class TcpTransport implements PolledTransport {
    private static final System.Logger LOG = System.getLogger(TcpTransport.class.getName());

    /** "RKV1": lets an acceptor tell a raftkv peer from anything else that dials it. */
    static final int HANDSHAKE_MAGIC = 0x524B5631;
    /** Version 2 adds the dialler's feature level to version 1's fields, and the acceptor's to its acceptance. */
    static final int HANDSHAKE_VERSION = 2;
    /** What builds from before feature levels speak (and accept only): a peer that speaks it supports level 1. */
    static final int HANDSHAKE_VERSION_1 = 1;
    /**
     * For tests only: a system property capping the feature level a node advertises ({@link #capFeatureLevel}), so
     * that a process of this build can stand in for an older one.
     */
    public static final String TEST_FEATURE_LEVEL_PROPERTY = "raftkv.test.featureLevel";
    static final int ACCEPTED = HandshakeAnswer.ACCEPTED;
    /** The largest cluster id, in UTF-8 bytes, that a handshake carries. */
    public static final int MAX_CLUSTER_ID_BYTES = 255;
    /** Per-peer queue capacity, in messages, when none is given. */
    public static final int DEFAULT_QUEUE_CAPACITY = 4096;

    /** How long either side of the peer handshake waits for the other. */
    static final int HANDSHAKE_TIMEOUT_MILLIS = 2000;

    private final int selfId;
    private final Map<Integer, InetSocketAddress> peers;
    private final String clusterId;
    /** The counters, the link filter, the open accepted connections and the closed flag: what the parts share. */
    private final TransportState state;
    private final TransportThreads threads;
    /** Where the messages read from peers' connections go. */
    private final Inbox inbox;
    /** The sending end towards each peer, by id; changed by {@link #setPeer} and {@link #removePeer}. */
    private final Map<Integer, PeerLink> links = new ConcurrentHashMap<>();
    private final int queueCapacity;
    /** The listening socket, the handshakes and the readers, from start on. */
    private volatile Acceptor acceptor;
    /** The other protocols served on this port, by magic; written only before start. */
    private final Map<Integer, InboundProtocol> others = new ConcurrentHashMap<>();
    /** Where each peer is dialled from: a fixed local address per peer, or none (an ephemeral port). */
    private volatile Map<Integer, InetSocketAddress> dialFrom = Map.of();
    /** The selector the node's thread serves its connections with, once {@link #pollInbound()} made it; null otherwise. */
    private ConnectionPoller poller;
    private final Object lifecycle = new Object();
    private boolean started;

    /** A transport for node {@code selfId} of {@code clusterId}; {@code peers} maps every node id, self included, to its address. */
    public TcpTransport(int selfId, Map<Integer, InetSocketAddress> peers, String clusterId, MessageSink sink) {
        this(selfId, peers, clusterId, sink, new FrameCodec(), DEFAULT_QUEUE_CAPACITY);
    }

    /** As {@link #TcpTransport(int, Map, String, MessageSink)}, with a codec and a per-peer queue capacity (at least 2). */
    public TcpTransport(int selfId, Map<Integer, InetSocketAddress> peers, String clusterId, MessageSink sink,
                        FrameCodec codec, int queueCapacity) {
        // Concurrent: the acceptor checks who dials in against the peers the node may add or remove meanwhile.
        this.peers = new ConcurrentHashMap<>(Objects.requireNonNull(peers, "peers"));
        if (!this.peers.containsKey(selfId)) {
            throw new IllegalArgumentException("the peer map must include this node's own id " + selfId
                    + " and address; it has ids " + new TreeMap<>(this.peers).keySet());
        }
        this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
        byte[] clusterIdBytes = clusterId.getBytes(StandardCharsets.UTF_8);
        if (clusterIdBytes.length == 0 || clusterIdBytes.length > MAX_CLUSTER_ID_BYTES) {
            throw new IllegalArgumentException("the cluster id must be 1 to " + MAX_CLUSTER_ID_BYTES
                    + " bytes of UTF-8, was " + clusterIdBytes.length);
        }
        if (queueCapacity < 2) {
            throw new IllegalArgumentException("queueCapacity must be at least 2, was " + queueCapacity);
        }
        this.selfId = selfId;
        this.queueCapacity = queueCapacity;
        Objects.requireNonNull(sink, "sink");
        Objects.requireNonNull(codec, "codec");
        this.state = new TransportState(selfId, clusterId, clusterIdBytes, this.peers, codec);
        Integer cap = Integer.getInteger(TEST_FEATURE_LEVEL_PROPERTY);
        if (cap != null) capFeatureLevel(cap);
        this.threads = new TransportThreads(selfId);
        this.inbox = new Inbox(state, sink);
        for (var e : new TreeMap<>(this.peers).entrySet()) {
            if (e.getKey() != selfId) {
                links.put(e.getKey(), new PeerLink(state, threads, e.getKey(), e.getValue(), queueCapacity));
            }
        }
    }

    /**
     * What a {@code RaftNode} needs to join a TCP cluster: given the node's sink, builds and starts its
     * transport.
     */
    public static Function<MessageSink, Transport> connector(int selfId, Map<Integer, InetSocketAddress> peers,
                                                             String clusterId) {
        return sink -> new TcpTransport(selfId, peers, clusterId, sink).start();
    }

    /**
     * Serves {@code protocol} on this node's port too: a connection that opens with its magic is handed to it.
     * Set before {@link #start()}; several protocols may be served, each with a magic of its own.
     *
     * @return this transport
     */
    public TcpTransport serveAlso(InboundProtocol protocol) {
        Objects.requireNonNull(protocol, "protocol");
        if (protocol.magic() == HANDSHAKE_MAGIC) {
            throw new IllegalArgumentException("the protocol's magic is the peer handshake's");
        }
        synchronized (lifecycle) {
            if (started) throw new IllegalStateException("serveAlso must be called before start()");
            InboundProtocol before = others.putIfAbsent(protocol.magic(), protocol);
            if (before != null && before != protocol) {
                throw new IllegalArgumentException(String.format("a protocol with magic %08x is served already: %s",
                        protocol.magic(), before));
            }
        }
        return this;
    }

    /**
     * Dials each peer in {@code localAddresses} from that local address (bound with SO_REUSEADDR, so a
     * reconnect is not refused while the last connection lingers in TIME_WAIT) instead of from an ephemeral
     * port: a firewall can then tell the link from this node to that peer by its source port, as the
     * harness of the system the gRPC front end replaces does to cut links. Peers not in the map are dialled
     * from an ephemeral port. Set before {@link #start()}.
     *
     * @return this transport
     * @throws IllegalArgumentException if a key is not a peer of this node
     */
    public TcpTransport dialFrom(Map<Integer, InetSocketAddress> localAddresses) {
        Objects.requireNonNull(localAddresses, "localAddresses");
        for (int peer : localAddresses.keySet()) {
            if (!links.containsKey(peer)) {
                throw new IllegalArgumentException("node " + peer + " is not a peer of node " + selfId + " (peers "
                        + new java.util.TreeSet<>(links.keySet()) + "); it has no link to dial from a local address");
            }
        }
        synchronized (lifecycle) {
            if (started) throw new IllegalStateException("dialFrom must be called before start()");
            dialFrom = Map.copyOf(localAddresses);
        }
        return this;
    }

    /**
     * Makes this transport's threads (acceptor, readers, writers) with {@code threads} instead of as virtual
     * threads; set before {@link #start()}.
     *
     * @return this transport
     */
    public TcpTransport threadFactory(ThreadFactory factory) {
        Objects.requireNonNull(factory, "factory");
        synchronized (lifecycle) {
            if (started) throw new IllegalStateException("the thread factory must be set before start()");
            threads.factory(factory);
        }
        return this;
    }

    /**
     * Has the node's thread read the peers' connections itself ({@link PolledTransport}) instead of a reader
     * thread per connection; set before {@link #start()}. The node's thread then blocks in a selector: give
     * the node a platform thread (a virtual one would hold its carrier while it waits).
     *
     * @return this transport
     */
    public TcpTransport pollInbound() {
        synchronized (lifecycle) {
            if (started) throw new IllegalStateException("pollInbound must be called before start()");
            if (state.closed) throw new IllegalStateException("this transport of node " + selfId + " is closed");
            if (poller != null) return this;
            try {
                // Made now, not at start: a node's thread may wait on the transport before it is started.
                poller = new ConnectionPoller(state);
            } catch (IOException e) {
                throw new UncheckedIOException("node " + selfId + " cannot open a selector for its peers' connections", e);
            }
        }
        return this;
    }

    /**
     * Runs every connection of this transport under TLS ({@code tls} must have an identity): peers
     * authenticate each other with their certificates (mutual TLS), a peer without a certificate the
     * cluster trusts is refused, and so is anything that dials in clear, the clients of the protocols served
     * also included (they must use TLS too). Set before {@link #start()}.
     *
     * @return this transport
     * @throws IllegalArgumentException if {@code tls} has no identity to present
     */
    public TcpTransport secure(TlsConfig tls) {
        Objects.requireNonNull(tls, "tls");
        if (!tls.hasIdentity()) {
            throw new IllegalArgumentException("a node's TLS needs its own certificate and key, to present to its peers;"
                    + " " + tls + " has none");
        }
        synchronized (lifecycle) {
            if (started) throw new IllegalStateException("secure must be called before start()");
            state.tls = tls;
        }
        return this;
    }

    /** Whether this transport runs TLS ({@link #secure}). */
    public boolean secured() {
        return state.tls != null;
    }

    /**
     * For tests only: makes this node advertise feature levels up to {@code level} only, standing in for an older
     * build; at level 1 it speaks and accepts peer handshake version 1 only, as builds from before feature levels
     * do. Set before {@link #start()}; also set by the system property {@value #TEST_FEATURE_LEVEL_PROPERTY}.
     *
     * @return this transport
     */
    public TcpTransport capFeatureLevel(int level) {
        if (level < FeatureLevel.BASE || level > FeatureLevel.SUPPORTED) {
            throw new IllegalArgumentException("a feature level this build supports is " + FeatureLevel.BASE + " to "
                    + FeatureLevel.SUPPORTED + ", was " + level);
        }
        synchronized (lifecycle) {
            if (started) throw new IllegalStateException("the feature level must be capped before start()");
            state.advertisedLevel = level;
        }
        LOG.log(Level.WARNING, () -> "node " + selfId + " advertises feature levels up to " + level + " only, standing in"
                + " for an older build (a test setting)");
        return this;
    }

    /** This node's own advertised level for its id; else what the peer said in its last handshake, 0 if none yet. */
    @Override
    public int featureLevel(int node) {
        if (node == selfId) return state.advertisedLevel;
        Integer level = state.peerLevels.get(node);
        return level == null ? 0 : level;
    }

    @Override
    public void clusterFeatureLevel(int level) {
        state.clusterLevel = level;
    }

    /** Which directed links between nodes pass messages. */
    @FunctionalInterface
    public interface LinkFilter {
        boolean linked(int from, int to);
    }

    /**
     * Lets a message from node a to node b pass only while {@code linked.linked(a, b)}: this node drops what
     * it would send on a cut link and what it receives on one, while the connections stay up. For partitions
     * in tests of a cluster whose nodes share one host; the filter is asked on every message.
     */
    public void linkFilter(LinkFilter linked) {
        state.linked = Objects.requireNonNull(linked, "linked");
    }

    /**
     * Listens on this node's address and starts dialling the peers.
     *
     * @return this transport
     * @throws UncheckedIOException wrapping a {@link BindException} naming the address if it cannot listen there
     * @throws IllegalStateException if already started or closed
     */
    public TcpTransport start() {
        synchronized (lifecycle) {
            if (state.closed) throw new IllegalStateException("this transport of node " + selfId + " is closed");
            if (started) throw new IllegalStateException("this transport of node " + selfId + " is already started");
            Acceptor a = new Acceptor(state, threads, inbox, poller, others, links); // listening, or it threw
            acceptor = a;
            started = true;
            a.start();
            links.forEach((peer, link) -> link.start(dialFrom.get(peer)));
            LOG.log(Level.DEBUG, () -> "node " + selfId + " of cluster " + clusterId + " listens on " + localAddress());
            return this;
        }
    }

    /**
     * Makes node {@code id} a peer at {@code address}, or moves it there: from now on messages to it are sent
     * there and its connections accepted. Called when the configuration gains a member; setting a peer to the
     * address it has already changes nothing.
     *
     * @throws IllegalArgumentException if {@code id} is this node's own
     */
    public void setPeer(int id, InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        if (id == selfId) throw new IllegalArgumentException("node " + selfId + " cannot be its own peer");
        synchronized (lifecycle) {
            if (state.closed || address.equals(peers.get(id))) return;
            PeerLink old = links.remove(id);
            if (old != null) old.retire();
            peers.put(id, address);
            PeerLink link = new PeerLink(state, threads, id, address, queueCapacity);
            links.put(id, link);
            if (started) link.start(dialFrom.get(id));
        }
        LOG.log(Level.INFO, () -> "node " + selfId + " has node " + id + " as a peer at " + address);
    }

    /**
     * Drops node {@code id} as a peer: its link closes, messages to it are dropped, messages from it (on a
     * connection it opened before) are dropped too, and its new connections refused. Called when it leaves the configuration. Does nothing if it is not a peer.
     */
    public void removePeer(int id) {
        synchronized (lifecycle) {
            if (id == selfId || peers.remove(id) == null) return;
            PeerLink old = links.remove(id);
            if (old != null) old.retire();
        }
        LOG.log(Level.INFO, () -> "node " + selfId + " dropped node " + id + " as a peer");
    }

    /** Every node's address by id, this node's included, as they are now, in id order. */
    public Map<Integer, InetSocketAddress> peers() {
        return java.util.Collections.unmodifiableMap(new TreeMap<>(peers));
    }

    /** The address this transport listens on (with the real port if its configured port was 0), or null before start. */
    public InetSocketAddress localAddress() {
        Acceptor a = acceptor;
        return a == null ? null : a.localAddress();
    }

    @Override
    public void send(Message message) {
        if (state.closed) {
            state.dropped.incrementAndGet();
            return;
        }
        PeerLink link = links.get(message.to());
        if (link != null && !state.linked.linked(selfId, message.to())) {
            state.cut.incrementAndGet();
            return;
        }
        if (link == null) {
            state.dropped.incrementAndGet();
            LOG.log(Level.WARNING, () -> "node " + selfId + " dropped a " + message.getClass().getSimpleName()
                    + " to node " + message.to() + ", which is not in its peer map " + new TreeMap<>(peers).keySet());
            return;
        }
        link.offer(message);
    }

    /** Messages dropped on the sending side: queue full, unknown destination, or sent after close. */
    public long droppedCount() {
        return state.dropped.get();
    }

    /** Messages dropped, sent or received, because the link filter cut their peer off, or received from a node no longer a peer. */
    public long cutCount() {
        return state.cut.get();
    }

    /** Inbound connections refused at the handshake. */
    public long refusedConnectionCount() {
        return state.refusedConnections.get();
    }

    /** Inbound connections closed because of a bad frame. */
    public long badFrameCount() {
        return state.badFrames.get();
    }

    /** Inbound messages dropped because their {@code to} or {@code from} did not fit the connection. */
    public long misaddressedCount() {
        return state.misaddressed.get();
    }

    /** The threads this transport has started and that have not yet ended. */
    public List<Thread> threads() {
        return threads.list();
    }

    /** Closes every socket and joins every thread; later sends are dropped. Idempotent. */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (state.closed) return;
            state.closed = true;
        }
        Acceptor a = acceptor;
        if (a != null) a.close();
        if (poller != null) poller.close();
        for (PeerLink link : links.values()) link.stop();
        for (Socket s : state.inbound) closeQuietly(s);
        threads.joinAll(() -> {
            for (Socket s : state.inbound) closeQuietly(s);
        });
    }

    @Override
    public String toString() {
        return "TcpTransport[node " + selfId + ", cluster " + clusterId + (state.closed ? ", closed]" : "]");
    }

    /**
     * The state of each outgoing link and the counters, in one line: for a test's failure message or an
     * operator's question "why does node b not hear from node a?".
     */
    public String describe() {
        StringBuilder b = new StringBuilder("node " + selfId + (state.closed ? " (closed)" : "") + ": dropped " + state.dropped.get()
                + ", cut " + state.cut.get() + ", bad frames " + state.badFrames.get() + ", refused " + state.refusedConnections.get()
                + ", misaddressed " + state.misaddressed.get() + ", inbound connections " + state.inbound.size() + "; links");
        for (PeerLink link : links.values()) link.describe(b);
        return b.toString();
    }

    // --- connections served by the node's thread (pollInbound) ---------------------------------------

    @Override
    public boolean polling() {
        return poller != null;
    }

    @Override
    public void poll() {
        ConnectionPoller p = poller;
        if (p != null) p.serve(false);
    }

    @Override
    public void await() {
        ConnectionPoller p = poller;
        if (p != null) p.serve(true);
    }

    @Override
    public void wakeup() {
        ConnectionPoller p = poller;
        if (p != null) p.wakeup();
    }

    /**
     * A connection of another protocol that the node's thread serves once its protocol has handed it over
     * ({@link #adopt}): its methods are called on the node's thread, but for {@link #close()}.
     */
    public interface PolledConnection {
        /** The connection's key, once registered (interested in reading); before any other call. */
        void registered(SelectionKey key);

        /**
         * The channel is ready for what {@code key.readyOps()} says, or the connection holds bytes to read
         * that the selector does not report ({@link Connection#hasBufferedInput()}): read them too.
         */
        void ready(SelectionKey key);

        /** Writes what it has to write, as far as the socket takes it; called after {@link #flushSoon}. */
        void flush();

        /** Closes the connection; any thread (the transport's close, or a failed registration). */
        void close();
    }

    /**
     * Hands a connection of another protocol to the node's thread, which then serves it through {@code c}:
     * for a protocol's {@link InboundProtocol#serve} once its handshake is done, when this transport
     * {@link #polling() polls}. The channel is made non-blocking, and the serving thread may return without
     * the connection being closed.
     *
     * @throws IllegalStateException if this transport does not poll
     */
    public void adopt(Connection conn, PolledConnection c) throws IOException {
        ConnectionPoller p = poller;
        if (p == null) throw new IllegalStateException("node " + selfId + " does not poll its connections");
        p.adopt(conn, c);
    }

    /** Has the node's thread call {@code c.flush()} before it next waits; any thread. */
    public void flushSoon(PolledConnection c) {
        ConnectionPoller p = poller;
        if (p != null) p.flushSoon(c);
    }

    /** Closes {@code c}, if any, ignoring what that throws; for every part of the transport. */
    static void closeQuietly(AutoCloseable c) {
        if (c == null) return;
        try {
            c.close();
        } catch (Exception ignored) {
            // Closing is best effort: the socket is unusable either way.
        }
    }
}
