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
            long first = stored.get(0).index();
            List<Entry> out = new ArrayList<>();
            long bytes = 0;
            for (long i = from; i < to; i++) {
                Entry e = stored.get((int) (i - first));
                bytes += e.size();
                if (!out.isEmpty() && bytes > maxBytes) break;
                out.add(e);
            }
            return out;
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

        log.release(5);
        assertEquals(6, log.memoryFirstIndex());
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
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> log.release(3));
        assertEquals("cannot release the log up to index 3: only entries both applied (up to 2) and persisted (up to 3)"
                + " can leave memory", e.getMessage());

        log.releaseDownTo(0);
        assertEquals(3, log.memoryFirstIndex(), "releasing down to nothing stops at the applied index");
        log.append(cmd(4, 1));
        assertEquals(3, log.memoryFirstIndex(), "an entry not yet persisted stays");

        RaftLog noSource = new RaftLog(0, 0, THREE, logOfTerms(1), 1);
        noSource.takeCommitted(new OutList<>());
        assertEquals("a log without a source cannot release entries",
                assertThrows(IllegalStateException.class, () -> noSource.release(1)).getMessage());
    }

    @Test
    void releaseDownToKeepsTheNewestEntriesWithinTheBytesGiven() {
        List<Entry> stored = logOfTerms(1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        RaftLog log = appliedLog(new ListSource(stored), 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        long lastThree = stored.get(7).size() + stored.get(8).size() + stored.get(9).size();
        log.releaseDownTo(lastThree + 1);
        assertEquals(8, log.memoryFirstIndex());
        assertEquals(lastThree, log.bytes());
        log.releaseDownTo(lastThree);
        assertEquals(8, log.memoryFirstIndex(), "already within the bytes: nothing goes");
    }

    @Test
    void compactionDropsReleasedTermsAndEntriesAlike() {
        List<Entry> stored = logOfTerms(1, 1, 2, 2, 3, 3, 3);
        RaftLog log = appliedLog(new ListSource(stored), 1, 1, 2, 2, 3, 3, 3);
        log.release(5);

        log.compact(3); // inside the released part
        assertEquals(4, log.firstIndex());
        assertEquals(6, log.memoryFirstIndex());
        assertEquals(2, log.term(3), "the snapshot's term");
        assertEquals(2, log.term(4));
        assertEquals(3, log.term(5));
        assertEquals(RaftLog.UNKNOWN_TERM, log.term(2));

        log.compact(6); // past it
        assertEquals(7, log.firstIndex());
        assertEquals(7, log.memoryFirstIndex());
        assertEquals(3, log.term(6));
        assertEquals(stored.get(6).size(), log.bytes());
        log.release(7);
        assertEquals(3, log.term(7), "a run of terms starts again after a compaction took them all");
        assertEquals(0, log.bytes());
        assertEquals(List.of(), log.slice(8, 10, 100));
    }

    @Test
    void aConflictNeverReachesReleasedEntriesBecauseTheyAreCommitted() {
        List<Entry> stored = logOfTerms(1, 1, 1);
        RaftLog log = appliedLog(new ListSource(stored), 1, 1, 1);
        log.release(3);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> log.maybeAppend(1, 1, List.of(cmd(2, 2))));
        assertTrue(e.getMessage().startsWith("entry 2@2:4B conflicts with committed entry 2@1:4B"), e.getMessage());
        assertEquals(3, log.maybeAppend(1, 1, List.of(cmd(2, 1), cmd(3, 1))), "matching entries are no conflict");
    }

    @Test
    void aSourceThatGivesOtherEntriesThanWereReleasedIsCaught() {
        List<Entry> stored = logOfTerms(1, 1, 2);
        RaftLog log = appliedLog(new ListSource(stored), 1, 1, 2);
        log.release(3);
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
        log.release(2);
        log.restore(new SnapshotMeta(10, 4, THREE));
        assertEquals(11, log.memoryFirstIndex());
        assertEquals(4, log.term(10));
        assertEquals(RaftLog.UNKNOWN_TERM, log.term(2));
        assertEquals(4, log.lastTerm());
    }

    /**
     * Random appends, overwrites, commits, releases and compactions against a plain list of the same log (which
     * is also the store the log reads released entries from): every term and every slice agrees. Replays from the
     * seed printed ({@code -Draftkv.seed=N}).
     */
    @Test
    void randomHistoriesAgreeWithAPlainList() {
        long seed = Long.getLong("raftkv.seed", System.nanoTime());
        System.out.println("RaftLogCacheTest.randomHistoriesAgreeWithAPlainList seed " + seed);
        SplittableRandom random = new SplittableRandom(seed);
        for (int round = 0; round < 200; round++) {
            List<Entry> model = new ArrayList<>(); // the entries after the snapshot, in order
            long[] snapshot = {0, 0}; // index, term
            RaftLog log = new RaftLog(0, 0, THREE, List.of(), 0);
            ListSource store = new ListSource(model);
            log.readFrom(store);
            long term = 1;
            for (int step = 0; step < 60; step++) {
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
                    model.subList((int) (prev - snapshot[0]), model.size()).clear();
                    model.addAll(incoming);
                } else if (op == 3) { // persist, commit and apply some
                    log.takeUnstable(new OutList<>());
                    if (log.lastIndex() > snapshot[0]) log.stableTo(log.lastIndex(), log.lastTerm());
                    log.commitTo(log.committed() + random.nextLong(log.lastIndex() - log.committed() + 1));
                    log.takeCommitted(new OutList<>());
                } else if (op == 4) {
                    log.releaseDownTo(random.nextInt(100));
                } else if (log.applied() > snapshot[0] && log.stable() >= log.applied()) { // a snapshot compacts
                    long at = snapshot[0] + 1 + random.nextLong(log.applied() - snapshot[0]);
                    long atTerm = log.term(at);
                    log.compact(at);
                    model.subList(0, (int) (at - snapshot[0])).clear();
                    snapshot[0] = at;
                    snapshot[1] = atTerm;
                }
                String where = "seed " + seed + ", round " + round + ", step " + step;
                assertEquals(snapshot[1], log.term(snapshot[0]), where);
                assertEquals(snapshot[0] + model.size(), log.lastIndex(), where);
                for (Entry e : model) assertEquals(e.term(), log.term(e.index()), where + ": term of " + e.index());
                if (!model.isEmpty()) {
                    int at = random.nextInt(model.size());
                    List<Entry> slice = log.slice(model.get(at).index(), 1 + random.nextInt(5), 1 + random.nextInt(100));
                    assertTrue(!slice.isEmpty(), where);
                    assertEquals(model.subList(at, at + slice.size()), slice, where);
                }
            }
        }
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
        assertTrue(net.core(1).log().memoryFirstIndex() > 2, "the leader released what it applied");
        int readsBefore = net.node(1).reads;
        net.heal();
        net.run(3);
        assertTrue(net.node(1).reads > readsBefore, "the leader read the follower's missing entries back from its disk");
        assertNull(net.node(3).snapshot, "no snapshot was needed");
        assertEquals(net.node(1).applied, net.node(3).applied);
        assertEquals(41, net.node(3).applied.size(), "the no-op and the 40 commands");
    }
}
