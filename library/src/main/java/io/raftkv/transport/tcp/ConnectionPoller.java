package io.raftkv.transport.tcp;

import io.raftkv.transport.tcp.TcpTransport.PolledConnection;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.Socket;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ConcurrentModificationException;
import java.util.Objects;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import static io.raftkv.transport.tcp.TcpTransport.closeQuietly;

/**
 * The selector through which the node's own thread serves its connections when the transport polls
 * ({@link TcpTransport#pollInbound()}): peers' connections, once their handshake is done, and other
 * protocols' connections that their protocol {@link #adopt adopted}. Other threads hand connections over
 * through a queue and wake the selector; the node's thread registers them before it waits, flushes what
 * the adopted connections asked it to, then serves each ready connection.
 */
final class ConnectionPoller {
    /** The transport's parts log under its name, the one the docs give. */
    private static final System.Logger LOG = System.getLogger(TcpTransport.class.getName());

    private final TransportState state;
    private final int selfId;
    /** What the node's thread waits on. */
    private final Selector selector;
    /** Accepted connections (peers' and adopted ones) the node's thread has yet to register with its selector. */
    private final Queue<Registration> toRegister = new ConcurrentLinkedQueue<>();
    /** Adopted connections with something to write, for the node's thread to flush before it waits. */
    private final Queue<PolledConnection> toFlush = new ConcurrentLinkedQueue<>();
    /** Sockets that another protocol handed over to the node's thread: their serving thread must not close them. */
    private final Set<Socket> adopted = ConcurrentHashMap.newKeySet();
    /** The thread that polls this transport (the node's), once it has; wake-ups from it are needless. */
    private volatile Thread poller;

    /** Opens the selector; made when the transport is told to poll, since the node's thread may wait on it before start. */
    ConnectionPoller(TransportState state) throws IOException {
        this.state = state;
        this.selfId = state.selfId;
        this.selector = Selector.open();
    }

    /** Registers what was handed over, flushes what waits, then serves the ready connections: after waiting for one if {@code block}. */
    void serve(boolean block) {
        Selector sel = selector;
        try {
            registerHandedOver(sel);
            if ((block ? sel.select() : sel.selectNow()) > 0) readReady(sel);
        } catch (ClosedSelectorException e) {
            // closed: the node is stopping
        } catch (IOException e) {
            LOG.log(Level.WARNING, "node " + selfId + ": serving its connections failed", e);
        }
    }

    /** Ends the node thread's wait, or its next one. */
    void wakeup() {
        selector.wakeup();
    }

    /** Hands a peer's connection, its handshake done, to the node's thread. */
    void handOver(PolledPeerReader in) {
        toRegister.add(new Registration(in.connection, in, in::close));
        wakeup();
    }

    /** See {@link TcpTransport#adopt}. */
    void adopt(Connection conn, PolledConnection c) throws IOException {
        Socket socket = conn.socket();
        SocketChannel ch = Objects.requireNonNull(conn.channel(), "the socket has no channel");
        ch.configureBlocking(false);
        adopted.add(socket);
        // From now on the connection is the node thread's to close (or this transport's close, by its key).
        state.inbound.remove(socket);
        toRegister.add(new Registration(conn, c, c::close));
        wakeup();
        if (state.closed) closeUnregistered(); // close() may have emptied the queue just before this one joined it
    }

    /** Whether {@code socket} was adopted, so that the thread that served it must leave it open; forgets it. */
    boolean releaseAdopted(Socket socket) {
        return adopted.remove(socket);
    }

    /** See {@link TcpTransport#flushSoon}. */
    void flushSoon(PolledConnection c) {
        toFlush.add(c);
        if (Thread.currentThread() != poller) wakeup();
    }

    /** Closes the adopted connections and what waits to be registered, then the selector; the node's thread has stopped polling. */
    void close() {
        Selector sel = selector;
        // The node's thread has stopped polling: a node closes its transport last.
        try {
            for (SelectionKey key : sel.keys()) {
                if (key.attachment() instanceof PolledConnection c) c.close();
            }
        } catch (ClosedSelectorException | ConcurrentModificationException e) {
            // closed already, or a registration raced this close: the channels close with their sockets below
        }
        closeUnregistered();
        closeQuietly(sel);
    }

    private void closeUnregistered() {
        for (Registration r; (r = toRegister.poll()) != null; ) r.close.run();
    }

    /** A connection for the node's thread to register, what to attach to its key, and how to give it up. */
    private record Registration(Connection connection, Object attachment, Runnable close) {}

    private void registerHandedOver(Selector sel) {
        if (poller == null) poller = Thread.currentThread();
        for (Registration r; (r = toRegister.poll()) != null; ) {
            try {
                SelectionKey key = r.connection.channel().register(sel, SelectionKey.OP_READ, r.attachment);
                if (r.attachment instanceof PolledConnection c) c.registered(key);
                // What arrived with the handshake and was read along with it (whole TLS records) is not news to
                // the selector: it is read now.
                if (r.connection.hasBufferedInput()) {
                    if (r.attachment instanceof PolledPeerReader in) in.read();
                    else ((PolledConnection) r.attachment).ready(key);
                }
            } catch (IOException | RuntimeException e) { // closed meanwhile (the transport is closing, or the peer left)
                r.close.run();
            }
        }
        for (PolledConnection c; (c = toFlush.poll()) != null; ) c.flush();
    }

    private void readReady(Selector sel) {
        var keys = sel.selectedKeys();
        for (var it = keys.iterator(); it.hasNext(); ) {
            SelectionKey key = it.next();
            it.remove();
            if (!key.isValid()) continue;
            if (key.attachment() instanceof PolledPeerReader in) {
                if (key.isReadable()) in.read();
            } else {
                ((PolledConnection) key.attachment()).ready(key);
            }
        }
        // What the connections answered while being read goes out before the node's pass, not after it.
        for (PolledConnection c; (c = toFlush.poll()) != null; ) c.flush();
    }
}
