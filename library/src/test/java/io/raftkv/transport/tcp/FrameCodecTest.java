package io.raftkv.transport.tcp;

import io.raftkv.raft.Entry;
import io.raftkv.raft.Message;
import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.HeartbeatResponse;
import io.raftkv.raft.Message.TimeoutNow;
import io.raftkv.raft.Message.VoteRequest;
import io.raftkv.raft.Message.VoteResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrameCodecTest {
    private final FrameCodec codec = new FrameCodec();

    static Entry command(long index, long term, int bytes) {
        byte[] data = new byte[bytes];
        for (int i = 0; i < bytes; i++) data[i] = (byte) (i * 31 + index);
        return new Entry(index, term, Entry.Kind.COMMAND, data);
    }

    static Entry noop(long index, long term) {
        return new Entry(index, term, Entry.Kind.NOOP, new byte[0]);
    }

    static Stream<Message> everyMessageTypeWithEdgeValues() {
        return Stream.of(
                new VoteRequest(1, 2, 3, 4, 5, false, false),
                new VoteRequest(1, 2, 3, 0, 0, true, false),
                new VoteRequest(1, 2, 3, 4, 5, false, true),
                new VoteRequest(Integer.MIN_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE, Long.MIN_VALUE, -1, true, true),
                new VoteResponse(2, 1, 3, true, false),
                new VoteResponse(2, 1, 3, false, true),
                new VoteResponse(0, -1, 0, true, true),
                new VoteResponse(2, 1, Long.MIN_VALUE, false, false),
                new AppendRequest(1, 2, 7, 0, 0, List.of(), 0),
                new AppendRequest(1, 2, 7, -5, Long.MIN_VALUE, List.of(), Long.MAX_VALUE),
                new AppendRequest(1, 2, 7, 9, 6, List.of(noop(10, 7)), 9),
                new AppendRequest(1, 2, 7, 9, 6, List.of(noop(10, 7), command(11, 7, 0), command(12, 7, 1),
                        command(13, 7, 128), command(Long.MAX_VALUE, Long.MAX_VALUE, 4096)), 12),
                // A configuration entry whose members carry their addresses (format 2), as a join by address appends.
                new AppendRequest(1, 2, 7, 9, 6, List.of(new io.raftkv.raft.Entry(10, 7, io.raftkv.raft.Entry.Kind.CONFIG,
                        io.raftkv.raft.Configuration.ofVoters(java.util.Map.of(1, "10.0.0.1:7001", 2, "[::1]:7002"))
                                .apply(io.raftkv.raft.ConfigChange.addLearner(3, "db3:7001")).encode())), 9),
                new AppendResponse(2, 1, 7, true, 12, 0, 0),
                new AppendResponse(2, 1, 7, false, 12, 4, 3),
                new AppendResponse(2, 1, 7, false, -1, Long.MIN_VALUE, Long.MAX_VALUE),
                new Heartbeat(1, 3, 7, 12, 99),
                new Heartbeat(1, 3, 0, -1, Long.MAX_VALUE),
                new HeartbeatResponse(3, 1, 7, 99),
                new HeartbeatResponse(3, 1, -7, Long.MIN_VALUE),
                new TimeoutNow(1, 2, 7),
                new TimeoutNow(0, 0, 0),
                new io.raftkv.raft.Message.ReadIndexRequest(2, 1, 7, 42),
                new io.raftkv.raft.Message.ReadIndexRequest(0, -1, Long.MIN_VALUE, Long.MIN_VALUE),
                new io.raftkv.raft.Message.ReadIndexResponse(1, 2, 7, 42, 12),
                new io.raftkv.raft.Message.ReadIndexResponse(1, 2, 7, -1, 0),
                new io.raftkv.raft.Message.ReadIndexResponse(1, 2, Long.MAX_VALUE, Long.MAX_VALUE, Long.MAX_VALUE));
    }

    @ParameterizedTest
    @MethodSource("everyMessageTypeWithEdgeValues")
    void everyMessageTypeSurvivesARoundTrip(Message message) throws FrameException {
        byte[] frame = codec.encode(message);
        assertEquals(codec.encodedSize(message), frame.length);
        assertEquals(frame.length - 4, ByteBuffer.wrap(frame).getInt(), "the length field counts what follows it");
        assertEquals(message, codec.decode(ByteBuffer.wrap(frame)));
    }

    @ParameterizedTest
    @MethodSource("everyMessageTypeWithEdgeValues")
    void encodingIntoABufferWritesTheSameBytesWhateverItsOrderOrKind(Message message) throws FrameException {
        byte[] expected = codec.encode(message);
        for (ByteBuffer dst : List.of(ByteBuffer.allocate(expected.length + 10),
                ByteBuffer.allocateDirect(expected.length + 10).order(ByteOrder.LITTLE_ENDIAN))) {
            dst.position(3);
            assertEquals(expected.length, codec.encode(message, dst));
            assertEquals(3 + expected.length, dst.position());
            byte[] written = new byte[expected.length];
            dst.get(3, written);
            assertArrayEquals(expected, written);
            ByteBuffer in = dst.duplicate().position(3).limit(3 + expected.length);
            assertEquals(message, codec.decode(in));
            assertEquals(in.limit(), in.position(), "a decoded frame is consumed");
        }
    }

    @Test
    void encodingIntoABufferKeepsItsByteOrder() {
        ByteBuffer dst = ByteBuffer.allocate(100).order(ByteOrder.LITTLE_ENDIAN);
        codec.encode(new TimeoutNow(1, 2, 3), dst);
        assertEquals(ByteOrder.LITTLE_ENDIAN, dst.order());
    }

    @Test
    void encodingIntoABufferTooSmallWritesNothing() {
        ByteBuffer dst = ByteBuffer.allocate(20);
        assertThrows(BufferOverflowException.class, () -> codec.encode(new TimeoutNow(1, 2, 3), dst));
        assertEquals(0, dst.position());
        assertArrayEquals(new byte[20], dst.array());
    }

    @Test
    void aFrameOfExactlyTheMaximumSizeRoundTripsAndOneByteMoreIsRefused() throws FrameException {
        FrameCodec small = new FrameCodec(1024);
        int fixed = small.encodedSize(new AppendRequest(1, 2, 3, 0, 0, List.of(command(1, 3, 0)), 0));
        AppendRequest largest = new AppendRequest(1, 2, 3, 0, 0, List.of(command(1, 3, 1024 - fixed)), 0);
        byte[] frame = small.encode(largest);
        assertEquals(1024, frame.length);
        assertEquals(largest, small.decode(ByteBuffer.wrap(frame)));

        AppendRequest tooLarge = new AppendRequest(1, 2, 3, 0, 0, List.of(command(1, 3, 1025 - fixed)), 0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> small.encode(tooLarge));
        assertTrue(e.getMessage().contains("1025 bytes, more than the maximum frame of 1024"), e.getMessage());
        // A peer with a larger maximum cannot push that frame into this one either.
        FrameException refused = assertThrows(FrameException.class,
                () -> small.decode(ByteBuffer.wrap(new FrameCodec(2048).encode(tooLarge))));
        assertTrue(refused.getMessage().contains("between 6 and 1020"), refused.getMessage());
    }

    @Test
    void theDefaultMaximumCarriesAnEntryOfNearly16MiB() throws FrameException {
        int fixed = codec.encodedSize(new AppendRequest(1, 2, 3, 0, 0, List.of(command(1, 3, 0)), 0));
        AppendRequest largest = new AppendRequest(1, 2, 3, 0, 0,
                List.of(command(1, 3, FrameCodec.DEFAULT_MAX_FRAME_BYTES - fixed)), 0);
        byte[] frame = codec.encode(largest);
        assertEquals(16 << 20, frame.length);
        assertEquals(largest, codec.decode(ByteBuffer.wrap(frame)));
    }

    @Test
    void manyEmptyEntriesRoundTrip() throws FrameException {
        Entry[] entries = new Entry[10_000];
        for (int i = 0; i < entries.length; i++) entries[i] = i % 2 == 0 ? noop(i + 1, 1) : command(i + 1, 1, 0);
        AppendRequest m = new AppendRequest(1, 2, 1, 0, 0, Arrays.asList(entries), 0);
        assertEquals(m, codec.decode(ByteBuffer.wrap(codec.encode(m))));
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 63, FrameCodec.MAX_MAX_FRAME_BYTES + 1, Integer.MAX_VALUE})
    void aMaximumOutsideTheAllowedRangeIsRefused(int max) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new FrameCodec(max));
        assertTrue(e.getMessage().contains("between 64 and"), e.getMessage());
    }

    // ---------------------------------------------------------------- refusals

    /** {@code frame} with its CRC recomputed over its current bytes, as a careful forger would. */
    static byte[] withCrc(byte[] frame) {
        ByteBuffer b = ByteBuffer.wrap(frame);
        b.putInt(frame.length - 4, FrameEnvelope.crc(b, 4, frame.length - 8));
        return frame;
    }

    /** {@code frame} with its length field set to what it now holds. */
    static byte[] withLength(byte[] frame) {
        ByteBuffer.wrap(frame).putInt(0, frame.length - 4);
        return frame;
    }

    private FrameException refused(byte[] frame, long offset, String... mustMention) {
        ByteBuffer in = ByteBuffer.wrap(frame);
        FrameException e = assertThrows(FrameException.class, () -> codec.decode(in));
        assertEquals(0, in.position(), "a refused frame is not consumed");
        for (String s : mustMention) assertTrue(e.getMessage().contains(s), e.getMessage());
        assertEquals(offset, e.offset(), e.getMessage());
        assertTrue(e.getMessage().startsWith("bad frame at byte " + offset + ": "), e.getMessage());
        return e;
    }

    private byte[] heartbeat() {
        return codec.encode(new Heartbeat(1, 2, 3, 4, 5));
    }

    @Test
    void aFrameWithAnotherVersionIsRefused() {
        byte[] f = heartbeat();
        f[4] = 2;
        refused(f, 4, "frame version 2; this build reads version 1 only");
        refused(withCrc(f), 4, "frame version 2");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 13, 127, 255})
    void aFrameOfAnUnknownTypeIsRefused(int type) {
        byte[] f = heartbeat();
        f[5] = (byte) type;
        refused(withCrc(f), 5, "unknown message type " + type, "1 to 12");
    }

    @Test
    void aFrameWhoseCrcDoesNotMatchIsRefused() {
        byte[] f = heartbeat();
        f[20] ^= 0x10;
        refused(f, f.length - 4, "CRC32C mismatch");
        byte[] g = heartbeat();
        g[g.length - 1] ^= 1;
        refused(g, g.length - 4, "CRC32C mismatch");
    }

    @Test
    void everyTruncationOfAFrameIsRefused() {
        byte[] f = codec.encode(new AppendRequest(1, 2, 3, 4, 5, List.of(command(5, 3, 10)), 4));
        for (int n = 0; n < f.length; n++) {
            byte[] cut = Arrays.copyOf(f, n);
            if (n < 4) refused(cut, 0, "the frame has " + n + " bytes; its length field alone needs 4");
            else refused(cut, n, "cut short", "says " + (f.length - 4) + " bytes follow it, but only " + (n - 4));
        }
    }

    @Test
    void aFrameWithTrailingBytesIsRefused() {
        byte[] f = Arrays.copyOf(heartbeat(), heartbeat().length + 3);
        refused(f, f.length - 3, "3 trailing bytes");
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 0, 5, FrameCodec.DEFAULT_MAX_FRAME_BYTES - 3, Integer.MAX_VALUE})
    void aLengthFieldOutsideTheAllowedRangeIsRefused(int length) {
        byte[] f = heartbeat();
        ByteBuffer.wrap(f).putInt(0, length);
        refused(f, 0, "the length field says " + length + " bytes follow it; it must be between 6 and "
                + (FrameCodec.DEFAULT_MAX_FRAME_BYTES - 4));
    }

    @Test
    void aBodyOfTheWrongSizeForItsTypeIsRefused() {
        byte[] f = heartbeat();
        f[5] = FrameCodec.TIMEOUT_NOW;
        refused(withCrc(f), 6, "a TimeoutNow body has 16 bytes, this one 32");
        byte[] g = codec.encode(new TimeoutNow(1, 2, 3));
        g[5] = FrameCodec.HEARTBEAT;
        refused(withCrc(g), 6, "a Heartbeat body has 32 bytes, this one 16");
        g[5] = FrameCodec.APPEND_REQUEST;
        refused(withCrc(g), 6, "an AppendRequest body has at least 44 bytes, this one 16");
        byte[] empty = withCrc(withLength(Arrays.copyOf(g, 10)));
        refused(empty, 6, "an AppendRequest body has at least 44 bytes, this one 0");
    }

    @Test
    void flagBitsOutsideTheDefinedOnesAreRefused() {
        byte[] vote = codec.encode(new VoteRequest(1, 2, 3, 4, 5, true, true));
        vote[6 + 32] |= 4;
        refused(withCrc(vote), 38, "VoteRequest flags 07 set bits outside 03");
        byte[] answer = codec.encode(new VoteResponse(1, 2, 3, true, false));
        answer[6 + 16] = (byte) 0x80;
        refused(withCrc(answer), 22, "VoteResponse flags 80");
        byte[] append = codec.encode(new AppendResponse(1, 2, 3, true, 4, 5, 6));
        append[6 + 16] = 2;
        refused(withCrc(append), 22, "AppendResponse flags 02 set bits outside 01");
    }

    private static final int COUNT_AT = 6 + 40;
    private static final int FIRST_ENTRY_AT = COUNT_AT + 4;

    private byte[] appendWithOneEntry() {
        return codec.encode(new AppendRequest(1, 2, 3, 4, 5, List.of(command(5, 3, 10)), 4));
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 2, 100, Integer.MAX_VALUE})
    void anEntryCountTheBodyCannotHoldIsRefusedBeforeAnythingIsAllocated(int count) {
        byte[] f = appendWithOneEntry();
        ByteBuffer.wrap(f).putInt(COUNT_AT, count);
        refused(withCrc(f), COUNT_AT, "says it carries " + count + " entries; the 31 bytes after the count hold"
                + " between 0 and 1");
    }

    @Test
    void aSnapshotChunkAckOutsideItsRangeIsRefused() {
        byte[] f = codec.encode(new io.raftkv.raft.Message.SnapshotChunkAck(1, 2, 3, 40, 100));
        ByteBuffer.wrap(f).putLong(6 + 16 + 8, -1);
        refused(withCrc(f), 6 + 16 + 8, "received -1 bytes; it must be >= 0");
        byte[] g = codec.encode(new io.raftkv.raft.Message.SnapshotChunkAck(1, 2, 3, 40, 100));
        ByteBuffer.wrap(g).putLong(6 + 16, 0);
        refused(withCrc(g), 6 + 16, "snapshot index 0; it must be >= 1");
    }

    @Test
    void aNegativeReadIndexIsRefused() {
        byte[] f = codec.encode(new io.raftkv.raft.Message.ReadIndexResponse(1, 2, 3, 4, 5));
        ByteBuffer.wrap(f).putLong(6 + 16 + 8, -1);
        refused(withCrc(f), 6 + 16 + 8, "read index -1; it must be >= 0 (0 for a refusal)");
    }

    @Test
    void entryFieldsTheLogCannotHoldAreRefused() {
        byte[] f = appendWithOneEntry();
        ByteBuffer.wrap(f).putLong(FIRST_ENTRY_AT, 0);
        refused(withCrc(f), FIRST_ENTRY_AT, "entry 0 has index 0; it must be >= 1");
        f = appendWithOneEntry();
        ByteBuffer.wrap(f).putLong(FIRST_ENTRY_AT + 8, -3);
        refused(withCrc(f), FIRST_ENTRY_AT + 8, "entry 0 has term -3; it must be >= 1");
        f = appendWithOneEntry();
        f[FIRST_ENTRY_AT + 16] = 3;
        refused(withCrc(f), FIRST_ENTRY_AT + 16, "entry 0 has kind 3; the kinds are 0 (NOOP), 1 (COMMAND) and 2 (CONFIG)");
        f = appendWithOneEntry();
        f[FIRST_ENTRY_AT + 16] = 2;
        refused(withCrc(f), FIRST_ENTRY_AT + 21, "not a configuration");
    }

    @ParameterizedTest
    @ValueSource(ints = {Integer.MIN_VALUE, -1, 11, 1 << 20, Integer.MAX_VALUE})
    void aDataLengthTheBodyCannotHoldIsRefusedBeforeAnythingIsAllocated(int dataLength) {
        byte[] f = appendWithOneEntry();
        ByteBuffer.wrap(f).putInt(FIRST_ENTRY_AT + 17, dataLength);
        refused(withCrc(f), FIRST_ENTRY_AT + 17, "entry 0 says its data has " + dataLength
                + " bytes; between 0 and 10 remain");
    }

    @Test
    void bytesAfterTheLastEntryAreRefused() {
        byte[] f = appendWithOneEntry();
        ByteBuffer.wrap(f).putInt(FIRST_ENTRY_AT + 17, 9);
        refused(withCrc(f), f.length - 5, "the AppendRequest body has 1 bytes after its last entry");
    }

    @Test
    void anEntryCutShortIsRefused() {
        byte[] f = codec.encode(new AppendRequest(1, 2, 3, 4, 5, List.of(command(5, 3, 0), command(6, 3, 25)), 4));
        ByteBuffer.wrap(f).putInt(FIRST_ENTRY_AT + 17, 26);
        refused(withCrc(f), FIRST_ENTRY_AT + 21 + 26, "entry 1 of 2 is cut short", "21 bytes, 20 remain");
    }
}
