package io.raftkv.transport.tcp;

import io.raftkv.raft.Message;

import java.io.EOFException;
import java.io.IOException;
import java.lang.System.Logger.Level;

/**
 * Reads an accepted peer connection on a thread of its own: frame after frame from the blocking socket
 * into the {@link Inbox}, until the peer closes it, a frame is bad (counted), or the transport closes.
 * The acceptor's thread runs it, once the handshake is done; it closes the socket when this returns.
 */
final class PeerStreamReader {
    /** The transport's parts log under its name, the one the docs give. */
    private static final System.Logger LOG = System.getLogger(TcpTransport.class.getName());

    private final TransportState state;
    private final int selfId;
    private final Inbox inbox;

    PeerStreamReader(TransportState state, Inbox inbox) {
        this.state = state;
        this.selfId = state.selfId;
        this.inbox = inbox;
    }

    /** Reads {@code peer}'s connection, which came from {@code remote}, until it ends. */
    void readFrames(Connection conn, int peer, String remote) throws IOException {
        FrameReader reader = new FrameReader(conn.inputStream(), state.codec);
        while (!state.closed) {
            Message m;
            try {
                m = reader.read();
            } catch (FrameException e) {
                state.badFrames.incrementAndGet();
                LOG.log(Level.WARNING, () -> "node " + selfId + " closed its connection from node " + peer + " (" + remote
                        + "): " + e.getMessage());
                return;
            } catch (EOFException e) {
                if (!state.closed) LOG.log(Level.INFO, () -> "node " + selfId + ": node " + peer + " closed its connection: " + e.getMessage());
                return;
            }
            if (m == null) {
                if (!state.closed) LOG.log(Level.DEBUG, () -> "node " + selfId + ": node " + peer + " closed its connection");
                return;
            }
            inbox.take(m, peer);
        }
    }
}
