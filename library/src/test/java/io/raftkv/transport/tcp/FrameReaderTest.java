package io.raftkv.transport.tcp;

import io.raftkv.raft.Message;
import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.TimeoutNow;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class FrameReaderTest {
    private final FrameCodec codec = new FrameCodec();

    static InputStream streamOf(byte[]... frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] f : frames) out.writeBytes(f);
        return new ByteArrayInputStream(out.toByteArray());
    }

    /** A stream that starts with {@code head} and then never ends, counting what is read from it. */
    private static final class EndlessStream extends InputStream {
        private final byte[] head;
        long read;

        EndlessStream(byte[] head) {
            this.head = head;
        }

        @Override
        public int read() {
            return read < head.length ? head[(int) read++] & 0xFF : (int) (read++ & 0x7F);
        }
    }

    @Test
    void readsFramesInOrderThenReportsTheCleanEndOfTheStream() throws Exception {
        List<Message> sent = List.of(new Heartbeat(1, 2, 3, 4, 5),
                new AppendRequest(1, 2, 3, 0, 0, List.of(FrameCodecTest.command(1, 3, 5000)), 0),
                new TimeoutNow(1, 2, 3),
                new AppendRequest(1, 2, 3, 0, 0, List.of(FrameCodecTest.command(1, 3, 70_000)), 0),
                new TimeoutNow(1, 2, 4));
        FrameReader reader = new FrameReader(streamOf(sent.stream().map(codec::encode).toArray(byte[][]::new)), codec);
        for (Message m : sent) assertEquals(m, reader.read());
        assertNull(reader.read());
        assertNull(reader.read(), "the end stays the end");
    }

    /** A stream over {@code bytes} whose reads return 1 to {@code most} bytes, as a socket's may, chosen by {@code random}. */
    static final class ChoppyStream extends InputStream {
        private final byte[] bytes;
        private final java.util.Random random;
        private final int most;
        private int at;

        ChoppyStream(byte[] bytes, java.util.Random random, int most) {
            this.bytes = bytes;
            this.random = random;
            this.most = most;
        }

        @Override
        public int read() {
            return at < bytes.length ? bytes[at++] & 0xFF : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            if (at == bytes.length) return -1;
            int n = Math.min(Math.min(len, bytes.length - at), 1 + random.nextInt(most));
            System.arraycopy(bytes, at, b, off, n);
            at += n;
            return n;
        }
    }

    @Test
    void framesCutAnywhereByTheStreamAndFramesLargerThanTheBufferAreReadWhole() throws Exception {
        long seed = Long.getLong("raftkv.seed", System.nanoTime());
        System.out.println("FrameReaderTest seed " + seed + " (replay with -Draftkv.seed=" + seed + ")");
        java.util.Random random = new java.util.Random(seed);
        List<Message> sent = new java.util.ArrayList<>();
        for (int i = 0; i < 300; i++) {
            // Mostly small frames, many to a read; now and then one larger than the reader's first buffer.
            int value = random.nextInt(10) == 0 ? random.nextInt(3 * FrameReader.INITIAL_BUFFER_BYTES) : random.nextInt(200);
            sent.add(random.nextBoolean() ? new Heartbeat(1, 2, i, 4, 5)
                    : new AppendRequest(1, 2, i, 0, 0, List.of(FrameCodecTest.command(1, 3, value)), 0));
        }
        byte[] all = streamOf(sent.stream().map(codec::encode).toArray(byte[][]::new)).readAllBytes();
        for (int most : new int[] {1, 7, 300, 1 << 20}) {
            FrameReader reader = new FrameReader(new ChoppyStream(all, random, most), codec);
            for (Message m : sent) assertEquals(m, reader.read(), "seed " + seed + ", reads of at most " + most + " bytes");
            assertNull(reader.read(), "seed " + seed);
        }
    }

    @Test
    void aStreamEndingInsideALengthFieldIsAnEndOfFileError() {
        byte[] f = codec.encode(new TimeoutNow(1, 2, 3));
        FrameReader reader = new FrameReader(streamOf(f, Arrays.copyOf(f, 3)), codec);
        EOFException e = assertThrows(EOFException.class, () -> {
            reader.read();
            reader.read();
        });
        assertTrue(e.getMessage().contains("inside a frame's length field, after 3 of 4 bytes"), e.getMessage());
    }

    @Test
    void aStreamEndingInsideABodyIsAnEndOfFileError() {
        byte[] f = codec.encode(new Heartbeat(1, 2, 3, 4, 5));
        FrameReader reader = new FrameReader(streamOf(Arrays.copyOf(f, 20)), codec);
        EOFException e = assertThrows(EOFException.class, reader::read);
        assertTrue(e.getMessage().contains("inside a frame of " + f.length + " bytes, after 20"), e.getMessage());
    }

    @Test
    void aBadFrameIsAFrameException() {
        byte[] f = codec.encode(new Heartbeat(1, 2, 3, 4, 5));
        f[10] ^= 1;
        FrameException e = assertThrows(FrameException.class, () -> new FrameReader(streamOf(f), codec).read());
        assertTrue(e.getMessage().contains("CRC32C mismatch"), e.getMessage());
    }

    @Test
    void aHostileLengthIsRefusedBeforeAnythingIsAllocatedForIt() {
        // The first pass loads classes and links string concatenation; the second is measured.
        for (int pass = 0; pass < 2; pass++) {
            for (int length : new int[] {Integer.MAX_VALUE, Integer.MIN_VALUE, -1, FrameCodec.DEFAULT_MAX_FRAME_BYTES - 3}) {
                byte[] head = {(byte) (length >>> 24), (byte) (length >>> 16), (byte) (length >>> 8), (byte) length};
                EndlessStream in = new EndlessStream(head);
                FrameReader reader = new FrameReader(in, codec);
                long allocated = Allocation.measure(() -> assertThrows(FrameException.class, reader::read));
                // A buffered reader takes what the stream has, up to its buffer; it never grows the buffer for the frame.
                assertTrue(in.read <= FrameReader.INITIAL_BUFFER_BYTES, "read " + in.read + " bytes for a refused frame");
                if (pass == 1 && allocated >= 0) {
                    assertTrue(allocated < 64 * 1024, "refusing length " + length + " allocated " + allocated + " bytes");
                }
            }
        }
    }

    @Test
    void aFrameOfTheMaximumSizeIsRead() throws Exception {
        FrameCodec small = new FrameCodec(4096);
        int fixed = small.encodedSize(new AppendRequest(1, 2, 3, 0, 0, List.of(FrameCodecTest.command(1, 3, 0)), 0));
        AppendRequest largest = new AppendRequest(1, 2, 3, 0, 0, List.of(FrameCodecTest.command(1, 3, 4096 - fixed)), 0);
        byte[] over = new FrameCodec(8192).encode(
                new AppendRequest(1, 2, 3, 0, 0, List.of(FrameCodecTest.command(1, 3, 4097 - fixed)), 0));
        FrameReader reader = new FrameReader(streamOf(small.encode(largest), over), small);
        assertEquals(largest, reader.read());
        FrameException e = assertThrows(FrameException.class, reader::read);
        assertTrue(e.getMessage().contains("says 4093 bytes follow it; it must be between 6 and 4092"), e.getMessage());
    }

    /** Bytes allocated by the current thread, where the JVM can count them. */
    static final class Allocation {
        private Allocation() {}

        static boolean supported() {
            return ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                    && t.isThreadAllocatedMemorySupported() && t.isThreadAllocatedMemoryEnabled();
        }

        /** Bytes the current thread allocated so far, or -1 if the JVM cannot say. */
        static long now() {
            return ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
                    ? t.getCurrentThreadAllocatedBytes() : -1;
        }

        /** Bytes {@code run} allocated on the current thread, or -1 if the JVM cannot say. */
        static long measure(Runnable run) {
            if (!supported()) {
                run.run();
                return -1;
            }
            long before = now();
            run.run();
            return now() - before;
        }
    }

    @Test
    void allocationCanBeMeasuredHere() {
        assumeTrue(Allocation.supported(), "this JVM does not count allocated bytes per thread");
        long bytes = Allocation.measure(() -> {
            byte[] b = new byte[100_000];
            b[1] = 1;
        });
        assertTrue(bytes >= 100_000 && bytes < 200_000, "measured " + bytes);
    }
}
