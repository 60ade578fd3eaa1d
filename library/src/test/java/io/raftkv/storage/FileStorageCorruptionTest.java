package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import static io.raftkv.storage.FileStorageTest.entries;
import static io.raftkv.storage.FileStorageTest.segment;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Recovery from what a crash or a bad disk leaves behind: a torn tail is cut and everything before it
 * comes back; any other damage stops the store with {@link CorruptStoreException} naming the file and
 * offset. Never wrong data. The randomized tests print their seed; {@code -Dstorage.seed=N} replays one.
 */
@ExtendWith(QuietStoreWarnings.class)
class FileStorageCorruptionTest {

    private static final int STORES = 6;
    private static final int DAMAGES_PER_STORE = 50;
    /** The randomized tests check what recovery makes of the bytes, not the disk; forcing would cost seconds. */
    private static final FileStorage.Options NO_SYNC = FileStorage.Options.defaults().withSync(false);
    private static final int FIRST_RECORD_END = LogFormat.SEGMENT_HEADER_BYTES + LogFormat.HARD_STATE_RECORD_BYTES;


    @TempDir
    Path tmp;


    static long seed(String test) {
        Long given = Long.getLong("storage.seed");
        long seed = given != null ? given : new SplittableRandom().nextLong();
        System.out.println("FileStorageCorruptionTest." + test + " seed " + seed
                + " (replay: -Dstorage.seed=" + seed + ")");
        return seed;
    }

    /** A store written by random Raft-like writes: what it held after each write, and where each write ends. */
    static final class History {
        final Path dir;
        /** Index k: the log and hard state after the first k writes. */
        final List<List<Entry>> logs = new ArrayList<>();
        final List<HardState> hardStates = new ArrayList<>();
        /** Index k (k >= 1): the segment in which write k ends, and the byte offset where it ends. */
        final List<long[]> ends = new ArrayList<>();
        /** Every file of the store as written, by name. */
        final TreeMap<String, byte[]> files = new TreeMap<>();
        long lastSegment;

        History(Path dir) {
            this.dir = dir;
        }

        int writes() {
            return logs.size() - 1;
        }

        Path lastSegmentFile() {
            return segment(dir, lastSegment);
        }

        /** Whether a write in the last segment begins at or after {@code offset}, all of it there. */
        boolean aWriteStartsAtOrAfter(long offset) {
            for (int w = 1; w <= writes(); w++) {
                if (ends.get(w)[0] != lastSegment) continue;
                long[] before = ends.get(w - 1);
                long start = before != null && before[0] == lastSegment ? before[1] : FIRST_RECORD_END;
                if (start >= offset) return true;
            }
            return false;
        }

        /** Where the last write begins in the last segment (after its header and first record if it opened it). */
        long startOfLastWrite() {
            long[] before = ends.get(writes() - 1);
            return before != null && before[0] == lastSegment ? before[1] : FIRST_RECORD_END;
        }

        /** Puts the store back as it was written, rewriting only the files that changed. */
        void restore() throws IOException {
            try (Stream<Path> s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    if (!files.containsKey(p.getFileName().toString())) Files.delete(p);
                }
            }
            for (var f : files.entrySet()) {
                Path p = dir.resolve(f.getKey());
                if (!Files.exists(p) || !Arrays.equals(Files.readAllBytes(p), f.getValue())) Files.write(p, f.getValue());
            }
        }
    }

    static History write(Path dir, SplittableRandom rnd) throws IOException {
        History h = new History(dir);
        MemoryStorage model = new MemoryStorage();
        long segmentBytes = rnd.nextLong(200, 1500);
        int writes = rnd.nextInt(10, 40);
        h.logs.add(List.of());
        h.hardStates.add(HardState.INITIAL);
        h.ends.add(null);
        long term = 1;
        int vote = 1;
        long commit = 0;
        try (FileStorage s = FileStorage.open(dir, NO_SYNC.withSegmentBytes(segmentBytes))) {
            for (int w = 1; w <= writes; w++) {
                long last = model.lastIndex();
                double p = rnd.nextDouble();
                HardState hs;
                List<Entry> batch;
                if (w == 1 || p < 0.15) {
                    if (w > 1) term++;
                    vote = rnd.nextInt(0, 6);
                    hs = new HardState(term, vote, commit);
                    batch = w == 1 ? randomEntries(rnd, 1, rnd.nextInt(1, 5), term) : List.of();
                } else if (p < 0.35 && last > commit) {
                    // A new leader's entries overwrite an uncommitted suffix.
                    term++;
                    hs = new HardState(term, rnd.nextInt(0, 6), commit);
                    batch = randomEntries(rnd, rnd.nextLong(commit + 1, last + 2), rnd.nextInt(1, 5), term);
                } else {
                    batch = randomEntries(rnd, last + 1, rnd.nextInt(1, 7), term);
                    long newLast = last + batch.size();
                    if (rnd.nextBoolean()) {
                        commit = rnd.nextLong(commit, newLast + 1);
                        hs = new HardState(term, vote, commit);
                    } else {
                        hs = null;
                    }
                }
                s.persist(hs, batch);
                model.persist(hs, batch);
                h.logs.add(model.entries());
                h.hardStates.add(model.hardState());
                h.ends.add(new long[] {s.segment, s.segmentSize});
            }
            h.lastSegment = s.segment;
        }
        try (Stream<Path> list = Files.list(dir)) {
            for (Path p : list.toList()) h.files.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
        return h;
    }

    static List<Entry> randomEntries(SplittableRandom rnd, long from, int count, long term) {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int size = rnd.nextInt(10) == 0 ? rnd.nextInt(200, 600) : rnd.nextInt(0, 60);
            byte[] data = new byte[size];
            // Some entries are all zeros, so that zeroed-out tails sometimes leave records intact.
            if (rnd.nextInt(4) != 0) rnd.nextBytes(data);
            Entry.Kind kind = rnd.nextInt(8) == 0 ? Entry.Kind.NOOP : Entry.Kind.COMMAND;
            out.add(new Entry(from + i, term, kind, kind == Entry.Kind.NOOP ? new byte[0] : data));
        }
        return out;
    }

    /**
     * How a crash leaves the last segment: cut short, zeroed from a point, cut and zero-padded, or with one run
     * of blocks that never landed (garbage) while the bytes after it did.
     */
    private enum Tear { TRUNCATE, ZERO_TO_END, TRUNCATE_AND_APPEND_ZEROS, LOST_BLOCKS }

    @Test
    void aTornTailIsCutAndEveryWriteBeforeItComesBack() throws IOException {
        long seed = seed("tornTail");
        SplittableRandom rnd = new SplittableRandom(seed);
        int recovered = 0;
        int refused = 0;
        for (int store = 0; store < STORES; store++) {
            History h = write(Files.createDirectory(tmp.resolve("store-" + store)), rnd.split());
            Path last = h.lastSegmentFile();
            byte[] original = h.files.get(last.getFileName().toString());
            for (int i = 0; i < DAMAGES_PER_STORE; i++) {
                h.restore();
                Tear tear = Tear.values()[rnd.nextInt(Tear.values().length)];
                int at = rnd.nextInt(10) == 0 ? rnd.nextInt(FIRST_RECORD_END + 1) : rnd.nextInt(original.length + 1);
                // Where the bytes on disk first differ from what was written: every write ending by then is intact.
                int intactTo;
                int lostBlocksEnd = Integer.MAX_VALUE; // where a LOST_BLOCKS tear's damage ends; the bytes after it are intact
                switch (tear) {
                    case TRUNCATE -> {
                        truncate(last, at);
                        intactTo = at;
                    }
                    case ZERO_TO_END -> {
                        byte[] damaged = original.clone();
                        Arrays.fill(damaged, at, damaged.length, (byte) 0);
                        Files.write(last, damaged);
                        intactTo = firstNonZero(original, at);
                    }
                    case TRUNCATE_AND_APPEND_ZEROS -> {
                        int zeros = rnd.nextInt(1, 100);
                        byte[] damaged = Arrays.copyOf(Arrays.copyOf(original, at), at + zeros);
                        Files.write(last, damaged);
                        intactTo = Math.min(firstNonZero(original, at), at + zeros);
                    }
                    default -> {
                        byte[] damaged = original.clone();
                        int end = Math.min(original.length, at + rnd.nextInt(1, 1200));
                        for (int j = at; j < end; j++) damaged[j] = (byte) rnd.nextInt(256);
                        Files.write(last, damaged);
                        intactTo = at;
                        while (intactTo < end && damaged[intactTo] == original[intactTo]) intactTo++;
                        int damageEnd = end;
                        while (damageEnd > intactTo && damaged[damageEnd - 1] == original[damageEnd - 1]) damageEnd--;
                        lostBlocksEnd = damageEnd;
                    }
                }
                String what = "store " + store + ", damage " + i + ": " + tear + " " + last.getFileName() + " at " + at
                        + " (seed " + seed + ")";
                if (intactTo < FIRST_RECORD_END) {
                    // A segment is renamed into place only once its header and first record are on disk:
                    // damage there is not a crash's doing.
                    CorruptStoreException e = assertThrows(CorruptStoreException.class,
                            () -> FileStorage.open(h.dir, NO_SYNC), what);
                    assertEquals(last, e.file(), what);
                    refused++;
                    continue;
                }
                if (intactTo < original.length && h.aWriteStartsAtOrAfter(lostBlocksEnd)) {
                    // Lost blocks with a whole write after them: a write is issued only once the one before it
                    // is forced, so that is not what a crash leaves. Refused, not cut.
                    CorruptStoreException e = assertThrows(CorruptStoreException.class,
                            () -> FileStorage.open(h.dir, NO_SYNC), what);
                    assertTrue(e.getMessage().contains("with a complete write after it"), what + ": " + e.getMessage());
                    refused++;
                    continue;
                }
                int k = h.writes();
                while (k > 0 && h.ends.get(k)[0] == h.lastSegment && h.ends.get(k)[1] > intactTo) k--;
                long expectedSize = k > 0 && h.ends.get(k)[0] == h.lastSegment ? h.ends.get(k)[1] : FIRST_RECORD_END;
                try (FileStorage s = FileStorage.open(h.dir, NO_SYNC)) {
                    assertEquals(h.logs.get(k), s.entries(), what + ": the log of the last write before the tear");
                    assertEquals(h.hardStates.get(k), s.hardState(), what);
                    assertEquals(expectedSize, Files.size(last), what + ": the tail is cut where write " + k + " ends");
                }
                if (i % 5 == 0) {
                    // The recovered store goes on: it opens again as it was, and a write after recovery is
                    // there on the next open.
                    HardState next;
                    List<Entry> expected = new ArrayList<>(h.logs.get(k));
                    try (FileStorage s = FileStorage.open(h.dir, NO_SYNC)) {
                        assertEquals(h.logs.get(k), s.entries(), what + ": opened a second time");
                        HardState hs = s.hardState();
                        long term = Math.max(1, hs.term());
                        next = new HardState(term, hs.votedFor(), hs.commit());
                        List<Entry> more = entries(s.lastIndex() + 1, s.lastIndex() + 2, term);
                        s.persist(next, more);
                        expected.addAll(more);
                    }
                    try (FileStorage s = FileStorage.open(h.dir, NO_SYNC)) {
                        assertEquals(expected, s.entries(), what + ": a write after recovery");
                        assertEquals(next, s.hardState(), what);
                    }
                }
                recovered++;
            }
        }
        System.out.println("torn tails: " + recovered + " recovered, " + refused + " refused (damage in a segment's"
                + " header or first record, or lost blocks with a whole write after them)");
    }

    @Test
    void aFlippedByteIsEitherACutLastRecordOrAnErrorNamingTheFileNeverWrongData() throws IOException {
        long seed = seed("flippedByte");
        SplittableRandom rnd = new SplittableRandom(seed);
        int recovered = 0;
        int refused = 0;
        for (int store = 0; store < STORES; store++) {
            History h = write(Files.createDirectory(tmp.resolve("store-" + store)), rnd.split());
            for (int i = 0; i < DAMAGES_PER_STORE; i++) {
                h.restore();
                // One flip in five hits the last record of the last segment, the one place a flip can pass for a tear.
                boolean lastRecord = rnd.nextInt(5) == 0;
                long segmentNumber = lastRecord ? h.lastSegment : rnd.nextLong(1, h.lastSegment + 1);
                Path file = segment(h.dir, segmentNumber);
                byte[] bytes = h.files.get(file.getFileName().toString()).clone();
                int at = lastRecord ? bytes.length - 1 - rnd.nextInt(LogFormat.HARD_STATE_RECORD_BYTES)
                        : rnd.nextInt(bytes.length);
                bytes[at] ^= (byte) rnd.nextInt(1, 256);
                Files.write(file, bytes);
                String what = "store " + store + ", damage " + i + ": byte " + at + " of " + file.getFileName()
                        + " (" + bytes.length + " bytes, last segment " + h.lastSegment + ", seed " + seed + ")";
                FileStorage s;
                try {
                    s = FileStorage.open(h.dir, NO_SYNC);
                } catch (CorruptStoreException e) {
                    assertEquals(file, e.file(), what + ": " + e.getMessage());
                    assertTrue(e.getMessage().contains(file.getFileName().toString()), e.getMessage());
                    assertTrue(e.offset() >= 0 && e.offset() <= at, what + ": " + e.getMessage());
                    refused++;
                    continue;
                }
                try (s) {
                    // Only damage inside the last write of the last segment may be cut as a torn tail (nothing
                    // whole follows it); that drops the last write and nothing else.
                    assertTrue(segmentNumber == h.lastSegment && at >= h.startOfLastWrite(),
                            what + ": recovered although the damage is not in the last write");
                    int k = h.writes() - 1;
                    assertEquals(h.logs.get(k), s.entries(), what);
                    assertEquals(h.hardStates.get(k), s.hardState(), what);
                }
                recovered++;
            }
        }
        System.out.println("flipped bytes: " + recovered + " recovered (last write cut), " + refused + " refused");
    }

    static int firstNonZero(byte[] b, int from) {
        for (int i = from; i < b.length; i++) {
            if (b[i] != 0) return i;
        }
        return b.length;
    }

    static void truncate(Path file, long size) throws IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(size);
        }
    }

    // ------------------------------------------------------------ one case of each, spelled out

    private History smallStore(long segmentBytes) throws IOException {
        History h = new History(tmp);
        try (FileStorage s = FileStorage.open(tmp, FileStorage.Options.defaults().withSegmentBytes(segmentBytes))) {
            s.persist(new HardState(1, 1, 0), entries(1, 3, 1));
            s.persist(new HardState(2, 2, 3), entries(4, 6, 2));
            s.persist(null, entries(7, 8, 2));
            h.lastSegment = s.segment;
        }
        return h;
    }

    @Test
    void aCrashBeforeTheClosingHardStateLosesThatWholeWriteAndWarns() throws IOException {
        History h = smallStore(1 << 20);
        Path seg = h.lastSegmentFile();
        long size = Files.size(seg);
        truncate(seg, size - LogFormat.HARD_STATE_RECORD_BYTES);   // entries 7 and 8 are whole, their hard state is not
        List<LogRecord> warnings = new ArrayList<>();
        Handler capture = new Handler() {
            @Override public void publish(LogRecord r) { warnings.add(r); }
            @Override public void flush() {}
            @Override public void close() {}
        };
        QuietStoreWarnings.LOG.setLevel(Level.WARNING);
        QuietStoreWarnings.LOG.setUseParentHandlers(false);
        QuietStoreWarnings.LOG.addHandler(capture);
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(FileStorageTest.concat(entries(1, 3, 1), entries(4, 6, 2)), s.entries());
            assertEquals(new HardState(2, 2, 3), s.hardState());
        } finally {
            QuietStoreWarnings.LOG.removeHandler(capture);
            QuietStoreWarnings.LOG.setUseParentHandlers(true);
            QuietStoreWarnings.LOG.setLevel(Level.SEVERE);
        }
        long cutAt = size - LogFormat.HARD_STATE_RECORD_BYTES - 2 * (LogFormat.RECORD_HEADER_BYTES
                + LogFormat.ENTRY_BODY_FIXED_BYTES + 3);
        assertEquals(cutAt, Files.size(seg));
        assertEquals(1, warnings.size());
        String message = warnings.get(0).getMessage();
        assertTrue(message.contains(seg.toString()) && message.contains("byte offset " + cutAt)
                && message.contains("dropped entries 7..8"), message);
    }

    /**
     * smallStore (entries 1..8, hard state 2/2/3) and then one write of six 600-byte entries (9..14, about
     * 3.8 KB: several disk blocks). Returns where that last write starts and ends in the last segment.
     */
    private long[] smallStoreWithAMultiBlockLastWrite() throws IOException {
        smallStore(1 << 20);
        Path seg = segment(tmp, 1);
        long start = Files.size(seg);
        try (FileStorage s = FileStorage.open(tmp)) {
            List<Entry> big = new ArrayList<>();
            for (long i = 9; i <= 14; i++) {
                byte[] data = new byte[600];
                Arrays.fill(data, (byte) i);
                big.add(new Entry(i, 2, Entry.Kind.COMMAND, data));
            }
            s.persist(new HardState(2, 2, 8), big);
        }
        return new long[] {start, Files.size(seg)};
    }

    /**
     * A power cut during a multi-block append: one block in the middle of the write never reached the disk
     * (garbage or zeros there), the blocks after it did, its closing hard state included. Nothing of that
     * write was acknowledged (its force never returned), so it is a torn tail: cut, and the node starts.
     */
    @Test
    void aBlockLostInTheMiddleOfTheLastWriteIsATornTailThoughLaterBlocksOfItLanded() throws IOException {
        for (byte fill : new byte[] {0, 0x5a}) {
            for (Path p : Files.list(tmp).toList()) Files.delete(p);
            long[] lastWrite = smallStoreWithAMultiBlockLastWrite();
            Path seg = segment(tmp, 1);
            byte[] b = Files.readAllBytes(seg);
            int blockStart = (int) lastWrite[0] + 1024;
            Arrays.fill(b, blockStart, blockStart + 512, fill);
            Files.write(seg, b);
            String what = "a block of " + (fill == 0 ? "zeros" : "garbage") + " inside the last write";
            try (FileStorage s = FileStorage.open(tmp)) {
                assertEquals(8, s.lastIndex(), what + ": the torn write is dropped whole");
                assertEquals(FileStorageTest.concat(entries(1, 3, 1), entries(4, 8, 2)), s.entries(), what);
                assertEquals(new HardState(2, 2, 3), s.hardState(), what);
            }
            assertEquals(lastWrite[0], Files.size(seg), what + ": cut where the torn write began");
        }
    }

    @Test
    void damageFollowedByACompleteWriteStopsTheStore() throws IOException {
        long[] lastWrite = smallStoreWithAMultiBlockLastWrite();
        Path seg = segment(tmp, 1);
        byte[] b = Files.readAllBytes(seg);
        int inEntry8 = (int) lastWrite[0] - LogFormat.HARD_STATE_RECORD_BYTES - 3; // entry 8's data, before its write's hard state
        b[inEntry8] ^= 0x10;
        Files.write(seg, b);
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertEquals(seg, e.file());
        assertTrue(e.getMessage().contains("with a complete write after it (closed at byte offset "
                + (lastWrite[1] - LogFormat.HARD_STATE_RECORD_BYTES) + ")"), e.getMessage());
        assertTrue(Arrays.equals(b, Files.readAllBytes(seg)), "a corrupt store is left as it is");
    }

    @Test
    void zerosAfterTheLastRecordAreCut() throws IOException {
        History h = smallStore(1 << 20);
        Path seg = h.lastSegmentFile();
        long size = Files.size(seg);
        Files.write(seg, new byte[4096], StandardOpenOption.APPEND);
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(8, s.lastIndex());
        }
        assertEquals(size, Files.size(seg));
    }

    @Test
    void aBadRecordWithValidDataAfterItStopsTheStore() throws IOException {
        History h = smallStore(1 << 20);
        Path seg = h.lastSegmentFile();
        byte[] b = Files.readAllBytes(seg);
        int second = FIRST_RECORD_END + LogFormat.RECORD_HEADER_BYTES + LogFormat.ENTRY_BODY_FIXED_BYTES + 3;
        b[second + LogFormat.RECORD_HEADER_BYTES + 5] ^= 1;  // inside entry 2's index
        Files.write(seg, b);
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertEquals(seg, e.file());
        assertEquals(second, e.offset());
        assertTrue(e.getMessage().startsWith("corrupt store: " + seg + " at byte offset " + second + ": a record that"
                + " fails its CRC, with a complete write after it"), e.getMessage());
        assertTrue(Arrays.equals(b, Files.readAllBytes(seg)), "a corrupt store is left as it is");
    }

    @Test
    void aDamagedLengthInTheMiddleIsNotMistakenForATornTail() throws IOException {
        History h = smallStore(1 << 20);
        Path seg = h.lastSegmentFile();
        byte[] b = Files.readAllBytes(seg);
        b[FIRST_RECORD_END] = 0x7f;   // entry 1's length now runs far past the end of the file
        Files.write(seg, b);
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertEquals(FIRST_RECORD_END, e.offset());
        assertTrue(e.getMessage().contains("a record header that fails its CRC, with a complete write after it"), e.getMessage());
    }

    @Test
    void damageInASegmentThatIsNotTheLastStopsTheStoreEvenAtItsEnd() throws IOException {
        History h = smallStore(100);
        assertTrue(h.lastSegment >= 3);
        Path seg = segment(tmp, 2);
        long size = Files.size(seg);
        truncate(seg, size - 1);
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertEquals(seg, e.file());
        assertEquals(size - LogFormat.HARD_STATE_RECORD_BYTES, e.offset());
        assertTrue(e.getMessage().endsWith("in a segment that is not the last"), e.getMessage());
    }

    @Test
    void aMissingMiddleSegmentIsNamed() throws IOException {
        History h = smallStore(100);
        assertTrue(h.lastSegment >= 3);
        Path missing = segment(tmp, 2);
        Files.delete(missing);
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertEquals(missing, e.file());
        assertEquals(-1, e.offset());
        assertTrue(e.getMessage().startsWith("corrupt store: " + missing + ": this log segment is missing"),
                e.getMessage());
    }

    @Test
    void aMissingFirstSegmentIsNamed() throws IOException {
        smallStore(100);
        Path missing = segment(tmp, 1);
        Files.delete(missing);
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertEquals(missing, e.file());
    }

    @Test
    void aDamagedSegmentHeaderStopsTheStore() throws IOException {
        History h = smallStore(1 << 20);
        Path seg = h.lastSegmentFile();
        byte[] b = Files.readAllBytes(seg);
        b[15] ^= 4;   // inside the segment number
        Files.write(seg, b);
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertEquals(seg, e.file());
        assertEquals(0, e.offset());
        assertTrue(e.getMessage().endsWith("the segment header fails its CRC"), e.getMessage());
    }

    @Test
    void aSegmentUnderAnotherNumbersNameStopsTheStore() throws IOException {
        smallStore(100);
        Files.move(segment(tmp, 2), segment(tmp, 2).resolveSibling("moved"));
        Files.copy(segment(tmp, 3), segment(tmp, 2));
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertEquals(segment(tmp, 2), e.file());
        assertTrue(e.getMessage().endsWith("the header says segment 3 but the file name says 2"), e.getMessage());
    }

    @Test
    void aDamagedMarkerStopsTheStore() throws IOException {
        smallStore(1 << 20);
        Path marker = tmp.resolve("raftkv.store");
        byte[] b = Files.readAllBytes(marker);
        b[9] ^= 1;
        Files.write(marker, b);
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertEquals(marker, e.file());
        assertTrue(e.getMessage().contains("the marker fails its CRC"), e.getMessage());
    }

    @Test
    void aMarkerOfAnotherKindStopsTheStore() throws IOException {
        smallStore(1 << 20);
        Path marker = tmp.resolve("raftkv.store");
        Files.writeString(marker, "something else!!");
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertEquals(0, e.offset());
    }

    @Test
    void aHardStateCommittingPastTheLogIsCorruptionNotATornTail() throws IOException {
        // Write a store whose last record is a valid hard state committing index 9 of an 8-entry log, as only
        // a writer bug (or a forged file) could.
        History h = smallStore(1 << 20);
        Path seg = h.lastSegmentFile();
        ByteBuffer b = ByteBuffer.allocate(LogFormat.HARD_STATE_RECORD_BYTES);
        LogFormat.putHardState(b, new HardState(2, 2, 9), 0, 0, new CRC32C());
        long at = Files.size(seg);
        Files.write(seg, b.array(), StandardOpenOption.APPEND);
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertEquals(at, e.offset());
        assertTrue(e.getMessage().contains("commits beyond the last entry, 8"), e.getMessage());
    }

    @Test
    void aStoreWithUnfinishedWriteInAnEarlierSegmentIsCorrupt() throws IOException {
        History h = smallStore(100);
        Path seg = segment(tmp, 2);
        // Drop segment 2's closing hard state but keep the file otherwise whole: its last write never finished,
        // which a segment followed by another cannot be.
        truncate(seg, Files.size(seg) - LogFormat.HARD_STATE_RECORD_BYTES);
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertEquals(seg, e.file());
        assertTrue(e.getMessage().contains("the segment ends inside a write"), e.getMessage());
        assertTrue(h.lastSegment > 2);
    }

    @Test
    void aNewerFormatVersionIsRefusedPlainly() throws IOException {
        smallStore(1 << 20);
        Path marker = tmp.resolve("raftkv.store");
        ByteBuffer b = ByteBuffer.allocate(16);
        b.putLong(LogFormat.MARKER_MAGIC).putInt(LogFormat.FORMAT_VERSION + 1);
        b.putInt(LogFormat.crc(new CRC32C(), b, 0, 12));
        Files.write(marker, b.array());
        StorageException e = assertThrows(StorageException.class, () -> FileStorage.open(tmp));
        assertTrue(!(e instanceof CorruptStoreException)
                && e.getMessage().endsWith("has store format version 3; this build reads versions 1 to 2 only"),
                e.getMessage());
    }

    /**
     * A store written by a build of format 1 (checked in as it was written: three writes, entries 1..4, hard
     * state 2/2/3) opens with everything in it; its next write goes to a new segment of format 2, and the marker
     * then says 2, so that a format-1 build refuses it plainly rather than misread it.
     */
    @Test
    void aStoreOfFormat1OpensAndIsUpgradedOnItsNextOpen() throws Exception {
        Path fixture = Path.of(FileStorageCorruptionTest.class.getResource("format-1").toURI());
        for (Path p : Files.list(fixture).toList()) Files.copy(p, tmp.resolve(p.getFileName()));
        assertEquals(1, ByteBuffer.wrap(Files.readAllBytes(tmp.resolve("raftkv.store"))).getInt(8));
        Entry fifth = new Entry(5, 2, Entry.Kind.COMMAND, "d=4".getBytes());
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(List.of(new Entry(1, 1, Entry.Kind.NOOP, new byte[0]),
                    new Entry(2, 1, Entry.Kind.COMMAND, "a=1".getBytes()), new Entry(3, 1, Entry.Kind.COMMAND, "b=2".getBytes()),
                    new Entry(4, 2, Entry.Kind.COMMAND, "c=3".getBytes())), s.entries());
            assertEquals(new HardState(2, 2, 3), s.hardState());
            assertEquals(2, s.segment, "the next write goes to a new segment");
            StorageException twice = assertThrows(StorageException.class, () -> FileStorage.open(tmp));
            assertTrue(twice.getMessage().contains("is already open"), "the rewritten marker is locked: " + twice.getMessage());
            s.persist(new HardState(2, 2, 4), List.of(fifth));
        }
        assertEquals(LogFormat.FORMAT_VERSION, ByteBuffer.wrap(Files.readAllBytes(tmp.resolve("raftkv.store"))).getInt(8));
        assertEquals(1, ByteBuffer.wrap(Files.readAllBytes(segment(tmp, 1))).getInt(8), "the old segment stays as it was");
        assertEquals(LogFormat.FORMAT_VERSION, ByteBuffer.wrap(Files.readAllBytes(segment(tmp, 2))).getInt(8));
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(5, s.lastIndex());
            assertEquals(fifth, s.entries().get(4));
            assertEquals(new HardState(2, 2, 4), s.hardState());
            assertEquals(2, s.segment, "upgraded once");
        }
    }

    @Test
    void aFailedWriteStopsFurtherWrites() {
        FileStorage s = FileStorage.open(tmp);
        try {
            s.persist(new HardState(1, 1, 0), entries(1, 1, 1));
            // Close the channel behind the store's back: the next write fails with an I/O error naming the file.
            try {
                s.channel.close();
            } catch (IOException e) {
                fail(e);
            }
            StorageException e = assertThrows(StorageException.class, () -> s.persist(null, entries(2, 2, 1)));
            assertTrue(e.getMessage().startsWith("cannot write " + segment(s.directory(), 1)), e.getMessage());
            StorageException again = assertThrows(StorageException.class, () -> s.persist(null, entries(2, 2, 1)));
            assertTrue(again.getMessage().contains("an earlier write"), again.getMessage());
        } finally {
            s.close();
        }
        try (FileStorage reopened = FileStorage.open(tmp)) {
            assertEquals(entries(1, 1, 1), reopened.entries());
        }
    }
}
