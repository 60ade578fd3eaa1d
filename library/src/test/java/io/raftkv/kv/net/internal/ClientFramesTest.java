package io.raftkv.kv.net.internal;

import io.raftkv.kv.KvRequest;
import io.raftkv.kv.KvResponse;
import io.raftkv.kv.net.MembershipOp;
import io.raftkv.node.NodeStatus;
import io.raftkv.raft.Role;
import io.raftkv.transport.tcp.FrameCodec;
import io.raftkv.transport.tcp.FrameException;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class ClientFramesTest {
    private static final int MAX = FrameCodec.DEFAULT_MAX_FRAME_BYTES;

    private static final List<ClientFrames.ClientFrame> SAMPLES = List.of(
            new ClientFrames.Request(1, new KvRequest(KvRequest.Kind.PUT, 7, 3, "k", "välue ✓")),
            new ClientFrames.Request(2, new KvRequest(KvRequest.Kind.GET, 0, 0, "k", null)),
            new ClientFrames.Request(3, new KvRequest(KvRequest.Kind.REGISTER, 0, 0, null, null)),
            new ClientFrames.Request(Long.MAX_VALUE, new KvRequest(KvRequest.Kind.REPLACE, -1, Long.MIN_VALUE, "", "")),
            new ClientFrames.Request(18, new KvRequest(KvRequest.Kind.DELETE, 7, 4, "gone", null)),
            new ClientFrames.Request(19, new KvRequest(KvRequest.Kind.CAS, 7, 5, "k", "new ✓", "öld")),
            new ClientFrames.Request(20, new KvRequest(KvRequest.Kind.CAS, 7, 6, "k", "created", null)),
            new ClientFrames.Request(21, new KvRequest(KvRequest.Kind.CAS, 7, 7, "", "", "")),
            new ClientFrames.Response(4, new KvResponse.Ok(null)),
            new ClientFrames.Response(5, new KvResponse.Ok("v")),
            new ClientFrames.Response(6, new KvResponse.Ok(true)),
            new ClientFrames.Response(7, new KvResponse.Ok(false)),
            new ClientFrames.Response(8, new KvResponse.Ok(42L)),
            new ClientFrames.Response(9, new KvResponse.NotLeader(3)),
            new ClientFrames.Response(10, new KvResponse.Unavailable("down")),
            new ClientFrames.Response(11, new KvResponse.Refused("too big")),
            new ClientFrames.StatusRequest(12),
            new ClientFrames.StatusResponse(13, new NodeStatus(2, true, Role.LEADER, 9, 2, 100, 99, 98)),
            new ClientFrames.AdminRequest(14, MembershipOp.MEMBERS, 0),
            new ClientFrames.AdminRequest(15, MembershipOp.ADD_VOTER, 4),
            new ClientFrames.AdminRequest(16, MembershipOp.REMOVE, Integer.MAX_VALUE),
            new ClientFrames.AdminRequest(17, MembershipOp.TRANSFER, 2),
            new ClientFrames.AdminRequest(18, MembershipOp.ADD_VOTER_AT, 6, "10.0.0.6:7001", null),
            new ClientFrames.AdminRequest(19, MembershipOp.ADDRESSES, 0),
            new ClientFrames.AdminRequest(28, MembershipOp.ADD_VOTER_AT, 7, "h:7007", "s3cret"),
            new ClientFrames.AdminRequest(22, MembershipOp.REMOVE, 3, null, "s3cret ✓"),
            new ClientFrames.AdminRequest(23, MembershipOp.ADD_VOTER, 5, null, ""),
            new ClientFrames.BackupRequest(24, "s3cret", 0, 0),
            new ClientFrames.BackupRequest(25, null, 7, 1 << 20),
            new ClientFrames.BackupChunk(26, 7, 42, 3, 5, 0x1234abcd, 2, new byte[] {3, 4, 5}),
            new ClientFrames.BackupChunk(27, 1, 1, 1, 0, 0, 0, new byte[0]));

    @Test
    void anAdminRequestWithAnUnknownOpOrANegativeNodeIsRefused() {
        byte[] op = ClientFrames.encode(new ClientFrames.AdminRequest(1, MembershipOp.REMOVE, 3), MAX);
        op[6 + 8] = 9;
        resealCrc(op);
        FrameException e = assertThrows(FrameException.class, () -> ClientFrames.decode(ByteBuffer.wrap(op), MAX));
        assertTrue(e.getMessage().contains("admin op 9"), e.getMessage());
        byte[] node = ClientFrames.encode(new ClientFrames.AdminRequest(1, MembershipOp.REMOVE, 3), MAX);
        ByteBuffer.wrap(node).putInt(6 + 8 + 1, -2);
        resealCrc(node);
        e = assertThrows(FrameException.class, () -> ClientFrames.decode(ByteBuffer.wrap(node), MAX));
        assertTrue(e.getMessage().contains("node id -2 is negative"), e.getMessage());
    }

    @Test
    void aBackupChunkPastItsStateOrABackupRequestAtANegativeOffsetIsRefused() {
        byte[] chunk = ClientFrames.encode(new ClientFrames.BackupChunk(1, 7, 42, 3, 5, 0, 2, new byte[] {3, 4, 5}), MAX);
        ByteBuffer.wrap(chunk).putLong(6 + 8 + 8 + 8 + 8 + 8 + 4, 3); // 3 bytes at offset 3 of 5
        resealCrc(chunk);
        FrameException e = assertThrows(FrameException.class, () -> ClientFrames.decode(ByteBuffer.wrap(chunk), MAX));
        assertTrue(e.getMessage().contains("3 bytes at offset 3 of 5 (3 present) is out of range"), e.getMessage());
        byte[] request = ClientFrames.encode(new ClientFrames.BackupRequest(1, null, 7, 0), MAX);
        ByteBuffer.wrap(request).putLong(request.length - 4 - 8, -1);
        resealCrc(request);
        e = assertThrows(FrameException.class, () -> ClientFrames.decode(ByteBuffer.wrap(request), MAX));
        assertTrue(e.getMessage().contains("offset -1 is negative"), e.getMessage());
    }

    @Test
    void onlyAnAdditionByAddressCarriesAnAddress() {
        assertThrows(IllegalArgumentException.class, () -> new ClientFrames.AdminRequest(1, MembershipOp.ADD_VOTER_AT, 6));
        assertThrows(IllegalArgumentException.class,
                () -> new ClientFrames.AdminRequest(1, MembershipOp.REMOVE, 6, "h:1", null));
        byte[] none = ClientFrames.encode(new ClientFrames.AdminRequest(1, MembershipOp.ADD_VOTER_AT, 6, "h:1", null), MAX);
        // After the header (6), correlation (8), op (1), node (4) and the token (none: its length, -1): the address.
        ByteBuffer.wrap(none).putInt(6 + 8 + 1 + 4 + 4, -1); // the address string's length: none
        byte[] cut = java.util.Arrays.copyOf(none, none.length - 3); // "h:1" gone: keep the CRC at the end
        System.arraycopy(none, none.length - 4, cut, cut.length - 4, 4);
        ByteBuffer.wrap(cut).putInt(0, cut.length - 4);
        resealCrc(cut);
        FrameException e = assertThrows(FrameException.class, () -> ClientFrames.decode(ByteBuffer.wrap(cut), MAX));
        assertTrue(e.getMessage().contains("address must be present"), e.getMessage());
    }

    @Test
    void everyFrameRoundTripsAndReencodesToTheSameBytes() throws FrameException {
        for (ClientFrames.ClientFrame f : SAMPLES) {
            byte[] bytes = ClientFrames.encode(f, MAX);
            ClientFrames.ClientFrame back = ClientFrames.decode(ByteBuffer.wrap(bytes), MAX);
            assertEquals(f, back);
            assertArrayEquals(bytes, ClientFrames.encode(back, MAX), f.toString());
        }
    }

    /**
     * Version 2's request: a CAS carries its expected value as a third string after the value (-1: the key must
     * be absent), and only a CAS does; the other kinds are laid out as in version 1.
     */
    @Test
    void aCasRequestCarriesItsExpectedValueAfterTheValueAndNoOtherKindCarriesOne() throws FrameException {
        byte[] cas = ClientFrames.encode(new ClientFrames.Request(1, new KvRequest(KvRequest.Kind.CAS, 7, 5, "k", "n", "ol")), MAX);
        ByteBuffer body = ByteBuffer.wrap(cas, 6, cas.length - 10);
        assertEquals(1, body.getLong());
        assertEquals(5, body.get(), "CAS is kind 5");
        body.position(body.position() + 16);
        assertEquals(1, body.getInt());
        assertEquals('k', body.get());
        assertEquals(1, body.getInt());
        assertEquals('n', body.get());
        assertEquals(2, body.getInt());
        assertEquals('o', body.get());
        assertEquals('l', body.get());
        assertEquals(0, body.remaining());
        byte[] absent = ClientFrames.encode(new ClientFrames.Request(1, new KvRequest(KvRequest.Kind.CAS, 7, 5, "k", "n", null)), MAX);
        assertEquals(-1, ByteBuffer.wrap(absent).getInt(absent.length - 8), "no expected value: the key must be absent");
        byte[] delete = ClientFrames.encode(new ClientFrames.Request(1, new KvRequest(KvRequest.Kind.DELETE, 7, 5, "k", null)), MAX);
        byte[] put = ClientFrames.encode(new ClientFrames.Request(1, new KvRequest(KvRequest.Kind.PUT, 7, 5, "k", null)), MAX);
        assertEquals(put.length, delete.length, "a DELETE is laid out as any other request");
        assertEquals(4, delete[6 + 8]);
        var e = assertThrows(IllegalArgumentException.class, () -> ClientFrames.encode(
                new ClientFrames.Request(1, new KvRequest(KvRequest.Kind.PUT, 7, 5, "k", "v", "e")), MAX));
        assertEquals("only a CAS carries an expected value, not a PUT", e.getMessage());
    }

    /** Version 3's admin request: the admin token after the node id, -1 for none; never in the record's text. */
    @Test
    void anAdminRequestCarriesItsTokenAfterTheNodeAndDoesNotPrintIt() throws FrameException {
        byte[] none = ClientFrames.encode(new ClientFrames.AdminRequest(1, MembershipOp.REMOVE, 3), MAX);
        assertEquals(-1, ByteBuffer.wrap(none).getInt(6 + 8 + 1 + 4), "no token");
        byte[] with = ClientFrames.encode(new ClientFrames.AdminRequest(1, MembershipOp.REMOVE, 3, null, "zq9"), MAX);
        ByteBuffer body = ByteBuffer.wrap(with, 6 + 8 + 1 + 4, with.length - 10 - 8 - 1 - 4);
        assertEquals(3, body.getInt());
        assertEquals('z', body.get());
        var decoded = (ClientFrames.AdminRequest) ClientFrames.decode(ByteBuffer.wrap(with), MAX);
        assertEquals("zq9", decoded.token());
        assertFalse(decoded.toString().contains("zq9"), decoded::toString);
        assertEquals(3, ClientFrames.PROTOCOL_VERSION);
    }

    @Test
    void aFrameOverTheMaximumIsRefusedWhenEncoding() {
        var big = new ClientFrames.Request(1, new KvRequest(KvRequest.Kind.PUT, 1, 1, "k", "x".repeat(100)));
        var e = assertThrows(IllegalArgumentException.class, () -> ClientFrames.encode(big, 64));
        assertTrue(e.getMessage().contains("maximum frame of 64 bytes"), e.getMessage());
    }

    @Test
    void malformedUtf8AndUnknownCodesAreRefusedWithTheirOffset() {
        byte[] frame = ClientFrames.encode(new ClientFrames.Response(5, new KvResponse.Ok("ab")), MAX);
        // body: corr(8) code(1) len(4) 'a' 'b': put a lone continuation byte where 'a' is, then fix the CRC.
        frame[6 + 8 + 1 + 4] = (byte) 0x80;
        resealCrc(frame);
        FrameException e = assertThrows(FrameException.class, () -> ClientFrames.decode(ByteBuffer.wrap(frame), MAX));
        assertTrue(e.getMessage().contains("not valid UTF-8"), e.getMessage());

        byte[] code = ClientFrames.encode(new ClientFrames.Response(5, new KvResponse.Ok(null)), MAX);
        code[6 + 8] = 99;
        resealCrc(code);
        e = assertThrows(FrameException.class, () -> ClientFrames.decode(ByteBuffer.wrap(code), MAX));
        assertTrue(e.getMessage().contains("response code 99"), e.getMessage());
        assertEquals(14, e.offset());
    }

    /**
     * 1,000,000 mutated frames (bytes overwritten; frames cut short or extended with random bytes, the length
     * and CRC sealed again half the time so the body's own checks are reached): only {@link FrameException}
     * escapes, whatever decodes re-encodes to the same bytes, and no decode allocates more than a small
     * multiple of the frame's size. Replay with -Dcodec.seed=N.
     */
    @Test
    void damagedFramesAreRefusedWithTheDocumentedExceptionOnly() {
        String given = System.getProperty("codec.seed");
        long seed = given == null || given.isBlank() ? System.nanoTime() : Long.parseLong(given);
        System.out.println("ClientFramesTest seed " + seed + " (replay with -Dcodec.seed=" + seed + ")");
        SplittableRandom random = new SplittableRandom(seed);
        com.sun.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean()
                instanceof com.sun.management.ThreadMXBean t && t.isThreadAllocatedMemorySupported() ? t : null;
        int accepted = 0;
        long largest = 0;
        for (int i = 0; i < 1_000_000; i++) {
            byte[] frame = mutate(ClientFrames.encode(SAMPLES.get(random.nextInt(SAMPLES.size())), MAX), random);
            long before = threads == null ? 0 : threads.getCurrentThreadAllocatedBytes();
            ClientFrames.ClientFrame back = null;
            try {
                back = ClientFrames.decode(ByteBuffer.wrap(frame), MAX);
            } catch (FrameException expected) {
                // the documented refusal
            } catch (RuntimeException e) {
                fail("seed " + seed + ", frame " + i + ": " + e, e);
            }
            if (threads != null) {
                long allocated = threads.getCurrentThreadAllocatedBytes() - before;
                long bound = 32 * 1024 + 8L * frame.length; // an exception and its stack trace, plus strings
                if (allocated > bound) { // a path's first run loads classes: measure it once more
                    long again = threads.getCurrentThreadAllocatedBytes();
                    try {
                        ClientFrames.decode(ByteBuffer.wrap(frame), MAX);
                    } catch (FrameException expected) {
                        // as before
                    }
                    allocated = threads.getCurrentThreadAllocatedBytes() - again;
                }
                largest = Math.max(largest, allocated);
                assertTrue(allocated <= bound, "seed " + seed + ", frame " + i + " of " + frame.length + " bytes: decoding allocated "
                        + allocated);
            }
            if (back != null) {
                assertArrayEquals(frame, ClientFrames.encode(back, MAX), "seed " + seed + ", frame " + i);
                accepted++;
            }
        }
        System.out.println("ClientFramesTest: " + accepted + " of 1,000,000 mutated frames were still valid; largest"
                + " allocation of one decode " + largest + " bytes");
        assertTrue(accepted > 0, "some mutations keep a valid frame");
    }

    private static byte[] mutate(byte[] frame, SplittableRandom random) {
        byte[] out = frame;
        switch (random.nextInt(3)) {
            case 0 -> out = java.util.Arrays.copyOf(frame, random.nextInt(frame.length + 1)); // cut short
            case 1 -> { // extended with random bytes
                out = java.util.Arrays.copyOf(frame, frame.length + 1 + random.nextInt(64));
                for (int k = frame.length; k < out.length; k++) out[k] = (byte) random.nextInt(256);
            }
            default -> {
                out = frame.clone();
                int flips = 1 + random.nextInt(4);
                for (int f = 0; f < flips; f++) out[random.nextInt(out.length)] = (byte) random.nextInt(256);
            }
        }
        if (out.length >= 10 && random.nextBoolean()) { // seal the length and CRC again: reach the body's checks
            ByteBuffer.wrap(out).putInt(0, out.length - 4);
            resealCrc(out);
        }
        return out;
    }

    private static void resealCrc(byte[] frame) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        int length = ByteBuffer.wrap(frame).getInt(0);
        if (length < 6 || length != frame.length - 4) return;
        crc.update(frame, 4, frame.length - 8);
        ByteBuffer.wrap(frame).putInt(frame.length - 4, (int) crc.getValue());
    }
}
