package io.raftkv.transport.tcp;

import io.raftkv.raft.FeatureLevel;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;

import static io.raftkv.transport.tcp.TcpTransport.HANDSHAKE_MAGIC;
import static io.raftkv.transport.tcp.TcpTransport.HANDSHAKE_TIMEOUT_MILLIS;
import static io.raftkv.transport.tcp.TcpTransport.HANDSHAKE_VERSION;
import static io.raftkv.transport.tcp.TcpTransport.HANDSHAKE_VERSION_1;

/**
 * How a peer link reaches its peer: connects (from the local address it is given, if any), sends the
 * dialler's half of the handshake (magic, version, cluster id, own id and the id it believes it dials, and
 * in version 2 its feature level), reads the answer (and the peer's level), falls back to version 1 for
 * the next dial if the peer is an older build that refused version 2, and says why when it could not: each distinct failure once, at DEBUG while the node
 * is starting and its peers may not be up yet, else INFO (WARNING for a refusal).
 */
final class PeerDialer {
    /** The transport's parts log under its name, the one the docs give. */
    private static final System.Logger LOG = System.getLogger(TcpTransport.class.getName());
    private static final int CONNECT_TIMEOUT_MILLIS = 1000;
    /** How long after start a peer that was never reached is quietly retried (DEBUG), since peers start in turn. */
    static final long STARTUP_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final TransportState state;
    private final int selfId;
    private final int peer;
    private final InetSocketAddress address;
    private final byte[] clusterIdBytes;
    /** The local address to dial from, or null (an ephemeral port); fixed at start. */
    private InetSocketAddress from;
    private long startedNanos;
    /** Why the last dial failed, or null after a good one; written by the link's writer only. */
    private String lastFailure;
    private boolean everConnected;
    /** Whether the next dial speaks handshake version 1: the peer refused version 2 on the last one (an older build). */
    private boolean fallBack;

    PeerDialer(TransportState state, int peer, InetSocketAddress address) {
        this.state = state;
        this.selfId = state.selfId;
        this.peer = peer;
        this.address = address;
        this.clusterIdBytes = state.clusterIdBytes;
    }

    /** The link starts: it dials from {@code from} (null: an ephemeral port), and its startup grace begins. */
    void start(InetSocketAddress from) {
        this.from = from;
        startedNanos = System.nanoTime();
    }

    /** A new channel to dial with, or null (and the reason kept) if none could be opened. */
    SocketChannel open() {
        try {
            return SocketChannel.open();
        } catch (IOException e) {
            lastFailure = "cannot open a socket: " + e.getMessage();
            return null;
        }
    }

    /**
     * Connects {@code ch} to the peer and handshakes (under TLS first, if the transport runs it), in
     * blocking mode; leaves it non-blocking, and returns the connection to write through. On an exception
     * the caller closes the channel and reports it to {@link #failed}.
     */
    Connection connect(SocketChannel ch) throws IOException {
        Socket s = ch.socket();
        s.setTcpNoDelay(true);
        if (from != null) {
            s.setReuseAddress(true);
            s.bind(from);
        }
        // Resolved at every dial: a peer's name may not resolve yet when this node starts, or may move.
        s.connect(new InetSocketAddress(address.getHostString(), address.getPort()), CONNECT_TIMEOUT_MILLIS);
        s.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
        Connection c = state.tls == null ? new PlainConnection(s) : secure(s);
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(c.outputStream()));
        // Version 1 (no level) to a peer that refused version 2 on the last dial, and when standing in for an older build.
        int version = fallBack || state.advertisedLevel == 1 ? HANDSHAKE_VERSION_1 : HANDSHAKE_VERSION;
        fallBack = false;
        out.writeInt(HANDSHAKE_MAGIC);
        out.writeByte(version);
        out.writeByte(clusterIdBytes.length);
        out.write(clusterIdBytes);
        out.writeInt(selfId);
        out.writeInt(peer);
        if (version > HANDSHAKE_VERSION_1) out.writeByte(state.advertisedLevel);
        out.flush();
        DataInputStream in = new DataInputStream(c.inputStream());
        String refusal = HandshakeAnswer.read(in);
        int cluster = state.clusterLevel;
        if (refusal != null && version > HANDSHAKE_VERSION_1 && refusal.contains("peer handshake version")) {
            // An older build, which speaks (and so supports) level 1 only: the next dial speaks its version, if allowed.
            if (cluster > 1) throw new IOException("this node refused node " + peer + " at " + address + ": "
                    + FeatureLevel.tooLow(peer, 1, cluster) + " (it speaks peer handshake version 1 only)");
            state.peerLevels.put(peer, 1);
            fallBack = true;
            throw new IOException("node " + peer + " at " + address + " speaks peer handshake version 1 only (an older"
                    + " build, feature level 1): dialling it again with version 1");
        }
        if (refusal != null) {
            throw new IOException("node " + peer + " at " + address + " refused this node: " + refusal);
        }
        int level = version == HANDSHAKE_VERSION_1 ? 1 : in.readUnsignedByte();
        if (level < cluster) throw new IOException("this node refused node " + peer + " at " + address + ": "
                + FeatureLevel.tooLow(peer, level, cluster));
        state.peerLevels.put(peer, level);
        s.setSoTimeout(0);
        ch.configureBlocking(false);
        if (lastFailure != null && everConnected) {
            LOG.log(Level.INFO, () -> "node " + selfId + " connected to node " + peer + " at " + address);
        }
        lastFailure = null;
        everConnected = true;
        return c;
    }

    /** TLS over the connected socket, its handshake done: this node presents its certificate and checks the peer's. */
    private Connection secure(Socket s) throws IOException {
        TlsConnection tls = new TlsConnection(s, state.tls.clientEngine(address.getHostString(), address.getPort()), null);
        try {
            tls.handshake();
        } catch (IOException e) {
            throw new IOException("the TLS handshake with node " + peer + " at " + address + " failed: " + e.getMessage(), e);
        }
        return tls;
    }

    /** Logs a failed connect or handshake, once per distinct failure. */
    void failed(IOException e) {
        String failure = e.getClass().getSimpleName() + ": " + e.getMessage();
        // Peers start one after another: not reaching one early on is expected, and only DEBUG.
        boolean starting = !everConnected && System.nanoTime() - startedNanos < STARTUP_GRACE_NANOS;
        if (!state.closed && !failure.equals(lastFailure)) {
            // Logged once per distinct failure: a peer that is down for a minute logs one line.
            Level level = e.getMessage() != null && (e.getMessage().contains("refused this node") || e.getMessage().contains("this node refused"))
                    ? Level.WARNING : starting ? Level.DEBUG : Level.INFO;
            LOG.log(level, () -> "node " + selfId + " cannot reach node " + peer + " at " + address
                    + " (retrying with backoff): " + failure);
        }
        // Until the grace ends every failure is DEBUG; the first one after it is logged at INFO.
        lastFailure = starting ? null : failure;
    }

    /** Why the last dial failed, or null; for {@link TcpTransport#describe()}, from any thread (a racy read). */
    String lastFailure() {
        return lastFailure;
    }
}
