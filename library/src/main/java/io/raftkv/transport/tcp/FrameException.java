package io.raftkv.transport.tcp;

import java.io.IOException;

/**
 * A frame received from a peer is not a valid frame of this format: the only exception {@link FrameCodec}
 * decoding lets out.
 *
 * <p>It is an {@link IOException} because a bad frame is a fault of the connection it came on, not of
 * the node: the transport's read loop already treats an {@code IOException} as "log it, close this
 * connection, reconnect", and a checked type makes every caller of decode take that path instead of
 * letting a hostile or damaged frame unwind a node's thread.
 */
public class FrameException extends IOException {
    private static final long serialVersionUID = 1L;

    private final long offset;

    public FrameException(long offset, String problem) {
        super("bad frame at byte " + offset + ": " + problem);
        this.offset = offset;
    }

    /** Where the fault is, in bytes from the start of the frame (its length field). */
    public long offset() {
        return offset;
    }
}
