package io.raftkv.transport.tcp;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.Message;
import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.HeartbeatResponse;
import io.raftkv.raft.Message.InstallSnapshot;
import io.raftkv.raft.Message.ReadIndexRequest;
import io.raftkv.raft.Message.ReadIndexResponse;
import io.raftkv.raft.Message.SnapshotChunk;
import io.raftkv.raft.Message.SnapshotChunkAck;
import io.raftkv.raft.Message.TimeoutNow;
import io.raftkv.raft.Message.VoteRequest;
import io.raftkv.raft.Message.VoteResponse;
import io.raftkv.raft.SnapshotMeta;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/**
 * Encodes Raft {@link Message}s into length-prefixed, versioned, CRC-checked binary frames and decodes
 * them back, refusing anything that is not exactly such a frame.
 *
 * <p>A frame, all integers big-endian (offsets in bytes from the frame's start):
 * <pre>
 * 0        length   int32  number of bytes after this field: 1 + 1 + body + 4; at most maxFrameBytes - 4
 * 4        version  uint8  {@value #VERSION}
 * 5        type     uint8  1 VoteRequest, 2 VoteResponse, 3 AppendRequest, 4 AppendResponse,
 *                          5 Heartbeat, 6 HeartbeatResponse, 7 TimeoutNow, 8 InstallSnapshot,
 *                          9 SnapshotChunk, 10 SnapshotChunkAck, 11 ReadIndexRequest, 12 ReadIndexResponse
 * 6        body     type-specific, below
 * 4+length-4  crc   int32  CRC32C of version, type and body (bytes 4 to 4+length-4)
 * </pre>
 * Every body starts with {@code from int32 | to int32 | term int64} (16 bytes), then:
 * <pre>
 * VoteRequest        lastLogIndex int64 | lastLogTerm int64 | flags uint8 (bit 0 preVote, bit 1 transfer)   33
 * VoteResponse       flags uint8 (bit 0 granted, bit 1 preVote)                                               17
 * AppendRequest      prevLogIndex int64 | prevLogTerm int64 | leaderCommit int64 | count int32
 *                    | count entries                                                                44 + entries
 *   entry            index int64 (&gt;= 1) | term int64 (&gt;= 1) | kind uint8 (0 NOOP, 1 COMMAND, 2 CONFIG)
 *                    | dataLength int32 | data (a CONFIG entry's must be a configuration)        21 + data
 * AppendResponse     flags uint8 (bit 0 success) | index int64 | hintIndex int64 | hintTerm int64          41
 * Heartbeat          commit int64 | readRound int64                                                          32
 * HeartbeatResponse  readRound int64                                                                         24
 * TimeoutNow         (nothing more)                                                                          16
 * InstallSnapshot    snapshot                                                                     36 + config
 *   snapshot         index int64 (&gt;= 1) | term int64 (&gt;= 1) | configLength int32 | configuration  20 + config
 * SnapshotChunk      snapshot | size int64 | offset int64 | crc int32 | dataLength int32 | data
 *                    (offset + dataLength &lt;= size)                                  60 + config + data
 * SnapshotChunkAck   snapshotIndex int64 (&gt;= 1) | received int64 (&gt;= 0)                                    32
 * ReadIndexRequest   context int64                                                                           24
 * ReadIndexResponse  context int64 | index int64 (&gt;= 0; 0 is a refusal)                                      32
 * </pre>
 * Flag bits not listed must be 0. The encoding is canonical: a frame that decodes re-encodes to the
 * same bytes.
 *
 * <p>Decoding trusts nothing: the length, every count and every data length is checked against the
 * bytes actually present before anything is allocated, so a frame of n bytes never makes the decoder
 * allocate much more than n bytes, whatever its fields say. Every fault is reported as a
 * {@link FrameException} naming the byte offset and what was wrong; no other exception escapes
 * {@link #decode}. The maximum frame size bounds whole frames, and with them entry counts and data
 * sizes. A codec is immutable and may be shared between threads.
 */
public final class FrameCodec {
    /** The format version this build writes and reads. */
    public static final int VERSION = FrameEnvelope.VERSION;
    /** The default largest frame, length field included: 16 MiB. */
    public static final int DEFAULT_MAX_FRAME_BYTES = 16 << 20;
    /** The smallest maximum a codec accepts: room for every message without entries. */
    public static final int MIN_MAX_FRAME_BYTES = 64;
    /** The largest maximum a codec accepts, so that a frame always fits one array. */
    public static final int MAX_MAX_FRAME_BYTES = 1 << 30;

    static final int LENGTH_BYTES = FrameEnvelope.LENGTH_BYTES;
    static final int CRC_BYTES = FrameEnvelope.CRC_BYTES;
    static final int BODY_OFFSET = FrameEnvelope.BODY_OFFSET;

    static final int VOTE_REQUEST = 1;
    static final int VOTE_RESPONSE = 2;
    static final int APPEND_REQUEST = 3;
    static final int APPEND_RESPONSE = 4;
    static final int HEARTBEAT = 5;
    static final int HEARTBEAT_RESPONSE = 6;
    static final int TIMEOUT_NOW = 7;
    static final int INSTALL_SNAPSHOT = 8;
    static final int SNAPSHOT_CHUNK = 9;
    static final int SNAPSHOT_CHUNK_ACK = 10;
    static final int READ_INDEX_REQUEST = 11;
    static final int READ_INDEX_RESPONSE = 12;

    private static final int COMMON = 4 + 4 + 8;
    private static final int VOTE_REQUEST_BODY = COMMON + 8 + 8 + 1;
    private static final int VOTE_RESPONSE_BODY = COMMON + 1;
    private static final int APPEND_REQUEST_FIXED = COMMON + 8 + 8 + 8 + 4;
    static final int ENTRY_FIXED = 8 + 8 + 1 + 4;
    private static final int APPEND_RESPONSE_BODY = COMMON + 1 + 8 + 8 + 8;
    private static final int HEARTBEAT_BODY = COMMON + 8 + 8;
    private static final int HEARTBEAT_RESPONSE_BODY = COMMON + 8;
    private static final int TIMEOUT_NOW_BODY = COMMON;
    private static final int SNAPSHOT_META_FIXED = 8 + 8 + 4;
    private static final int CHUNK_FIXED = 8 + 8 + 4 + 4;
    private static final int SNAPSHOT_CHUNK_ACK_BODY = COMMON + 8 + 8;
    private static final int READ_INDEX_REQUEST_BODY = COMMON + 8;
    private static final int READ_INDEX_RESPONSE_BODY = COMMON + 8 + 8;

    private static final byte KIND_NOOP = 0;
    private static final byte KIND_COMMAND = 1;
    private static final byte KIND_CONFIG = 2;
    private static final byte[] NO_DATA = new byte[0];

    private final int maxFrameBytes;

    /** A codec whose frames are at most {@link #DEFAULT_MAX_FRAME_BYTES}. */
    public FrameCodec() {
        this(DEFAULT_MAX_FRAME_BYTES);
    }

    /** A codec whose frames, length field included, are at most {@code maxFrameBytes}. */
    public FrameCodec(int maxFrameBytes) {
        if (maxFrameBytes < MIN_MAX_FRAME_BYTES || maxFrameBytes > MAX_MAX_FRAME_BYTES) {
            throw new IllegalArgumentException("maxFrameBytes must be between " + MIN_MAX_FRAME_BYTES + " and "
                    + MAX_MAX_FRAME_BYTES + ", was " + maxFrameBytes);
        }
        this.maxFrameBytes = maxFrameBytes;
    }

    /** The largest frame this codec writes or reads, length field included. */
    public int maxFrameBytes() {
        return maxFrameBytes;
    }

    // ---------------------------------------------------------------- encoding

    /**
     * The number of bytes {@code message}'s frame takes, length field included.
     *
     * @throws IllegalArgumentException if that is more than {@link #maxFrameBytes()}
     */
    public int encodedSize(Message message) {
        long body = switch (message) {
            case VoteRequest m -> VOTE_REQUEST_BODY;
            case VoteResponse m -> VOTE_RESPONSE_BODY;
            case AppendRequest m -> {
                long n = APPEND_REQUEST_FIXED;
                for (Entry e : m.entries()) n += ENTRY_FIXED + e.data().length;
                yield n;
            }
            case AppendResponse m -> APPEND_RESPONSE_BODY;
            case Heartbeat m -> HEARTBEAT_BODY;
            case HeartbeatResponse m -> HEARTBEAT_RESPONSE_BODY;
            case TimeoutNow m -> TIMEOUT_NOW_BODY;
            case InstallSnapshot m -> COMMON + metaSize(m.snapshot());
            case SnapshotChunk m -> COMMON + metaSize(m.snapshot()) + CHUNK_FIXED + (long) m.data().length;
            case SnapshotChunkAck m -> SNAPSHOT_CHUNK_ACK_BODY;
            case ReadIndexRequest m -> READ_INDEX_REQUEST_BODY;
            case ReadIndexResponse m -> READ_INDEX_RESPONSE_BODY;
        };
        long size = BODY_OFFSET + body + CRC_BYTES;
        if (size > maxFrameBytes) {
            throw new IllegalArgumentException(message.getClass().getSimpleName() + " from " + message.from()
                    + " to " + message.to() + " encodes to " + size + " bytes, more than the maximum frame of "
                    + maxFrameBytes + " bytes; send fewer or smaller entries per message (RaftConfig"
                    + " maxBytesPerMessage) or raise the frame maximum");
        }
        return (int) size;
    }

    /**
     * The frame of {@code message}, length field included.
     *
     * @throws IllegalArgumentException if it would be larger than {@link #maxFrameBytes()}
     */
    public byte[] encode(Message message) {
        byte[] frame = new byte[encodedSize(message)];
        encode(message, ByteBuffer.wrap(frame));
        return frame;
    }

    /**
     * Writes the frame of {@code message} at {@code dst}'s position and advances it past the frame;
     * {@code dst}'s byte order is kept.
     *
     * @return the number of bytes written
     * @throws IllegalArgumentException if the frame would be larger than {@link #maxFrameBytes()}
     * @throws BufferOverflowException if {@code dst} has less room than the frame needs; nothing is written
     */
    public int encode(Message message, ByteBuffer dst) {
        int size = encodedSize(message);
        if (dst.remaining() < size) throw new BufferOverflowException();
        ByteOrder order = dst.order();
        dst.order(ByteOrder.BIG_ENDIAN);
        try {
            int start = FrameEnvelope.begin(dst, size, typeOf(message));
            switch (message) {
                case VoteRequest m -> {
                    putCommon(dst, m);
                    dst.putLong(m.lastLogIndex()).putLong(m.lastLogTerm());
                    dst.put((byte) ((m.preVote() ? 1 : 0) | (m.transfer() ? 2 : 0)));
                }
                case VoteResponse m -> {
                    putCommon(dst, m);
                    dst.put((byte) ((m.granted() ? 1 : 0) | (m.preVote() ? 2 : 0)));
                }
                case AppendRequest m -> {
                    putCommon(dst, m);
                    dst.putLong(m.prevLogIndex()).putLong(m.prevLogTerm()).putLong(m.leaderCommit());
                    List<Entry> entries = m.entries();
                    dst.putInt(entries.size());
                    for (Entry e : entries) {
                        dst.putLong(e.index()).putLong(e.term());
                        dst.put(switch (e.kind()) {
                            case NOOP -> KIND_NOOP;
                            case COMMAND -> KIND_COMMAND;
                            case CONFIG -> KIND_CONFIG;
                        });
                        dst.putInt(e.data().length).put(e.data());
                    }
                }
                case AppendResponse m -> {
                    putCommon(dst, m);
                    dst.put((byte) (m.success() ? 1 : 0));
                    dst.putLong(m.index()).putLong(m.hintIndex()).putLong(m.hintTerm());
                }
                case Heartbeat m -> {
                    putCommon(dst, m);
                    dst.putLong(m.commit()).putLong(m.readRound());
                }
                case HeartbeatResponse m -> {
                    putCommon(dst, m);
                    dst.putLong(m.readRound());
                }
                case TimeoutNow m -> {
                    putCommon(dst, m);
                }
                case InstallSnapshot m -> {
                    putCommon(dst, m);
                    putMeta(dst, m.snapshot());
                }
                case SnapshotChunk m -> {
                    putCommon(dst, m);
                    putMeta(dst, m.snapshot());
                    dst.putLong(m.size()).putLong(m.offset()).putInt(m.crc()).putInt(m.data().length).put(m.data());
                }
                case SnapshotChunkAck m -> {
                    putCommon(dst, m);
                    dst.putLong(m.snapshotIndex()).putLong(m.received());
                }
                case ReadIndexRequest m -> {
                    putCommon(dst, m);
                    dst.putLong(m.context());
                }
                case ReadIndexResponse m -> {
                    putCommon(dst, m);
                    dst.putLong(m.context()).putLong(m.index());
                }
            }
            FrameEnvelope.seal(dst, start);
            return size;
        } finally {
            dst.order(order);
        }
    }

    private static int metaSize(SnapshotMeta meta) {
        return SNAPSHOT_META_FIXED + meta.configuration().encodedSize();
    }

    private static void putMeta(ByteBuffer dst, SnapshotMeta meta) {
        byte[] config = meta.configuration().encode();
        dst.putLong(meta.index()).putLong(meta.term()).putInt(config.length).put(config);
    }

    private static void putCommon(ByteBuffer dst, Message m) {
        dst.putInt(m.from()).putInt(m.to()).putLong(m.term());
    }

    private static int typeOf(Message message) {
        return switch (message) {
            case VoteRequest m -> VOTE_REQUEST;
            case VoteResponse m -> VOTE_RESPONSE;
            case AppendRequest m -> APPEND_REQUEST;
            case AppendResponse m -> APPEND_RESPONSE;
            case Heartbeat m -> HEARTBEAT;
            case HeartbeatResponse m -> HEARTBEAT_RESPONSE;
            case TimeoutNow m -> TIMEOUT_NOW;
            case InstallSnapshot m -> INSTALL_SNAPSHOT;
            case SnapshotChunk m -> SNAPSHOT_CHUNK;
            case SnapshotChunkAck m -> SNAPSHOT_CHUNK_ACK;
            case ReadIndexRequest m -> READ_INDEX_REQUEST;
            case ReadIndexResponse m -> READ_INDEX_RESPONSE;
        };
    }

    // ---------------------------------------------------------------- decoding

    /**
     * Decodes the one frame between {@code frame}'s position and limit, length field included. On success
     * the position moves to the limit; on failure it is left where it was.
     *
     * @throws FrameException if those bytes are not exactly one valid frame of at most
     *     {@link #maxFrameBytes()} bytes; its message says what is wrong and at which byte
     */
    public Message decode(ByteBuffer frame) throws FrameException {
        ByteBuffer b = FrameEnvelope.open(frame, maxFrameBytes);
        int type = FrameEnvelope.type(b);
        Message message = switch (type) {
            case VOTE_REQUEST -> {
                bodySize(b, VOTE_REQUEST_BODY, "VoteRequest");
                int from = b.getInt(), to = b.getInt();
                long term = b.getLong(), lastLogIndex = b.getLong(), lastLogTerm = b.getLong();
                int flags = flags(b, 0b11, "VoteRequest");
                yield new VoteRequest(from, to, term, lastLogIndex, lastLogTerm, (flags & 1) != 0, (flags & 2) != 0);
            }
            case VOTE_RESPONSE -> {
                bodySize(b, VOTE_RESPONSE_BODY, "VoteResponse");
                int from = b.getInt(), to = b.getInt();
                long term = b.getLong();
                int flags = flags(b, 0b11, "VoteResponse");
                yield new VoteResponse(from, to, term, (flags & 1) != 0, (flags & 2) != 0);
            }
            case APPEND_REQUEST -> decodeAppendRequest(b);
            case APPEND_RESPONSE -> {
                bodySize(b, APPEND_RESPONSE_BODY, "AppendResponse");
                int from = b.getInt(), to = b.getInt();
                long term = b.getLong();
                int flags = flags(b, 0b1, "AppendResponse");
                yield new AppendResponse(from, to, term, flags != 0, b.getLong(), b.getLong(), b.getLong());
            }
            case HEARTBEAT -> {
                bodySize(b, HEARTBEAT_BODY, "Heartbeat");
                yield new Heartbeat(b.getInt(), b.getInt(), b.getLong(), b.getLong(), b.getLong());
            }
            case HEARTBEAT_RESPONSE -> {
                bodySize(b, HEARTBEAT_RESPONSE_BODY, "HeartbeatResponse");
                yield new HeartbeatResponse(b.getInt(), b.getInt(), b.getLong(), b.getLong());
            }
            case TIMEOUT_NOW -> {
                bodySize(b, TIMEOUT_NOW_BODY, "TimeoutNow");
                yield new TimeoutNow(b.getInt(), b.getInt(), b.getLong());
            }
            case INSTALL_SNAPSHOT -> {
                int from = atLeast(b, COMMON + SNAPSHOT_META_FIXED, "InstallSnapshot").getInt(), to = b.getInt();
                long term = b.getLong();
                SnapshotMeta meta = getMeta(b);
                if (b.hasRemaining()) {
                    throw new FrameException(b.position(), "the InstallSnapshot body has " + b.remaining()
                            + " bytes after its configuration");
                }
                yield new InstallSnapshot(from, to, term, meta);
            }
            case SNAPSHOT_CHUNK -> decodeChunk(b);
            case SNAPSHOT_CHUNK_ACK -> {
                bodySize(b, SNAPSHOT_CHUNK_ACK_BODY, "SnapshotChunkAck");
                int from = b.getInt(), to = b.getInt();
                long term = b.getLong();
                int at = b.position();
                long index = b.getLong(), received = b.getLong();
                if (index < 1) throw new FrameException(at, "snapshot index " + index + "; it must be >= 1");
                if (received < 0) throw new FrameException(at + 8, "received " + received + " bytes; it must be >= 0");
                yield new SnapshotChunkAck(from, to, term, index, received);
            }
            case READ_INDEX_REQUEST -> {
                bodySize(b, READ_INDEX_REQUEST_BODY, "ReadIndexRequest");
                yield new ReadIndexRequest(b.getInt(), b.getInt(), b.getLong(), b.getLong());
            }
            case READ_INDEX_RESPONSE -> {
                bodySize(b, READ_INDEX_RESPONSE_BODY, "ReadIndexResponse");
                int from = b.getInt(), to = b.getInt();
                long term = b.getLong(), context = b.getLong();
                int at = b.position();
                long index = b.getLong();
                if (index < 0) throw new FrameException(at, "read index " + index + "; it must be >= 0 (0 for a refusal)");
                yield new ReadIndexResponse(from, to, term, context, index);
            }
            default -> throw new FrameException(LENGTH_BYTES + 1, "unknown message type " + type
                    + "; the known types are " + VOTE_REQUEST + " to " + READ_INDEX_RESPONSE);
        };
        frame.position(frame.limit());
        return message;
    }

    private static ByteBuffer atLeast(ByteBuffer b, int min, String type) throws FrameException {
        if (b.remaining() < min) {
            throw new FrameException(BODY_OFFSET, "a " + type + " body has at least " + min + " bytes, this one "
                    + b.remaining());
        }
        return b;
    }

    private static SnapshotMeta getMeta(ByteBuffer b) throws FrameException {
        int at = b.position();
        if (b.remaining() < SNAPSHOT_META_FIXED) {
            throw new FrameException(at, "a snapshot description has at least " + SNAPSHOT_META_FIXED + " bytes, "
                    + b.remaining() + " remain");
        }
        long index = b.getLong(), term = b.getLong();
        int configLength = b.getInt();
        if (index < 1) throw new FrameException(at, "snapshot index " + index + "; it must be >= 1");
        if (term < 1) throw new FrameException(at + 8, "snapshot term " + term + "; it must be >= 1");
        if (configLength < 0 || configLength > b.remaining()) {
            throw new FrameException(at + 16, "the snapshot's configuration says it has " + configLength
                    + " bytes; between 0 and " + b.remaining() + " remain");
        }
        Configuration config = configuration(b, configLength, at + SNAPSHOT_META_FIXED);
        return new SnapshotMeta(index, term, config);
    }

    private static Configuration configuration(ByteBuffer b, int length, int at) throws FrameException {
        byte[] bytes = new byte[length]; // length was checked against the bytes present
        b.get(bytes);
        try {
            return Configuration.decode(bytes);
        } catch (IllegalArgumentException e) {
            throw new FrameException(at, "not a configuration: " + e.getMessage());
        }
    }

    private static Message decodeChunk(ByteBuffer b) throws FrameException {
        int from = atLeast(b, COMMON + SNAPSHOT_META_FIXED + CHUNK_FIXED, "SnapshotChunk").getInt(), to = b.getInt();
        long term = b.getLong();
        SnapshotMeta meta = getMeta(b);
        int at = b.position();
        if (b.remaining() < CHUNK_FIXED) {
            throw new FrameException(at, "a SnapshotChunk's fields after its configuration take " + CHUNK_FIXED
                    + " bytes, " + b.remaining() + " remain");
        }
        long size = b.getLong(), offset = b.getLong();
        int crc = b.getInt(), length = b.getInt();
        if (length != b.remaining()) {
            throw new FrameException(at + 20, "the chunk says it has " + length + " bytes of data; the body has "
                    + b.remaining() + " left");
        }
        if (offset < 0 || size < 0 || offset > size - length) {
            throw new FrameException(at, "a chunk of " + length + " bytes at offset " + offset
                    + " does not fit a snapshot of " + size + " bytes");
        }
        byte[] data = length == 0 ? NO_DATA : new byte[length];
        b.get(data);
        return new SnapshotChunk(from, to, term, meta, size, offset, data, crc);
    }

    private static void bodySize(ByteBuffer b, int expected, String type) throws FrameException {
        if (b.remaining() != expected) {
            throw new FrameException(BODY_OFFSET, "a " + type + " body has " + expected + " bytes, this one "
                    + b.remaining());
        }
    }

    private static int flags(ByteBuffer b, int allowed, String type) throws FrameException {
        int at = b.position();
        int flags = b.get() & 0xFF;
        if ((flags & ~allowed) != 0) {
            throw new FrameException(at, String.format("%s flags %02x set bits outside %02x", type, flags, allowed));
        }
        return flags;
    }

    private static Message decodeAppendRequest(ByteBuffer b) throws FrameException {
        if (b.remaining() < APPEND_REQUEST_FIXED) {
            throw new FrameException(BODY_OFFSET, "an AppendRequest body has at least " + APPEND_REQUEST_FIXED
                    + " bytes, this one " + b.remaining());
        }
        int from = b.getInt(), to = b.getInt();
        long term = b.getLong(), prevLogIndex = b.getLong(), prevLogTerm = b.getLong(), leaderCommit = b.getLong();
        int countAt = b.position();
        int count = b.getInt();
        // Checked against the bytes present before the array is allocated: a hostile count allocates nothing.
        int room = b.remaining() / ENTRY_FIXED;
        if (count < 0 || count > room) {
            throw new FrameException(countAt, "the AppendRequest says it carries " + count + " entries; the "
                    + b.remaining() + " bytes after the count hold between 0 and " + room);
        }
        Entry[] entries = new Entry[count];
        for (int i = 0; i < count; i++) {
            int at = b.position();
            if (b.remaining() < ENTRY_FIXED) {
                throw new FrameException(at, "entry " + i + " of " + count + " is cut short: an entry has at least "
                        + ENTRY_FIXED + " bytes, " + b.remaining() + " remain in the body");
            }
            long index = b.getLong(), entryTerm = b.getLong();
            int kind = b.get();
            int dataLength = b.getInt();
            if (index < 1) throw new FrameException(at, "entry " + i + " has index " + index + "; it must be >= 1");
            if (entryTerm < 1) {
                throw new FrameException(at + 8, "entry " + i + " has term " + entryTerm + "; it must be >= 1");
            }
            if (kind != KIND_NOOP && kind != KIND_COMMAND && kind != KIND_CONFIG) {
                throw new FrameException(at + 16, "entry " + i + " has kind " + kind + "; the kinds are "
                        + KIND_NOOP + " (NOOP), " + KIND_COMMAND + " (COMMAND) and " + KIND_CONFIG + " (CONFIG)");
            }
            if (dataLength < 0 || dataLength > b.remaining()) {
                throw new FrameException(at + 17, "entry " + i + " says its data has " + dataLength
                        + " bytes; between 0 and " + b.remaining() + " remain in the body");
            }
            if (kind == KIND_CONFIG) configuration(b.duplicate(), dataLength, at + ENTRY_FIXED); // checked, not kept
            byte[] data = dataLength == 0 ? NO_DATA : new byte[dataLength];
            b.get(data);
            Entry.Kind k = switch (kind) {
                case KIND_NOOP -> Entry.Kind.NOOP;
                case KIND_COMMAND -> Entry.Kind.COMMAND;
                default -> Entry.Kind.CONFIG;
            };
            entries[i] = new Entry(index, entryTerm, k, data);
        }
        if (b.hasRemaining()) {
            throw new FrameException(b.position(), "the AppendRequest body has " + b.remaining()
                    + " bytes after its last entry");
        }
        return new AppendRequest(from, to, term, prevLogIndex, prevLogTerm, Arrays.asList(entries), leaderCommit);
    }
}
