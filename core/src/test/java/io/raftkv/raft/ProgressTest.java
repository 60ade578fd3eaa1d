package io.raftkv.raft;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A leader's view of one follower ({@link Progress}) and its window of appends in flight ({@link Inflights}). */
class ProgressTest {

    private static Progress replicating(long match, int window) {
        Progress p = new Progress(match + 1, window);
        p.maybeUpdate(match);
        p.becomeReplicate();
        return p;
    }

    /** An acknowledgement of what is already known is not news: it must not move a probing follower to replicate. */
    @Test
    void anAcknowledgementOfTheKnownMatchTellsNothingNew() {
        Progress p = new Progress(6, 4);
        assertTrue(p.maybeUpdate(5));
        p.sentEntries(5, 0); // a probe
        assertTrue(p.paused());
        assertFalse(p.maybeUpdate(5), "a repeated acknowledgement");
        assertTrue(p.paused(), "a repeated acknowledgement does not release a probe");
        assertFalse(p.maybeUpdate(3), "an older acknowledgement");
        assertEquals(5, p.match());
        assertEquals(6, p.next());
        assertTrue(p.maybeUpdate(6));
        assertFalse(p.paused());
    }

    @Test
    void aRejectionWhileASnapshotIsPendingIsIgnored() {
        Progress p = new Progress(6, 4);
        p.becomeSnapshot(9);
        assertFalse(p.maybeDecrease(5, 2), "the snapshot's answer is what counts");
        assertEquals(6, p.next());
        assertEquals(Progress.State.SNAPSHOT, p.state());
    }

    /** In probe only the rejection of the latest probe counts; an older one must not move next back. */
    @Test
    void aProbingFollowerActsOnlyOnTheRejectionOfTheLatestProbe() {
        Progress p = new Progress(10, 4);
        p.sentEntries(9, 0);
        assertFalse(p.maybeDecrease(7, 3), "a rejection of an earlier probe");
        assertEquals(10, p.next());
        assertTrue(p.paused());

        // The latest probe (after 9) rejected; the follower's hint says its log could match at 5.
        assertTrue(p.maybeDecrease(9, 5));
        assertEquals(6, p.next(), "probe next just after the hint");
        assertFalse(p.paused());
        // A hint at or past the rejected index moves next back by one only.
        p.sentEntries(5, 0);
        assertTrue(p.maybeDecrease(5, 7));
        assertEquals(5, p.next());
    }

    @Test
    void aReplicatingFollowerIgnoresRejectionsOfWhatAlreadyMatches() {
        Progress p = replicating(5, 4);
        p.sentEntries(8, 3);
        assertFalse(p.maybeDecrease(5, 0), "out of order: older than the match");
        assertEquals(9, p.next());
        assertTrue(p.maybeDecrease(8, 0));
        assertEquals(6, p.next(), "back to just after the match");
    }

    @Test
    void fallingBackToProbeEmptiesTheWindow() {
        Progress p = replicating(5, 2);
        p.sentEntries(6, 1);
        p.sentEntries(7, 1);
        assertTrue(p.paused(), "window of two full");
        assertEquals("REPLICATE match=5 next=8 inflight=2", p.toString());
        p.becomeProbe();
        assertEquals("PROBE match=5 next=6 inflight=0", p.toString());
        p.becomeSnapshot(12);
        assertEquals("SNAPSHOT(12) match=5 next=6 inflight=0", p.toString());
    }

    @Test
    void theWindowFreesInOrderAndFreeingAnEmptyWindowDoesNothing() {
        Inflights w = new Inflights(3);
        w.freeFirst();
        assertEquals(0, w.count());
        w.add(4);
        w.add(6);
        w.add(9);
        assertTrue(w.full());
        assertEquals("in-flight window of 3 is full", assertThrows(IllegalStateException.class, () -> w.add(10)).getMessage());
        w.freeFirst();
        assertEquals(2, w.count());
        w.freeTo(8);
        assertEquals(1, w.count(), "6 freed, 9 still in flight");
        w.add(12);
        w.add(15);
        assertTrue(w.full(), "the ring wraps");
        w.freeTo(12);
        assertEquals(1, w.count());
        w.freeFirst();
        w.freeFirst();
        assertEquals(0, w.count());
        w.add(20);
        assertEquals(1, w.count());
    }

    @Test
    void nextFollowsAnAcknowledgementPastItAndNeverFallsBelowTheMatch() {
        Progress p = new Progress(3, 4);
        assertTrue(p.maybeUpdate(10));
        assertEquals(11, p.next(), "an acknowledgement past next moves next past it");
        Progress probing = new Progress(10, 4);
        probing.maybeUpdate(5);
        probing.sentEntries(9, 0);
        assertTrue(probing.maybeDecrease(9, 2));
        assertEquals(6, probing.next(), "a hint below the match probes just past the match");
    }

    @Test
    void aSnapshotEmptiesTheWindow() {
        Progress p = replicating(5, 4);
        p.sentEntries(6, 1);
        p.becomeSnapshot(20);
        assertEquals("SNAPSHOT(20) match=5 next=7 inflight=0", p.toString());
    }
}
