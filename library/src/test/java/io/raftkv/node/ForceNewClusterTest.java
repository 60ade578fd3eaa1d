package io.raftkv.node;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.storage.MemoryStorage;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link ForceNewCluster} on a store: what it keeps, what it appends, what it refuses. */
class ForceNewClusterTest {
    private static Entry command(long index, long term) {
        return new Entry(index, term, Entry.Kind.COMMAND, new byte[] {(byte) index});
    }

    @Test
    void itKeepsTheWholeLogAndAppendsAConfigurationOfTheSurvivorAloneMarkedCommitted() {
        MemoryStorage store = new MemoryStorage();
        List<Entry> log = List.of(command(1, 1), command(2, 1), command(3, 2), command(4, 2), command(5, 2));
        store.persist(new HardState(3, 2, 3), log); // voted for node 2 in term 3; committed up to 3 as far as it knows

        ForceNewCluster.Outcome o = ForceNewCluster.rewrite(store, 1, Set.of(1, 2, 3));
        assertTrue(o.rewritten());
        assertEquals(Configuration.ofVoters(Set.of(1, 2, 3)), o.before(), "no configuration entry: the first voters");
        assertEquals(6, o.index());
        List<Entry> after = store.entries();
        assertEquals(log, after.subList(0, 5), "every entry kept, the uncommitted ones too");
        Entry alone = after.get(5);
        assertEquals(new Entry(6, 3, Entry.Kind.CONFIG, Configuration.ofVoters(Set.of(1)).encode()), alone);
        assertEquals(new HardState(3, 2, 6), store.hardState(), "committed through the new entry; term and vote kept");
        assertTrue(o.describe().contains("entries 4 to 5 (which the old cluster may not have committed) are committed now"),
                o.describe());
        assertTrue(o.describe().contains("its configuration was voters [1, 2, 3]"), o.describe());

        ForceNewCluster.Outcome again = ForceNewCluster.rewrite(store, 1, Set.of(1, 2, 3));
        assertFalse(again.rewritten(), "twice is harmless");
        assertEquals(6, store.entries().size());
        assertTrue(again.describe().contains("already a cluster of node 1 alone"), again.describe());
    }

    @Test
    void theConfigurationItReplacesIsTheLogsLastOne() {
        MemoryStorage store = new MemoryStorage();
        Configuration four = new Configuration(new java.util.TreeSet<>(Set.of(1, 2, 3)), new java.util.TreeSet<>(Set.of(4)));
        store.persist(new HardState(1, 1, 2), List.of(command(1, 1),
                new Entry(2, 1, Entry.Kind.CONFIG, four.encode()), command(3, 1)));
        ForceNewCluster.Outcome o = ForceNewCluster.rewrite(store, 3, Set.of());
        assertEquals(four, o.before());
        assertTrue(o.describe().contains("voters [1, 2, 3] and learners [4]"), o.describe());
        assertEquals(Configuration.ofVoters(Set.of(3)), Configuration.decode(store.entries().get(3).data()));

        MemoryStorage unknown = new MemoryStorage();
        unknown.persist(new HardState(1, 1, 1), List.of(command(1, 1)));
        ForceNewCluster.Outcome u = ForceNewCluster.rewrite(unknown, 2, Set.of());
        assertNull(u.before());
        assertTrue(u.rewritten(), "an unknown configuration is replaced all the same");
        assertTrue(u.describe().contains("its configuration was an unknown configuration"), u.describe());
    }

    @Test
    void aStoreWithNoDataIsRefused() {
        MemoryStorage empty = new MemoryStorage();
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> ForceNewCluster.rewrite(empty, 1, Set.of(1, 2, 3)));
        assertTrue(e.getMessage().contains("node 1's store holds no log and no snapshot"), e.getMessage());
        assertEquals(HardState.INITIAL, empty.hardState(), "nothing written");
        assertTrue(empty.entries().isEmpty());
    }
}
