package io.raftkv.storage;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

import static io.raftkv.storage.FileStorageTest.concat;
import static io.raftkv.storage.FileStorageTest.entries;
import static io.raftkv.storage.FileStorageTest.files;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Snapshots in the file store: what survives a reopen, the log kept or dropped by an install, compaction,
 * a crash at each step of an install, and damaged snapshot files.
 */
class FileStorageSnapshotTest {

    static final Configuration CONFIG = Configuration.ofVoters(Set.of(1, 2, 3));
    static final FileStorage.Options SMALL = FileStorage.Options.defaults().withSegmentBytes(200);

    @TempDir
    Path tmp;

    static byte[] bytes(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) (i * 31 + seed);
        return b;
    }

    static SnapshotMeta meta(long index, long term) {
        return new SnapshotMeta(index, term, CONFIG);
    }

    /** Writes {@code data} as a snapshot and installs it. */
    static void install(Storage s, SnapshotMeta meta, byte[] data) {
        try (SnapshotWriter w = s.createSnapshot(meta)) {
            w.output().write(data, 0, data.length / 2);
            for (int i = data.length / 2; i < data.length; i++) w.output().write(data[i]); // both write paths
            w.install();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] read(Storage s) {
        try (SnapshotReader r = s.openSnapshot(); InputStream in = r.stream()) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path snapshotFile(Path dir, long index) {
        return dir.resolve(LogFormat.snapshotName(index));
    }

    static List<Long> segmentNumbers(Path dir) throws IOException {
        return files(dir).stream().mapToLong(LogFormat::segmentNumber).filter(n -> n > 0).boxed().toList();
    }

    static TreeMap<String, byte[]> contents(Path dir) throws IOException {
        TreeMap<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) out.put(p.getFileName().toString(), Files.readAllBytes(p));
        }
        return out;
    }

    static Path materialize(Path dir, Map<String, byte[]> files) throws IOException {
        Files.createDirectories(dir);
        for (var f : files.entrySet()) Files.write(dir.resolve(f.getKey()), f.getValue());
        return dir;
    }

    @Test
    void aSnapshotItsLogTailAndTheHardStateSurviveReopen() throws IOException {
        byte[] data = bytes(100_000, 7);
        HardState hs = new HardState(2, 1, 8);
        List<Entry> log = concat(entries(1, 5, 1), entries(6, 10, 2));
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(hs, log);
            assertEquals(Optional.empty(), s.snapshot());
            assertThrows(IllegalStateException.class, s::openSnapshot);
            install(s, meta(8, 2), data);
            assertEquals(Optional.of(meta(8, 2)), s.snapshot());
            assertEquals(entries(9, 10, 2), s.entries());
            assertEquals(10, s.lastIndex());
            assertArrayEquals(data, read(s));
        }
        assertTrue(Files.exists(snapshotFile(tmp, 8)));
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(Optional.of(meta(8, 2)), s.snapshot());
            assertEquals(entries(9, 10, 2), s.entries());
            assertEquals(10, s.lastIndex());
            assertEquals(hs, s.hardState());
            try (SnapshotReader r = s.openSnapshot()) {
                assertEquals(meta(8, 2), r.meta());
                assertEquals(data.length, r.size());
                ByteBuffer b = ByteBuffer.allocate(1000);
                assertEquals(1000, r.read(99_000, b));
                assertArrayEquals(Arrays.copyOfRange(data, 99_000, 100_000), b.array());
                ByteBuffer rest = ByteBuffer.allocate(1000);
                assertEquals(500, r.read(99_500, rest), "a read stops at the end of the snapshot");
                assertArrayEquals(Arrays.copyOfRange(data, 99_500, 100_000), Arrays.copyOf(rest.array(), 500));
                assertEquals(-1, r.read(100_000, ByteBuffer.allocate(10)));
            }
            assertArrayEquals(data, read(s));
            s.persist(null, entries(11, 11, 2));
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(entries(9, 11, 2), s.entries());
        }
    }

    @Test
    void anEmptySnapshotRoundTrips() {
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 1, 1), entries(1, 1, 1));
            install(s, meta(1, 1), new byte[0]);
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertArrayEquals(new byte[0], read(s));
            assertEquals(List.of(), s.entries());
            assertEquals(1, s.lastIndex());
        }
    }

    @Test
    void installKeepsTheEntriesAfterALastEntryItHolds() {
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(3, 1, 4), concat(entries(1, 4, 1), entries(5, 9, 3)));
            install(s, meta(6, 3), bytes(10, 1));
            assertEquals(entries(7, 9, 3), s.entries());
            assertEquals(9, s.lastIndex());
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(entries(7, 9, 3), s.entries());
            assertEquals(new HardState(3, 1, 4), s.hardState());
        }
    }

    @Test
    void installDropsALogThatDivergesFromTheSnapshotAndItStaysDroppedAfterReopen() throws IOException {
        try (FileStorage s = FileStorage.open(tmp, SMALL)) {
            s.persist(new HardState(3, 1, 2), entries(1, 9, 1));
            install(s, meta(6, 2), bytes(10, 1)); // entry 6 is of term 1 here: the leader's log differs
            assertEquals(List.of(), s.entries());
            assertEquals(6, s.lastIndex());
            assertEquals(new HardState(3, 1, 2), s.hardState());
            s.persist(new HardState(3, 1, 7), entries(7, 8, 3));
        }
        assertEquals(1, segmentNumbers(tmp).size(), "every segment before the reset went: " + files(tmp));
        try (FileStorage s = FileStorage.open(tmp, SMALL)) {
            assertEquals(entries(7, 8, 3), s.entries());
            assertEquals(new HardState(3, 1, 7), s.hardState());
            assertEquals(8, s.lastIndex());
        }
    }

    @Test
    void installDropsALogThatEndsBeforeTheSnapshot() {
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(2, 1, 2), entries(1, 3, 1));
            install(s, meta(20, 2), bytes(10, 1));
            assertEquals(List.of(), s.entries());
            assertEquals(20, s.lastIndex());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> s.persist(null, entries(4, 4, 2)));
            assertEquals("entries start at 4 but the log holds 21..20: a write may not leave a gap or reach into the"
                    + " snapshot at 20", e.getMessage());
            s.persist(new HardState(2, 1, 20), entries(21, 22, 2));
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(entries(21, 22, 2), s.entries());
            assertEquals(22, s.lastIndex());
        }
    }

    @Test
    void aSecondDropAfterAnEmptyLogStacksResets() {
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(2, 1, 2), entries(1, 3, 1));
            install(s, meta(10, 2), bytes(10, 1));
            install(s, meta(15, 2), bytes(10, 2));
            s.persist(null, entries(16, 16, 2));
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(entries(16, 16, 2), s.entries());
            assertEquals(meta(15, 2), s.snapshot().orElseThrow());
            assertArrayEquals(bytes(10, 2), read(s));
        }
    }

    @Test
    void writesIntoTheSnapshotAndOlderSnapshotsAreRefusedAndChangeNothing() {
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 1, 5), entries(1, 10, 1));
            install(s, meta(6, 1), bytes(10, 1));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> s.persist(null, entries(6, 7, 1)));
            assertEquals("entries start at 6 but the log holds 7..10: a write may not leave a gap or reach into the"
                    + " snapshot at 6", e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.persist(null, entries(12, 12, 1)));
            for (long index : new long[] {6, 3}) {
                try (SnapshotWriter w = s.createSnapshot(meta(index, 1))) {
                    IllegalStateException old = assertThrows(IllegalStateException.class, w::install);
                    assertEquals("cannot install " + meta(index, 1) + ": the store already holds " + meta(6, 1),
                            old.getMessage());
                }
            }
            assertEquals(entries(7, 10, 1), s.entries());
            assertEquals(meta(6, 1), s.snapshot().orElseThrow());
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertArrayEquals(bytes(10, 1), read(s));
            assertEquals(entries(7, 10, 1), s.entries());
        }
    }

    @Test
    void aWriterInstallsOnceAndCannotBeUsedAfter() throws IOException {
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 1, 2), entries(1, 2, 1));
            SnapshotWriter w = s.createSnapshot(meta(2, 1));
            w.output().write(1);
            w.install();
            assertThrows(IllegalStateException.class, w::install);
            assertThrows(IOException.class, () -> w.output().write(2));
            w.close();
            assertTrue(Files.exists(snapshotFile(tmp, 2)), "closing an installed writer keeps its snapshot");
            SnapshotWriter closed = s.createSnapshot(meta(3, 1));
            closed.close();
            assertThrows(IllegalStateException.class, closed::install);
        }
    }

    @Test
    void aWriterClosedWithoutInstallLeavesNothingAndReadsBackWhatItWrote() throws IOException {
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 1, 2), entries(1, 4, 1));
            List<String> before = files(tmp);
            byte[] data = bytes(200_000, 3);
            try (SnapshotWriter w = s.createSnapshot(meta(3, 1))) {
                assertEquals(meta(3, 1), w.meta());
                w.output().write(data);
                assertEquals(data.length, w.size());
                try (InputStream in = w.readBack()) {
                    assertArrayEquals(data, in.readAllBytes());
                }
                assertEquals(before.size() + 1, files(tmp).size(), "the snapshot is written to a temporary file");
            }
            assertEquals(before, files(tmp));
            assertEquals(Optional.empty(), s.snapshot());
            assertEquals(entries(1, 4, 1), s.entries());
        }
    }

    @Test
    void aReaderStaysValidAfterANewerSnapshotReplacesItsFile() throws IOException {
        byte[] first = bytes(300_000, 1);
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 1, 8), entries(1, 8, 1));
            install(s, meta(4, 1), first);
            try (SnapshotReader r = s.openSnapshot(); InputStream in = r.stream()) {
                byte[] head = in.readNBytes(1000);
                install(s, meta(8, 1), bytes(10, 2));
                assertFalse(Files.exists(snapshotFile(tmp, 4)), "the older snapshot's file is deleted");
                assertArrayEquals(Arrays.copyOf(first, 1000), head);
                assertArrayEquals(Arrays.copyOfRange(first, 1000, first.length), in.readAllBytes());
                assertEquals(meta(4, 1), r.meta());
            }
            assertArrayEquals(bytes(10, 2), read(s));
        }
    }

    @Test
    void segmentsTheSnapshotCoversAreDeletedAndTheStoreStaysBoundedOverManyCycles() throws IOException {
        long maxBytes = 0;
        int maxFiles = 0;
        long term = 1;
        long index = 0;
        try (FileStorage s = FileStorage.open(tmp, SMALL)) {
            for (int cycle = 0; cycle < 300; cycle++) {
                if (cycle % 50 == 0) term++;
                for (int w = 0; w < 10; w++) {
                    s.persist(new HardState(term, 1, index), entries(index + 1, index + 3, term));
                    index += 3;
                }
                install(s, meta(index - 5, term), bytes(500, cycle));
                long bytes = 0;
                for (String f : files(tmp)) bytes += Files.size(tmp.resolve(f));
                maxBytes = Math.max(maxBytes, bytes);
                maxFiles = Math.max(maxFiles, files(tmp).size());
                List<Long> segments = segmentNumbers(tmp);
                for (int i = 1; i < segments.size(); i++) assertEquals(segments.get(0) + i, segments.get(i));
            }
            assertEquals(entries(index - 4, index, term), s.entries());
        }
        // 9000 entries of ~50 bytes went through segments of 200 bytes (about 2000 of them).
        assertTrue(segmentNumbers(tmp).get(0) > 1000, "old segments were deleted: " + files(tmp));
        assertTrue(maxFiles <= 12, "files stay few: at most " + maxFiles);
        assertTrue(maxBytes < 4000, "bytes stay flat: at most " + maxBytes);
        assertEquals(1, files(tmp).stream().filter(n -> n.endsWith(".snap")).count(), "only the newest snapshot");
        try (FileStorage s = FileStorage.open(tmp, SMALL)) {
            assertEquals(entries(index - 4, index, term), s.entries());
            assertEquals(meta(index - 5, term), s.snapshot().orElseThrow());
            assertArrayEquals(bytes(500, 299), read(s));
        }
    }

    @Test
    void aTruncationBackBeforeTheFirstKeptSegmentReplaysRight() throws IOException {
        // Segment 1 holds 1..10, segment 2 holds 11..14, segment 3 overwrites from 9 on. A snapshot at 10
        // deletes segment 1, so replay starts at segment 2 and meets entry 9, below the log's first entry.
        try (FileStorage s = FileStorage.open(tmp, SMALL)) {
            s.persist(new HardState(1, 1, 0), entries(1, 10, 1));
            s.persist(null, entries(11, 14, 1));
            s.persist(new HardState(2, 2, 0), entries(9, 12, 2));
            assertEquals(3, s.segment);
            install(s, meta(10, 2), bytes(10, 1));
            assertEquals(entries(11, 12, 2), s.entries());
        }
        assertEquals(List.of(2L, 3L), segmentNumbers(tmp));
        try (FileStorage s = FileStorage.open(tmp, SMALL)) {
            assertEquals(entries(11, 12, 2), s.entries());
            assertEquals(12, s.lastIndex());
            assertEquals(new HardState(2, 2, 0), s.hardState());
        }
    }

    @Test
    void aSnapshotTheLogDoesNotHoldDropsTheLogAtOpenAndTheDropIsDurable() throws IOException {
        // No crash leaves this (an install resets the log before its snapshot goes in place), but a snapshot
        // copied in by hand would: the store does what installing it would have done.
        Path other = tmp.resolve("other");
        try (FileStorage s = FileStorage.open(other)) {
            s.persist(new HardState(2, 1, 0), entries(1, 20, 2));
            install(s, meta(20, 2), bytes(100, 1));
        }
        Path dir = tmp.resolve("store");
        try (FileStorage s = FileStorage.open(dir, SMALL)) {
            writeInSmallBatches(s, new HardState(2, 1, 3), entries(1, 30, 1));
        }
        Files.copy(snapshotFile(other, 20), snapshotFile(dir, 20));
        try (FileStorage s = FileStorage.open(dir, SMALL)) {
            assertEquals(meta(20, 2), s.snapshot().orElseThrow());
            assertEquals(List.of(), s.entries());
            assertEquals(20, s.lastIndex());
            s.persist(null, entries(21, 21, 2));
        }
        assertEquals(1, segmentNumbers(dir).size(), "the old log's segments are gone: " + files(dir));
        try (FileStorage s = FileStorage.open(dir, SMALL)) {
            assertEquals(entries(21, 21, 2), s.entries());
            assertEquals(new HardState(2, 1, 3), s.hardState());
        }
    }

    @Test
    void aDivergingLogThatCommitsBeyondTheSnapshotIsRefused() {
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(2, 1, 8), entries(1, 10, 1));
            try (SnapshotWriter w = s.createSnapshot(meta(5, 2))) {
                IllegalStateException e = assertThrows(IllegalStateException.class, w::install);
                assertTrue(e.getMessage().contains("yet the hard state commits 8"), e.getMessage());
            }
            assertEquals(entries(1, 10, 1), s.entries());
        }
    }

    // ------------------------------------------------------------ the reference semantics

    /**
     * Random Raft-like writes, snapshots (matching the log, diverging from it, beyond it) and reopens, on a
     * {@link MemoryStorage} and a {@link FileStorage} side by side: after each step they must agree. Prints
     * its seed; {@code -Dstorage.seed=N} replays one.
     */
    @Test
    void memoryAndFileStorageAgreeOnRandomWritesSnapshotsAndReopens() throws IOException {
        Long given = Long.getLong("storage.seed");
        long seed = given != null ? given : new SplittableRandom().nextLong();
        System.out.println("FileStorageSnapshotTest.agreement seed " + seed + " (replay: -Dstorage.seed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        int snapshots = 0;
        int reopens = 0;
        for (int run = 0; run < 12; run++) {
            Path dir = tmp.resolve("run-" + run);
            FileStorage.Options options = FileStorage.Options.defaults().withSync(false)
                    .withSegmentBytes(rnd.nextLong(100, 2000));
            MemoryStorage m = new MemoryStorage();
            FileStorage f = FileStorage.open(dir, options);
            long term = 1;
            int vote = 1;
            long commit = 0;
            try {
                m.persist(new HardState(term, vote, commit), List.of());
                f.persist(new HardState(term, vote, commit), List.of());
                for (int step = 0; step < 250; step++) {
                    String what = "seed " + seed + ", run " + run + ", step " + step;
                    long last = m.lastIndex();
                    long snap = m.snapshot().map(SnapshotMeta::index).orElse(0L);
                    double p = rnd.nextDouble();
                    if (p < 0.5) {
                        List<Entry> batch = randomEntries(rnd, last + 1, rnd.nextInt(1, 6), term);
                        HardState hs = null;
                        if (rnd.nextBoolean()) {
                            commit = rnd.nextLong(commit, last + batch.size() + 1);
                            hs = new HardState(term, vote, commit);
                        }
                        m.persist(hs, batch);
                        f.persist(hs, batch);
                    } else if (p < 0.6 && last > Math.max(commit, snap)) {
                        // A new leader overwrites an uncommitted suffix.
                        term++;
                        vote = rnd.nextInt(1, 6);
                        HardState hs = new HardState(term, vote, commit);
                        List<Entry> batch = randomEntries(rnd, rnd.nextLong(Math.max(commit, snap) + 1, last + 2),
                                rnd.nextInt(1, 4), term);
                        m.persist(hs, batch);
                        f.persist(hs, batch);
                    } else if (p < 0.68) {
                        term += rnd.nextInt(0, 2);
                        vote = rnd.nextInt(0, 6);
                        HardState hs = new HardState(term, vote, commit);
                        m.persist(hs, List.of());
                        f.persist(hs, List.of());
                    } else if (p < 0.8 && last > snap) {
                        // A snapshot of applied state: its last entry is in the log, which keeps what follows.
                        long index = rnd.nextLong(snap + 1, last + 1);
                        long t = m.entries().get((int) (index - snap - 1)).term();
                        byte[] data = bytes(rnd.nextInt(0, 3000), rnd.nextInt());
                        install(m, meta(index, t), data);
                        install(f, meta(index, t), data);
                        snapshots++;
                    } else if (p < 0.88) {
                        // A leader's snapshot: beyond the log, or diverging from it (never at or below the commit).
                        long index = rnd.nextLong(Math.max(snap, commit) + 1, last + 6);
                        long t = rnd.nextLong(1, term + 1);
                        byte[] data = bytes(rnd.nextInt(0, 3000), rnd.nextInt());
                        install(m, meta(index, t), data);
                        install(f, meta(index, t), data);
                        snapshots++;
                    } else if (p < 0.95) {
                        f.close();
                        f = FileStorage.open(dir, options);
                        reopens++;
                    } else {
                        long index = rnd.nextLong(1, snap + 2);
                        if (snap > 0 && index <= snap) {
                            try (SnapshotWriter w = f.createSnapshot(meta(index, 1))) {
                                assertThrows(IllegalStateException.class, w::install, what);
                            }
                        }
                    }
                    assertEquals(m.hardState(), f.hardState(), what);
                    assertEquals(m.lastIndex(), f.lastIndex(), what);
                    assertEquals(m.snapshot(), f.snapshot(), what);
                    assertEquals(m.entries(), f.entries(), what);
                    if (m.snapshot().isPresent() && step % 10 == 0) assertArrayEquals(read(m), read(f), what);
                }
                f.close();
                try (FileStorage again = FileStorage.open(dir, options)) {
                    assertEquals(m.entries(), again.entries());
                    assertEquals(m.snapshot(), again.snapshot());
                    assertEquals(m.hardState(), again.hardState());
                    if (m.snapshot().isPresent()) assertArrayEquals(read(m), read(again));
                }
            } finally {
                f.close();
            }
        }
        System.out.println("agreement: " + snapshots + " snapshots installed, " + reopens + " reopens");
    }

    /**
     * A flipped byte anywhere in a store with snapshots and compacted segments (segments, snapshot, the
     * record of the newest segment, the marker) is refused naming that file, or, in the last record of the
     * last segment only, cut as a torn tail that drops the last write. Never wrong data.
     */
    @Test
    void aFlippedByteInACompactedStoreIsRefusedNamingItsFileOrCutNeverWrongData() throws IOException {
        Long given = Long.getLong("storage.seed");
        long seed = given != null ? given : new SplittableRandom().nextLong();
        System.out.println("FileStorageSnapshotTest.flippedByte seed " + seed + " (replay: -Dstorage.seed=" + seed + ")");
        SplittableRandom rnd = new SplittableRandom(seed);
        FileStorage.Options options = FileStorage.Options.defaults().withSync(false);
        Logger log = Logger.getLogger(FileStorage.class.getName());
        Level level = log.getLevel();
        log.setLevel(Level.SEVERE);
        int recovered = 0;
        int refused = 0;
        try {
            for (int store = 0; store < 4; store++) {
                Path dir = tmp.resolve("store-" + store);
                FileStorage.Options written = options.withSegmentBytes(rnd.nextLong(150, 800));
                MemoryStorage m = new MemoryStorage();
                List<Entry> entriesBefore;
                HardState hardStateBefore;
                long lastSegment;
                long lastWriteStart;
                try (FileStorage f = FileStorage.open(dir, written)) {
                    long term = 1;
                    HardState hs = new HardState(term, 1, 0);
                    m.persist(hs, List.of());
                    f.persist(hs, List.of());
                    for (int step = 0; step < 120; step++) {
                        long last = m.lastIndex();
                        long snap = m.snapshot().map(SnapshotMeta::index).orElse(0L);
                        if (step % 15 == 14 && last > snap) {
                            long index = rnd.nextLong(snap + 1, last + 1);
                            boolean diverge = rnd.nextInt(3) == 0 && index > m.hardState().commit();
                            long t = diverge ? term + 1 : m.entries().get((int) (index - snap - 1)).term();
                            if (diverge) {
                                term++;
                                m.persist(new HardState(term, 2, m.hardState().commit()), List.of());
                                f.persist(new HardState(term, 2, m.hardState().commit()), List.of());
                            }
                            byte[] data = bytes(rnd.nextInt(0, 2000), step);
                            install(m, meta(index, t), data);
                            install(f, meta(index, t), data);
                        } else {
                            List<Entry> batch = randomEntries(rnd, last + 1, rnd.nextInt(1, 5), term);
                            HardState next = new HardState(term, 1, rnd.nextLong(m.hardState().commit(), last + 2));
                            m.persist(next, batch);
                            f.persist(next, batch);
                        }
                    }
                    entriesBefore = m.entries();
                    hardStateBefore = m.hardState();
                    HardState next = new HardState(term, 1, m.hardState().commit());
                    List<Entry> batch = randomEntries(rnd, m.lastIndex() + 1, 1, term);
                    m.persist(next, batch);
                    long segmentBefore = f.segment;
                    long sizeBefore = f.segmentSize;
                    f.persist(next, batch);
                    lastSegment = f.segment;
                    lastWriteStart = f.segment == segmentBefore ? sizeBefore
                            : LogFormat.SEGMENT_HEADER_BYTES + LogFormat.HARD_STATE_RECORD_BYTES; // it opened a segment
                }
                TreeMap<String, byte[]> original = contents(dir);
                assertTrue(original.firstKey().compareTo(LogFormat.segmentName(1)) > 0, "compacted: " + original.keySet());
                List<String> names = new ArrayList<>(original.keySet());
                String lastName = LogFormat.segmentName(lastSegment);
                for (int i = 0; i < 60; i++) {
                    for (var f : original.entrySet()) Files.write(dir.resolve(f.getKey()), f.getValue());
                    boolean lastRecord = rnd.nextInt(5) == 0;
                    String name = lastRecord ? lastName : names.get(rnd.nextInt(names.size()));
                    byte[] b = original.get(name).clone();
                    int at = lastRecord ? b.length - 1 - rnd.nextInt(LogFormat.HARD_STATE_RECORD_BYTES) : rnd.nextInt(b.length);
                    b[at] ^= (byte) rnd.nextInt(1, 256);
                    Path file = dir.resolve(name);
                    Files.write(file, b);
                    String what = "seed " + seed + ", store " + store + ": byte " + at + " of " + name + " ("
                            + b.length + " bytes)";
                    FileStorage f;
                    try {
                        f = FileStorage.open(dir, options);
                    } catch (CorruptStoreException e) {
                        assertEquals(file, e.file(), what + ": " + e.getMessage());
                        refused++;
                        continue;
                    }
                    try (f) {
                        assertTrue(name.equals(lastName) && at >= lastWriteStart,
                                what + ": recovered although the damage is not in the last write");
                        assertEquals(entriesBefore, f.entries(), what);
                        assertEquals(hardStateBefore, f.hardState(), what);
                        assertEquals(m.snapshot(), f.snapshot(), what);
                        assertArrayEquals(read(m), read(f), what);
                    }
                    recovered++;
                }
            }
        } finally {
            log.setLevel(level);
        }
        System.out.println("flipped bytes in compacted stores: " + recovered + " recovered (last write cut), "
                + refused + " refused");
    }

    static List<Entry> randomEntries(SplittableRandom rnd, long from, int count, long term) {
        return FileStorageCorruptionTest.randomEntries(rnd, from, count, term);
    }

    // ------------------------------------------------------------ crashes during an install

    /**
     * Every state a crash can leave from the moment the new snapshot is in place on: the files before the
     * install, overlaid with those after it, then the deleted old segments gone oldest first, then the old
     * snapshot gone. Each must open to the installed state, and go on.
     */
    private void crashAfterTheRename(boolean diverging) throws IOException {
        Path dir = tmp.resolve("store");
        List<Entry> log = entries(1, 30, 1);
        HardState hs = new HardState(2, 1, 3);
        SnapshotMeta second = diverging ? meta(20, 2) : meta(20, 1);
        try (FileStorage s = FileStorage.open(dir, SMALL)) {
            writeInSmallBatches(s, hs, log);
            install(s, meta(3, 1), bytes(10, 1));
        }
        TreeMap<String, byte[]> before = contents(dir);
        List<Entry> expected;
        try (FileStorage s = FileStorage.open(dir, SMALL)) {
            install(s, second, bytes(1000, 2));
            expected = s.entries();
            assertEquals(diverging ? List.of() : entries(21, 30, 1), expected);
        }
        TreeMap<String, byte[]> after = contents(dir);
        List<String> deleted = before.keySet().stream().filter(n -> !after.containsKey(n)).toList();
        assertTrue(deleted.size() >= 3, "segments and the old snapshot were deleted: " + deleted);
        assertEquals(LogFormat.snapshotName(3), deleted.get(deleted.size() - 1));
        for (int k = 0; k <= deleted.size(); k++) {
            TreeMap<String, byte[]> state = new TreeMap<>(after);
            for (String n : deleted.subList(k, deleted.size())) state.put(n, before.get(n));
            Path copy = materialize(tmp.resolve("crash-" + k), state);
            String what = (diverging ? "diverging" : "matching") + " log, crash with " + state.keySet();
            try (FileStorage s = FileStorage.open(copy, SMALL)) {
                assertEquals(Optional.of(second), s.snapshot(), what);
                assertEquals(expected, s.entries(), what);
                assertEquals(hs, s.hardState(), what);
                assertArrayEquals(bytes(1000, 2), read(s), what);
                long next = expected.isEmpty() ? 21 : 31;
                s.persist(null, entries(next, next, 2));
            }
            assertEquals(contents(dir).keySet().stream().filter(n -> n.endsWith(".snap")).toList(),
                    files(copy).stream().filter(n -> n.endsWith(".snap")).toList(), what + ": the old snapshot goes");
            try (FileStorage s = FileStorage.open(copy, SMALL)) {
                List<Entry> more = expected.isEmpty() ? entries(21, 21, 2) : concat(expected, entries(31, 31, 2));
                assertEquals(more, s.entries(), what + ": a write after recovery");
            }
        }
    }

    @Test
    void aCrashAfterTheNewSnapshotIsInPlaceRecoversItWhateverWasDeleted() throws IOException {
        crashAfterTheRename(false);
    }

    @Test
    void aCrashAfterADivergingLogWasResetRecoversTheResetWhateverWasDeleted() throws IOException {
        crashAfterTheRename(true);
    }

    /** The states before the rename: the temporary file alone, and (diverging log) the reset segment too. */
    @Test
    void aCrashBeforeTheNewSnapshotIsInPlaceRecoversThePreviousOne() throws IOException {
        for (boolean diverging : new boolean[] {false, true}) {
            Path dir = tmp.resolve("store-" + diverging);
            HardState hs = new HardState(2, 1, 3);
            try (FileStorage s = FileStorage.open(dir, SMALL)) {
                writeInSmallBatches(s, hs, entries(1, 30, 1));
                install(s, meta(3, 1), bytes(10, 1));
            }
            TreeMap<String, byte[]> before = contents(dir);
            SnapshotMeta second = diverging ? meta(20, 2) : meta(20, 1);
            try (FileStorage s = FileStorage.open(dir, SMALL)) {
                install(s, second, bytes(1000, 2));
            }
            TreeMap<String, byte[]> after = contents(dir);
            byte[] snapshotBytes = after.get(LogFormat.snapshotName(20));
            List<TreeMap<String, byte[]>> states = new ArrayList<>();
            // The temporary file, half written, then whole.
            for (int cut : new int[] {snapshotBytes.length / 2, snapshotBytes.length}) {
                TreeMap<String, byte[]> state = new TreeMap<>(before);
                state.put(LogFormat.snapshotTempName(20, 1), Arrays.copyOf(snapshotBytes, cut));
                states.add(state);
            }
            if (diverging) {
                // The reset segment renamed into place, before and after the record of the newest segment.
                String newest = after.keySet().stream().filter(n -> LogFormat.segmentNumber(n) > 0).reduce((a, b) -> b)
                        .orElseThrow();
                TreeMap<String, byte[]> state = new TreeMap<>(states.get(1));
                state.put(newest, after.get(newest));
                states.add(state);
                state = new TreeMap<>(state);
                state.put(FileStorage.LAST_SEGMENT_NAME, after.get(FileStorage.LAST_SEGMENT_NAME));
                states.add(state);
            }
            for (int i = 0; i < states.size(); i++) {
                Path copy = materialize(tmp.resolve("crash-" + diverging + "-" + i), states.get(i));
                String what = "crash state " + i + " " + states.get(i).keySet();
                try (FileStorage s = FileStorage.open(copy, SMALL)) {
                    assertEquals(Optional.of(meta(3, 1)), s.snapshot(), what);
                    assertEquals(entries(4, 30, 1), s.entries(), what);
                    assertEquals(hs, s.hardState(), what);
                    s.persist(null, entries(31, 31, 1));
                }
                assertTrue(files(copy).stream().noneMatch(n -> n.endsWith(".tmp")), what + ": temporary files go");
                try (FileStorage s = FileStorage.open(copy, SMALL)) {
                    assertEquals(entries(4, 31, 1), s.entries(), what + ": a write after recovery");
                }
            }
        }
    }

    // ------------------------------------------------------------ damage

    private Path storeWithSnapshot() {
        try (FileStorage s = FileStorage.open(tmp, SMALL)) {
            writeInSmallBatches(s, new HardState(1, 1, 3), entries(1, 60, 1));
            install(s, meta(10, 1), bytes(5000, 1));
            install(s, meta(20, 1), bytes(5000, 2));
        }
        return snapshotFile(tmp, 20);
    }

    @Test
    void aDamagedSnapshotIsRefusedNamingItsFile() throws IOException {
        Path file = storeWithSnapshot();
        byte[] original = Files.readAllBytes(file);
        int header = LogFormat.SNAPSHOT_HEADER_FIXED_BYTES + CONFIG.encodedSize();
        Map<Integer, String> flips = Map.of(
                0, "the file does not start with the snapshot magic",
                13, "the snapshot header fails its CRC",
                header + 100, "the snapshot fails its CRC: its bytes are damaged",
                original.length - 1, "the snapshot fails its CRC: its bytes are damaged",
                original.length - 8, "the snapshot is cut short or has bytes after its end");
        for (var flip : flips.entrySet()) {
            byte[] damaged = original.clone();
            damaged[flip.getKey()] ^= 0x10;
            Files.write(file, damaged);
            CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp, SMALL),
                    "flip at " + flip.getKey());
            assertEquals(file, e.file());
            assertTrue(e.getMessage().startsWith("corrupt store: " + file), e.getMessage());
            assertTrue(e.getMessage().contains(flip.getValue()), flip.getKey() + ": " + e.getMessage());
            assertArrayEquals(damaged, Files.readAllBytes(file), "a corrupt store is left as it is");
        }
        for (int cut : new int[] {0, 10, header, header + 2500, original.length - 12, original.length - 1}) {
            Files.write(file, Arrays.copyOf(original, cut));
            CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp, SMALL),
                    "cut at " + cut);
            assertEquals(file, e.file(), e.getMessage());
            assertTrue(e.getMessage().contains("cut short"), cut + ": " + e.getMessage());
        }
        Files.write(file, original);
        try (FileStorage s = FileStorage.open(tmp, SMALL)) {
            assertArrayEquals(bytes(5000, 2), read(s));
        }
    }

    @Test
    void aSnapshotUnderAnotherIndexsNameIsRefused() throws IOException {
        Path file = storeWithSnapshot();
        Files.move(file, snapshotFile(tmp, 25));
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp, SMALL));
        assertTrue(e.getMessage().endsWith("the header says snapshot index 20 but the file name says 25"),
                e.getMessage());
    }

    @Test
    void aNewerDamagedSnapshotIsRefusedEvenWithAnOlderOneThere() throws IOException {
        Path file = storeWithSnapshot();
        Files.write(snapshotFile(tmp, 5), Files.readAllBytes(file)); // an older, valid-looking leftover
        Files.write(file, Arrays.copyOf(Files.readAllBytes(file), 100));
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp, SMALL));
        assertEquals(file, e.file());
    }

    @Test
    void aMissingSegmentAfterCompactionIsNamed() throws IOException {
        storeWithSnapshot();
        List<Long> segments = segmentNumbers(tmp);
        assertTrue(segments.get(0) > 1 && segments.size() >= 3, "compacted: " + segments);
        Path middle = FileStorageTest.segment(tmp, segments.get(1));
        Files.delete(middle);
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp, SMALL));
        assertEquals(middle, e.file());
        assertTrue(e.getMessage().contains("this log segment is missing"), e.getMessage());
    }

    @Test
    void aMissingFirstSegmentAfterCompactionLeavesAGapThatIsRefused() throws IOException {
        storeWithSnapshot();
        List<Long> segments = segmentNumbers(tmp);
        Files.delete(FileStorageTest.segment(tmp, segments.get(0)));
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp, SMALL));
        assertTrue(e.getMessage().contains("are missing"), e.getMessage());
    }

    @Test
    void aCompactedLogWithoutItsSnapshotIsRefused() throws IOException {
        Path file = storeWithSnapshot();
        Files.delete(file);
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp, SMALL));
        assertEquals(FileStorageTest.segment(tmp, 1), e.file());
        assertTrue(e.getMessage().contains("the store holds no snapshot, so its log must start at segment 1"),
                e.getMessage());
    }

    @Test
    void aSnapshotWithNoLogSegmentIsRefused() throws IOException {
        Path file = storeWithSnapshot();
        for (long n : segmentNumbers(tmp)) Files.delete(FileStorageTest.segment(tmp, n));
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp, SMALL));
        assertTrue(e.getMessage().contains("holds none"), e.getMessage());
        assertTrue(Files.exists(file));
    }

    @Test
    void callsAfterCloseAreRefused() {
        FileStorage s = FileStorage.open(tmp);
        s.close();
        assertThrows(IllegalStateException.class, s::snapshot);
        assertThrows(IllegalStateException.class, s::openSnapshot);
        assertThrows(IllegalStateException.class, () -> s.createSnapshot(meta(1, 1)));
    }

    /** Writes {@code log} three entries at a time, so that it spans many small segments. */
    static void writeInSmallBatches(FileStorage s, HardState hs, List<Entry> log) {
        for (int i = 0; i < log.size(); i += 3) s.persist(hs, log.subList(i, Math.min(log.size(), i + 3)));
    }
}
