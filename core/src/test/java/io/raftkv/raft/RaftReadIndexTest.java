package io.raftkv.raft;

import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.HeartbeatResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.raftkv.raft.RaftLogReplicationTest.bytes;
import static io.raftkv.raft.RaftLogReplicationTest.stableCluster;
import static io.raftkv.raft.TestNetwork.ELECTION_TICKS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Linearizable reads without writing to the log: the ReadIndex protocol (thesis §6.4). */
class RaftReadIndexTest {

    @Test
    void leaderDoesNotServeAReadBeforeItCommitsAnEntryOfItsTerm() {
        TestNetwork net = TestNetwork.of(3);
        net.tickUntilCampaign(1);
        net.deliverUntil(() -> net.core(1).role() == Role.LEADER);
        net.dropIf(m -> m instanceof AppendRequest);

        assertTrue(net.core(1).readIndex(7));
        for (int i = 0; i < 3; i++) {
            net.tick(1);
            net.deliverAll();
        }
        assertEquals(0, net.core(1).commitIndex());
        assertEquals(List.of(), net.node(1).readStates, "heartbeats were answered, but the no-op is not committed");

        net.heal();
        net.tick(1);
        net.deliverAll();
        assertEquals(1, net.core(1).commitIndex());
        assertEquals(List.of(new ReadState(7, 1)), net.node(1).readStates);
    }

    @Test
    void readIsConfirmedOnlyOnceAMajorityAnswersTheHeartbeatRoundSentAfterIt() {
        TestNetwork net = stableCluster(5, b -> b);
        long commit = net.core(1).commitIndex();
        assertTrue(net.core(1).readIndex(9));
        net.process(1);
        assertEquals(4, net.queued(Heartbeat.class).size(), "the read starts a heartbeat round at once");

        for (int follower : List.of(2, 3)) {
            assertEquals(List.of(), net.node(1).readStates, "not yet a majority of five");
            net.deliverMatching(m -> m.to() == follower);
            net.deliverMatching(m -> m.from() == follower);
            net.process(1);
        }
        assertEquals(List.of(new ReadState(9, commit)), net.node(1).readStates);
    }

    @Test
    void heartbeatAnswersToARoundSentBeforeTheReadDoNotConfirmIt() {
        TestNetwork net = stableCluster(3, b -> b);
        net.tick(1);
        net.process(1);
        net.deliverMatching(m -> m instanceof Heartbeat);
        net.process(2);
        net.process(3);

        assertTrue(net.core(1).readIndex(5));
        net.deliverMatching(m -> m instanceof HeartbeatResponse);
        net.process(1);
        assertEquals(List.of(), net.node(1).readStates, "those answers do not show we still led when the read came");

        net.deliverAll();
        assertEquals(List.of(new ReadState(5, 1)), net.node(1).readStates);
    }

    @Test
    void readStateCarriesTheCommitIndexOfTheMomentTheReadArrived() {
        TestNetwork net = stableCluster(3, b -> b);
        long commit = net.core(1).commitIndex();
        net.core(1).readIndex(1);
        net.core(1).propose(bytes("later write"));
        net.deliverAll();

        assertEquals(commit + 1, net.core(1).commitIndex());
        assertEquals(List.of(new ReadState(1, commit)), net.node(1).readStates);
    }

    @Test
    void readStateIsReleasedNoEarlierThanTheReadyThatAppliesItsIndex() {
        RaftCore c = TestNetwork.lone(1, Set.of(1), b -> b, HardState.INITIAL, List.of());
        while (c.role() != Role.LEADER) c.tick();
        c.advance(c.ready());
        c.ready();
        c.propose(bytes("x"));
        c.advance(c.ready());
        assertEquals(2, c.commitIndex());

        assertTrue(c.readIndex(3));
        Ready r = c.ready();
        assertEquals(List.of(new ReadState(3, 2)), r.readStates(), "one server is its own majority");
        assertEquals(2, r.committedEntries().get(r.committedEntries().size() - 1).index(),
                "the same ready applies index 2 first");
    }

    @Test
    void deposedLeaderReportsItsPendingReadsAsDropped() {
        TestNetwork net = stableCluster(3, b -> b);
        net.core(1).readIndex(11);
        net.isolate(1);
        net.run(4 * ELECTION_TICKS);
        net.heal();
        net.run(1);

        assertEquals(Role.FOLLOWER, net.core(1).role());
        assertEquals(List.of(), net.node(1).readStates);
        assertEquals(List.of(11L), net.node(1).droppedReads);
    }

    @Test
    void readsWaitingForTheFirstCommitOfTheTermAreDroppedWhenLeadershipIsLost() {
        TestNetwork net = TestNetwork.of(3);
        net.tickUntilCampaign(1);
        net.deliverUntil(() -> net.core(1).role() == Role.LEADER);
        net.dropIf(m -> m instanceof AppendRequest);
        net.core(1).readIndex(12);
        net.deliverAll();

        net.core(1).step(new AppendResponse(2, 1, 5, false, 0, 0, 0));
        Ready r = net.process(1);
        assertEquals(List.of(12L), r.droppedReads());
        assertEquals(Role.FOLLOWER, r.role());
    }

    @Test
    void readIndexOnAServerThatDoesNotLeadReturnsFalse() {
        TestNetwork net = TestNetwork.of(3, b -> b.preVote(false));
        assertFalse(net.core(1).readIndex(1), "follower");
        net.tickUntilCampaign(1);
        assertEquals(Role.CANDIDATE, net.core(1).role());
        assertFalse(net.core(1).readIndex(1), "candidate");
    }
}
