package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import org.junit.jupiter.api.Test;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.SnapshotMeta;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Set;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The in-memory log and hard state: appends, truncation of a conflicting suffix, and what it refuses. */
class MemoryStorageTest {

    static Entry entry(long index, long term) {
        return new Entry(index, term, Entry.Kind.COMMAND, new byte[] {(byte) index, (byte) term});
    }

    static List<Entry> entries(long from, long to, long term) {
        List<Entry> out = new ArrayList<>();
        for (long i = from; i <= to; i++) out.add(entry(i, term));
        return out;
    }

    @Test
    void aNewStorageHoldsTheInitialHardStateAndNoEntries() {
        MemoryStorage s = new MemoryStorage();
        assertEquals(HardState.INITIAL, s.hardState());
        assertEquals(List.of(), s.entries());
        assertEquals(0, s.lastIndex());
    }

    @Test
    void entriesAreAppendedInOrder() {
        MemoryStorage s = new MemoryStorage();
        s.persist(null, entries(1, 3, 1));
        s.persist(null, entries(4, 5, 2));
        assertEquals(5, s.lastIndex());
        List<Entry> expected = new ArrayList<>(entries(1, 3, 1));
        expected.addAll(entries(4, 5, 2));
        assertEquals(expected, s.entries());
    }

    @Test
    void aWriteStartingInsideTheLogReplacesEverythingFromThatIndexOn() {
        MemoryStorage s = new MemoryStorage();
        s.persist(null, entries(1, 5, 1));
        s.persist(null, List.of(entry(3, 2)));
        assertEquals(List.of(entry(1, 1), entry(2, 1), entry(3, 2)), s.entries(),
                "entries 4 and 5 belonged to the overwritten suffix and must go");
        assertEquals(3, s.lastIndex());
    }

    @Test
    void aWriteStartingAtTheFirstIndexReplacesTheWholeLog() {
        MemoryStorage s = new MemoryStorage();
        s.persist(null, entries(1, 4, 1));
        s.persist(null, entries(1, 2, 3));
        assertEquals(entries(1, 2, 3), s.entries());
    }

    @Test
    void aLongerWriteInsideTheLogReplacesAndExtendsIt() {
        MemoryStorage s = new MemoryStorage();
        s.persist(null, entries(1, 3, 1));
        s.persist(null, entries(2, 6, 2));
        List<Entry> expected = new ArrayList<>(List.of(entry(1, 1)));
        expected.addAll(entries(2, 6, 2));
        assertEquals(expected, s.entries());
    }

    @Test
    void aWriteThatWouldLeaveAGapIsRefusedAndChangesNothing() {
        MemoryStorage s = new MemoryStorage();
        s.persist(null, entries(1, 3, 1));
        HardState hs = new HardState(5, 1, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.persist(hs, entries(5, 6, 1)));
        assertEquals("entries start at 5 but the log holds 1..3: a write may not leave a gap", e.getMessage());
        assertEquals(entries(1, 3, 1), s.entries());
        assertEquals(HardState.INITIAL, s.hardState(), "a refused write must not half-apply its hard state");
    }

    @Test
    void aFirstWriteMustStartAtIndexOne() {
        MemoryStorage s = new MemoryStorage();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> s.persist(null, entries(2, 3, 1)));
        assertEquals("entries start at 2 but the log holds 1..0: a write may not leave a gap", e.getMessage());
        assertEquals(0, s.lastIndex());
    }

    @Test
    void aBatchWithAGapInsideIsRefused() {
        MemoryStorage s = new MemoryStorage();
        assertThrows(IllegalArgumentException.class, () -> s.persist(null, List.of(entry(1, 1), entry(3, 1))));
        assertEquals(0, s.lastIndex());
    }

    @Test
    void theHardStateIsReplacedOnlyWhenOneIsGiven() {
        MemoryStorage s = new MemoryStorage();
        HardState first = new HardState(1, 1, 0);
        s.persist(first, List.of());
        assertEquals(first, s.hardState());

        s.persist(null, entries(1, 2, 1));
        assertEquals(first, s.hardState(), "null means unchanged");
        assertEquals(2, s.lastIndex());

        HardState second = new HardState(2, 0, 2);
        s.persist(second, List.of());
        assertEquals(second, s.hardState());
        assertEquals(2, s.lastIndex(), "no entries means the log is unchanged");

        HardState third = new HardState(3, 2, 2);
        s.persist(third, entries(3, 3, 3));
        assertEquals(third, s.hardState());
        assertEquals(3, s.lastIndex());
    }

    @Test
    void nullEntriesAreRefused() {
        MemoryStorage s = new MemoryStorage();
        assertThrows(NullPointerException.class, () -> s.persist(new HardState(1, 0, 0), null));
        assertEquals(HardState.INITIAL, s.hardState());
    }

    @Test
    void entriesReturnsASnapshotThatLaterWritesDoNotChange() {
        MemoryStorage s = new MemoryStorage();
        s.persist(null, entries(1, 3, 1));
        List<Entry> snapshot = s.entries();
        s.persist(null, List.of(entry(2, 2)));
        assertEquals(entries(1, 3, 1), snapshot);
        assertThrows(UnsupportedOperationException.class, () -> snapshot.add(entry(4, 1)));
    }

    @Test
    void theGivenListIsCopiedNotKept() {
        MemoryStorage s = new MemoryStorage();
        List<Entry> batch = new ArrayList<>(entries(1, 2, 1));
        s.persist(null, batch);
        batch.clear();
        assertEquals(entries(1, 2, 1), s.entries());
    }

    @Test
    void closingKeepsTheContentsForARestart() {
        MemoryStorage s = new MemoryStorage();
        HardState hs = new HardState(4, 2, 1);
        s.persist(hs, entries(1, 2, 4));
        s.close();
        assertEquals(hs, s.hardState());
        assertEquals(entries(1, 2, 4), s.entries());
    }

    /** Writes and installs a snapshot at {@code index} whose bytes are {@code size} copies of {@code fill}. */
    private static void snapshot(MemoryStorage s, long index, byte fill, int size) throws IOException {
        try (SnapshotWriter w = s.createSnapshot(new SnapshotMeta(index, 1, Configuration.ofVoters(Set.of(1))))) {
            byte[] b = new byte[size];
            Arrays.fill(b, fill);
            w.output().write(b);
            w.install();
        }
    }

    private static byte[] contents(SnapshotReader r) throws IOException {
        ByteBuffer dst = ByteBuffer.allocate((int) r.size());
        for (long at = 0; dst.hasRemaining(); ) {
            int n = r.read(at, dst);
            if (n < 0) break;
            at += n;
        }
        return dst.array();
    }

    @Test
    void aSnapshotBeingReadKeepsItsBytesWhileNewerOnesAreWritten() throws IOException {
        MemoryStorage s = new MemoryStorage();
        s.persist(null, entries(1, 40, 1));
        // The first one larger than the rest: its buffer has room for any of them, were it free.
        snapshot(s, 1, (byte) 'a', 4000);
        SnapshotReader first = s.openSnapshot();
        SnapshotReader second = s.openSnapshot();
        byte[] a = new byte[4000];
        Arrays.fill(a, (byte) 'a');
        // Newer snapshots replace it; the store reuses the buffers of replaced ones that nobody reads.
        for (int i = 2; i <= 10; i++) {
            snapshot(s, i, (byte) ('a' + i), 1000);
            assertArrayEquals(a, contents(second), "after snapshot " + i);
            if (i == 2) { // while the only spare buffer would be the first one's, were it free
                first.close();
                first.close(); // a second close must not count the reader off twice
            }
            try (SnapshotReader now = s.openSnapshot()) {
                byte[] expected = new byte[1000];
                Arrays.fill(expected, (byte) ('a' + i));
                assertArrayEquals(expected, contents(now), "snapshot " + i);
                assertEquals(i, now.meta().index());
            }
        }
        second.close();
        // Its buffer is free now: later snapshots may be written into it, and each reads back as written.
        for (int i = 11; i <= 14; i++) {
            snapshot(s, i, (byte) ('A' + i), 1000 + 10 * i);
            try (SnapshotReader now = s.openSnapshot()) {
                byte[] expected = new byte[1000 + 10 * i];
                Arrays.fill(expected, (byte) ('A' + i));
                assertArrayEquals(expected, contents(now), "snapshot " + i);
            }
        }
        assertThrows(IllegalStateException.class, () -> second.read(0, ByteBuffer.allocate(10)), "a closed reader reads nothing");
        assertThrows(IllegalStateException.class, second::stream);
    }
}
