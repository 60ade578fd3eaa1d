package io.raftkv.transport.tcp;

import io.raftkv.raft.Entry;
import io.raftkv.raft.Message;
import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.HeartbeatResponse;
import io.raftkv.raft.Message.ReadIndexRequest;
import io.raftkv.raft.Message.ReadIndexResponse;
import io.raftkv.raft.Message.TimeoutNow;
import io.raftkv.raft.Message.VoteRequest;
import io.raftkv.raft.Message.VoteResponse;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.SplittableRandom;

import static io.raftkv.transport.tcp.FrameCodecTest.withCrc;
import static io.raftkv.transport.tcp.FrameCodecTest.withLength;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Feeds the decoder a million random and mutated frames: each must decode to a message that re-encodes
 * to the very same bytes, or be refused with a {@link FrameException}; nothing else may escape, nothing
 * may hang, and no decode may allocate much more than the frame it reads.
 *
 * <p>{@code -Dcodec.seed=S} replays seed S; {@code -Dcodec.frames=N} runs N frames instead of 1,000,000.
 */
class FrameCodecFuzzTest {
    private static final int DEFAULT_FRAMES = 1_000_000;
    /** A decode may allocate its frame's bytes a few times over (entries, lists, data) plus a fixed amount (an exception). */
    private static final long ALLOCATION_FIXED_BYTES = 32 * 1024;
    private static final long ALLOCATION_PER_FRAME_BYTE = 4;
    private static final int[] INTERESTING_INTS = {0, 1, -1, 2, 5, 6, 7, 21, 255, 256, Integer.MAX_VALUE,
            Integer.MIN_VALUE, Integer.MAX_VALUE - 3, 1 << 20, 16 << 20, (16 << 20) - 4, (16 << 20) - 3, 1020, 1021};
    /** The types whose bodies are of fixed size or entries, which random bodies of a frame's size exercise. */
    private static final int[] RANDOM_BODY_TYPES = {1, 2, 3, 4, 5, 6, 7, FrameCodec.READ_INDEX_REQUEST, FrameCodec.READ_INDEX_RESPONSE};
    private static final byte[] INTERESTING_BYTES = {0, 1, 2, 3, 7, 8, 0x7F, (byte) 0x80, (byte) 0xFF};

    enum Mutation {
        NONE, BIT_FLIPS_CRC_WRONG, BIT_FLIPS_CRC_FIXED, BYTES_SET_CRC_FIXED, INT_SET_CRC_FIXED, TRUNCATED,
        EXTENDED, LENGTH_TAMPERED, TYPE_OR_VERSION_CHANGED, SPLICED, RANDOM_BYTES, RANDOM_BODY_CRC_FIXED
    }

    private static long seed() {
        String given = System.getProperty("codec.seed", "").trim();
        return given.isEmpty() ? System.nanoTime() ^ 0x9E3779B97F4A7C15L : Long.parseLong(given);
    }

    @Test
    void randomAndMutatedFramesDecodeToTheSameBytesOrAreRefusedWithAFrameException() {
        long seed = seed();
        int frames = Integer.getInteger("codec.frames", DEFAULT_FRAMES);
        System.out.println("FrameCodecFuzzTest: seed " + seed + ", " + frames + " frames; replay with -Dcodec.seed="
                + seed);
        Fuzz fuzz = new Fuzz(seed);
        long start = System.nanoTime();
        // A hang anywhere in the decoder fails here instead of wedging the build.
        assertTimeoutPreemptively(Duration.ofSeconds(60), () -> fuzz.run(frames),
                () -> "timed out; replay with -Dcodec.seed=" + seed);
        double seconds = (System.nanoTime() - start) / 1e9;
        System.out.printf("FrameCodecFuzzTest: %d frames in %.2f s (%.0f frames/s); accepted %d, refused %d"
                        + " (length %d, version %d, type %d, CRC %d, body %d); largest decode allocation %d bytes"
                        + " (measured: %b)%n", frames, seconds, frames / seconds, fuzz.accepted, fuzz.refused(),
                fuzz.refusedAt[0], fuzz.refusedAt[1], fuzz.refusedAt[2], fuzz.refusedAt[3], fuzz.refusedAt[4],
                fuzz.largestAllocation, FrameReaderTest.Allocation.supported());
        for (Mutation m : Mutation.values()) {
            System.out.printf("  %-24s accepted %8d  refused %8d%n", m, fuzz.acceptedBy[m.ordinal()],
                    fuzz.refusedBy[m.ordinal()]);
        }
        assertEquals(frames, fuzz.accepted + fuzz.refused());
        // The mutations must reach every check, the body parser's above all, or the run proves little.
        for (int region = 0; region < fuzz.refusedAt.length; region++) {
            assertTrue(fuzz.refusedAt[region] > frames / 1000, "few refusals in region " + region + "; seed " + seed);
        }
        assertTrue(fuzz.refusedAt[4] > frames / 10, "the body parser saw too few bad bodies; seed " + seed);
        assertTrue(fuzz.acceptedBy[Mutation.INT_SET_CRC_FIXED.ordinal()] > 0, "no mutated frame was accepted");
    }

    private static final class Fuzz {
        private final long seed;
        private final SplittableRandom random;
        private final FrameCodec large = new FrameCodec();
        private final FrameCodec small = new FrameCodec(1024);
        private final boolean measure = FrameReaderTest.Allocation.supported();
        long accepted;
        final long[] refusedAt = new long[5]; // length, version, type, CRC, body
        final long[] acceptedBy = new long[Mutation.values().length];
        final long[] refusedBy = new long[Mutation.values().length];
        long largestAllocation;

        Fuzz(long seed) {
            this.seed = seed;
            this.random = new SplittableRandom(seed);
        }

        long refused() {
            return Arrays.stream(refusedAt).sum();
        }

        void run(int frames) {
            for (int i = 0; i < frames; i++) {
                Message original = randomMessage();
                byte[] valid = large.encode(original);
                // Half the frames go to a codec with a small maximum, so that extensions cross it.
                FrameCodec codec = valid.length <= small.maxFrameBytes() && random.nextBoolean() ? small : large;
                Mutation mutation = Mutation.values()[random.nextInt(Mutation.values().length)];
                byte[] frame = mutate(mutation, valid, codec);
                check(i, codec, mutation, original, frame);
            }
        }

        private void check(int i, FrameCodec codec, Mutation mutation, Message original, byte[] frame) {
            Message decoded = null;
            FrameException refusal = null;
            long before = measure ? FrameReaderTest.Allocation.now() : 0;
            try {
                decoded = codec.decode(ByteBuffer.wrap(frame));
            } catch (FrameException e) {
                refusal = e;
            } catch (RuntimeException | Error e) {
                throw new AssertionError(describe(i, mutation, frame) + ": " + e + " escaped the decoder", e);
            }
            if (measure) {
                long bound = ALLOCATION_FIXED_BYTES + ALLOCATION_PER_FRAME_BYTE * frame.length;
                long allocated = FrameReaderTest.Allocation.now() - before;
                if (allocated > bound) {
                    // The first run of a path loads classes and links string concatenation; measure it again.
                    allocated = FrameReaderTest.Allocation.measure(() -> {
                        try {
                            codec.decode(ByteBuffer.wrap(frame));
                        } catch (FrameException e) {
                            // as before
                        }
                    });
                }
                long measured = allocated;
                largestAllocation = Math.max(largestAllocation, measured);
                assertTrue(measured <= bound,
                        () -> describe(i, mutation, frame) + ": decoding allocated " + measured + " bytes");
            }
            if (refusal != null) {
                refusedBy[mutation.ordinal()]++;
                refusedAt[region(refusal, frame.length)]++;
                return;
            }
            acceptedBy[mutation.ordinal()]++;
            accepted++;
            assertArrayEquals(frame, codec.encode(decoded),
                    () -> describe(i, mutation, frame) + ": decoded to a message that encodes differently");
            if (mutation == Mutation.NONE) assertEquals(original, decoded, () -> describe(i, mutation, frame));
        }

        private static int region(FrameException e, int frameLength) {
            if (e.offset() == 0) return 0;
            if (e.offset() == 4) return 1;
            if (e.offset() == 5) return 2;
            if (e.getMessage().contains("CRC32C mismatch")) return 3;
            // Truncated and trailing bytes are whole-frame faults; count them with the length's.
            return e.getMessage().contains("cut short: its length") || e.getMessage().contains("trailing") ? 0 : 4;
        }

        private String describe(int i, Mutation mutation, byte[] frame) {
            return "seed " + seed + ", frame " + i + " (" + mutation + ", " + frame.length + " bytes: "
                    + HexFormat.of().formatHex(frame, 0, Math.min(frame.length, 200)) + ")";
        }

        // ------------------------------------------------------------ generation

        private long anyLong() {
            return switch (random.nextInt(4)) {
                case 0 -> random.nextLong(100);
                case 1 -> random.nextLong();
                case 2 -> random.nextBoolean() ? Long.MAX_VALUE : Long.MIN_VALUE;
                default -> -random.nextLong(3);
            };
        }

        private int anyInt() {
            return random.nextInt(4) == 0 ? random.nextInt() : random.nextInt(-1, 8);
        }

        private Message randomMessage() {
            int from = anyInt(), to = anyInt();
            long term = anyLong();
            return switch (random.nextInt(8)) {
                case 0 -> new VoteRequest(from, to, term, anyLong(), anyLong(), random.nextBoolean(), random.nextBoolean());
                case 1 -> new VoteResponse(from, to, term, random.nextBoolean(), random.nextBoolean());
                case 2, 3 -> {
                    int count = random.nextInt(8) == 0 ? random.nextInt(40) : random.nextInt(4);
                    List<Entry> entries = new ArrayList<>(count);
                    long index = 1 + random.nextLong(1000);
                    for (int k = 0; k < count; k++) {
                        if (random.nextInt(4) == 0) {
                            entries.add(new Entry(index + k, 1 + random.nextLong(10), Entry.Kind.NOOP, new byte[0]));
                        } else {
                            byte[] data = new byte[random.nextInt(8) == 0 ? random.nextInt(200) : random.nextInt(24)];
                            random.nextBytes(data);
                            entries.add(new Entry(index + k, 1 + random.nextLong(10), Entry.Kind.COMMAND, data));
                        }
                    }
                    yield new AppendRequest(from, to, term, index - 1, anyLong(), entries, anyLong());
                }
                case 4 -> new AppendResponse(from, to, term, random.nextBoolean(), anyLong(), anyLong(), anyLong());
                case 5 -> random.nextBoolean() ? new Heartbeat(from, to, term, anyLong(), anyLong())
                        : new HeartbeatResponse(from, to, term, anyLong());
                case 6 -> random.nextBoolean() ? new ReadIndexRequest(from, to, term, anyLong())
                        : new ReadIndexResponse(from, to, term, anyLong(), random.nextBoolean() ? 0 : random.nextLong(Long.MAX_VALUE));
                default -> new TimeoutNow(from, to, term);
            };
        }

        // ------------------------------------------------------------ mutation

        private byte[] mutate(Mutation mutation, byte[] valid, FrameCodec codec) {
            byte[] f = valid.clone();
            int n = f.length;
            return switch (mutation) {
                case NONE -> f;
                case BIT_FLIPS_CRC_WRONG -> {
                    for (int k = 1 + random.nextInt(3); k > 0; k--) f[random.nextInt(n)] ^= (byte) (1 << random.nextInt(8));
                    yield f;
                }
                case BIT_FLIPS_CRC_FIXED -> {
                    for (int k = 1 + random.nextInt(3); k > 0; k--) {
                        f[4 + random.nextInt(n - 8)] ^= (byte) (1 << random.nextInt(8));
                    }
                    yield withCrc(f);
                }
                case BYTES_SET_CRC_FIXED -> {
                    for (int k = 1 + random.nextInt(4); k > 0; k--) {
                        f[FrameCodec.BODY_OFFSET + random.nextInt(n - 10)] = random.nextBoolean()
                                ? INTERESTING_BYTES[random.nextInt(INTERESTING_BYTES.length)] : (byte) random.nextInt();
                    }
                    yield withCrc(f);
                }
                case INT_SET_CRC_FIXED -> {
                    int at = intField(f);
                    int value = random.nextBoolean() ? INTERESTING_INTS[random.nextInt(INTERESTING_INTS.length)]
                            : random.nextInt(-2, n);
                    ByteBuffer.wrap(f).putInt(at, value);
                    yield withCrc(f);
                }
                case TRUNCATED -> {
                    byte[] cut = Arrays.copyOf(f, random.nextInt(n));
                    yield random.nextBoolean() && cut.length >= 8 ? withCrc(withLength(cut)) : cut;
                }
                case EXTENDED -> {
                    // Up to just past the maximum only for the small codec: 16 MiB frames would make a slow test.
                    int more = codec == small && random.nextInt(8) == 0
                            ? codec.maxFrameBytes() - n + random.nextInt(-2, 3) : 1 + random.nextInt(64);
                    byte[] longer = Arrays.copyOf(f, n + Math.max(1, more));
                    for (int k = n; k < longer.length && k < n + 64; k++) longer[k] = (byte) random.nextInt();
                    yield random.nextBoolean() ? withCrc(withLength(longer)) : longer;
                }
                case LENGTH_TAMPERED -> {
                    int value = random.nextBoolean() ? INTERESTING_INTS[random.nextInt(INTERESTING_INTS.length)]
                            : n - 4 + random.nextInt(-3, 4);
                    ByteBuffer.wrap(f).putInt(0, value);
                    yield f;
                }
                case TYPE_OR_VERSION_CHANGED -> {
                    f[random.nextInt(4) == 0 ? 4 : 5] = random.nextBoolean() ? (byte) random.nextInt(14) : (byte) random.nextInt();
                    yield withCrc(f);
                }
                case SPLICED -> {
                    byte[] other = large.encode(randomMessage());
                    int head = random.nextInt(n), tail = random.nextInt(other.length);
                    byte[] spliced = Arrays.copyOf(f, head + other.length - tail);
                    System.arraycopy(other, tail, spliced, head, other.length - tail);
                    yield spliced.length >= 8 ? withCrc(withLength(spliced)) : spliced;
                }
                case RANDOM_BYTES -> {
                    byte[] r = new byte[random.nextInt(120)];
                    random.nextBytes(r);
                    yield random.nextBoolean() && r.length >= 4 ? withLength(r) : r;
                }
                case RANDOM_BODY_CRC_FIXED -> {
                    byte[] r = new byte[10 + random.nextInt(120)];
                    random.nextBytes(r);
                    r[4] = FrameCodec.VERSION;
                    r[5] = (byte) RANDOM_BODY_TYPES[random.nextInt(RANDOM_BODY_TYPES.length)];
                    yield withCrc(withLength(r));
                }
            };
        }

        /** The offset of an int field worth tampering with: an entry count or data length if there is one. */
        private int intField(byte[] f) {
            if (f[5] == FrameCodec.APPEND_REQUEST && random.nextInt(4) != 0) {
                List<Integer> fields = new ArrayList<>();
                int count = 6 + 40;
                fields.add(count);
                ByteBuffer b = ByteBuffer.wrap(f);
                int at = count + 4;
                for (int k = b.getInt(count); k > 0; k--) {
                    fields.add(at + 17);
                    at += FrameCodec.ENTRY_FIXED + b.getInt(at + 17);
                }
                return fields.get(random.nextInt(fields.size()));
            }
            return FrameCodec.BODY_OFFSET + random.nextInt(f.length - 10 - 3);
        }
    }
}
