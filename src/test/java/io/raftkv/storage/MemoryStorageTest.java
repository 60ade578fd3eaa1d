package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

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
}
