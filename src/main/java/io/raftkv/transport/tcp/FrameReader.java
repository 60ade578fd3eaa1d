package io.raftkv.transport.tcp;

import io.raftkv.raft.Message;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * Reads frames of a {@link FrameCodec} one at a time from a blocking stream, such as a socket's.
 *
 * <p>The length field is checked against the codec's maximum before any buffer is grown for the frame,
 * so a peer can make a reader hold at most one maximum-size buffer. The buffer is kept and reused for
 * later frames; decoded messages copy what they keep out of it. One reader serves one stream and one
 * thread. It does its own batching (two reads per frame), so the stream need not be buffered.
 */
public final class FrameReader {
    private static final int INITIAL_BUFFER_BYTES = 512;

    private final InputStream in;
    private final FrameCodec codec;
    private byte[] buffer = new byte[INITIAL_BUFFER_BYTES];

    public FrameReader(InputStream in, FrameCodec codec) {
        this.in = in;
        this.codec = codec;
    }

    /**
     * Blocks for the next frame and decodes it.
     *
     * @return the message, or {@code null} if the stream ended cleanly, between two frames
     * @throws FrameException if the frame is not valid (its length is refused before anything is read past it)
     * @throws EOFException if the stream ended inside a frame
     * @throws IOException if reading the stream failed
     */
    public Message read() throws IOException {
        int n = in.readNBytes(buffer, 0, FrameCodec.LENGTH_BYTES);
        if (n == 0) return null;
        if (n < FrameCodec.LENGTH_BYTES) {
            throw new EOFException("the stream ended inside a frame's length field, after " + n + " of "
                    + FrameCodec.LENGTH_BYTES + " bytes");
        }
        int length = (buffer[0] & 0xFF) << 24 | (buffer[1] & 0xFF) << 16 | (buffer[2] & 0xFF) << 8 | (buffer[3] & 0xFF);
        codec.checkLength(length);
        int size = FrameCodec.LENGTH_BYTES + length;
        if (buffer.length < size) {
            // Doubling spares a run of growing frames a copy each; the maximum caps it.
            byte[] larger = new byte[Math.max(size, (int) Math.min(codec.maxFrameBytes(), 2L * buffer.length))];
            System.arraycopy(buffer, 0, larger, 0, FrameCodec.LENGTH_BYTES);
            buffer = larger;
        }
        int read = in.readNBytes(buffer, FrameCodec.LENGTH_BYTES, length);
        if (read < length) {
            throw new EOFException("the stream ended inside a frame of " + size + " bytes, after "
                    + (FrameCodec.LENGTH_BYTES + read));
        }
        return codec.decode(ByteBuffer.wrap(buffer, 0, size));
    }
}
