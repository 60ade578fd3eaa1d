package io.raftkv.transport.tcp;

import io.raftkv.raft.Message;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/**
 * Reads frames of a {@link FrameCodec} one at a time from a blocking stream, such as a socket's.
 *
 * <p>The reader is buffered: one read of the stream takes whatever has arrived, up to the buffer's
 * room, and the frames in it are then handed out without another system call. Under load a socket
 * holds many small frames at once (a pipelined client's requests, a burst of acknowledgements), and
 * reading them one length field and one body at a time cost two system calls per frame.
 *
 * <p>The length field is checked against the codec's maximum before any buffer is grown for the frame,
 * so a peer can make a reader hold at most one maximum-size buffer. The buffer is kept and reused for
 * later frames; decoded messages copy what they keep out of it. One reader serves one stream and one
 * thread, and is the only reader of that stream once made: what it has buffered is nobody else's.
 */
public final class FrameReader {
    /** Room for a burst of small frames in one read; grown (doubling, up to the maximum frame) only for a larger frame. */
    static final int INITIAL_BUFFER_BYTES = 16 * 1024;

    private final InputStream in;
    private final FrameCodec codec;
    private final int maxFrameBytes;
    private byte[] buffer = new byte[INITIAL_BUFFER_BYTES];
    /** The whole buffer, from which each frame is sliced: one view object per frame, not two. */
    private ByteBuffer whole = ByteBuffer.wrap(buffer);
    /** The bytes read and not yet handed out are {@code buffer[start, end)}. */
    private int start;
    private int end;

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
     * @throws FrameException if the frame is not valid (its length is refused before any buffer grows for it)
     * @throws EOFException if the stream ended inside a frame
     * @throws IOException if reading the stream failed
     */
    public Message read() throws IOException {
        if (codec == null) throw new IllegalStateException("this reader has no Raft message codec; use readFrame()");
        ByteBuffer frame = readFrame();
        return frame == null ? null : codec.decode(frame);
    }

    /**
     * Blocks for the next frame and returns its bytes, length field included, unchecked but for the length,
     * from position 0 to its limit; the bytes are reused by the next call.
     *
     * @return the frame, or {@code null} if the stream ended cleanly, between two frames
     * @throws FrameException if the length field is out of bounds (no buffer grows for it)
     * @throws EOFException if the stream ended inside a frame
     */
    public ByteBuffer readFrame() throws IOException {
        if (!fill(FrameCodec.LENGTH_BYTES)) {
            int n = end - start;
            if (n == 0) return null;
            throw new EOFException("the stream ended inside a frame's length field, after " + n + " of "
                    + FrameCodec.LENGTH_BYTES + " bytes");
        }
        byte[] b = buffer;
        int s = start;
        int length = (b[s] & 0xFF) << 24 | (b[s + 1] & 0xFF) << 16 | (b[s + 2] & 0xFF) << 8 | (b[s + 3] & 0xFF);
        FrameEnvelope.checkLength(length, maxFrameBytes);
        int size = FrameCodec.LENGTH_BYTES + length;
        if (!fill(size)) {
            throw new EOFException("the stream ended inside a frame of " + size + " bytes, after " + (end - start));
        }
        ByteBuffer frame = whole.slice(start, size);
        start += size;
        return frame;
    }

    /** Makes at least {@code n} unread bytes available from {@code start}; false if the stream ended first. */
    private boolean fill(int n) throws IOException {
        if (end - start >= n) return true;
        if (buffer.length - start < n) makeRoom(n);
        while (end - start < n) {
            int r = in.read(buffer, end, buffer.length - end);
            if (r < 0) return false;
            end += r;
        }
        return true;
    }

    /** Moves the unread bytes to the front, into a larger buffer if {@code n} bytes would not fit the present one. */
    private void makeRoom(int n) {
        int unread = end - start;
        byte[] target = buffer;
        if (n > buffer.length) {
            // Doubling spares a run of growing frames a copy each; the maximum frame caps it.
            long cap = maxFrameBytes; // a frame, length field included, is at most this
            target = new byte[(int) Math.max(n, Math.min(cap, 2L * buffer.length))];
        }
        System.arraycopy(buffer, start, target, 0, unread);
        if (target != buffer) {
            buffer = target;
            whole = ByteBuffer.wrap(target);
        }
        start = 0;
        end = unread;
    }
}
