package io.raftkv.transport.tcp;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.Socket;
import java.nio.ByteBuffer;

import static io.raftkv.transport.tcp.TcpTransport.closeQuietly;

/**
 * An accepted peer connection that the node's thread reads ({@link TcpTransport#pollInbound()}): each time
 * its selector finds it readable, the whole frames that have arrived go to the
 * {@link Inbox}, and a frame cut by the socket waits in its {@link FrameBuffer} for the rest. A bad frame,
 * EOF or an I/O error closes this connection only; the peer will dial again.
 */
final class PolledPeerReader {
    /** The transport's parts log under its name, the one the docs give. */
    private static final System.Logger LOG = System.getLogger(TcpTransport.class.getName());

    private final TransportState state;
    private final int selfId;
    private final FrameCodec codec;
    private final Inbox inbox;
    private final Socket socket;
    final Connection connection;
    private final int peer;
    private final String remote;
    private final FrameBuffer frames;

    /** {@code peer}'s connection, which came from {@code remote}; its channel is non-blocking already. */
    PolledPeerReader(TransportState state, Inbox inbox, Connection connection, int peer, String remote) {
        this.state = state;
        this.selfId = state.selfId;
        this.codec = state.codec;
        this.inbox = inbox;
        this.socket = connection.socket();
        this.connection = connection;
        this.peer = peer;
        this.remote = remote;
        this.frames = new FrameBuffer(codec.maxFrameBytes(), 64 * 1024);
    }

    /** Reads what has arrived; called by the node's thread when the channel is readable. */
    void read() {
        try {
            int n;
            do { // again while the connection holds what the selector no longer reports (TLS)
                n = frames.readFrom(connection);
                for (ByteBuffer frame; (frame = frames.next()) != null; ) inbox.take(codec.decode(frame), peer);
            } while (n > 0 && connection.hasBufferedInput());
            if (n < 0) close(frames.holdsPart() ? "closed its connection inside a frame" : null);
        } catch (FrameException e) {
            state.badFrames.incrementAndGet();
            LOG.log(Level.WARNING, () -> "node " + selfId + " closed its connection from node " + peer + " (" + remote
                    + "): " + e.getMessage());
            close(null);
        } catch (IOException e) {
            close("its connection failed: " + e);
        } catch (RuntimeException e) {
            // A codec fault: this connection goes, and the node's thread, which runs this, carries on.
            state.badFrames.incrementAndGet();
            LOG.log(Level.WARNING, "node " + selfId + " closed its connection from node " + peer + " (" + remote
                    + ") on a frame it could not decode", e);
            close(null);
        }
    }

    /** Closes the connection; logs {@code why} (INFO) unless it is null or the transport is closing. */
    void close() {
        close(null);
    }

    void close(String why) {
        closeQuietly(connection);
        closeQuietly(socket);
        state.inbound.remove(socket);
        if (why != null && !state.closed) LOG.log(Level.INFO, () -> "node " + selfId + ": node " + peer + " " + why);
    }
}
