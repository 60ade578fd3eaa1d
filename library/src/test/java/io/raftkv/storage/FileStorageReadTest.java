package io.raftkv.storage;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static io.raftkv.storage.FileStorageTest.files;
import static io.raftkv.storage.FileStorageTest.segment;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading the log back by index ({@link FileStorage#read}): what it returns, what it refuses, and damage. */
@ExtendWith(QuietStoreWarnings.class)
class FileStorageReadTest {
    private static final Configuration CONFIG = Configuration.ofVoters(Set.of(1, 2, 3));
    private static final FileStorage.Options NO_SYNC = FileStorage.Options.defaults().withSync(false);
    private static final long ALL = Long.MAX_VALUE;

    @TempDir
    Path tmp;

    /** An entry whose data (of {@code bytes} bytes) says which entry it is, so that a mix-up shows. */
    static Entry entry(long index, long term, int bytes) {
        byte[] data = new byte[bytes];
        for (int i = 0; i < bytes; i++) data[i] = (byte) (index * 31 + term * 7 + i);
        return new Entry(index, term, Entry.Kind.COMMAND, data);
    }

    static List<Entry> entries(long from, long to, long term, int bytes) {
        List<Entry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) out.add(entry(i, term, bytes));
        return out;
    }

    /** Persists {@code batch} with a hard state of {@code term} that commits nothing. */
    static void persist(FileStorage s, long term, List<Entry> batch) {
        s.persist(new HardState(term, 0, 0), batch);
    }

    static void snapshot(FileStorage s, long index, long term) {
        try (SnapshotWriter w = s.createSnapshot(new SnapshotMeta(index, term, CONFIG))) {
            w.output().write(new byte[] {1, 2, 3});
            w.install();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Reads every range of {@code log} (whose first entry follows the snapshot) and checks it. */
    static void readsEveryRange(FileStorage s, List<Entry> log) {
        long first = log.get(0).index();
        for (int a = 0; a < log.size(); a++) {
            for (int b = a + 1; b <= log.size(); b++) {
                assertEquals(log.subList(a, b), s.read(first + a, first + b, ALL), "read " + (first + a) + ".." + (first + b - 1));
            }
        }
    }

    @Test
    void readsBackOneEntryARunAndRunsAcrossWrites() {
        try (FileStorage s = FileStorage.open(tmp)) {
            List<Entry> log = new ArrayList<>(entries(1, 3, 1, 10));
            log.add(new Entry(4, 1, Entry.Kind.NOOP, new byte[0]));
            log.add(new Entry(5, 1, Entry.Kind.CONFIG, CONFIG.encode()));
            log.addAll(entries(6, 12, 2, 100));
            persist(s, 1, log.subList(0, 5));
            persist(s, 2, log.subList(5, 6));
            s.persist(new HardState(2, 3, 0), List.of()); // a vote between two writes of entries
            persist(s, 2, log.subList(6, 12));
            s.persist(new HardState(2, 3, 9), List.of()); // a commit-only write, not forced
            assertEquals(List.of(log.get(0)), s.read(1, 2, ALL));
            assertEquals(List.of(log.get(11)), s.read(12, 13, ALL));
            assertEquals(log.subList(2, 9), s.read(3, 10, ALL));
            readsEveryRange(s, log);
        }
    }

    @Test
    void maxBytesCutsARunAfterTheLastEntryThatFits() {
        try (FileStorage s = FileStorage.open(tmp)) {
            List<Entry> log = entries(1, 10, 1, 50);
            persist(s, 1, log);
            int size = log.get(0).size();
            assertEquals(74, size, "50 bytes of data and Entry's 24");
            assertEquals(log.subList(2, 5), s.read(3, 11, 3L * size), "exactly three fit");
            assertEquals(log.subList(2, 4), s.read(3, 11, 3L * size - 1), "the third would go one byte past");
            assertEquals(log.subList(2, 3), s.read(3, 11, 1), "at least one");
            assertEquals(log.subList(2, 10), s.read(3, 11, 1000L * size), "to ends it first");
        }
    }

    @Test
    void aHugeEntryIsReadWholeEvenPastMaxBytes() {
        try (FileStorage s = FileStorage.open(tmp)) {
            Entry small = entry(1, 1, 10);
            Entry huge = entry(2, 1, 3 << 20); // larger than any window the reader reads at once
            Entry after = entry(3, 1, 10);
            persist(s, 1, List.of(small, huge, after));
            assertEquals(List.of(huge), s.read(2, 4, 1), "at least one, however large");
            assertEquals(List.of(small), s.read(1, 4, 1000), "the huge one does not fit after the first");
            assertEquals(List.of(small, huge, after), s.read(1, 4, ALL));
            assertEquals(List.of(after), s.read(3, 4, 1));
        }
    }

    @Test
    void readsAcrossSegmentRollOver() throws IOException {
        List<Entry> log = new ArrayList<>();
        try (FileStorage s = FileStorage.open(tmp, FileStorage.Options.defaults().withSegmentBytes(300))) {
            for (long i = 1; i <= 60; i += 3) {
                List<Entry> batch = entries(i, i + 2, 1, (int) (i % 7) * 20);
                persist(s, 1, batch);
                log.addAll(batch);
            }
            assertTrue(s.segment > 5, "rolled over to segment " + s.segment);
            readsEveryRange(s, log);
        }
        assertTrue(files(tmp).contains(LogFormat.segmentName(2)));
    }

    @Test
    void aConflictingSuffixIsReadAsItsReplacement() {
        try (FileStorage s = FileStorage.open(tmp, FileStorage.Options.defaults().withSegmentBytes(400))) {
            for (long i = 1; i <= 30; i += 5) persist(s, 1, entries(i, i + 4, 1, 30));
            long rolled = s.segment;
            assertTrue(rolled > 1);
            persist(s, 2, entries(6, 12, 2, 5)); // back into the first segment's entries, written to the current one
            List<Entry> log = new ArrayList<>(entries(1, 5, 1, 30));
            log.addAll(entries(6, 12, 2, 5));
            assertEquals(log, s.read(1, 13, ALL));
            readsEveryRange(s, log);
            IllegalArgumentException past = assertThrows(IllegalArgumentException.class, () -> s.read(12, 14, ALL));
            assertEquals("cannot read entries 12..13: the store holds entries 1..12", past.getMessage());
            persist(s, 3, entries(12, 14, 3, 0)); // and again, within the last write
            log.remove(11);
            log.addAll(entries(12, 14, 3, 0));
            readsEveryRange(s, log);
        }
    }

    @Test
    void aSnapshotDropsWhatItCoversFromReadsAndTheRestStaysReadable() {
        try (FileStorage s = FileStorage.open(tmp, FileStorage.Options.defaults().withSegmentBytes(300))) {
            List<Entry> log = new ArrayList<>();
            for (long i = 1; i <= 40; i += 4) {
                List<Entry> batch = entries(i, i + 3, 1, 40);
                persist(s, 1, batch);
                log.addAll(batch);
            }
            assertEquals(log.subList(0, 25), s.read(1, 26, ALL)); // opens a reader on an older segment
            snapshot(s, 25, 1);
            assertFalse(Files.exists(segment(tmp, 1)), "compacted");
            IllegalArgumentException covered = assertThrows(IllegalArgumentException.class, () -> s.read(25, 27, ALL));
            assertEquals("cannot read entries 25..26: the store holds entries 26..40 after its snapshot at 25",
                    covered.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.read(1, 2, ALL));
            readsEveryRange(s, log.subList(25, 40));

            snapshot(s, 50, 2); // a leader's snapshot the log does not hold: the whole log goes
            IllegalArgumentException none = assertThrows(IllegalArgumentException.class, () -> s.read(51, 52, ALL));
            assertEquals("cannot read entries 51..51: the store holds no entries after its snapshot at 50",
                    none.getMessage());
            List<Entry> next = entries(51, 58, 2, 60);
            persist(s, 2, next);
            readsEveryRange(s, next);
        }
    }

    @Test
    void reopeningRebuildsWhereTheRecordsAre() {
        FileStorage.Options small = FileStorage.Options.defaults().withSegmentBytes(350);
        List<Entry> log = new ArrayList<>();
        try (FileStorage s = FileStorage.open(tmp, small)) {
            for (long i = 1; i <= 45; i += 5) {
                List<Entry> batch = entries(i, i + 4, 1, 25);
                persist(s, 1, batch);
                log.addAll(batch);
            }
            persist(s, 2, entries(20, 24, 2, 3));
            log.subList(19, log.size()).clear();
            log.addAll(entries(20, 24, 2, 3));
            snapshot(s, 10, 1);
        }
        try (FileStorage s = FileStorage.open(tmp, small)) {
            List<Entry> after = log.subList(10, log.size());
            readsEveryRange(s, after);
            assertThrows(IllegalArgumentException.class, () -> s.read(10, 11, ALL));
            persist(s, 2, entries(25, 27, 2, 8));
            List<Entry> more = new ArrayList<>(after);
            more.addAll(entries(25, 27, 2, 8));
            readsEveryRange(s, more);
        }
    }

    @Test
    void whatWasWrittenButNotForcedIsRead() {
        try (FileStorage s = FileStorage.open(tmp, NO_SYNC.withSegmentBytes(200))) {
            List<Entry> log = entries(1, 20, 1, 15);
            for (int i = 0; i < 20; i += 2) {
                persist(s, 1, log.subList(i, i + 2));
                s.persist(new HardState(1, 0, i + 1), List.of()); // commit-only: replaced by the next write
            }
            assertEquals(0, s.forces);
            readsEveryRange(s, log);
        }
    }

    @Test
    void refusalsNameWhatTheStoreHolds() {
        FileStorage s = FileStorage.open(tmp);
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> s.read(1, 2, ALL));
        assertEquals("cannot read entries 1..1: the store holds no entries", empty.getMessage());
        persist(s, 1, entries(1, 5, 1, 4));
        IllegalArgumentException zero = assertThrows(IllegalArgumentException.class, () -> s.read(0, 2, ALL));
        assertEquals("cannot read entries 0..1: the store holds entries 1..5", zero.getMessage());
        IllegalArgumentException past = assertThrows(IllegalArgumentException.class, () -> s.read(3, 7, ALL));
        assertEquals("cannot read entries 3..6: the store holds entries 1..5", past.getMessage());
        IllegalArgumentException backwards = assertThrows(IllegalArgumentException.class, () -> s.read(3, 3, ALL));
        assertEquals("cannot read entries from 3 to before 3: the range is empty", backwards.getMessage());
        assertThrows(IllegalArgumentException.class, () -> s.read(4, 2, ALL));
        IllegalArgumentException noBytes = assertThrows(IllegalArgumentException.class, () -> s.read(1, 2, 0));
        assertEquals("maxBytes must be at least 1, was 0", noBytes.getMessage());
        snapshot(s, 2, 1);
        IllegalArgumentException covered = assertThrows(IllegalArgumentException.class, () -> s.read(2, 4, ALL));
        assertEquals("cannot read entries 2..3: the store holds entries 3..5 after its snapshot at 2",
                covered.getMessage());
        s.close();
        IllegalStateException closed = assertThrows(IllegalStateException.class, () -> s.read(3, 4, ALL));
        IllegalStateException other = assertThrows(IllegalStateException.class, s::hardState);
        assertEquals(other.getMessage(), closed.getMessage());
        assertEquals("the store in " + s.directory() + " is closed", closed.getMessage());
    }

    /** Where {@code entry}'s record starts in {@code file}: its data is unique to it. */
    private static int recordOffset(Path file, Entry entry) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        byte[] data = entry.data();
        outer:
        for (int at = 0; at + data.length <= bytes.length; at++) {
            for (int i = 0; i < data.length; i++) {
                if (bytes[at + i] != data[i]) continue outer;
            }
            return at - LogFormat.RECORD_HEADER_BYTES - LogFormat.ENTRY_BODY_FIXED_BYTES;
        }
        throw new AssertionError(entry + " is not in " + file);
    }

    private static void flip(Path file, long offset) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) offset] ^= 0x10;
        Files.write(file, bytes);
    }

    @Test
    void aDamagedRecordIsReportedNotReturned() throws IOException {
        try (FileStorage s = FileStorage.open(tmp, FileStorage.Options.defaults().withSegmentBytes(1000))) {
            List<Entry> log = entries(1, 30, 1, 64);
            for (int i = 0; i < 30; i += 5) persist(s, 1, log.subList(i, i + 5));
            assertTrue(s.segment >= 2);
            Path first = segment(tmp, 1);
            Path current = segment(tmp, s.segment);

            long body = recordOffset(first, log.get(4));
            flip(first, body + LogFormat.RECORD_HEADER_BYTES + 30); // in the data of entry 5, an older segment
            CorruptStoreException data = assertThrows(CorruptStoreException.class, () -> s.read(3, 8, ALL));
            assertEquals(first, data.file());
            assertEquals(body, data.offset());
            assertEquals("corrupt store: " + first + " at byte offset " + body + ": the record of entry 5 fails its CRC",
                    data.getMessage());
            assertThrows(CorruptStoreException.class, () -> s.read(5, 6, 1));
            assertEquals(log.subList(0, 4), s.read(1, 5, ALL), "what lies before the damage reads");
            assertEquals(log.subList(0, 3), s.read(1, 10, 3L * log.get(0).size()), "as does a read that stops short of it");
            assertEquals(log.subList(5, 8), s.read(6, 9, ALL));

            Entry last = log.get(28);
            long header = recordOffset(current, last);
            flip(current, header + 2); // in the length of entry 29, in the current segment
            CorruptStoreException length = assertThrows(CorruptStoreException.class, () -> s.read(27, 31, ALL));
            assertEquals(current, length.file());
            assertEquals(header, length.offset());
            assertTrue(length.getMessage().endsWith("the record of entry 29 fails its header CRC"), length.getMessage());
            assertEquals(List.of(log.get(29)), s.read(30, 31, ALL));
        }
    }

    /**
     * Random writes (appends, overwrites of a suffix), snapshots (of an entry the log holds, or one it does not) and
     * reopens, with small segments; after each step, random ranges read against a model of the log.
     */
    @Test
    void randomWritesSnapshotsAndReopensReadAsTheModelSays() {
        Long given = Long.getLong("seed");
        long seed = given != null ? given : new SplittableRandom().nextLong();
        System.out.println("FileStorageReadTest.randomWritesSnapshotsAndReopensReadAsTheModelSays seed " + seed
                + " (replay: -Dseed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        FileStorage.Options options = NO_SYNC.withSegmentBytes(200 + rnd.nextInt(2000));
        List<Entry> model = new ArrayList<>(); // the entries after the snapshot
        long snap = 0;
        long term = 1;
        FileStorage s = FileStorage.open(tmp, options);
        try {
            for (int step = 0; step < 400; step++) {
                String what;
                int dice = rnd.nextInt(100);
                long last = snap + model.size();
                if (dice < 8 && last > snap) {
                    long index = snap + 1 + rnd.nextInt(model.size());
                    long snapTerm = model.get((int) (index - snap - 1)).term();
                    if (rnd.nextInt(4) == 0) {
                        // One the log does not hold: another term, and perhaps past its end.
                        index += rnd.nextInt(5);
                        snapTerm = term + 1;
                        term++;
                        s.persist(new HardState(term, 0, 0), List.of());
                        snapshot(s, index, snapTerm);
                        model.clear();
                    } else {
                        snapshot(s, index, snapTerm);
                        model.subList(0, (int) (index - snap)).clear();
                    }
                    what = "snapshot " + index + "@" + snapTerm;
                    snap = index;
                } else if (dice < 12) {
                    s.close();
                    s = FileStorage.open(tmp, options);
                    what = "reopen";
                } else {
                    if (rnd.nextInt(5) == 0) term++;
                    long from = last == snap || rnd.nextInt(4) != 0 ? last + 1 : snap + 1 + rnd.nextInt(model.size());
                    List<Entry> batch = new ArrayList<>();
                    int count = 1 + rnd.nextInt(6);
                    for (int i = 0; i < count; i++) {
                        int bytes = rnd.nextInt(10) == 0 ? rnd.nextInt(5000) : rnd.nextInt(80);
                        batch.add(entry(from + i, term, bytes));
                    }
                    persist(s, term, batch);
                    model.subList((int) (from - snap - 1), model.size()).clear();
                    model.addAll(batch);
                    what = "persist " + from + ".." + (from + count - 1) + " of term " + term;
                }
                assertEquals(snap + model.size(), s.lastIndex(), what);
                for (int r = 0; r < 5 && !model.isEmpty(); r++) {
                    int a = rnd.nextInt(model.size());
                    int b = a + 1 + rnd.nextInt(model.size() - a);
                    long maxBytes = switch (rnd.nextInt(3)) {
                        case 0 -> 1 + rnd.nextInt(100);
                        case 1 -> 1 + rnd.nextInt(10_000);
                        default -> ALL;
                    };
                    List<Entry> expected = new ArrayList<>();
                    long total = 0;
                    for (Entry e : model.subList(a, b)) {
                        if (!expected.isEmpty() && total + e.size() > maxBytes) break;
                        expected.add(e);
                        total += e.size();
                    }
                    long from = snap + 1 + a;
                    long to = snap + 1 + b;
                    assertEquals(expected, s.read(from, to, maxBytes), "step " + step + " (" + what + "): read " + from
                            + ".." + (to - 1) + " in " + maxBytes + " bytes; seed " + seed);
                }
                if (snap > 0) {
                    long covered = snap;
                    FileStorage store = s;
                    assertThrows(IllegalArgumentException.class, () -> store.read(covered, covered + 1, ALL));
                }
            }
        } finally {
            s.close();
        }
    }
}
