package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The file log: what survives a reopen, conflicting suffixes, segments, group commit, and what it refuses. */
class FileStorageTest {

    @TempDir
    Path tmp;

    static Entry entry(long index, long term) {
        return new Entry(index, term, Entry.Kind.COMMAND, new byte[] {(byte) index, (byte) term, 42});
    }

    static List<Entry> entries(long from, long to, long term) {
        List<Entry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) out.add(entry(i, term));
        return out;
    }

    static List<Entry> concat(List<Entry> a, List<Entry> b) {
        List<Entry> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    static Path segment(Path dir, long n) {
        return dir.resolve(LogFormat.segmentName(n));
    }

    @Test
    void aMissingDirectoryBecomesAnEmptyStore() throws IOException {
        Path dir = tmp.resolve("a/b/node-1");
        try (FileStorage s = FileStorage.open(dir)) {
            assertEquals(HardState.INITIAL, s.hardState());
            assertEquals(List.of(), s.entries());
            assertEquals(0, s.lastIndex());
            assertEquals(dir.toAbsolutePath(), s.directory());
        }
        assertEquals(List.of("log-00000000000000000001.seg", "raftkv.segments", "raftkv.store"), files(dir));
        assertEquals(18, Files.size(dir.resolve("raftkv.store")), "magic, version, an empty cluster id, CRC");
    }

    @Test
    void anEmptyDirectoryBecomesAStoreThatReopensEmpty() {
        FileStorage.open(tmp).close();
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(HardState.INITIAL, s.hardState());
            assertEquals(List.of(), s.entries());
        }
    }

    @Test
    void entriesHardStateAndCommitSurviveCloseAndReopen() {
        HardState hs = new HardState(3, 2, 4);
        List<Entry> log = concat(entries(1, 2, 1), entries(3, 5, 3));
        log.set(2, new Entry(3, 3, Entry.Kind.NOOP, new byte[0]));
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 1, 0), entries(1, 2, 1));
            s.persist(hs, log.subList(2, 5));
            assertEquals(hs, s.hardState());
            assertEquals(log, s.entries());
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(hs, s.hardState());
            assertEquals(log, s.entries());
            assertEquals(5, s.lastIndex());
            s.persist(null, entries(6, 6, 3));
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(hs, s.hardState(), "a write without a hard state keeps the current one");
            assertEquals(concat(log, entries(6, 6, 3)), s.entries());
        }
    }

    @Test
    void largeEntriesAndEmptyOnesRoundTrip() {
        byte[] big = new byte[300_000];
        for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31);
        List<Entry> log = List.of(new Entry(1, 1, Entry.Kind.NOOP, new byte[0]),
                new Entry(2, 1, Entry.Kind.COMMAND, big),
                new Entry(3, 1, Entry.Kind.COMMAND, new byte[0]));
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 0, 0), log);
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(log, s.entries());
        }
    }

    @Test
    void aConflictingSuffixIsReplacedAndStaysReplacedAfterReopen() {
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 1, 2), entries(1, 5, 1));
            s.persist(new HardState(2, 3, 2), entries(3, 3, 2));
            assertEquals(concat(entries(1, 2, 1), entries(3, 3, 2)), s.entries());
            assertEquals(3, s.lastIndex());
            s.persist(null, entries(4, 4, 2));
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(concat(entries(1, 2, 1), entries(3, 4, 2)), s.entries(),
                    "entries 4 and 5 of term 1 were overwritten and must stay gone");
            assertEquals(new HardState(2, 3, 2), s.hardState());
        }
    }

    @Test
    void aHardStateWrittenAfterEntriesThatAreLaterOverwrittenIsNotLost() {
        HardState vote = new HardState(2, 3, 1);
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 1, 1), entries(1, 5, 1));
            s.persist(vote, List.of());                  // lies in the file after entries 2..5
            s.persist(null, entries(2, 2, 2));           // overwrites them from index 2
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(vote, s.hardState());
            assertEquals(concat(entries(1, 1, 1), entries(2, 2, 2)), s.entries());
        }
    }

    @Test
    void aWriteThatReplacesTheWholeLogSurvivesReopen() {
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 1, 0), entries(1, 4, 1));
            s.persist(new HardState(3, 0, 0), entries(1, 2, 3));
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(entries(1, 2, 3), s.entries());
        }
    }

    @Test
    void theLogRollsOverToNewSegmentsAndReopensWhole() throws IOException {
        FileStorage.Options tiny = FileStorage.Options.defaults().withSegmentBytes(200);
        List<Entry> log = new ArrayList<>();
        HardState hs = null;
        try (FileStorage s = FileStorage.open(tmp, tiny)) {
            for (int i = 1; i <= 40; i++) {
                hs = new HardState(1 + i / 10, 1, i - 1);
                List<Entry> batch = entries(i, i, hs.term());
                s.persist(hs, batch);
                log.addAll(batch);
            }
            assertEquals(log, s.entries());
        }
        List<String> names = files(tmp);
        long segments = names.stream().filter(n -> n.endsWith(".seg")).count();
        assertTrue(segments >= 10, "expected many segments of 200 bytes, got " + names);
        for (long n = 1; n <= segments; n++) {
            assertTrue(names.contains(LogFormat.segmentName(n)), "segments are numbered from 1 without gaps: " + names);
            assertTrue(Files.size(segment(tmp, n)) < 200 + 100, "a segment exceeds its size by at most one write");
        }
        try (FileStorage s = FileStorage.open(tmp, tiny)) {
            assertEquals(log, s.entries());
            assertEquals(hs, s.hardState());
            s.persist(null, entries(41, 41, hs.term()));
            log.add(entry(41, hs.term()));
        }
        try (FileStorage s = FileStorage.open(tmp, FileStorage.Options.defaults())) {
            assertEquals(log, s.entries(), "the segment size is a writing choice, not part of the store");
            assertEquals(hs, s.hardState());
        }
    }

    @Test
    void aConflictingSuffixInAnEarlierSegmentIsReplacedAcrossSegments() {
        FileStorage.Options tiny = FileStorage.Options.defaults().withSegmentBytes(100);
        try (FileStorage s = FileStorage.open(tmp, tiny)) {
            for (int i = 1; i <= 10; i++) s.persist(new HardState(1, 1, 1), entries(i, i, 1));
            s.persist(new HardState(2, 2, 1), entries(2, 3, 2));
        }
        try (FileStorage s = FileStorage.open(tmp, tiny)) {
            assertEquals(concat(entries(1, 1, 1), entries(2, 3, 2)), s.entries());
            assertEquals(new HardState(2, 2, 1), s.hardState());
        }
    }

    @Test
    void everySegmentStartsWithTheHardStateSoOlderOnesAreNotNeededForIt() throws IOException {
        HardState vote = new HardState(7, 3, 0);
        try (FileStorage s = FileStorage.open(tmp, FileStorage.Options.defaults().withSegmentBytes(1))) {
            s.persist(vote, List.of());
            s.persist(null, entries(1, 1, 7));
        }
        // Segment 3 was started by the second write; it opens with the vote cast in segment 2.
        byte[] seg3 = Files.readAllBytes(segment(tmp, 3));
        ByteBuffer b = ByteBuffer.wrap(seg3);
        int at = LogFormat.SEGMENT_HEADER_BYTES + LogFormat.RECORD_HEADER_BYTES;
        assertEquals(LogFormat.HARD_STATE, b.get(at));
        assertEquals(vote, new HardState(b.getLong(at + 1), b.getInt(at + 9), b.getLong(at + 13)));
    }

    @Test
    void persistForcesTheLogOncePerCall() {
        try (FileStorage s = FileStorage.open(tmp)) {
            long before = s.forces;
            s.persist(new HardState(1, 1, 0), entries(1, 50, 1));
            assertEquals(before + 1, s.forces, "fifty entries and a hard state: one force");
            s.persist(null, entries(51, 51, 1));
            assertEquals(before + 2, s.forces);
            s.persist(new HardState(2, 0, 10), List.of());
            assertEquals(before + 3, s.forces);
            s.persist(null, List.of());
            assertEquals(before + 3, s.forces, "nothing to write, nothing to force");
        }
    }

    @Test
    void aWriteThatOnlyMovesTheCommitIndexIsNotForcedButIsKeptOnClose() {
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 1, 0), entries(1, 10, 1));
            long before = s.forces;
            s.persist(new HardState(1, 1, 8), List.of());
            assertEquals(before, s.forces, "commit is volatile state: moving it alone needs no sync");
            s.persist(new HardState(2, 0, 8), List.of());
            assertEquals(before + 1, s.forces, "a new term must be durable");
            s.persist(new HardState(2, 3, 9), List.of());
            assertEquals(before + 2, s.forces, "a vote must be durable");
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(new HardState(2, 3, 9), s.hardState());
        }
    }

    @Test
    void aWriteThatStartsANewSegmentForcesItAndTheRecordOfTheNewestSegment() {
        try (FileStorage s = FileStorage.open(tmp, FileStorage.Options.defaults().withSegmentBytes(1))) {
            long before = s.forces;
            s.persist(new HardState(1, 1, 0), entries(1, 5, 1));
            s.persist(new HardState(1, 1, 0), entries(6, 9, 1));
            assertEquals(before + 4, s.forces, "per roll-over: the new segment, and the record naming it");
            assertEquals(3, s.segment);
        }
    }

    @Test
    void aRollOverForcesTheOldSegmentFirstWhenItHoldsAnUnforcedCommit() {
        try (FileStorage s = FileStorage.open(tmp, FileStorage.Options.defaults().withSegmentBytes(200))) {
            s.persist(new HardState(1, 1, 0), entries(1, 1, 1));
            long before = s.forces;
            s.persist(new HardState(1, 1, 1), List.of()); // commit only: not forced
            assertEquals(before, s.forces);
            s.persist(null, entries(2, 6, 1)); // fills the segment
            s.persist(null, entries(7, 7, 1)); // rolls over
            assertTrue(s.segment >= 2);
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(7, s.lastIndex());
            assertEquals(1, s.hardState().commit());
        }
    }

    @Test
    void aMissingLastSegmentOrAStoreStrippedOfItsSegmentsIsRefused() throws Exception {
        try (FileStorage s = FileStorage.open(tmp, FileStorage.Options.defaults().withSegmentBytes(1))) {
            s.persist(new HardState(1, 1, 0), entries(1, 3, 1));
            s.persist(null, entries(4, 4, 1));
            assertEquals(3, s.segment);
        }
        java.nio.file.Files.delete(tmp.resolve("log-00000000000000000003.seg"));
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertTrue(e.file().toString().endsWith("log-00000000000000000003.seg"), e.getMessage());
        java.nio.file.Files.delete(tmp.resolve("log-00000000000000000002.seg"));
        java.nio.file.Files.delete(tmp.resolve("log-00000000000000000001.seg"));
        e = assertThrows(CorruptStoreException.class, () -> FileStorage.open(tmp));
        assertTrue(e.getMessage().contains("holds none"), e.getMessage());
    }

    @Test
    void withoutSyncNothingIsForcedAndEverythingIsStillWritten() {
        FileStorage.Options noSync = FileStorage.Options.defaults().withSegmentBytes(100).withSync(false);
        try (FileStorage s = FileStorage.open(tmp, noSync)) {
            for (int i = 1; i <= 10; i++) s.persist(new HardState(1, 1, 0), entries(i, i, 1));
            assertEquals(0, s.forces);
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(entries(1, 10, 1), s.entries());
        }
    }

    @Test
    void writesThatBreakTheLogAreRefusedAndWriteNothing() {
        try (FileStorage s = FileStorage.open(tmp)) {
            HardState hs = new HardState(2, 1, 2);
            s.persist(hs, entries(1, 3, 1));
            IllegalArgumentException gap = assertThrows(IllegalArgumentException.class,
                    () -> s.persist(new HardState(3, 1, 2), entries(5, 6, 1)));
            assertEquals("entries start at 5 but the log holds 1..3: a write may not leave a gap", gap.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.persist(hs, List.of(entry(4, 1), entry(6, 1))));
            IllegalArgumentException term = assertThrows(IllegalArgumentException.class,
                    () -> s.persist(null, entries(4, 4, 3)));
            assertTrue(term.getMessage().contains("beyond the hard state's"), term.getMessage());
            IllegalArgumentException commit = assertThrows(IllegalArgumentException.class,
                    () -> s.persist(new HardState(2, 1, 4), List.of()));
            assertTrue(commit.getMessage().startsWith("commit index 4 is beyond the last entry, 3"),
                    commit.getMessage());
            assertThrows(IllegalArgumentException.class, () -> s.persist(null, entries(1, 1, 2)),
                    "cutting the log below the commit index");
            IllegalArgumentException back = assertThrows(IllegalArgumentException.class,
                    () -> s.persist(new HardState(1, 1, 2), List.of()));
            assertTrue(back.getMessage().contains("may not go back"), back.getMessage());
            assertThrows(NullPointerException.class, () -> s.persist(hs, null));
            assertEquals(hs, s.hardState());
            assertEquals(3, s.lastIndex());
        }
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(new HardState(2, 1, 2), s.hardState());
            assertEquals(entries(1, 3, 1), s.entries(), "nothing of the refused writes reached the disk");
        }
    }

    @Test
    void aFirstWriteMustStartAtIndexOne() {
        try (FileStorage s = FileStorage.open(tmp)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> s.persist(new HardState(1, 0, 0), entries(2, 3, 1)));
            assertEquals("entries start at 2 but the log holds 1..0: a write may not leave a gap", e.getMessage());
        }
    }

    @Test
    void entriesReflectWritesMadeSinceOpen() {
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 1, 0), entries(1, 3, 1));
            List<Entry> before = s.entries();
            s.persist(new HardState(2, 1, 0), entries(2, 2, 2));
            assertEquals(entries(1, 3, 1), before, "a list handed out does not change");
            assertEquals(concat(entries(1, 1, 1), entries(2, 2, 2)), s.entries());
            assertThrows(UnsupportedOperationException.class, () -> s.entries().add(entry(3, 2)));
        }
    }

    @Test
    void theGivenListIsWrittenNotKept() {
        List<Entry> batch = new ArrayList<>(entries(1, 2, 1));
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 0, 0), batch);
            batch.clear();
            assertEquals(entries(1, 2, 1), s.entries());
        }
    }

    @Test
    void callsAfterCloseAreRefusedAndClosingTwiceIsHarmless() {
        FileStorage s = FileStorage.open(tmp);
        s.close();
        s.close();
        assertThrows(IllegalStateException.class, s::hardState);
        assertThrows(IllegalStateException.class, s::entries);
        assertThrows(IllegalStateException.class, s::lastIndex);
        assertThrows(IllegalStateException.class, () -> s.persist(new HardState(1, 0, 0), List.of()));
    }

    @Test
    void aForeignNonEmptyDirectoryIsRefusedAndLeftAlone() throws IOException {
        Files.writeString(tmp.resolve("notes.txt"), "mine");
        Files.createDirectory(tmp.resolve("photos"));
        NotAStoreException e = assertThrows(NotAStoreException.class, () -> FileStorage.open(tmp));
        assertTrue(e.getMessage().startsWith(tmp.toAbsolutePath() + " is not a raftkv store"), e.getMessage());
        assertTrue(e.getMessage().contains("2 entries (notes.txt, photos)"), e.getMessage());
        assertEquals(tmp.toAbsolutePath(), e.directory());
        assertEquals(List.of("notes.txt", "photos"), files(tmp));
    }

    @Test
    void aFileIsNotAStore() throws IOException {
        Path file = Files.writeString(tmp.resolve("file"), "x");
        NotAStoreException e = assertThrows(NotAStoreException.class, () -> FileStorage.open(file));
        assertTrue(e.getMessage().endsWith("it is a file, not a directory"), e.getMessage());
    }

    @Test
    void aMarkerLeftHalfWrittenByACrashDuringCreationIsReplaced() throws IOException {
        Files.write(tmp.resolve("raftkv.store.tmp"), new byte[] {1, 2, 3});
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(HardState.INITIAL, s.hardState());
        }
        assertEquals(List.of("log-00000000000000000001.seg", "raftkv.segments", "raftkv.store"), files(tmp));
    }

    @Test
    void aSegmentNeverRenamedIntoPlaceIsDeleted() throws IOException {
        try (FileStorage s = FileStorage.open(tmp)) {
            s.persist(new HardState(1, 0, 0), entries(1, 2, 1));
        }
        Files.write(tmp.resolve(LogFormat.segmentName(2) + ".tmp"), new byte[] {9, 9, 9});
        try (FileStorage s = FileStorage.open(tmp)) {
            assertEquals(entries(1, 2, 1), s.entries());
        }
        assertFalse(Files.exists(tmp.resolve(LogFormat.segmentName(2) + ".tmp")));
    }

    @Test
    void segmentBytesMustBeSensible() {
        assertThrows(IllegalArgumentException.class, () -> new FileStorage.Options(0, true));
        assertThrows(IllegalArgumentException.class,
                () -> FileStorage.Options.defaults().withSegmentBytes((1L << 30) + 1));
        assertEquals(new FileStorage.Options(64L << 20, true), FileStorage.Options.defaults());
    }

    @Test
    void aStoreOpenAlreadyCannotBeOpenedASecondTimeUntilItIsClosed() {
        FileStorage first = FileStorage.open(tmp);
        StorageException e = org.junit.jupiter.api.Assertions.assertThrows(StorageException.class, () -> FileStorage.open(tmp));
        assertTrue(e.getMessage().contains("already open"), e.getMessage());
        first.persist(new HardState(1, 1, 0), entries(1, 3, 1));
        first.close();
        try (FileStorage again = FileStorage.open(tmp)) {
            assertEquals(3, again.lastIndex());
        }
    }

    @Test
    void aStoreOfAnotherClusterIsRefusedAndOneThatRecordedNoneAdoptsTheFirstItIsOpenedFor() throws IOException {
        FileStorage.Options noSync = FileStorage.Options.defaults().withSync(false);
        Path dir = tmp.resolve("blue-node");
        try (FileStorage s = FileStorage.open(dir, noSync.withClusterId("blue"))) {
            s.persist(new HardState(1, 1, 0), entries(1, 2, 1));
        }
        byte[] before = Files.readAllBytes(dir.resolve("raftkv.store"));
        StorageException e = assertThrows(StorageException.class, () -> FileStorage.open(dir, noSync.withClusterId("green")));
        assertFalse(e instanceof CorruptStoreException, e.toString());
        assertEquals(dir + " holds the data of cluster 'blue', not of cluster 'green' as this node was told: refusing to"
                + " start on another cluster's data", e.getMessage());
        assertTrue(java.util.Arrays.equals(before, Files.readAllBytes(dir.resolve("raftkv.store"))), "nothing changed");
        try (FileStorage s = FileStorage.open(dir, noSync.withClusterId("blue"))) {
            assertEquals(2, s.lastIndex());
        }
        try (FileStorage s = FileStorage.open(dir, noSync)) {
            assertEquals(2, s.lastIndex(), "a store opened with no cluster id is not checked");
        }

        Path anonymous = tmp.resolve("anonymous");
        try (FileStorage s = FileStorage.open(anonymous, noSync)) {
            s.persist(new HardState(1, 1, 0), entries(1, 1, 1));
        }
        try (FileStorage s = FileStorage.open(anonymous, noSync.withClusterId("green"))) {
            assertEquals(1, s.lastIndex());
            // The marker was rewritten to record the id; the store is still locked against a second opener.
            StorageException twice = assertThrows(StorageException.class, () -> FileStorage.open(anonymous, noSync));
            assertTrue(twice.getMessage().contains("is already open"), twice.getMessage());
        }
        assertThrows(StorageException.class, () -> FileStorage.open(anonymous, noSync.withClusterId("blue")),
                "it recorded the first cluster it was opened for");
    }

    @Test
    void aClusterIdIsOneTo255Bytes() {
        FileStorage.Options o = FileStorage.Options.defaults();
        assertEquals("clusterId must be 1..255 bytes in UTF-8, was 0",
                assertThrows(IllegalArgumentException.class, () -> o.withClusterId("")).getMessage());
        assertEquals("clusterId must be 1..255 bytes in UTF-8, was 256",
                assertThrows(IllegalArgumentException.class, () -> o.withClusterId("x".repeat(256))).getMessage());
        assertEquals("é".repeat(127), o.withClusterId("é".repeat(127)).clusterId());
    }
}
