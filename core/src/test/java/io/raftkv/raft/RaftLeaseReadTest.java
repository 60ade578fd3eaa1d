package io.raftkv.raft;

import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.HeartbeatResponse;
import io.raftkv.raft.Message.VoteRequest;
import io.raftkv.raft.Message.VoteResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.UnaryOperator;

import static io.raftkv.raft.RaftElectionTest.sent;
import static io.raftkv.raft.RaftLogReplicationTest.bytes;
import static io.raftkv.raft.RaftLogReplicationTest.stableCluster;
import static io.raftkv.raft.TestNetwork.ELECTION_TICKS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Lease reads (thesis §6.4.1): a leader that a majority acknowledged recently reads without a round of its own. */
class RaftLeaseReadTest {
    private static final int DRIFT = 2;
    private static final int LEASE = ELECTION_TICKS - DRIFT;
    private static final UnaryOperator<RaftConfig.Builder> LEASE_READS = b -> b.readPolicy(ReadPolicy.LEASE).clockDriftTicks(DRIFT);

    /** Asks node 1 for a read and handles its ready: whether the read was confirmed there and then. */
    private static boolean readAtOnce(TestNetwork net, long context) {
        assertTrue(net.core(1).readIndex(context), "node 1 leads");
        Ready r = net.process(1);
        return r != null && r.readStates().stream().anyMatch(s -> s.context() == context);
    }

    @Test
    void aLeaderInItsLeaseAnswersAReadWithoutAHeartbeatRound() {
        TestNetwork net = stableCluster(3, LEASE_READS);
        net.heartbeatFrom(1); // a round a majority acknowledges: the lease starts when it was sent
        long commit = net.core(1).commitIndex();

        assertTrue(net.core(1).readIndex(7));
        Ready r = net.process(1);
        assertEquals(List.of(new ReadState(7, commit)), r.readStates());
        assertEquals(List.of(), sent(r, Heartbeat.class), "no round for the read");
    }

    @Test
    void withoutAnAcknowledgedRoundALeaderFallsBackToReadIndex() {
        TestNetwork net = stableCluster(3, LEASE_READS); // appends were acknowledged, but no heartbeat round yet
        assertFalse(readAtOnce(net, 1), "appends renew no lease: only heartbeats say which round they answer");
        assertEquals(2, net.queued(Heartbeat.class).size(), "the read starts a round, as ReadIndex does");
        net.deliverAll();
        assertEquals(List.of(new ReadState(1, net.core(1).commitIndex())), net.node(1).readStates);
    }

    @Test
    void theLeaseEndsElectionTicksMinusTheDriftBoundAfterTheAcknowledgedRoundWasSent() {
        TestNetwork net = stableCluster(3, LEASE_READS);
        net.heartbeatFrom(1);
        net.isolate(1); // no later round is acknowledged
        for (int k = 1; k < ELECTION_TICKS; k++) {
            net.tick(1);
            assertEquals(Role.LEADER, net.core(1).role());
            assertEquals(k < LEASE, readAtOnce(net, 100 + k), k + " ticks after the round was sent");
        }
    }

    @Test
    void theLeaseIsMeasuredFromWhenTheRoundWasSentNotFromWhenItsAnswersCame() {
        TestNetwork net = stableCluster(3, LEASE_READS);
        net.tick(1);
        net.process(1);
        long round = net.queued(Heartbeat.class).get(0).readRound();
        for (int k = 0; k < 3; k++) { // later rounds go out; the first one's answers are slow
            net.tick(1);
            net.process(1);
        }
        net.deliverMatching(m -> m instanceof Heartbeat h && h.readRound() == round);
        net.process(2);
        net.process(3);
        net.deliverMatching(m -> m instanceof HeartbeatResponse);
        net.isolate(1);

        for (int k = 3; k < ELECTION_TICKS; k++) { // k ticks since that round was sent
            assertEquals(k < LEASE, readAtOnce(net, 100 + k), k + " ticks after the round was sent");
            net.tick(1);
        }
    }

    @Test
    void aLeaseNeedsAMajorityOfTheVotersInForce() {
        TestNetwork net = stableCluster(3, LEASE_READS);
        net.addNode(4, Set.of(1, 2, 3));
        assertTrue(net.core(1).proposeConfigChange(ConfigChange.addLearner(4)) > 0);
        net.deliverAll();
        assertTrue(net.core(1).proposeConfigChange(ConfigChange.promote(4)) > 0);
        net.deliverAll();
        assertEquals(Set.of(1, 2, 3, 4), net.core(1).voters());

        net.isolate(3);
        net.isolate(4);
        net.heartbeatFrom(1);
        assertFalse(readAtOnce(net, 1), "the leader and node 2 were a majority of three, not of four");

        net.heal();
        net.heartbeatFrom(1);
        assertTrue(readAtOnce(net, 2));
    }

    @Test
    void learnersAcknowledgementsMakeNoLease() {
        TestNetwork net = stableCluster(3, LEASE_READS);
        net.addNode(4, Set.of(1, 2, 3));
        assertTrue(net.core(1).proposeConfigChange(ConfigChange.addLearner(4)) > 0);
        net.deliverAll();
        net.isolate(2);
        net.isolate(3);
        net.heartbeatFrom(1);
        assertFalse(readAtOnce(net, 1), "the learner answered the round, but it does not vote");
    }

    @Test
    void aNewLeaderWaitsForTheFirstCommitOfItsTermEvenInItsLease() {
        TestNetwork net = TestNetwork.of(3, LEASE_READS);
        net.tickUntilCampaign(1);
        net.deliverUntil(() -> net.core(1).role() == Role.LEADER);
        net.dropIf(m -> m instanceof AppendRequest);
        net.heartbeatFrom(1); // a round acknowledged by all: a lease, but nothing of term 1 committed

        assertTrue(net.core(1).readIndex(7));
        net.deliverAll();
        assertEquals(0, net.core(1).commitIndex());
        assertEquals(List.of(), net.node(1).readStates, "it does not know the commit index yet");

        net.heal();
        net.heartbeatFrom(1);
        assertEquals(1, net.core(1).commitIndex());
        assertEquals(List.of(new ReadState(7, 1)), net.node(1).readStates);
    }

    @Test
    void aLeaderThatStartsATransferServesNoLeaseReadForTheRestOfItsTerm() {
        TestNetwork net = stableCluster(3, LEASE_READS);
        net.isolate(3); // the transfer cannot complete
        net.core(1).propose(bytes("a"));
        net.deliverAll();
        net.heartbeatFrom(1);
        assertTrue(readAtOnce(net, 1), "in its lease");

        assertTrue(net.core(1).transferLeadership(3));
        assertFalse(readAtOnce(net, 2), "the target's campaign would pass the voters' wait");
        net.deliverAll();
        assertTrue(net.node(1).readStates.stream().anyMatch(s -> s.context() == 2), "confirmed by a round instead");

        for (int i = 0; i < ELECTION_TICKS; i++) net.heartbeatFrom(1); // the transfer times out
        assertNotEquals(RaftCore.REJECTED, net.core(1).propose(bytes("b")), "the transfer was given up");
        assertFalse(readAtOnce(net, 3), "a TimeoutNow already sent may still arrive: no lease until the next term");
    }

    @Test
    void anIsolatedLeadersLeaseEndsBeforeAnyOtherServerAsksForAVote() {
        TestNetwork net = stableCluster(3, LEASE_READS);
        net.heartbeatFrom(1);
        net.isolate(1);
        boolean voteAsked = false;
        int leaseReads = 0;
        for (int step = 0; step < 4 * ELECTION_TICKS && net.core(2).role() != Role.LEADER && net.core(3).role() != Role.LEADER; step++) {
            net.tickAll(); // clocks in step: no drift
            net.deliverAll();
            voteAsked |= net.delivered(VoteRequest.class).stream().anyMatch(v -> v.from() != 1);
            if (net.core(1).role() == Role.LEADER && readAtOnce(net, 1000 + step)) {
                leaseReads++;
                assertFalse(voteAsked, "a lease read at step " + step + ", after another server asked for votes");
            }
        }
        assertTrue(net.core(2).role() == Role.LEADER || net.core(3).role() == Role.LEADER, "the others elected a leader");
        assertEquals(LEASE - 1, leaseReads, "the isolated leader read from its lease until it ran out");
    }

    @Test
    void aRestartedVoterWaitsAnElectionTimeoutBeforeItVotesForAnother() {
        for (ReadPolicy policy : ReadPolicy.values()) {
            TestNetwork net = stableCluster(3, b -> b.readPolicy(policy).clockDriftTicks(DRIFT));
            net.heartbeatFrom(1); // node 2 acknowledges a round of term 1: under LEASE, a promise
            net.isolate(2);
            net.restart(2); // it forgets the leader, and when it heard from it
            RaftCore c = net.core(2);
            assertEquals(1, c.term());
            VoteRequest ask = new VoteRequest(3, 2, 2, c.log().lastIndex(), c.log().lastTerm(), false, false);

            c.step(ask);
            boolean granted = sent(c.ready(), VoteResponse.class).stream().anyMatch(VoteResponse::granted);
            if (policy == ReadPolicy.READ_INDEX) {
                assertTrue(granted, "ReadIndex needs no wait");
                continue;
            }
            assertFalse(granted, "in the lease it may have promised before its crash");
            assertEquals(1, c.term(), "it does not take the candidate's term either");
            c.campaign();
            assertEquals(Role.FOLLOWER, c.role(), "nor does it campaign");

            for (int t = 0; t < ELECTION_TICKS; t++) c.tick();
            c.ready();
            c.step(ask);
            assertTrue(sent(c.ready(), VoteResponse.class).stream().anyMatch(VoteResponse::granted), "an election timeout later it may");
        }
    }

    @Test
    void underLeaseAHeartbeatIsAcknowledgedOnlyOnceTheTermItCameInIsDurable() {
        RaftCore f = TestNetwork.lone(2, Set.of(1, 2, 3), LEASE_READS, HardState.INITIAL, List.of());
        f.step(new Heartbeat(1, 2, 1, 0, 1));
        Ready r = f.ready();
        assertEquals(1, r.hardState().term());
        assertEquals(List.of(), r.messages().stream().filter(m -> m instanceof HeartbeatResponse).toList());
        assertEquals(List.of(new HeartbeatResponse(2, 1, 1, 1)), r.messagesAfterPersist());
    }

    @Test
    void leaseReadsNeedCheckQuorumAndALeaseOfAtLeastOneTick() {
        RaftConfig.Builder noCheckQuorum = RaftConfig.builder(1, Set.of(1, 2, 3), new SplittableRandom(1))
                .readPolicy(ReadPolicy.LEASE).checkQuorum(false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, noCheckQuorum::build);
        assertTrue(e.getMessage().contains("checkQuorum"), e.getMessage());

        RaftConfig.Builder noLease = RaftConfig.builder(1, Set.of(1, 2, 3), new SplittableRandom(1))
                .readPolicy(ReadPolicy.LEASE).electionTicks(4).heartbeatTicks(1).clockDriftTicks(4);
        e = assertThrows(IllegalArgumentException.class, noLease::build);
        assertTrue(e.getMessage().contains("clockDriftTicks (4) below electionTicks (4)"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class, () -> RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).clockDriftTicks(0));
        assertTrue(e.getMessage().contains("clockDriftTicks must be >= 1"), e.getMessage());
        // ReadIndex does without both.
        RaftConfig.builder(1, Set.of(1, 2, 3), new SplittableRandom(1)).checkQuorum(false).build();
    }

    /**
     * A voter in leader 1's lease meets a higher term in a message no leader sent (node 3's late refusal of a
     * read-index request it was sent when it led): it takes the term, but elects no one new, in that term or a
     * later one, until its election timeout since leader 1's heartbeat has passed, so the lease stays sound.
     */
    @Test
    void aHigherTermNoLeaderSentDoesNotReleaseAVoterFromItsPromise() {
        TestNetwork net = stableCluster(3, LEASE_READS);
        net.heartbeatFrom(1); // nodes 2 and 3 acknowledge a round: node 1 holds its lease
        long t = net.core(1).term();
        net.isolate(1);

        RaftCore voter = net.core(2);
        voter.step(new Message.ReadIndexResponse(3, 2, t + 1, 99, 0));
        assertEquals(t + 1, voter.term(), "the higher term is taken");
        long last = net.core(3).log().lastIndex(), lastTerm = net.core(3).log().lastTerm();
        voter.step(new VoteRequest(3, 2, t + 1, last, lastTerm, false, false));
        voter.step(new VoteRequest(3, 2, t + 2, last, lastTerm, false, false));
        Ready r = voter.ready();
        assertFalse(granted(r), "no vote for node 3 within the election timeout of node 1's heartbeat");
        voter.advance(r);

        // Once that timeout has passed, the promise is kept and node 3 may be elected.
        for (int i = 0; i < ELECTION_TICKS; i++) voter.tick();
        voter.step(new VoteRequest(3, 2, voter.term() + 1, last, lastTerm, false, false));
        assertTrue(granted(voter.ready()), "after the timeout node 2 votes again");
    }

    private static boolean granted(Ready r) {
        return r.messages().stream().anyMatch(m -> m instanceof VoteResponse v && v.granted() && !v.preVote())
                || r.messagesAfterPersist().stream().anyMatch(m -> m instanceof VoteResponse v && v.granted() && !v.preVote());
    }
}
