package io.raftkv.transport.tcp;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * The envelope every raftkv frame travels in, whatever it carries (Raft messages between nodes, key-value
 * requests from clients): {@code length int32 | version uint8 | type uint8 | body | crc32c int32}, big-endian,
 * the length counting the bytes after itself and the CRC covering version, type and body.
 *
 * <p>Codecs write their body between {@link #begin} and {@link #seal}, and read it after {@link #open}, which
 * checks the length, the version and the CRC before the body is looked at. Type numbers 1 to 63 are Raft
 * messages ({@link FrameCodec}); 64 and up belong to the client protocol.
 */
public final class FrameEnvelope {
    /** The format version this build writes and reads. */
    public static final int VERSION = 1;
    /** Bytes of the length field. */
    public static final int LENGTH_BYTES = 4;
    /** Bytes of the trailing CRC. */
    public static final int CRC_BYTES = 4;
    /** Where the body starts: after length, version and type. */
    public static final int BODY_OFFSET = LENGTH_BYTES + 2;
    /** The bytes a frame has besides its body. */
    public static final int OVERHEAD = BODY_OFFSET + CRC_BYTES;
    /** Version, type and CRC: the least a length field can announce. */
    static final int MIN_LENGTH = 1 + 1 + CRC_BYTES;

    private FrameEnvelope() {}

    /**
     * Writes the length, version and type of a frame of {@code frameSize} bytes (envelope included) at
     * {@code dst}'s position, which must be big-endian; returns where the frame starts, for {@link #seal}.
     */
    public static int begin(ByteBuffer dst, int frameSize, int type) {
        int start = dst.position();
        dst.putInt(frameSize - LENGTH_BYTES).put((byte) VERSION).put((byte) type);
        return start;
    }

    /** Writes the CRC of the frame begun at {@code start}, whose body ends at {@code dst}'s position. */
    public static void seal(ByteBuffer dst, int start) {
        int from = start + LENGTH_BYTES;
        dst.putInt(crc(dst, from, dst.position() - from));
    }

    /**
     * Checks that the bytes between {@code frame}'s position and limit are exactly one frame of at most
     * {@code maxFrameBytes} with this version and a good CRC; returns a big-endian view of its body (position
     * 0 at the body's first byte, offsets in exceptions counted from the frame's start) and, through
     * {@link #type}, its type. {@code frame}'s position is not moved.
     *
     * @throws FrameException naming the byte offset and what is wrong
     */
    public static ByteBuffer open(ByteBuffer frame, int maxFrameBytes) throws FrameException {
        ByteBuffer b = frame.slice().order(ByteOrder.BIG_ENDIAN);
        int size = b.remaining();
        if (size < LENGTH_BYTES) {
            throw new FrameException(0, "the frame has " + size + " bytes; its length field alone needs "
                    + LENGTH_BYTES);
        }
        int length = b.getInt(0);
        checkLength(length, maxFrameBytes);
        if (length != size - LENGTH_BYTES) {
            throw length > size - LENGTH_BYTES
                    ? new FrameException(size, "the frame is cut short: its length field says " + length
                            + " bytes follow it, but only " + (size - LENGTH_BYTES) + " do")
                    : new FrameException(LENGTH_BYTES + length, "the frame has " + (size - LENGTH_BYTES - length)
                            + " trailing bytes: its length field says " + length + " bytes follow it, but "
                            + (size - LENGTH_BYTES) + " do");
        }
        int version = b.get(LENGTH_BYTES) & 0xFF;
        if (version != VERSION) {
            throw new FrameException(LENGTH_BYTES, "frame version " + version + "; this build reads version "
                    + VERSION + " only");
        }
        int crcOffset = size - CRC_BYTES;
        int stored = b.getInt(crcOffset);
        int computed = crc(b, LENGTH_BYTES, crcOffset - LENGTH_BYTES);
        if (stored != computed) {
            throw new FrameException(crcOffset, String.format("CRC32C mismatch: the frame carries %08x, its bytes"
                    + " give %08x", stored, computed));
        }
        return b.position(BODY_OFFSET).limit(crcOffset);
    }

    /** The type byte of a body view returned by {@link #open}. */
    public static int type(ByteBuffer body) {
        return body.get(LENGTH_BYTES + 1) & 0xFF;
    }

    /** Refuses a length field that no frame of at most {@code maxFrameBytes} can have, before anything is allocated for it. */
    public static void checkLength(int length, int maxFrameBytes) throws FrameException {
        if (length < MIN_LENGTH || length > maxFrameBytes - LENGTH_BYTES) {
            throw new FrameException(0, "the length field says " + length + " bytes follow it; it must be between "
                    + MIN_LENGTH + " and " + (maxFrameBytes - LENGTH_BYTES) + " (maximum frame " + maxFrameBytes
                    + " bytes)");
        }
    }

    /** The CRC32C of {@code length} bytes of {@code b} from index {@code from}; b's position and limit are kept. */
    static int crc(ByteBuffer b, int from, int length) {
        CRC32C crc = new CRC32C();
        if (b.hasArray()) {
            crc.update(b.array(), b.arrayOffset() + from, length);
        } else {
            int position = b.position();
            int limit = b.limit();
            b.limit(from + length).position(from);
            crc.update(b);
            b.limit(limit).position(position);
        }
        return (int) crc.getValue();
    }
}
