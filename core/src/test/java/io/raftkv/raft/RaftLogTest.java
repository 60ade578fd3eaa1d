package io.raftkv.raft;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.raftkv.raft.TestNetwork.cmd;
import static io.raftkv.raft.TestNetwork.logOfTerms;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link RaftLog} on its own: the byte count it keeps for the uncommitted bound, the checks that refuse
 * what would corrupt it, and the copy it shares between followers. Each test names what a cluster would
 * get wrong if the log did.
 */
class RaftLogTest {
    private static final Configuration THREE = Configuration.ofVoters(Set.of(1, 2, 3));

    private static long sizeOf(List<Entry> entries) {
        return entries.stream().mapToLong(Entry::size).sum();
    }

    /** The byte count follows every way entries come and go: the leader's uncommitted bound reads it. */
    @Test
    void theByteCountFollowsEveryAppendTruncationCompactionAndRestore() {
        List<Entry> persisted = logOfTerms(1, 1, 1, 1, 1, 1);
        RaftLog log = new RaftLog(0, 0, THREE, persisted, 0);
        assertEquals(sizeOf(persisted), log.bytes(), "what a restarted node reads back is counted");

        Entry seventh = cmd(7, 1);
        log.append(seventh);
        assertEquals(sizeOf(persisted) + seventh.size(), log.bytes());

        // A leader of term 2 overwrites 5..7 with two entries of its own.
        List<Entry> incoming = List.of(cmd(5, 2), cmd(6, 2));
        assertEquals(6, log.maybeAppend(4, 1, incoming));
        assertEquals(sizeOf(persisted.subList(0, 4)) + sizeOf(incoming), log.bytes(), "the dropped suffix no longer counts");

        OutList<Entry> toPersist = new OutList<>();
        log.takeUnstable(toPersist);
        log.stableTo(6, 2);
        log.commitTo(6);
        OutList<Entry> toApply = new OutList<>();
        log.takeCommitted(toApply);
        // Compacting most of the log counts what is kept; compacting a little counts what goes: both must agree.
        log.compact(1);
        assertEquals(sizeOf(persisted.subList(1, 4)) + sizeOf(incoming), log.bytes());
        log.compact(5);
        assertEquals(cmd(6, 2).size(), log.bytes());

        log.restore(new SnapshotMeta(9, 3, THREE));
        assertEquals(0, log.bytes(), "a restored log holds nothing in memory");
    }

    @Test
    void anAppendThatLeavesAGapOrRepeatsAnIndexIsRefused() {
        RaftLog log = new RaftLog(0, 0, THREE, logOfTerms(1, 1), 0);
        assertEquals("append of " + cmd(4, 1) + " after last index 2",
                assertThrows(IllegalStateException.class, () -> log.append(cmd(4, 1))).getMessage());
        assertThrows(IllegalStateException.class, () -> log.append(cmd(2, 1)));
        assertEquals(2, log.lastIndex(), "nothing was appended");
    }

    @Test
    void theConfigurationBeforeTheSnapshotIsNotKnownAndSaysSo() {
        RaftLog log = new RaftLog(5, 2, THREE, List.of(cmd(6, 2)), 5);
        assertEquals(THREE, log.configurationAt(5));
        assertEquals(THREE, log.configurationAt(6));
        assertEquals("index 4 is before the log's snapshot at 5",
                assertThrows(IllegalArgumentException.class, () -> log.configurationAt(4)).getMessage());
    }

    /** A commit index past the log would hand out entries it does not hold. */
    @Test
    void aCommitIndexPastTheLastEntryIsRefused() {
        RaftLog log = new RaftLog(0, 0, THREE, logOfTerms(1, 1, 1), 1);
        assertEquals("commit index 4 beyond last index 3",
                assertThrows(IllegalStateException.class, () -> log.commitTo(4)).getMessage());
        assertEquals(1, log.committed());
        log.commitTo(3);
        log.commitTo(2);
        assertEquals(3, log.committed(), "the commit index never goes back");
    }

    /** The leader sends the same run to every caught-up follower: one copy, not one per follower. */
    @Test
    void theSameRunIsCopiedOnceForEveryFollowerUntilTheLogChangesThere() {
        RaftLog log = new RaftLog(0, 0, THREE, logOfTerms(1, 1, 1, 1), 0);
        List<Entry> first = log.slice(2, 10, 1 << 20);
        assertEquals(logOfTerms(1, 1, 1, 1).subList(1, 4), first);
        assertSame(first, log.slice(2, 10, 1 << 20), "the second follower gets the same list");
        assertEquals(2, log.slice(2, 2, 1 << 20).size(), "a shorter run is another list");
        assertEquals(first, log.slice(2, 10, 1 << 20));
        assertEquals(4, log.maybeAppend(2, 1, List.of(cmd(3, 2), cmd(4, 2))));
        List<Entry> after = log.slice(2, 10, 1 << 20);
        assertEquals(List.of(cmd(2, 1), cmd(3, 2), cmd(4, 2)), after, "a truncation drops the shared copy");
    }

    /** Where a leader probes next after a rejection: the last entry whose term is at most the follower's. */
    @Test
    void theConflictSearchStopsAtTheFirstEntryOfTheAskedTermOrEarlier() {
        RaftLog log = new RaftLog(0, 0, THREE, logOfTerms(1, 1, 2, 2, 4, 4), 0);
        assertEquals(4, log.findConflictByTerm(6, 2), "entry 4 has term 2 itself");
        assertEquals(4, log.findConflictByTerm(6, 3));
        assertEquals(2, log.findConflictByTerm(6, 1));
        assertEquals(6, log.findConflictByTerm(9, 4), "an index past the log starts at its end");
        assertEquals(0, log.findConflictByTerm(6, 0));
    }

    /** Compacting what is not yet applied or not yet on disk would lose it. */
    @Test
    void onlyEntriesBothAppliedAndPersistedCanBeCompacted() {
        RaftLog log = new RaftLog(0, 0, THREE, logOfTerms(1, 1, 1), 3);
        OutList<Entry> out = new OutList<>();
        log.takeCommitted(out);
        log.append(cmd(4, 1));
        log.commitTo(4);
        assertEquals(3, log.stable());
        OutList<Entry> apply = new OutList<>();
        log.takeCommitted(apply); // applied 4, but 4 is not on disk yet
        assertEquals("cannot compact the log up to index 4: only entries both applied (up to 4) and persisted (up to 3)"
                + " can be dropped", assertThrows(IllegalArgumentException.class, () -> log.compact(4)).getMessage());

        RaftLog unapplied = new RaftLog(0, 0, THREE, logOfTerms(1, 1, 1), 3);
        assertThrows(IllegalArgumentException.class, () -> unapplied.compact(1), "persisted but not applied");
        assertEquals(1, unapplied.firstIndex());
    }

    /** A snapshot at or below the commit index would move it back, and with it what was applied. */
    @Test
    void aSnapshotAtOrBelowTheCommitIndexIsNotRestored() {
        RaftLog log = new RaftLog(0, 0, THREE, logOfTerms(1, 1, 1), 2);
        SnapshotMeta atCommit = new SnapshotMeta(2, 1, THREE);
        assertEquals("restoring " + atCommit + " would move the commit index 2 back",
                assertThrows(IllegalStateException.class, () -> log.restore(atCommit)).getMessage());
        assertEquals(3, log.lastIndex());
        log.restore(new SnapshotMeta(3, 1, THREE));
        assertEquals(3, log.committed());
        assertEquals(4, log.firstIndex());
    }

    /** A log that starts after a snapshot: every index it computes is offset by the snapshot's. */
    @Test
    void aLogAfterASnapshotFindsItsEntriesByTheirIndexes() {
        RaftLog log = new RaftLog(5, 2, THREE, List.of(cmd(6, 2), cmd(7, 3), cmd(8, 3)), 8);
        assertEquals(5, log.findConflictByTerm(8, 1), "nothing after the snapshot is that old: probe from the snapshot");
        assertEquals(6, log.findConflictByTerm(8, 2));
        OutList<Entry> applied = new OutList<>();
        assertTrue(log.hasCommittedToApply());
        log.takeCommitted(applied);
        assertEquals(List.of(cmd(6, 2), cmd(7, 3), cmd(8, 3)), applied);
        assertFalse(log.hasCommittedToApply());
        assertEquals(7, log.maybeAppend(6, 2, List.of(cmd(7, 3))), "a repeat changes nothing");
        RaftLog uncommitted = new RaftLog(5, 2, THREE, List.of(cmd(6, 2), cmd(7, 3), cmd(8, 3)), 6);
        assertEquals(7, uncommitted.maybeAppend(6, 2, List.of(cmd(7, 4))));
        assertEquals(List.of(7L, 4L), List.of(uncommitted.lastIndex(), uncommitted.lastTerm()), "8 dropped, 7 replaced");
        assertEquals("no entry 5 in log [6, 7]",
                assertThrows(IndexOutOfBoundsException.class, () -> uncommitted.entry(5)).getMessage());
        assertEquals("no entry 8 in log [6, 7]",
                assertThrows(IndexOutOfBoundsException.class, () -> uncommitted.entry(8)).getMessage());
        assertEquals(cmd(6, 2), uncommitted.entry(6));
        assertEquals(List.of(), uncommitted.slice(9, 10, 1 << 20), "from past the end: nothing");
        assertEquals(List.of(), uncommitted.slice(8, 10, 1 << 20));
    }

    @Test
    void entriesAreUnstableUntilHandedOutForPersisting() {
        RaftLog log = new RaftLog(0, 0, THREE, logOfTerms(1), 0);
        assertFalse(log.hasUnstable());
        log.append(cmd(2, 1));
        assertTrue(log.hasUnstable(), "one new entry");
        OutList<Entry> out = new OutList<>();
        log.takeUnstable(out);
        assertEquals(List.of(cmd(2, 1)), out);
        assertFalse(log.hasUnstable());
    }

    /** Configurations follow compaction and restore: what is compacted or replaced is no longer the last one. */
    @Test
    void configurationsFollowCompactionAndRestore() {
        Configuration four = THREE.apply(ConfigChange.addLearner(4));
        List<Entry> entries = List.of(cmd(1, 1), Entry.config(2, 1, four), cmd(3, 1));
        RaftLog log = new RaftLog(0, 0, THREE, entries, 3);
        assertEquals(2, log.lastConfigIndex());
        log.takeCommitted(new OutList<>());
        log.compact(3);
        assertEquals(3, log.lastConfigIndex(), "the configuration entry is compacted away: the snapshot holds it");
        assertEquals(four, log.configuration());
        log.compact(2); // older than the snapshot: nothing to do
        assertEquals(4, log.firstIndex());

        RaftLog replaced = new RaftLog(0, 0, THREE, entries, 1);
        replaced.restore(new SnapshotMeta(9, 2, THREE));
        assertEquals(THREE, replaced.configuration(), "the snapshot's configuration, not the dropped log's");
        assertEquals(9, replaced.lastConfigIndex());
    }
}
