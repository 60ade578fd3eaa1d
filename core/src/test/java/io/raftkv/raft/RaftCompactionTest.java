package io.raftkv.raft;

import org.junit.jupiter.api.Test;

import java.util.List;

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

        leader.snapshotTaken(leader.snapshotMeta(4));
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
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> leader.compact(applied));
        assertTrue(e.getMessage().contains("no snapshot reaches it"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> leader.snapshotMeta(applied + 1));
        assertTrue(e.getMessage().contains("applied index"), e.getMessage());
        assertEquals(1, leader.log().firstIndex(), "a refused compaction drops nothing");
    }

    @Test
    void aFollowerThatNeedsDroppedEntriesIsSentTheSnapshotInsteadOfWrongEntries() {
        TestNetwork net = stableCluster(3, b -> b);
        net.isolate(3);
        for (int i = 0; i < 5; i++) net.core(1).propose(bytes("v" + i));
        net.deliverAll();
        RaftCore leader = net.core(1);
        long last = leader.log().lastIndex();
        SnapshotMeta snap = net.snapshot(1, 0);
        assertEquals(last, snap.index());
        net.heal();
        int before = net.delivered().size();
        net.heartbeatFrom(1);
        net.deliverAll();

        List<Message> after = net.delivered().subList(before, net.delivered().size());
        assertEquals(List.of(new Message.InstallSnapshot(1, 3, leader.term(), snap)),
                after.stream().filter(m -> m instanceof Message.InstallSnapshot).toList());
        assertTrue(after.stream().noneMatch(m -> m instanceof Message.AppendRequest a && a.to() == 3
                        && !a.entries().isEmpty() && a.entries().get(0).index() <= last),
                "node 3 is sent no entry the leader dropped");
        assertEquals(Progress.State.REPLICATE, leader.progress(3).state, "the follower's answer ends the snapshot state");
        assertEquals(snap, net.core(3).latestSnapshot());
        assertEquals(last + 1, net.core(3).log().firstIndex(), "node 3's log now starts after the snapshot");
        assertEquals(net.node(1).applied, net.node(3).applied, "node 3 holds the leader's state");

        leader.propose(bytes("after"));
        net.deliverAll();
        net.heartbeatFrom(1);
        for (int id : net.ids()) assertEquals(last + 1, net.core(id).commitIndex(), "node " + id);
        assertEquals(net.node(1).applied, net.node(3).applied);
    }

    /**
     * Three nodes; node 3 cut off while leader 1 commits five writes and compacts them all into a snapshot; then
     * the network heals, so node 3 needs the snapshot.
     */
    static TestNetwork withNode3BehindASnapshot() {
        TestNetwork net = stableCluster(3, b -> b);
        net.isolate(3);
        for (int i = 0; i < 5; i++) net.core(1).propose(bytes("v" + i));
        net.deliverAll();
        net.snapshot(1, 0);
        net.heal();
        return net;
    }

    @Test
    void aLostAnswerToASnapshotDoesNotLeaveTheFollowerWaitingForGood() {
        TestNetwork net = withNode3BehindASnapshot();
        RaftCore leader = net.core(1);
        SnapshotMeta snap = leader.latestSnapshot();
        // Node 3 installs the snapshot, but its answer never arrives.
        net.dropIf(m -> m instanceof Message.AppendResponse r && r.from() == 3 && r.success() && r.index() == snap.index());
        net.heartbeatFrom(1);
        net.deliverAll();
        assertEquals(snap, net.core(3).latestSnapshot(), "node 3 installed it");
        assertEquals(Progress.State.SNAPSHOT, leader.progress(3).state);
        net.heartbeatFrom(1);
        assertEquals(Progress.State.SNAPSHOT, leader.progress(3).state, "heartbeats alone do not move it on");

        // The runtime saw every byte acknowledged: the leader probes just after the snapshot.
        net.heal();
        leader.reportSnapshotSent(3);
        assertEquals(Progress.State.PROBE, leader.progress(3).state);
        assertEquals(snap.index() + 1, leader.progress(3).next(), "probed just after the snapshot");
        leader.propose(bytes("after"));
        net.deliverAll();
        net.heartbeatFrom(1);
        assertEquals(Progress.State.REPLICATE, leader.progress(3).state);
        assertEquals(leader.commitIndex(), net.core(3).commitIndex());
        assertEquals(net.node(1).applied, net.node(3).applied);
    }
}
