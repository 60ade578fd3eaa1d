package io.raftkv.raft;

import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.ReadIndexRequest;
import io.raftkv.raft.Message.ReadIndexResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.raftkv.raft.RaftElectionTest.sent;
import static io.raftkv.raft.RaftLogReplicationTest.bytes;
import static io.raftkv.raft.RaftLogReplicationTest.stableCluster;
import static io.raftkv.raft.TestNetwork.ELECTION_TICKS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads served by followers (etcd's MsgReadIndex): the follower asks the leader for a read index and serves
 * the read once it has applied that far.
 */
class RaftFollowerReadTest {

    @Test
    void aFollowerAsksTheLeaderForTheReadIndexAndServesTheReadOnceItHasAppliedThatFar() {
        TestNetwork net = stableCluster(3, b -> b);
        net.dropIf(m -> m instanceof Heartbeat && m.to() == 2); // node 2 does not learn the commit index
        net.core(1).propose(bytes("x"));
        net.deliverAll();
        long commit = net.core(1).commitIndex();

        assertTrue(net.core(2).readIndex(5));
        net.process(2);
        assertEquals(List.of(new ReadIndexRequest(2, 1, 1, 5)), net.queued(ReadIndexRequest.class));
        net.deliverAll();
        assertEquals(List.of(new ReadIndexResponse(1, 2, 1, 5, commit)), net.delivered(ReadIndexResponse.class),
                "confirmed by a heartbeat round (node 3's answer with the leader's makes a majority)");
        assertTrue(net.core(2).log().applied() < commit);
        assertEquals(List.of(), net.node(2).readStates, "not before the follower has applied the leader's commit index");

        net.heal();
        net.heartbeatFrom(1);
        assertEquals(commit, net.core(2).log().applied());
        assertEquals(List.of(new ReadState(5, commit)), net.node(2).readStates);
    }

    @Test
    void underLeaseTheLeaderAnswersAFollowerWithoutARound() {
        TestNetwork net = stableCluster(3, b -> b.readPolicy(ReadPolicy.LEASE));
        net.heartbeatFrom(1);
        assertTrue(net.core(3).readIndex(8));
        net.process(3);
        net.deliverMatching(m -> m instanceof ReadIndexRequest);
        Ready r = net.process(1);
        assertEquals(List.of(new ReadIndexResponse(1, 3, 1, 8, net.core(1).commitIndex())), sent(r, ReadIndexResponse.class));
        assertEquals(List.of(), sent(r, Heartbeat.class));
        net.deliverAll();
        assertEquals(List.of(new ReadState(8, net.core(1).commitIndex())), net.node(3).readStates);
    }

    @Test
    void aServerThatDoesNotLeadRefusesAndTheFollowerDropsTheRead() {
        TestNetwork net = stableCluster(3, b -> b);
        net.core(2).step(new ReadIndexRequest(3, 2, 1, 4)); // node 3 thinks, wrongly, that node 2 leads
        Ready r = net.process(2);
        assertEquals(List.of(new ReadIndexResponse(2, 3, 1, 4, 0)), sent(r, ReadIndexResponse.class));

        assertTrue(net.core(3).readIndex(4));
        net.process(3);
        net.core(3).step(new ReadIndexResponse(1, 3, 1, 4, 0)); // the leader refuses
        assertEquals(List.of(4L), net.process(3).droppedReads());
    }

    @Test
    void aReadWhoseRequestOrAnswerIsLostIsDroppedAfterAnElectionTimeout() {
        TestNetwork net = stableCluster(3, b -> b);
        net.dropIf(m -> m instanceof ReadIndexRequest);
        assertTrue(net.core(2).readIndex(6));
        net.deliverAll();
        for (int t = 1; t < ELECTION_TICKS; t++) {
            net.heartbeatFrom(1); // the follower hears from its leader: only the read is lost
            net.tick(2);
            net.process(2);
            assertEquals(List.of(), net.node(2).droppedReads, "tick " + t);
        }
        net.tick(2);
        assertEquals(List.of(6L), net.process(2).droppedReads());
        assertEquals(Role.FOLLOWER, net.core(2).role());
    }

    @Test
    void aFollowersReadsAreDroppedWhenANewTermBegins() {
        TestNetwork net = stableCluster(3, b -> b);
        net.dropIf(m -> m instanceof ReadIndexRequest);
        assertTrue(net.core(2).readIndex(1));
        assertTrue(net.core(2).readIndex(2));
        net.deliverAll();
        net.heal();
        net.core(2).step(new Heartbeat(3, 2, 2, 0, 1)); // a leader of term 2
        assertEquals(List.of(1L, 2L), net.process(2).droppedReads());
    }

    @Test
    void aLeaderThatStepsDownRefusesTheFollowersReadsItHeld() {
        TestNetwork net = stableCluster(3, b -> b);
        net.dropIf(m -> m instanceof Heartbeat); // no round can confirm the read
        assertTrue(net.core(2).readIndex(3));
        net.deliverAll();
        net.core(1).step(new Message.AppendResponse(3, 1, 2, false, 0, 0, 0)); // a later term: the leader steps down
        Ready r = net.process(1);
        assertEquals(List.of(new ReadIndexResponse(1, 2, 2, 3, 0)), sent(r, ReadIndexResponse.class));
        net.deliverAll();
        assertEquals(List.of(3L), net.node(2).droppedReads);
    }

    @Test
    void aStaleFollowerIsRefusedInTheLeadersTerm() {
        TestNetwork net = stableCluster(3, b -> b);
        net.core(1).step(new ReadIndexRequest(2, 1, 0, 9)); // from a term before the leader's
        assertEquals(List.of(new ReadIndexResponse(1, 2, 1, 9, 0)), sent(net.process(1), ReadIndexResponse.class));
    }

    @Test
    void aLeaderAnswersNoReadOfANodeOutsideItsConfiguration() {
        TestNetwork net = stableCluster(3, b -> b);
        net.addNode(4, Set.of(1, 2, 3));
        net.core(1).step(new ReadIndexRequest(4, 1, 1, 2));
        assertEquals(List.of(new ReadIndexResponse(1, 4, 1, 2, 0)), sent(net.process(1), ReadIndexResponse.class));
    }

    @Test
    void aFollowerThatKnowsNoLeaderAndACandidateTakeNoRead() {
        TestNetwork net = TestNetwork.of(3, b -> b.preVote(false));
        assertFalse(net.core(1).readIndex(1), "no leader known");
        net.tickUntilCampaign(1);
        assertFalse(net.core(1).readIndex(1), "candidate");
    }

    @Test
    void aFollowerForwardsNothingWhileTheLeaderHasNotCommittedInItsTerm() {
        TestNetwork net = TestNetwork.of(3);
        net.tickUntilCampaign(1);
        net.deliverUntil(() -> net.core(1).role() == Role.LEADER);
        net.dropIf(m -> m instanceof AppendRequest && m.to() == 3);
        net.dropIf(m -> m instanceof AppendRequest && m.to() == 2);
        net.heartbeatFrom(1); // node 2 learns who leads
        assertTrue(net.core(2).readIndex(1));
        net.deliverAll();
        assertEquals(List.of(), net.delivered(ReadIndexResponse.class), "the leader holds the read until it commits");
        net.heal();
        net.heartbeatFrom(1);
        net.heartbeatFrom(1);
        assertEquals(List.of(new ReadState(1, 1)), net.node(2).readStates);
    }
}
