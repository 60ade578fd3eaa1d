package io.raftkv.raft;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static io.raftkv.raft.TestNetwork.cmd;
import static io.raftkv.raft.TestNetwork.logOfTerms;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A log that keeps only a bounded tail on the heap: entries released once applied and durable, their terms
 * kept, their bodies read back from a {@link LogSource} (the store) when a follower behind needs them. What a
 * cluster would get wrong if it did not hold: a follower sent the wrong entries, a term answered wrongly in a
 * log-matching check, a heap that still grows with the log.
 */
class RaftLogCacheTest {
    private static final Configuration THREE = Configuration.ofVoters(Set.of(1, 2, 3));

    /** A source over a list of stored entries, counting its reads. */
    private static final class ListSource implements LogSource {
        final List<Entry> stored;
        int reads;

        ListSource(List<Entry> stored) {
            this.stored = stored;
        }

        @Override
        public List<Entry> read(long from, long to, long maxBytes) {
            reads++;
            return TestNetwork.readRun(stored, from, to, maxBytes);
        }
    }

    /** A log of {@code terms}, all of it durable, committed and applied, reading back from a copy of itself. */
    private static RaftLog appliedLog(ListSource source, long... terms) {
        RaftLog log = new RaftLog(0, 0, THREE, source.stored, 0);
        log.readFrom(source);
        log.commitTo(terms.length);
        log.takeCommitted(new OutList<>());
        return log;
    }

    @Test
    void releasedEntriesKeepTheirTermsAndAreReadBackFromTheSource() {
        List<Entry> stored = logOfTerms(1, 1, 2, 2, 2, 3, 4);
        ListSource source = new ListSource(stored);
        RaftLog log = appliedLog(source, 1, 1, 2, 2, 2, 3, 4);

        log.release(5, 0);
        assertEquals(6, log.releasedTo());
        assertEquals(stored.get(5).size() + stored.get(6).size(), log.bytes(), "only 6..7 stay on the heap");
        long[] terms = {0, 1, 1, 2, 2, 2, 3, 4};
        for (int i = 0; i <= 7; i++) assertEquals(terms[i], log.term(i), "term of " + i);
        assertEquals(RaftLog.UNKNOWN_TERM, log.term(8));
        assertEquals(4, log.lastTerm());
        assertEquals(stored.get(2), log.entry(3), "a released entry is read back");

        assertEquals(stored.subList(1, 5), log.slice(2, 10, 1 << 20), "a slice from before memory ends where memory begins");
        assertEquals(stored.subList(1, 3), log.slice(2, 2, 1 << 20), "and keeps to the count asked for");
        assertEquals(List.of(stored.get(1)), log.slice(2, 10, 1), "and to the bytes, giving at least one");
        assertEquals(stored.subList(5, 7), log.slice(6, 10, 1 << 20), "entries in memory need no read");
        assertEquals(4, source.reads);

        // Where a leader probes next after a rejection reads only terms, released or not.
        assertEquals(5, log.findConflictByTerm(7, 2));
        assertEquals(2, log.findConflictByTerm(4, 1));
    }

    @Test
    void releaseStopsAtWhatIsAppliedAndDurable() {
        ListSource source = new ListSource(logOfTerms(1, 1, 1));
        RaftLog log = new RaftLog(0, 0, THREE, source.stored, 0);
        log.readFrom(source);
        log.commitTo(2);
        log.takeCommitted(new OutList<>());
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> log.release(3, 0));
        assertEquals("cannot release the log up to index 3: only entries applied (up to 2), persisted (up to 3) and"
                + " after the store's snapshot (0) can leave memory", e.getMessage());

        log.releaseDownTo(0, 0);
        assertEquals(3, log.releasedTo(), "releasing down to nothing stops at the applied index");
        log.append(cmd(4, 1));
        assertEquals(3, log.releasedTo(), "an entry not yet persisted stays");

        RaftLog noSource = new RaftLog(0, 0, THREE, logOfTerms(1), 1);
        noSource.takeCommitted(new OutList<>());
        assertEquals("a log without a source cannot release entries",
                assertThrows(IllegalStateException.class, () -> noSource.release(1, 0)).getMessage());
    }

    @Test
    void releaseDownToKeepsTheNewestEntriesWithinTheBytesGiven() {
        List<Entry> stored = logOfTerms(1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        RaftLog log = appliedLog(new ListSource(stored), 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        long lastThree = stored.get(7).size() + stored.get(8).size() + stored.get(9).size();
        log.releaseDownTo(lastThree + 1, 0);
        assertEquals(8, log.releasedTo());
        assertEquals(lastThree, log.bytes());
        log.releaseDownTo(lastThree, 0);
        assertEquals(8, log.releasedTo(), "already within the bytes: nothing goes");
    }

    @Test
    void compactionDropsReleasedTermsAndEntriesAlike() {
        List<Entry> stored = logOfTerms(1, 1, 2, 2, 3, 3, 3);
        RaftLog log = appliedLog(new ListSource(stored), 1, 1, 2, 2, 3, 3, 3);
        log.release(5, 0);

        log.compact(3); // inside the released part
        assertEquals(4, log.firstIndex());
        assertEquals(6, log.releasedTo());
        assertEquals(2, log.term(3), "the snapshot's term");
        assertEquals(2, log.term(4));
        assertEquals(3, log.term(5));
        assertEquals(RaftLog.UNKNOWN_TERM, log.term(2));

        log.compact(6); // past it
        assertEquals(7, log.firstIndex());
        assertEquals(7, log.releasedTo());
        assertEquals(3, log.term(6));
        assertEquals(stored.get(6).size(), log.bytes());
        log.release(7, 0);
        assertEquals(3, log.term(7), "a run of terms starts again after a compaction took them all");
        assertEquals(0, log.bytes());
        assertEquals(List.of(), log.slice(8, 10, 100));
    }

    @Test
    void aConflictNeverReachesReleasedEntriesBecauseTheyAreCommitted() {
        List<Entry> stored = logOfTerms(1, 1, 1);
        RaftLog log = appliedLog(new ListSource(stored), 1, 1, 1);
        log.release(3, 0);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> log.maybeAppend(1, 1, List.of(cmd(2, 2))));
        assertTrue(e.getMessage().startsWith("entry 2@2:4B conflicts with committed entry 2@1:4B"), e.getMessage());
        assertEquals(3, log.maybeAppend(1, 1, List.of(cmd(2, 1), cmd(3, 1))), "matching entries are no conflict");
    }

    @Test
    void aSourceThatGivesOtherEntriesThanWereReleasedIsCaught() {
        List<Entry> stored = logOfTerms(1, 1, 2);
        RaftLog log = appliedLog(new ListSource(stored), 1, 1, 2);
        log.release(3, 0);
        log.readFrom((from, to, max) -> List.of(cmd(from + 1, 1)));
        assertEquals("the log source gave 1 entries 3..3 when asked for 2..3",
                assertThrows(IllegalStateException.class, () -> log.slice(2, 5, 100)).getMessage());
        log.readFrom((from, to, max) -> List.of(cmd(from, 1)));
        assertEquals("the log source gave 3@1:4B where this log released an entry of term 2",
                assertThrows(IllegalStateException.class, () -> log.slice(3, 5, 100)).getMessage());
    }

    @Test
    void restoringASnapshotForgetsReleasedTerms() {
        RaftLog log = appliedLog(new ListSource(logOfTerms(1, 1, 1)), 1, 1, 1);
        log.release(2, 0);
        log.restore(new SnapshotMeta(10, 4, THREE));
        assertEquals(11, log.releasedTo());
        assertEquals(4, log.term(10));
        assertEquals(RaftLog.UNKNOWN_TERM, log.term(2));
        assertEquals(4, log.lastTerm());
    }

    /**
     * Random appends, overwrites, commits, releases and snapshots (compacting with or without a few entries kept
     * behind) against a plain list of the same log: every term and every slice agrees. The source is a store that,
     * like a file store, holds only the entries after its newest snapshot. Replays from the seed printed
     * ({@code -Draftkv.seed=N}).
     */
    @Test
    void randomHistoriesAgreeWithAPlainList() {
        long seed = Long.getLong("raftkv.seed", System.nanoTime());
        System.out.println("RaftLogCacheTest.randomHistoriesAgreeWithAPlainList seed " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        for (int round = 0; round < 300; round++) {
            List<Entry> model = new ArrayList<>(); // the log's entries after its snapshot, in order
            long[] snap = {0, 0, 0}; // the log's snapshot index and term, the store's snapshot index
            RaftLog log = new RaftLog(0, 0, THREE, List.of(), 0);
            log.readFrom((from, to, max) -> {
                if (from <= snap[2]) throw new IllegalArgumentException("the store dropped " + from + " with its snapshot at " + snap[2]);
                return new ListSource(model.subList((int) (from - snap[0] - 1), model.size())).read(from, to, max);
            });
            long term = 1;
            for (int step = 0; step < 80; step++) {
                int op = random.nextInt(6);
                if (op <= 1) { // the leader of the current term appends
                    if (random.nextInt(4) == 0) term++;
                    Entry e = new Entry(log.lastIndex() + 1, term, Entry.Kind.COMMAND, new byte[random.nextInt(40)]);
                    log.append(e);
                    model.add(e);
                } else if (op == 2 && log.lastIndex() > log.committed()) { // a newer leader overwrites what is uncommitted
                    term++;
                    long prev = log.committed() + random.nextLong(log.lastIndex() - log.committed());
                    List<Entry> incoming = new ArrayList<>();
                    for (int i = 1, n = 1 + random.nextInt(3); i <= n; i++) incoming.add(new Entry(prev + i, term, Entry.Kind.COMMAND, new byte[3]));
                    assertEquals(prev + incoming.size(), log.maybeAppend(prev, log.term(prev), incoming), "seed " + seed);
                    model.subList((int) (prev - snap[0]), model.size()).clear();
                    model.addAll(incoming);
                } else if (op == 3) { // persist, commit and apply some
                    log.takeUnstable(new OutList<>());
                    if (log.lastIndex() > snap[0]) log.stableTo(log.lastIndex(), log.lastTerm());
                    log.commitTo(log.committed() + random.nextLong(log.lastIndex() - log.committed() + 1));
                    log.takeCommitted(new OutList<>());
                } else if (op == 4) {
                    log.releaseDownTo(random.nextInt(120), snap[2]);
                } else if (Math.min(log.applied(), log.stable()) > snap[2]) { // a snapshot, compacting with a few kept
                    long at = snap[2] + 1 + random.nextLong(Math.min(log.applied(), log.stable()) - snap[2]);
                    long keep = random.nextInt(4);
                    snap[2] = at;
                    log.compact(Math.max(snap[0], at - keep), at);
                    long now = log.firstIndex() - 1;
                    if (now > snap[0]) {
                        model.subList(0, (int) (now - snap[0])).clear();
                        snap[0] = now;
                    }
                    snap[1] = log.term(now);
                }
                String where = "seed " + seed + ", round " + round + ", step " + step;
                assertEquals(snap[1], log.term(snap[0]), where);
                assertEquals(snap[0] + model.size(), log.lastIndex(), where);
                assertTrue(log.releasedFrom() == log.releasedTo() || log.releasedFrom() > snap[2],
                        where + ": released " + log.releasedFrom() + ".." + log.releasedTo() + " after the store's snapshot " + snap[2]);
                long inMemory = 0;
                for (Entry e : model) {
                    assertEquals(e.term(), log.term(e.index()), where + ": term of " + e.index());
                    if (e.index() < log.releasedFrom() || e.index() >= log.releasedTo()) inMemory += e.size();
                }
                assertEquals(inMemory, log.bytes(), where);
                if (!model.isEmpty()) {
                    int at = random.nextInt(model.size());
                    List<Entry> slice = log.slice(model.get(at).index(), 1 + random.nextInt(5), 1 + random.nextInt(100));
                    assertTrue(!slice.isEmpty(), where);
                    assertEquals(model.subList(at, at + slice.size()), slice, where);
                }
            }
        }
    }

    /** Entries kept behind a snapshot are in memory only: releasing starts after the snapshot and leaves them be. */
    @Test
    void entriesKeptBehindTheStoresSnapshotStayInMemoryAndReleaseGoesOnAfterThem() {
        List<Entry> stored = logOfTerms(1, 1, 1, 1, 1, 1, 1, 1);
        ListSource source = new ListSource(stored);
        RaftLog log = appliedLog(source, 1, 1, 1, 1, 1, 1, 1, 1);
        log.compact(3, 5); // a snapshot at 5, keeping 4..5 behind it
        assertEquals(4, log.firstIndex());
        log.releaseDownTo(0, 5);
        assertEquals(6, log.releasedFrom(), "4..5 are not in the store: they stay");
        assertEquals(9, log.releasedTo());
        assertEquals(stored.get(3).size() + stored.get(4).size(), log.bytes());
        assertEquals(stored.subList(3, 5), log.slice(4, 10, 1 << 20), "a slice of the kept entries ends at the released run");
        assertEquals(stored.subList(5, 8), log.slice(6, 10, 1 << 20));

        log.compact(4, 7); // the next snapshot, at 7: the released 6..7 go with it although 4 was asked
        assertEquals(8, log.firstIndex());
        assertEquals(8, log.releasedFrom());
        assertEquals(0, log.bytes());
    }

    @Test
    void aFollowerFarBehindIsSentEntriesTheLeaderReadsBackNotASnapshot() {
        TestNetwork net = TestNetwork.of(3);
        net.elect(1);
        net.isolate(3);
        for (int i = 0; i < 40; i++) {
            net.core(1).propose(("v" + i).getBytes());
            net.deliverAll();
        }
        assertTrue(net.core(1).log().releasedTo() > 2, "the leader released what it applied");
        int readsBefore = net.node(1).reads;
        net.heal();
        net.run(3);
        assertTrue(net.node(1).reads > readsBefore, "the leader read the follower's missing entries back from its disk");
        assertNull(net.node(3).snapshot, "no snapshot was needed");
        assertEquals(net.node(1).applied, net.node(3).applied);
        assertEquals(41, net.node(3).applied.size(), "the no-op and the 40 commands");
    }
}
