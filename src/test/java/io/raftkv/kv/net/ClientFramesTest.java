package io.raftkv.kv.net;

import io.raftkv.kv.KvRequest;
import io.raftkv.kv.KvResponse;
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
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class ClientFramesTest {
    private static final int MAX = FrameCodec.DEFAULT_MAX_FRAME_BYTES;

    private static final List<ClientFrames.ClientFrame> SAMPLES = List.of(
            new ClientFrames.Request(1, new KvRequest(KvRequest.Kind.PUT, 7, 3, "k", "välue ✓")),
            new ClientFrames.Request(2, new KvRequest(KvRequest.Kind.GET, 0, 0, "k", null)),
            new ClientFrames.Request(3, new KvRequest(KvRequest.Kind.REGISTER, 0, 0, null, null)),
            new ClientFrames.Request(Long.MAX_VALUE, new KvRequest(KvRequest.Kind.REPLACE, -1, Long.MIN_VALUE, "", "")),
            new ClientFrames.Response(4, new KvResponse.Ok(null)),
            new ClientFrames.Response(5, new KvResponse.Ok("v")),
            new ClientFrames.Response(6, new KvResponse.Ok(true)),
            new ClientFrames.Response(7, new KvResponse.Ok(false)),
            new ClientFrames.Response(8, new KvResponse.Ok(42L)),
            new ClientFrames.Response(9, new KvResponse.NotLeader(3)),
            new ClientFrames.Response(10, new KvResponse.Unavailable("down")),
            new ClientFrames.Response(11, new KvResponse.Refused("too big")),
            new ClientFrames.StatusRequest(12),
            new ClientFrames.StatusResponse(13, new NodeStatus(2, true, Role.LEADER, 9, 2, 100, 99, 98)));

    @Test
    void everyFrameRoundTripsAndReencodesToTheSameBytes() throws FrameException {
        for (ClientFrames.ClientFrame f : SAMPLES) {
            byte[] bytes = ClientFrames.encode(f, MAX);
            ClientFrames.ClientFrame back = ClientFrames.decode(ByteBuffer.wrap(bytes), MAX);
            assertEquals(f, back);
            assertArrayEquals(bytes, ClientFrames.encode(back, MAX), f.toString());
        }
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
     * Random and mutated frames: only {@link FrameException} escapes, and whatever decodes re-encodes to the
     * same bytes. Replay with -Dcodec.seed=N.
     */
    @Test
    void damagedFramesAreRefusedWithTheDocumentedExceptionOnly() {
        String given = System.getProperty("codec.seed");
        long seed = given == null || given.isBlank() ? System.nanoTime() : Long.parseLong(given);
        System.out.println("ClientFramesTest seed " + seed + " (replay with -Dcodec.seed=" + seed + ")");
        SplittableRandom random = new SplittableRandom(seed);
        int accepted = 0;
        for (int i = 0; i < 200_000; i++) {
            byte[] frame = ClientFrames.encode(SAMPLES.get(random.nextInt(SAMPLES.size())), MAX).clone();
            int flips = 1 + random.nextInt(4);
            for (int f = 0; f < flips; f++) frame[random.nextInt(frame.length)] = (byte) random.nextInt(256);
            if (random.nextInt(4) == 0) resealCrc(frame); // get past the CRC to reach the body's checks
            try {
                ClientFrames.ClientFrame back = ClientFrames.decode(ByteBuffer.wrap(frame), MAX);
                assertArrayEquals(frame, ClientFrames.encode(back, MAX), "seed " + seed + ", frame " + i);
                accepted++;
            } catch (FrameException expected) {
                // the documented refusal
            } catch (RuntimeException e) {
                fail("seed " + seed + ", frame " + i + ": " + e, e);
            }
        }
        assertTrue(accepted > 0, "some mutations keep a valid frame");
    }

    private static void resealCrc(byte[] frame) {
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        int length = ByteBuffer.wrap(frame).getInt(0);
        if (length < 6 || length != frame.length - 4) return;
        crc.update(frame, 4, frame.length - 8);
        ByteBuffer.wrap(frame).putInt(frame.length - 4, (int) crc.getValue());
    }
}
