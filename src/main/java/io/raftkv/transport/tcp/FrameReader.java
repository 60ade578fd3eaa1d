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
    private final int maxFrameBytes;
    private byte[] buffer = new byte[INITIAL_BUFFER_BYTES];

    /** A reader of Raft message frames, decoded by {@code codec}. */
    public FrameReader(InputStream in, FrameCodec codec) {
        this.in = in;
        this.codec = codec;
        this.maxFrameBytes = codec.maxFrameBytes();
    }

    /** A reader of raw frames of at most {@code maxFrameBytes}, for codecs of other frame types ({@link #readFrame}). */
    public FrameReader(InputStream in, int maxFrameBytes) {
        this.in = in;
        this.codec = null;
        this.maxFrameBytes = maxFrameBytes;
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
        if (codec == null) throw new IllegalStateException("this reader has no Raft message codec; use readFrame()");
        ByteBuffer frame = readFrame();
        return frame == null ? null : codec.decode(frame);
    }

    /**
     * Blocks for the next frame and returns its bytes, length field included, unchecked but for the length;
     * the buffer is reused by the next call.
     *
     * @return the frame, or {@code null} if the stream ended cleanly, between two frames
     * @throws FrameException if the length field is out of bounds (nothing past it is read)
     * @throws EOFException if the stream ended inside a frame
     */
    public ByteBuffer readFrame() throws IOException {
        int n = in.readNBytes(buffer, 0, FrameCodec.LENGTH_BYTES);
        if (n == 0) return null;
        if (n < FrameCodec.LENGTH_BYTES) {
            throw new EOFException("the stream ended inside a frame's length field, after " + n + " of "
                    + FrameCodec.LENGTH_BYTES + " bytes");
        }
        int length = (buffer[0] & 0xFF) << 24 | (buffer[1] & 0xFF) << 16 | (buffer[2] & 0xFF) << 8 | (buffer[3] & 0xFF);
        FrameEnvelope.checkLength(length, maxFrameBytes);
        int size = FrameCodec.LENGTH_BYTES + length;
        if (buffer.length < size) {
            // Doubling spares a run of growing frames a copy each; the maximum caps it.
            byte[] larger = new byte[Math.max(size, (int) Math.min(maxFrameBytes, 2L * buffer.length))];
            System.arraycopy(buffer, 0, larger, 0, FrameCodec.LENGTH_BYTES);
            buffer = larger;
        }
        int read = in.readNBytes(buffer, FrameCodec.LENGTH_BYTES, length);
        if (read < length) {
            throw new EOFException("the stream ended inside a frame of " + size + " bytes, after "
                    + (FrameCodec.LENGTH_BYTES + read));
        }
        return ByteBuffer.wrap(buffer, 0, size);
    }
}
