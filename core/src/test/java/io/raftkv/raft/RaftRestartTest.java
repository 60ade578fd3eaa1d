package io.raftkv.raft;

import io.raftkv.raft.Message.VoteRequest;
import io.raftkv.raft.Message.VoteResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.raftkv.raft.RaftElectionTest.sent;
import static io.raftkv.raft.RaftLogReplicationTest.bytes;
import static io.raftkv.raft.RaftLogReplicationTest.stableCluster;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A server that crashes keeps exactly what it persisted: its term, its vote and its log (Raft Figure 2). */
class RaftRestartTest {

    @Test
    void restartedServerKeepsItsTermVoteAndLog() {
        TestNetwork net = stableCluster(3, b -> b);
        net.core(1).propose(bytes("x"));
        net.deliverAll();
        net.heartbeatFrom(1);
        List<Entry> log = List.copyOf(net.node(2).disk);

        net.restart(2);
        RaftCore c = net.core(2);
        assertEquals(1, c.term());
        assertEquals(1, c.votedFor());
        assertEquals(2, c.commitIndex());
        assertEquals(log, List.of(c.log().entry(1), c.log().entry(2)));
        assertEquals(Role.FOLLOWER, c.role());
        assertEquals(RaftCore.NONE, c.leader(), "who led is volatile: it learns it again from the leader");
    }

    @Test
    void restartedServerDoesNotVoteTwiceInATerm() {
        RaftCore c = TestNetwork.lone(1, Set.of(1, 2, 3), b -> b, new HardState(4, RaftCore.NONE, 0), List.of());
        c.step(new VoteRequest(2, 1, 5, 0, 0, false, false));
        Ready r = c.ready();
        HardState persisted = r.hardState();
        assertEquals(new HardState(5, 2, 0), persisted);

        RaftCore restarted = new RaftCore(c.config(), persisted, List.of());
        restarted.step(new VoteRequest(3, 1, 5, 0, 0, false, false));
        restarted.step(new VoteRequest(2, 1, 5, 0, 0, false, false));
        assertEquals(List.of(new VoteResponse(1, 3, 5, false, false), new VoteResponse(1, 2, 5, true, false)),
                sent(restarted.ready()));
    }

    @Test
    void restartedLeaderComesBackAsAFollowerOfItsTerm() {
        TestNetwork net = stableCluster(3, b -> b);
        net.restart(1);
        assertEquals(Role.FOLLOWER, net.core(1).role());
        assertEquals(1, net.core(1).term());
        assertEquals(1, net.core(1).votedFor());
    }

    @Test
    void wholeClusterRestartedKeepsEveryCommittedEntry() {
        TestNetwork net = stableCluster(3, b -> b);
        net.core(1).propose(bytes("a"));
        net.core(1).propose(bytes("b"));
        net.deliverAll();
        List<Entry> committed = List.copyOf(net.node(1).applied);
        assertEquals(3, committed.size());

        for (int id : net.ids()) net.restart(id);
        net.elect(2);
        for (int id : net.ids()) {
            List<Entry> applied = net.node(id).applied;
            assertEquals(committed, applied.subList(0, 3), "node " + id + " applies its committed log again");
            assertEquals(Entry.noop(4, 2), applied.get(3), "node " + id);
        }
    }

    /**
     * The hard state written with a batch of entries never commits entries of that same batch. A store that
     * is not write-atomic (a simulated disk that keeps a torn write's hard state and loses its entries) would
     * otherwise restart with a commit index over the stale entries the lost batch was to replace, and apply
     * an entry that was never committed.
     */
    @Test
    void aTornWriteThatKeepsItsHardStateCannotCommitTheStaleEntriesItWasToReplace() {
        List<Entry> stored = List.of(TestNetwork.cmd(1, 1), TestNetwork.cmd(2, 1), TestNetwork.cmd(3, 1));
        RaftCore c = TestNetwork.lone(2, Set.of(1, 2, 3), b -> b, new HardState(1, 1, 2), stored);
        // Leader 1 of term 2 overwrites 3@1 and says both its entries are committed.
        c.step(new Message.AppendRequest(1, 2, 2, 2, 1, List.of(TestNetwork.cmd(3, 2), TestNetwork.cmd(4, 2)), 4));
        Ready r = c.ready();
        assertEquals(List.of(TestNetwork.cmd(3, 2), TestNetwork.cmd(4, 2)), r.entries());
        HardState written = r.hardState();

        // The write is torn: its hard state is kept, its entries are lost.
        RaftCore restarted = new RaftCore(c.config(), written, stored);
        List<Entry> applied = restarted.ready().committedEntries();
        assertEquals(List.of(TestNetwork.cmd(1, 1), TestNetwork.cmd(2, 1)), applied,
                "3@1 was never committed (hard state written: " + written + ")");

        // Once the entries are durable, the commit index follows them in the next hard state.
        c.advance(r);
        assertEquals(new HardState(2, RaftCore.NONE, 4), c.ready().hardState());
    }
}
