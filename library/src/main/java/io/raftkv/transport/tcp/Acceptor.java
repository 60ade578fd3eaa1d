package io.raftkv.transport.tcp;

import io.raftkv.raft.FeatureLevel;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger.Level;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

import static io.raftkv.transport.tcp.TcpTransport.ACCEPTED;
import static io.raftkv.transport.tcp.TcpTransport.HANDSHAKE_MAGIC;
import static io.raftkv.transport.tcp.TcpTransport.HANDSHAKE_TIMEOUT_MILLIS;
import static io.raftkv.transport.tcp.TcpTransport.HANDSHAKE_VERSION;
import static io.raftkv.transport.tcp.TcpTransport.HANDSHAKE_VERSION_1;
import static io.raftkv.transport.tcp.TcpTransport.MAX_CLUSTER_ID_BYTES;
import static io.raftkv.transport.tcp.TcpTransport.closeQuietly;

/**
 * The node's listening socket and what connects to it. Each accepted connection gets a thread of its own,
 * which tells by the first four bytes a peer (the peer handshake's magic) from a client of a protocol
 * served also ({@link TcpTransport#serveAlso}), one port serving both:
 * <ul>
 * <li>a client's connection goes to its protocol's {@link InboundProtocol#serve}, on that thread;</li>
 * <li>a peer's handshake is checked (version, cluster id, its id, the id it believes it dials, and that the
 *     feature level it supports is not below the cluster's) and
 *     answered: one byte, accepted, or a refusal with its reason, which is logged and counted. An
 *     accepted peer's connection is then read by that thread ({@link PeerStreamReader}) or handed to the
 *     node's thread ({@link PolledPeerReader}, when polling), and the link back to that peer learns it is
 *     up ({@link PeerLink#peerCameUp()}).</li>
 * </ul>
 */
final class Acceptor {
    /** The transport's parts log under its name, the one the docs give. */
    private static final System.Logger LOG = System.getLogger(TcpTransport.class.getName());
    private static final int OTHER_PROTOCOL = -2;
    /** The first byte of a TLS connection: a handshake record. */
    private static final int TLS_HANDSHAKE_RECORD = 0x16;

    private final TransportState state;
    private final int selfId;
    private final String clusterId;
    private final Map<Integer, InetSocketAddress> peers;
    private final TransportThreads threads;
    private final Inbox inbox;
    private final PeerStreamReader streamReader;
    /** The node's thread's selector when it polls, else null. */
    private final ConnectionPoller poller;
    /** The other protocols served on this port, by magic. */
    private final Map<Integer, InboundProtocol> others;
    /** The links to the peers, by id: a peer that dials in is up. */
    private final Map<Integer, PeerLink> links;
    private final ServerSocket server;

    /**
     * Listens on this node's address (from the transport's peer map, resolved now), with a channel's socket
     * if {@code poller} is not null; {@link #start()} then accepts.
     *
     * @throws UncheckedIOException wrapping a {@link BindException} naming the address if it cannot listen there
     */
    Acceptor(TransportState state, TransportThreads threads, Inbox inbox, ConnectionPoller poller,
             Map<Integer, InboundProtocol> others, Map<Integer, PeerLink> links) {
        this.state = state;
        this.selfId = state.selfId;
        this.clusterId = state.clusterId;
        this.peers = state.peers;
        this.threads = threads;
        this.inbox = inbox;
        this.streamReader = new PeerStreamReader(state, inbox);
        this.poller = poller;
        this.others = others;
        this.links = links;
        InetSocketAddress given = peers.get(selfId);
        InetSocketAddress address = new InetSocketAddress(given.getHostString(), given.getPort()); // resolved now
        ServerSocket s = null;
        try {
            // Polling, a channel's socket, so that an accepted connection has a channel the selector can take.
            // (Otherwise a plain one: a channel's socket resets, rather than ends, a connection it closes unread.)
            s = poller != null ? ServerSocketChannel.open().socket() : new ServerSocket();
            s.setReuseAddress(true);
            s.bind(address);
        } catch (IOException e) {
            closeQuietly(s);
            BindException b = new BindException("node " + selfId + " cannot listen on " + address + ": "
                    + e.getMessage() + (e instanceof BindException ? " (is another process using that port?)" : ""));
            b.initCause(e);
            throw new UncheckedIOException(b);
        }
        this.server = s;
    }

    /** Starts the thread that accepts connections. */
    void start() {
        threads.spawn("accept", this::acceptLoop);
    }

    /** The address this node listens on (with the real port if its configured port was 0). */
    InetSocketAddress localAddress() {
        return (InetSocketAddress) server.getLocalSocketAddress();
    }

    /** Stops listening; the connections accepted are the transport's to close. */
    void close() {
        closeQuietly(server);
    }

    private void acceptLoop() {
        ServerSocket s = server;
        while (!state.closed) {
            Socket socket;
            try {
                socket = s.accept();
            } catch (IOException e) {
                if (!state.closed) LOG.log(Level.WARNING, "node " + selfId + ": accept on " + localAddress() + " failed", e);
                if (s.isClosed()) return;
                continue;
            }
            state.inbound.add(socket);
            if (state.closed) {
                closeQuietly(socket);
                state.inbound.remove(socket);
                return;
            }
            threads.spawn("in-" + socket.getRemoteSocketAddress(), () -> serveInbound(socket));
        }
    }

    /** Serves one accepted connection, on its own thread: tells what it is, then reads it or hands it on. */
    private void serveInbound(Socket socket) {
        String remote = String.valueOf(socket.getRemoteSocketAddress());
        boolean handedOver = false;
        Connection conn = null;
        try {
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
            conn = open(socket, remote);
            if (conn == null) return;
            DataInputStream in = new DataInputStream(conn.inputStream());
            InboundProtocol[] other = new InboundProtocol[1];
            int peer = acceptHandshake(conn, in, remote, other);
            if (peer == OTHER_PROTOCOL) {
                socket.setSoTimeout(0);
                threads.rename("client-" + remote);
                other[0].serve(conn, in);
                handedOver = poller != null && poller.releaseAdopted(socket);
                return;
            }
            if (peer < 0) return;
            threads.rename("in-" + peer);
            socket.setSoTimeout(0);
            if (poller != null) {
                conn.channel().configureBlocking(false);
                poller.handOver(new PolledPeerReader(state, inbox, conn, peer, remote));
                handedOver = true;
                return;
            }
            streamReader.readFrames(conn, peer, remote);
        } catch (IOException e) {
            if (!state.closed) LOG.log(Level.INFO, "node " + selfId + ": connection from " + remote + " failed: " + e);
        } finally {
            if (!handedOver) {
                closeQuietly(conn); // under TLS, says so first (close_notify)
                closeQuietly(socket);
                state.inbound.remove(socket);
            }
        }
    }

    /**
     * The connection to serve: the socket as it is, or, when this transport runs TLS, the TLS connection
     * over it once its handshake is done; null if it was refused (logged and counted). A TLS node tells a
     * dialler that speaks in clear (its first four bytes are a magic this port serves) why it is refused,
     * in clear, so that its operator reads the reason in the dialler's log.
     */
    private Connection open(Socket socket, String remote) throws IOException {
        if (state.tls == null) return new PlainConnection(socket);
        byte[] first;
        try {
            first = socket.getInputStream().readNBytes(4);
        } catch (SocketTimeoutException e) {
            refuse(null, remote, "it sent nothing within " + HANDSHAKE_TIMEOUT_MILLIS + " ms", false);
            return null;
        }
        if (first.length < 4) {
            refuse(null, remote, "it closed the connection before its handshake", false);
            return null;
        }
        int magic = ByteBuffer.wrap(first).getInt();
        if (magic == HANDSHAKE_MAGIC || others.containsKey(magic)) {
            refuse(new DataOutputStream(socket.getOutputStream()), remote, "it speaks in clear, and node " + selfId
                    + " takes only TLS connections; give it the cluster's TLS settings", true);
            return null;
        }
        TlsConnection tls = new TlsConnection(socket, state.tls.serverEngine(), ByteBuffer.wrap(first));
        try {
            tls.handshake();
        } catch (IOException e) {
            refuse(null, remote, "the TLS handshake failed: " + e.getMessage(), false);
            return null;
        }
        return tls;
    }

    /**
     * Returns the peer's id, -1 if it was refused (the refusal is sent, logged and counted), or
     * {@link #OTHER_PROTOCOL} if the connection opened with the magic of a protocol served also, which it
     * puts in {@code other[0]}.
     */
    private int acceptHandshake(Connection conn, DataInputStream in, String remote, InboundProtocol[] other)
            throws IOException {
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(conn.outputStream()));
        int magic;
        int version;
        String theirCluster;
        int from;
        int to;
        int level;
        try {
            magic = in.readInt();
            other[0] = others.get(magic);
            if (other[0] != null) return OTHER_PROTOCOL;
            if (magic != HANDSHAKE_MAGIC) {
                String tlsHint = state.tls == null && (magic >>> 24) == TLS_HANDSHAKE_RECORD
                        ? "; it seems to speak TLS, and node " + selfId + " runs without TLS" : "";
                return refuse(out, remote, String.format("it does not speak the raftkv peer protocol"
                        + " (handshake magic %08x, expected %08x)%s", magic, HANDSHAKE_MAGIC, tlsHint), false);
            }
            version = in.readUnsignedByte();
            // Version 1 is an older build's (level 1); capped at level 1, this node stands in for one, speaking only it.
            int newest = state.advertisedLevel > 1 ? HANDSHAKE_VERSION : HANDSHAKE_VERSION_1;
            if (version < HANDSHAKE_VERSION_1 || version > newest) {
                // Said so that it reads right in the dialler's log too, where "this node" is the other one.
                return refuse(out, remote, "it speaks peer handshake version " + version + ", "
                        + (version > newest ? "newer" : "older") + " than the version " + newest
                        + " that node " + selfId + " speaks; node " + selfId + " cannot talk to it", true);
            }
            int n = in.readUnsignedByte();
            if (n == 0 || n > MAX_CLUSTER_ID_BYTES) {
                return refuse(out, remote, "its cluster id has " + n + " bytes; 1 to " + MAX_CLUSTER_ID_BYTES
                        + " are allowed", true);
            }
            theirCluster = new String(in.readNBytes(n), StandardCharsets.UTF_8);
            from = in.readInt();
            to = in.readInt();
            level = version == HANDSHAKE_VERSION_1 ? 1 : in.readUnsignedByte();
        } catch (SocketTimeoutException e) {
            return refuse(null, remote, "it sent no complete handshake within " + HANDSHAKE_TIMEOUT_MILLIS + " ms",
                    false);
        } catch (EOFException e) {
            return refuse(null, remote, "it closed the connection inside the handshake", false);
        }
        if (!theirCluster.equals(clusterId)) {
            return refuse(out, remote, "it is node " + from + " of cluster '" + theirCluster
                    + "', and this node is in cluster '" + clusterId + "'", true);
        }
        if (from == selfId || !peers.containsKey(from)) {
            return refuse(out, remote, "it says it is node " + from + ", which is not a peer of this node (peers "
                    + new TreeMap<>(peers).keySet() + ", self " + selfId + ")", true);
        }
        if (conn.secure() && conn.peerCertificates() == null) {
            return refuse(out, remote, "node " + from + " presented no certificate; peers must present one that the"
                    + " cluster trusts (mutual TLS)", true);
        }
        if (to != selfId) {
            return refuse(out, remote, "node " + from + " believes it dialled node " + to + ", but this is node "
                    + selfId + "; check its peer addresses", true);
        }
        if (level < state.clusterLevel) return refuse(out, remote, FeatureLevel.tooLow(from, level, state.clusterLevel), true);
        state.peerLevels.put(from, level);
        out.writeByte(ACCEPTED);
        if (version > HANDSHAKE_VERSION_1) out.writeByte(state.advertisedLevel);
        out.flush();
        LOG.log(Level.DEBUG, () -> "node " + selfId + " accepted node " + from + " from " + remote);
        PeerLink back = links.get(from);
        if (back != null) back.peerCameUp();
        return from;
    }

    private int refuse(DataOutputStream out, String remote, String why, boolean tell) {
        state.refusedConnections.incrementAndGet();
        LOG.log(Level.WARNING, () -> "node " + selfId + " (cluster '" + clusterId + "') refused a connection from " + remote
                + ": " + why);
        if (tell && out != null) {
            try {
                HandshakeAnswer.refuse(out, why);
            } catch (IOException ignored) {
                // The connection is being closed anyway.
            }
        }
        return -1;
    }
}
