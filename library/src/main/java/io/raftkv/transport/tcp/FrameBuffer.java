package io.raftkv.transport.tcp;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;

/**
 * The frames arriving on a non-blocking channel: {@link #readFrom} takes what the channel has, and
 * {@link #next()} hands out the whole frames in it one at a time (a frame cut by the channel waits for
 * its rest). The counterpart, for blocking streams, of {@link FrameReader}, with the same rules: a length
 * field is checked against the maximum before the buffer grows for its frame, so a peer can make it hold
 * at most one maximum-size buffer; the bytes of a frame handed out are reused by the next read.
 */
public final class FrameBuffer {
    private final int maxFrameBytes;
    private ByteBuffer buffer;
    /** Unread bytes are {@code buffer[start, buffer.position())}. */
    private int start;
    /** The size of the frame at {@code start} when it is known not to be whole yet; else 0. */
    private int waitingFor;

    /** A buffer for frames of at most {@code maxFrameBytes} (length field included), starting at {@code initialBytes}. */
    public FrameBuffer(int maxFrameBytes, int initialBytes) {
        this.maxFrameBytes = maxFrameBytes;
        this.buffer = ByteBuffer.allocate(Math.min(initialBytes, maxFrameBytes));
    }

    /**
     * Reads what {@code channel} has, after making room (and growing, for a frame known to be larger than
     * the buffer); returns what the channel's read returned: -1 at its end.
     */
    public int readFrom(ReadableByteChannel channel) throws IOException {
        int unread = buffer.position() - start;
        if (start > 0 && (buffer.remaining() == 0 || waitingFor > buffer.capacity() - start)) {
            // Move the unread bytes to the front; into a larger buffer if the waiting frame needs one.
            ByteBuffer target = waitingFor > buffer.capacity()
                    ? ByteBuffer.allocate((int) Math.max(waitingFor, Math.min(maxFrameBytes, 2L * buffer.capacity())))
                    : buffer;
            System.arraycopy(buffer.array(), start, target.array(), 0, unread); // overlapping moves are safe here
            buffer = target.position(unread);
            start = 0;
        } else if (waitingFor > buffer.capacity()) { // start is 0: only growth helps
            ByteBuffer larger = ByteBuffer.allocate((int) Math.max(waitingFor, Math.min(maxFrameBytes, 2L * buffer.capacity())));
            System.arraycopy(buffer.array(), 0, larger.array(), 0, unread);
            buffer = larger.position(unread);
        }
        return channel.read(buffer);
    }

    /**
     * The next whole frame (length field included, from position 0 to its limit), or null if the bytes
     * read so far hold none.
     *
     * @throws FrameException if its length field is out of bounds
     */
    public ByteBuffer next() throws FrameException {
        int unread = buffer.position() - start;
        if (unread < FrameCodec.LENGTH_BYTES) {
            if (unread == 0 && start > 0) { // all read: start again at the front, no copy needed
                buffer.clear();
                start = 0;
            }
            return null;
        }
        int length = buffer.getInt(start);
        FrameEnvelope.checkLength(length, maxFrameBytes);
        int size = FrameCodec.LENGTH_BYTES + length;
        if (unread < size) {
            waitingFor = size;
            return null;
        }
        waitingFor = 0;
        ByteBuffer frame = buffer.slice(start, size);
        start += size;
        return frame;
    }

    /** Whether bytes of a frame not yet whole are held (at a channel's end, the frame was cut short). */
    public boolean holdsPart() {
        return buffer.position() > start;
    }
}
