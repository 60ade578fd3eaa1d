package io.raftkv.storage;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.SnapshotMeta;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link SegmentSet} on its own: segment files, the record of the newest, roll-over and compaction. */
@ExtendWith(QuietStoreWarnings.class)
class SegmentSetTest {
    @TempDir
    Path tmp;

    private SegmentSet segments() {
        return new SegmentSet(new StoreFiles(tmp, false, StoreIo.REAL));
    }

    /** Stands for a segment's opening; a segment set does not read what its segments hold. */
    private static ByteBuffer opening(int bytes) {
        return ByteBuffer.allocate(bytes);
    }

    private List<String> names() throws IOException {
        try (Stream<Path> list = Files.list(tmp)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static SnapshotMeta snapshotAt(long index) {
        return new SnapshotMeta(index, 1, Configuration.ofVoters(Set.of(1)));
    }

    @Test
    void aRollOverWritesTheNextSegmentWholeAndRecordsItAsTheNewest() throws IOException {
        SegmentSet s = segments();
        assertEquals(0, s.check(List.of(), null), "nothing on disk: a new store");
        s.rollOver(opening(40));
        s.rollOver(opening(50));
        assertEquals(2, s.current());
        assertEquals(50, s.size());
        assertEquals(List.of(LogFormat.segmentName(1), LogFormat.segmentName(2), SegmentSet.LAST_SEGMENT_NAME), names());
        s.close();

        SegmentSet reopened = segments();
        assertEquals(1, reopened.check(List.of(1L, 2L), null));
        assertEquals(2, reopened.current());
        CorruptStoreException e = assertThrows(CorruptStoreException.class, () -> segments().check(List.of(1L), null));
        assertEquals(tmp.resolve(LogFormat.segmentName(2)), e.file(), "the recorded newest segment is missing");
    }

    @Test
    void compactionDeletesTheOldestSegmentsASnapshotCoversButNeverTheCurrentOne() throws IOException {
        SegmentSet s = segments();
        s.check(List.of(), null);
        for (long last : new long[] {10, 20, 30}) {
            s.rollOver(opening(40));
            s.wrote(last);
        }
        s.compact(snapshotAt(15));
        assertEquals(2, s.first(), "segment 1 (entries up to 10) is covered; segment 2 (up to 20) is not");
        s.compact(snapshotAt(30));
        assertEquals(3, s.first(), "every entry of segment 3 is covered, but it is the current one");
        assertEquals(List.of(LogFormat.segmentName(3), SegmentSet.LAST_SEGMENT_NAME), names());
        s.close();
    }

    @Test
    void aResetVoidsTheSegmentsBeforeItAndCuttingItBackLeavesTheOpening() throws IOException {
        SegmentSet s = segments();
        s.check(List.of(), null);
        s.rollOver(opening(40));
        s.wrote(100);
        s.rollOver(opening((int) SegmentSet.OPENING_BYTES + LogFormat.LOG_RESET_RECORD_BYTES));
        s.resetTo(7);
        s.cutToOpening();
        assertEquals(SegmentSet.OPENING_BYTES, s.size());
        assertEquals(SegmentSet.OPENING_BYTES, Files.size(tmp.resolve(LogFormat.segmentName(2))));
        s.compact(snapshotAt(7));
        assertEquals(2, s.first(), "segment 1's entries up to 100 were voided by the reset");
        s.close();
    }

    @Test
    void aGapInTheSegmentsOrALogNotStartingAtOneWithoutASnapshotIsRefused() throws IOException {
        SegmentSet s = segments();
        s.check(List.of(), null);
        for (int i = 0; i < 3; i++) s.rollOver(opening(40));
        s.close();
        CorruptStoreException gap = assertThrows(CorruptStoreException.class, () -> segments().check(List.of(1L, 3L), null));
        assertEquals(tmp.resolve(LogFormat.segmentName(2)), gap.file());
        CorruptStoreException start = assertThrows(CorruptStoreException.class, () -> segments().check(List.of(2L, 3L), null));
        assertEquals(tmp.resolve(LogFormat.segmentName(1)), start.file());
        assertTrue(start.getMessage().contains("holds no snapshot"), start.getMessage());
        assertEquals(2, segments().check(List.of(2L, 3L), snapshotAt(5)), "a snapshot covers the deleted segment 1");
    }
}
