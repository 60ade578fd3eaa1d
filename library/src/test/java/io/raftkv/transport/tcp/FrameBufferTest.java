package io.raftkv.transport.tcp;

import io.raftkv.raft.Message;
import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.Heartbeat;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FrameBufferTest {
    private final FrameCodec codec = new FrameCodec();

    /** Everything {@code channel} has, as messages, reading it into {@code frames} until its end. */
    private List<Message> drain(FrameBuffer frames, ReadableByteChannel channel) throws Exception {
        List<Message> got = new ArrayList<>();
        int n;
        do {
            n = frames.readFrom(channel);
            for (ByteBuffer f; (f = frames.next()) != null; ) got.add(codec.decode(f));
        } while (n >= 0);
        return got;
    }

    @Test
    void framesCutAnywhereAndFramesLargerThanTheBufferComeOutWholeAndInOrder() throws Exception {
        long seed = Long.getLong("raftkv.seed", System.nanoTime());
        System.out.println("FrameBufferTest seed " + seed + " (replay with -Draftkv.seed=" + seed + ")");
        Random random = new Random(seed);
        List<Message> sent = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            int value = random.nextInt(10) == 0 ? random.nextInt(40_000) : random.nextInt(200);
            sent.add(random.nextBoolean() ? new Heartbeat(1, 2, i, 4, 5)
                    : new AppendRequest(1, 2, i, 0, 0, List.of(FrameCodecTest.command(1, 3, value)), 0));
        }
        byte[] all = FrameReaderTest.streamOf(sent.stream().map(codec::encode).toArray(byte[][]::new)).readAllBytes();
        for (int most : new int[] {1, 7, 300, 1 << 20}) {
            FrameBuffer frames = new FrameBuffer(codec.maxFrameBytes(), 1024);
            var channel = Channels.newChannel(new FrameReaderTest.ChoppyStream(all, random, most));
            assertEquals(sent, drain(frames, channel), "seed " + seed + ", reads of at most " + most + " bytes");
            assertFalse(frames.holdsPart());
        }
    }

    @Test
    void aCutFrameAtTheEndIsHeldAsAPart() throws Exception {
        byte[] f = codec.encode(new Heartbeat(1, 2, 3, 4, 5));
        FrameBuffer frames = new FrameBuffer(codec.maxFrameBytes(), 64);
        var channel = Channels.newChannel(new ByteArrayInputStream(java.util.Arrays.copyOf(f, f.length - 1)));
        assertEquals(List.of(), drain(frames, channel));
        assertTrue(frames.holdsPart());
    }

    @Test
    void aHostileLengthIsRefusedBeforeTheBufferGrowsForIt() throws Exception {
        int length = Integer.MAX_VALUE;
        byte[] head = {(byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length, 1, 2, 3};
        FrameBuffer frames = new FrameBuffer(codec.maxFrameBytes(), 64);
        frames.readFrom(Channels.newChannel(new ByteArrayInputStream(head)));
        FrameException e = assertThrows(FrameException.class, frames::next);
        assertTrue(e.getMessage().contains("length field says"), e.getMessage());
        assertNull(new FrameBuffer(codec.maxFrameBytes(), 64).next(), "nothing read, no frame");
    }
}
