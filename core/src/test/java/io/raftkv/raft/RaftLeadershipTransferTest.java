package io.raftkv.raft;

import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.TimeoutNow;
import io.raftkv.raft.Message.VoteRequest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.stream.IntStream;

import static io.raftkv.raft.RaftLogReplicationTest.bytes;
import static io.raftkv.raft.RaftLogReplicationTest.stableCluster;
import static io.raftkv.raft.TestNetwork.ELECTION_TICKS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Handing leadership to a chosen server (thesis §3.10). */
class RaftLeadershipTransferTest {

    @Test
    void leaderSendsTimeoutNowOnlyOnceTheTargetIsCaughtUp() {
        TestNetwork net = TestNetwork.of(3);
        net.isolate(3);
        net.elect(1);
        net.core(1).propose(bytes("a"));
        net.core(1).propose(bytes("b"));
        net.deliverAll();
        net.heal();
        long last = net.core(1).log().lastIndex();
        assertTrue(net.core(3).log().lastIndex() < last);

        assertTrue(net.core(1).transferLeadership(3));
        net.process(1);
        assertEquals(List.of(), net.queued(TimeoutNow.class), "node 3 lacks entries: bring it up to date first");
        for (int t = 0; t < ELECTION_TICKS - 1 && net.core(3).role() != Role.LEADER; t++) {
            net.tick(1);
            net.deliverAll();
        }

        List<Message> trace = net.delivered();
        List<Integer> timeoutNows = indexesOf(trace, TimeoutNow.class);
        assertEquals(1, timeoutNows.size(), "TimeoutNow is sent once");
        long ackedBefore = trace.subList(0, timeoutNows.get(0)).stream()
                .filter(m -> m instanceof AppendResponse r && r.from() == 3 && r.success())
                .mapToLong(m -> ((AppendResponse) m).index()).max().orElse(0);
        assertEquals(last, ackedBefore, "node 3 had acknowledged the leader's last entry");
        assertEquals(Role.LEADER, net.core(3).role());
        assertEquals(2, net.core(3).term());
    }

    @Test
    void aRepeatedRequestForTheSameTargetDoesNotRestartTheTransfer() {
        TestNetwork net = TestNetwork.of(3);
        net.elect(1);
        net.isolate(3); // it cannot catch up: the transfer can only time out
        net.core(1).propose(bytes("a"));
        net.deliverAll();
        assertTrue(net.core(1).transferLeadership(3));
        assertEquals(RaftCore.REJECTED, net.core(1).propose(bytes("refused")), "proposals wait while a transfer is on");
        int half = ELECTION_TICKS / 2;
        for (int t = 0; t < half; t++) {
            net.tick(1);
            net.deliverAll();
        }
        // A client retrying its request, as an operator or a shell might: the transfer goes on as it was.
        assertTrue(net.core(1).transferLeadership(3));
        for (int t = half; t < ELECTION_TICKS; t++) {
            net.tick(1);
            net.deliverAll();
        }
        assertEquals(Role.LEADER, net.core(1).role());
        assertTrue(net.core(1).propose(bytes("b")) != RaftCore.REJECTED,
                "an election timeout after the first request the transfer is abandoned, repeat or not");
        assertEquals(List.of(), net.delivered().stream().filter(m -> m instanceof TimeoutNow).toList());
    }

    private static List<Integer> indexesOf(List<Message> trace, Class<? extends Message> type) {
        return IntStream.range(0, trace.size()).filter(i -> type.isInstance(trace.get(i))).boxed().toList();
    }

    @Test
    void transferTargetCampaignsAtOnceSkippingPreVoteAndWinsThoughTheOthersAreInLease() {
        TestNetwork net = stableCluster(3, b -> b);
        assertTrue(net.core(1).transferLeadership(2));
        net.process(1);
        assertEquals(List.of(new TimeoutNow(1, 2, 1)), net.queued(TimeoutNow.class), "node 2 is caught up already");

        net.deliverMatching(m -> m instanceof TimeoutNow);
        assertEquals(Role.CANDIDATE, net.core(2).role(), "no waiting for a timeout, no pre-vote");
        assertEquals(2, net.core(2).term());
        net.process(2);
        List<VoteRequest> asks = net.queued(VoteRequest.class);
        assertEquals(2, asks.size());
        assertTrue(asks.stream().allMatch(v -> v.transfer() && !v.preVote()));
        assertEquals(1, net.core(3).leader(), "node 3 has just heard from node 1: it is in lease");

        net.deliverAll();
        assertEquals(List.of(2), net.leaders());
        for (int id : net.ids()) {
            assertEquals(2, net.core(id).term(), "node " + id);
            assertEquals(2, net.core(id).leader(), "node " + id);
        }
    }

    @Test
    void leaderRefusesProposalsWhileItHandsOverLeadership() {
        TestNetwork net = stableCluster(3, b -> b);
        net.isolate(3);
        assertTrue(net.core(1).propose(bytes("before")) > 0);
        assertTrue(net.core(1).transferLeadership(3));
        assertEquals(RaftCore.REJECTED, net.core(1).propose(bytes("during")));
    }

    @Test
    void leaderAbandonsATransferThatDoesNotCompleteWithinAnElectionTimeout() {
        TestNetwork net = stableCluster(3, b -> b);
        net.isolate(3);
        net.core(1).transferLeadership(3);
        for (int t = 1; t < ELECTION_TICKS; t++) {
            net.tick(1);
            net.tick(2);
            net.deliverAll();
            assertEquals(RaftCore.REJECTED, net.core(1).propose(bytes("x")), "tick " + t);
        }
        net.tick(1);
        net.deliverAll();

        assertEquals(Role.LEADER, net.core(1).role());
        assertTrue(net.core(1).propose(bytes("x")) > 0, "the transfer was given up and node 1 leads on");
    }

    @Test
    void transferLeadershipOnAServerThatDoesNotLeadReturnsFalse() {
        TestNetwork net = stableCluster(3, b -> b);
        assertFalse(net.core(2).transferLeadership(3));
        assertTrue(net.core(1).transferLeadership(1), "to itself: nothing to do");
        assertTrue(net.core(1).propose(bytes("x")) > 0, "and no transfer under way");
    }
}
