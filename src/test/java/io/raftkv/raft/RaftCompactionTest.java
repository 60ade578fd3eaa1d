package io.raftkv.raft;

import org.junit.jupiter.api.Test;

import static io.raftkv.raft.RaftLogReplicationTest.bytes;
import static io.raftkv.raft.RaftLogReplicationTest.stableCluster;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The log may start after a snapshot: compaction drops applied entries and replication goes on (issue 7, first part). */
class RaftCompactionTest {
    @Test
    void aCompactedLogKeepsItsLastIndexAndTheTermBeforeItsFirstEntry() {
        TestNetwork net = stableCluster(3, b -> b);
        for (int i = 0; i < 5; i++) net.core(1).propose(bytes("v" + i));
        net.deliverAll();
        RaftCore leader = net.core(1);
        long last = leader.log().lastIndex();
        long termAt4 = leader.log().term(4);

        leader.compact(4);
        assertEquals(5, leader.log().firstIndex());
        assertEquals(last, leader.log().lastIndex());
        assertEquals(termAt4, leader.log().term(4), "the term just before the first entry is kept");
        assertEquals(RaftLog.UNKNOWN_TERM, leader.log().term(3));
        assertThrows(IndexOutOfBoundsException.class, () -> leader.log().entry(4));
        leader.compact(2); // already gone: nothing to do

        // Replication goes on from the compacted log: followers are at its end, so nothing is missing.
        leader.propose(bytes("after"));
        net.deliverAll();
        net.heartbeatFrom(1);
        for (int id : net.ids()) assertEquals(last + 1, net.core(id).commitIndex(), "node " + id);
    }

    @Test
    void onlyAppliedAndPersistedEntriesCanBeDropped() {
        TestNetwork net = stableCluster(3, b -> b);
        net.core(1).propose(bytes("x"));
        net.deliverAll();
        RaftCore leader = net.core(1);
        long applied = leader.log().applied();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> leader.compact(applied + 1));
        assertTrue(e.getMessage().contains("only entries both applied"), e.getMessage());
        assertEquals(1, leader.log().firstIndex(), "a refused compaction drops nothing");
    }

    @Test
    void aFollowerThatNeedsDroppedEntriesWaitsForASnapshotInsteadOfGettingWrongOnes() {
        TestNetwork net = stableCluster(3, b -> b);
        net.isolate(3);
        for (int i = 0; i < 5; i++) net.core(1).propose(bytes("v" + i));
        net.deliverAll();
        RaftCore leader = net.core(1);
        long last = leader.log().lastIndex();
        leader.compact(last);
        net.heal();
        net.heartbeatFrom(1);
        net.deliverAll();

        assertEquals(Progress.State.SNAPSHOT, leader.progress(3).state);
        assertTrue(net.core(3).log().lastIndex() < leader.log().firstIndex(), "node 3 got nothing it cannot place");
        // The others go on committing; node 3 stays behind until snapshots can be sent.
        leader.propose(bytes("after"));
        net.deliverAll();
        net.heartbeatFrom(1);
        assertEquals(last + 1, net.core(2).commitIndex());
        assertTrue(net.core(3).commitIndex() < last);
    }
}
