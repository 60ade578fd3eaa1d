package io.raftkv.raft;

import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.VoteRequest;
import io.raftkv.raft.Message.VoteResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static io.raftkv.raft.TestNetwork.ELECTION_TICKS;
import static io.raftkv.raft.TestNetwork.logOfTerms;
import static io.raftkv.raft.TestNetwork.lone;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Leader election (Raft §5.2, §5.4.1), PreVote (thesis §9.6) and CheckQuorum with leader leases
 * (thesis §6.2, §4.2.3), one test per rule.
 */
class RaftElectionTest {
    private static final Set<Integer> THREE = Set.of(1, 2, 3);

    static List<Message> sent(Ready r) {
        List<Message> all = new ArrayList<>(r.messages());
        all.addAll(r.messagesAfterPersist());
        return all;
    }

    static <T extends Message> List<T> sent(Ready r, Class<T> type) {
        return sent(r).stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** A follower of term {@code term} in {1, 2, 3} with the given log. */
    static RaftCore follower(int id, long term, List<Entry> log, boolean preVote, boolean checkQuorum) {
        return lone(id, THREE, b -> b.preVote(preVote).checkQuorum(checkQuorum), new HardState(term, RaftCore.NONE, 0), log);
    }

    /** Node 1 of {1, 2, 3}, elected in term 1 with node 2's vote; its first ready is drained. */
    static RaftCore loneLeader() {
        RaftCore c = lone(1, THREE, b -> b.preVote(false), HardState.INITIAL, List.of());
        while (c.role() != Role.CANDIDATE) c.tick();
        c.step(new VoteResponse(2, 1, c.term(), true, false));
        assertEquals(Role.LEADER, c.role());
        c.advance(c.ready());
        return c;
    }

    // ---------------------------------------------------------------- timeouts (§5.2)

    @Test
    void followerStartsAnElectionAfterARandomizedTimeoutBetweenElectionTicksAndTwiceThat() {
        Set<Integer> seen = new HashSet<>();
        for (long seed = 0; seed < 200; seed++) {
            RaftConfig config = RaftConfig.builder(1, THREE, new SplittableRandom(seed)).electionTicks(ELECTION_TICKS).build();
            RaftCore c = new RaftCore(config, HardState.INITIAL, List.of());
            int ticks = 0;
            while (c.role() == Role.FOLLOWER) {
                c.tick();
                ticks++;
                assertTrue(ticks < 2 * ELECTION_TICKS, "seed " + seed + ": no election after " + ticks + " ticks");
            }
            assertTrue(ticks >= ELECTION_TICKS, "seed " + seed + ": election after only " + ticks + " ticks");
            seen.add(ticks);

            // An unanswered campaign times out again, after a freshly drawn timeout in the same range.
            c.ready();
            int again = 0;
            do {
                c.tick();
                again++;
                assertTrue(again < 2 * ELECTION_TICKS, "seed " + seed + ": no second campaign");
            } while (!c.hasReady());
            assertTrue(again >= ELECTION_TICKS, "seed " + seed + ": second campaign after only " + again + " ticks");
        }
        // Randomized, so that split votes are rare: the timeouts spread over the range.
        assertTrue(seen.size() >= ELECTION_TICKS / 2, "timeouts seen: " + seen);
    }

    @Test
    void followerWithPreVoteBecomesAPreCandidateWithoutChangingItsTerm() {
        RaftCore c = follower(1, 3, List.of(), true, true);
        while (c.role() == Role.FOLLOWER) c.tick();

        assertEquals(Role.PRE_CANDIDATE, c.role());
        assertEquals(3, c.term());
        assertEquals(RaftCore.NONE, c.votedFor());
        Ready r = c.ready();
        assertNull(r.hardState(), "a pre-vote changes nothing durable");
        List<VoteRequest> asks = sent(r, VoteRequest.class);
        assertEquals(Set.of(2, 3), Set.copyOf(asks.stream().map(VoteRequest::to).toList()));
        for (VoteRequest v : asks) {
            assertTrue(v.preVote());
            assertEquals(4, v.term(), "a pre-vote asks about the term it would campaign in");
        }
    }

    @Test
    void candidateIncrementsItsTermVotesForItselfAndAsksEveryOtherServer() {
        RaftCore c = lone(1, THREE, b -> b.preVote(false), new HardState(3, RaftCore.NONE, 1), logOfTerms(1, 2));
        while (c.role() == Role.FOLLOWER) c.tick();

        assertEquals(Role.CANDIDATE, c.role());
        assertEquals(4, c.term());
        assertEquals(1, c.votedFor());
        Ready r = c.ready();
        assertEquals(new HardState(4, 1, 1), r.hardState());
        assertTrue(r.messages().isEmpty(), "vote requests wait until the candidate's own vote is durable");
        assertEquals(List.of(new VoteRequest(1, 2, 4, 2, 2, false, false), new VoteRequest(1, 3, 4, 2, 2, false, false)),
                r.messagesAfterPersist());
    }

    @ParameterizedTest(name = "{0} nodes")
    @ValueSource(ints = {1, 3, 5, 7})
    void leaderIsElectedInOneRound(int size) {
        TestNetwork net = TestNetwork.of(size);
        net.tickUntilCampaign(1);
        net.deliverAll();

        assertEquals(List.of(1), net.leaders());
        for (int id : net.ids()) {
            assertEquals(1, net.core(id).term(), "node " + id);
            assertEquals(1, net.core(id).leader(), "node " + id);
        }
        // One pre-vote round and one vote round: each other server is asked exactly twice.
        assertEquals(2 * (size - 1), net.delivered(VoteRequest.class).size());
    }

    @Test
    void candidateBecomesLeaderOnVotesFromAMajority() {
        RaftCore c = lone(1, Set.of(1, 2, 3, 4, 5), b -> b.preVote(false), HardState.INITIAL, List.of());
        while (c.role() == Role.FOLLOWER) c.tick();
        c.step(new VoteResponse(2, 1, 1, true, false));
        assertEquals(Role.CANDIDATE, c.role(), "two votes of five");
        c.step(new VoteResponse(3, 1, 1, false, false));
        c.step(new VoteResponse(3, 1, 1, true, false));
        assertEquals(Role.CANDIDATE, c.role(), "a server's second answer does not count");
        c.step(new VoteResponse(4, 1, 1, true, false));
        assertEquals(Role.LEADER, c.role());
    }

    @Test
    void candidateRejectedByAMajorityReturnsToFollower() {
        RaftCore c = lone(1, THREE, b -> b.preVote(false), HardState.INITIAL, List.of());
        while (c.role() == Role.FOLLOWER) c.tick();
        c.step(new VoteResponse(2, 1, 1, false, false));
        c.step(new VoteResponse(3, 1, 1, false, false));
        assertEquals(Role.FOLLOWER, c.role());
        assertEquals(1, c.term());
        assertEquals(1, c.votedFor(), "it keeps the vote it cast in this term");
    }

    @Test
    void candidateStartsANewElectionWhenItsElectionTimesOutWithoutAWinner() {
        RaftCore c = lone(1, THREE, b -> b.preVote(false), HardState.INITIAL, List.of());
        while (c.role() == Role.FOLLOWER) c.tick();
        assertEquals(1, c.term());
        c.ready();
        for (int t = 0; t < 2 * ELECTION_TICKS && c.term() == 1; t++) c.tick();
        assertEquals(Role.CANDIDATE, c.role());
        assertEquals(2, c.term());
        assertEquals(2, sent(c.ready(), VoteRequest.class).size());
    }

    @ParameterizedTest(name = "preVote={0}")
    @ValueSource(booleans = {true, false})
    void candidateReturnsToFollowerOnAnAppendRequestOfTheSameTerm(boolean preVote) {
        RaftCore c = follower(1, 2, List.of(), preVote, true);
        while (c.role() == Role.FOLLOWER) c.tick();
        assertEquals(preVote ? Role.PRE_CANDIDATE : Role.CANDIDATE, c.role());
        long term = c.term();

        c.step(new AppendRequest(2, 1, term, 0, 0, List.of(), 0));

        assertEquals(Role.FOLLOWER, c.role());
        assertEquals(term, c.term());
        assertEquals(2, c.leader());
        assertEquals(List.of(new AppendResponse(1, 2, term, true, 0, 0, 0)), sent(c.ready(), AppendResponse.class));
    }

    // ---------------------------------------------------------------- terms (§5.1)

    @Test
    void followerUpdatesItsTermFromAHigherTermMessage() {
        RaftCore c = follower(1, 2, List.of(), true, true);
        c.step(new Heartbeat(3, 1, 5, 0, 0));
        assertEquals(5, c.term());
        assertEquals(3, c.leader());
        assertEquals(Role.FOLLOWER, c.role());
        assertEquals(new HardState(5, RaftCore.NONE, 0), c.ready().hardState());
    }

    @ParameterizedTest(name = "preVote={0}")
    @ValueSource(booleans = {true, false})
    void candidateRevertsToFollowerOnDiscoveringAHigherTerm(boolean preVote) {
        RaftCore c = follower(1, 2, List.of(), preVote, true);
        while (c.role() == Role.FOLLOWER) c.tick();
        c.step(new VoteResponse(2, 1, 7, false, preVote));
        assertEquals(Role.FOLLOWER, c.role());
        assertEquals(7, c.term());
    }

    @Test
    void leaderRevertsToFollowerOnDiscoveringAHigherTerm() {
        RaftCore c = loneLeader();
        c.step(new AppendResponse(3, 1, 4, false, 0, 0, 0));
        assertEquals(Role.FOLLOWER, c.role());
        assertEquals(4, c.term());
        assertEquals(RaftCore.NONE, c.leader());
    }

    @Test
    void serverRejectsARequestWithAStaleTerm() {
        RaftCore c = follower(1, 3, logOfTerms(1), false, false);
        c.step(new AppendRequest(2, 1, 2, 1, 1, List.of(TestNetwork.cmd(2, 2)), 1));
        c.step(new VoteRequest(2, 1, 2, 9, 2, false, false));

        assertEquals(3, c.term());
        assertEquals(1, c.log().lastIndex(), "nothing appended from a stale leader");
        assertEquals(RaftCore.NONE, c.votedFor());
        assertTrue(sent(c.ready()).stream().noneMatch(m -> m instanceof VoteResponse v && v.granted()
                || m instanceof AppendResponse a && a.success()));
    }

    @Test
    void staleLeaderIsToldTheNewerTermSoThatItStepsDown() {
        RaftCore c = follower(1, 3, List.of(), true, true);
        c.step(new Heartbeat(2, 1, 2, 0, 0));
        assertEquals(List.of(new AppendResponse(1, 2, 3, false, 0, 0, 0)), sent(c.ready()));
    }

    // ---------------------------------------------------------------- votes (§5.2, §5.4.1)

    @Test
    void followerGrantsAtMostOneVotePerTermFirstComeFirstServed() {
        RaftCore c = follower(1, 0, List.of(), false, true);
        c.step(new VoteRequest(2, 1, 1, 0, 0, false, false));
        c.step(new VoteRequest(3, 1, 1, 0, 0, false, false));
        c.step(new VoteRequest(2, 1, 1, 0, 0, false, false));

        assertEquals(List.of(new VoteResponse(1, 2, 1, true, false), new VoteResponse(1, 3, 1, false, false),
                new VoteResponse(1, 2, 1, true, false)), sent(c.ready()), "a retried request gets the same vote");
        assertEquals(2, c.votedFor());
    }

    @Test
    void withTheTwoVotesDefectAFollowerVotesTwiceInATerm() {
        RaftCore c = lone(1, THREE, b -> b.defectForTesting(RaftConfig.Defect.GRANT_TWO_VOTES_PER_TERM),
                HardState.INITIAL, List.of());
        c.step(new VoteRequest(2, 1, 1, 0, 0, false, false));
        c.step(new VoteRequest(3, 1, 1, 0, 0, false, false));
        assertEquals(2, sent(c.ready(), VoteResponse.class).stream().filter(VoteResponse::granted).count());
    }

    /** The voter's log is [1@1, 2@2, 3@2]: the last term decides first, then the length. */
    @ParameterizedTest(name = "candidate log ends {0}@{1}: granted={2}")
    @CsvSource({
            "2, 1, false", "3, 1, false", "9, 1, false",
            "2, 2, false",
            "3, 2, true", "4, 2, true",
            "1, 3, true", "5, 3, true",
    })
    void voterDeniesItsVoteToACandidateWhoseLogIsLessUpToDate(long lastIndex, long lastTerm, boolean granted) {
        for (boolean preVote : new boolean[] {false, true}) {
            RaftCore c = follower(1, 3, logOfTerms(1, 2, 2), preVote, true);
            c.step(new VoteRequest(2, 1, 4, lastIndex, lastTerm, preVote, false));
            VoteResponse v = sent(c.ready(), VoteResponse.class).get(0);
            assertEquals(granted, v.granted(), "preVote=" + preVote);
            assertEquals(granted && !preVote ? 2 : RaftCore.NONE, c.votedFor());
        }
    }

    @Test
    void voteIsDurableBeforeTheVoteResponseIsReleased() {
        RaftCore c = follower(1, 3, List.of(), true, true);
        c.step(new VoteRequest(2, 1, 4, 0, 0, false, false));
        Ready r = c.ready();

        assertEquals(new HardState(4, 2, 0), r.hardState());
        assertTrue(r.mustPersist());
        assertTrue(r.messages().isEmpty(), "nothing may go out before the vote is on disk");
        assertEquals(List.of(new VoteResponse(1, 2, 4, true, false)), r.messagesAfterPersist());
    }

    @Test
    void grantingAVoteRestartsTheElectionTimer() {
        // The core is deterministic: a twin with the same seed shows when this one would time out.
        RaftCore twin = follower(1, 1, List.of(), false, false);
        int timeout = 0;
        while (twin.role() == Role.FOLLOWER) {
            twin.tick();
            timeout++;
        }

        RaftCore c = follower(1, 1, List.of(), false, false);
        for (int i = 0; i < timeout - 1; i++) c.tick();
        c.step(new VoteRequest(2, 1, 1, 0, 0, false, false));
        for (int i = 0; i < timeout - 1; i++) c.tick();
        assertEquals(Role.FOLLOWER, c.role(), "a server that just voted gives the candidate a full timeout");
        c.tick();
        assertEquals(Role.CANDIDATE, c.role());
    }

    // ---------------------------------------------------------------- PreVote (thesis §9.6)

    @Test
    void preVoteChangesNeitherTheVotersTermNorItsVote() {
        RaftCore c = follower(1, 1, List.of(), true, true);
        c.step(new VoteRequest(2, 1, 2, 0, 0, true, false));
        Ready r = c.ready();

        assertEquals(List.of(new VoteResponse(1, 2, 2, true, true)), sent(r));
        assertNull(r.hardState());
        assertEquals(1, c.term());
        assertEquals(RaftCore.NONE, c.votedFor());

        // Its real vote in term 2 is still free for anyone.
        c.step(new VoteRequest(3, 1, 2, 0, 0, false, false));
        assertEquals(List.of(new VoteResponse(1, 3, 2, true, false)), sent(c.ready()));
    }

    @Test
    void preCandidateThatWinsAMajorityOfPreVotesStartsARealElection() {
        RaftCore c = follower(1, 1, List.of(), true, true);
        while (c.role() == Role.FOLLOWER) c.tick();
        c.ready();
        c.step(new VoteResponse(2, 1, 2, true, true));

        assertEquals(Role.CANDIDATE, c.role());
        assertEquals(2, c.term());
        List<VoteRequest> asks = sent(c.ready(), VoteRequest.class);
        assertEquals(2, asks.size());
        assertTrue(asks.stream().noneMatch(VoteRequest::preVote));
    }

    @Test
    void partitionedNodeRejoiningDoesNotBumpTheClusterTerm() {
        TestNetwork net = TestNetwork.of(3);
        net.elect(1);
        net.isolate(3);
        net.run(10 * ELECTION_TICKS);
        assertEquals(1, net.core(3).term(), "its pre-votes went unanswered, so it never raised its term");

        net.heal();
        net.run(3 * ELECTION_TICKS);
        assertEquals(List.of(1), net.leaders());
        for (int id : net.ids()) {
            assertEquals(1, net.core(id).term(), "node " + id);
            assertEquals(1, net.core(id).leader(), "node " + id);
        }
    }

    @Test
    void withoutPreVoteAPartitionedNodeRejoiningDisruptsTheLeader() {
        TestNetwork net = TestNetwork.of(3, b -> b.preVote(false));
        net.elect(1);
        net.isolate(3);
        net.run(10 * ELECTION_TICKS);
        assertTrue(net.core(3).term() > 1);

        net.heal();
        net.run(3 * ELECTION_TICKS);
        assertTrue(net.core(1).term() > 1, "the cluster had to move to the isolated node's term: " + net);
    }

    // ---------------------------------------------------------------- CheckQuorum and leases (thesis §6.2, §4.2.3)

    @Test
    void leaderCutOffFromAMajorityStepsDownWithinAnElectionTimeout() {
        TestNetwork net = TestNetwork.of(3);
        net.elect(1);
        net.run(ELECTION_TICKS);
        net.isolate(1);

        int ticks = 0;
        while (net.core(1).role() == Role.LEADER) {
            net.tick(1);
            net.deliverAll();
            ticks++;
            assertTrue(ticks <= 2 * ELECTION_TICKS, "still leading after " + ticks + " ticks alone");
        }
        assertEquals(Role.FOLLOWER, net.core(1).role());
        assertEquals(1, net.core(1).term(), "stepping down does not need a new term");
        assertEquals(RaftCore.NONE, net.core(1).leader());
    }

    @Test
    void leaderThatHearsFromAMajorityKeepsLeading() {
        TestNetwork net = TestNetwork.of(5);
        net.elect(1);
        net.isolate(4);
        net.isolate(5);
        for (int i = 0; i < 10 * ELECTION_TICKS; i++) {
            net.tick(1);
            net.tick(2);
            net.tick(3);
            net.deliverAll();
        }
        assertEquals(Role.LEADER, net.core(1).role());
        assertEquals(1, net.core(1).term());
    }

    @Test
    void followerThatHeardFromTheLeaderWithinTheElectionTimeoutIgnoresAVoteRequest() {
        RaftCore c = follower(2, 1, List.of(), true, true);
        c.step(new Heartbeat(1, 2, 1, 0, 0));
        c.ready();

        c.step(new VoteRequest(3, 2, 2, 0, 0, false, false));
        c.step(new VoteRequest(3, 2, 2, 0, 0, true, false));
        assertTrue(sent(c.ready()).isEmpty(), "in lease: no answer at all");
        assertEquals(1, c.term(), "and the disrupting term is not taken");
        assertEquals(1, c.leader());

        for (int i = 0; i < ELECTION_TICKS; i++) c.tick();
        c.ready();
        c.step(new VoteRequest(3, 2, 2, 0, 0, false, false));
        assertEquals(List.of(new VoteResponse(2, 3, 2, true, false)), sent(c.ready()), "the lease has run out");
        assertEquals(2, c.term());
    }

    @Test
    void withoutCheckQuorumThereIsNoLeaseAndAFollowerVotesAtOnce() {
        RaftCore c = follower(2, 1, List.of(), true, false);
        c.step(new Heartbeat(1, 2, 1, 0, 0));
        c.ready();
        c.step(new VoteRequest(3, 2, 2, 0, 0, false, false));
        assertEquals(List.of(new VoteResponse(2, 3, 2, true, false)), sent(c.ready()));
    }

    @Test
    void leaderIgnoresAVoteRequestOfAHigherTermWhileItHoldsItsLease() {
        RaftCore c = loneLeader();
        c.step(new VoteRequest(2, 1, 5, 9, 9, false, false));
        assertEquals(Role.LEADER, c.role());
        assertEquals(1, c.term());
        assertFalse(sent(c.ready()).stream().anyMatch(m -> m instanceof VoteResponse));
    }

    @Test
    void heartbeatAcknowledgementsAndPreVoteTrafficPromiseNothingDurableSoTheyDoNotWaitForTheDisk() {
        RaftCore follower = new RaftCore(RaftConfig.builder(2, Set.of(1, 2, 3), new SplittableRandom(2)).build(),
                HardState.INITIAL, List.of());
        follower.step(new Message.Heartbeat(1, 2, 1, 0, 7));
        Ready r = follower.ready();
        assertTrue(r.hardState() != null, "the term moved to 1 and must be persisted");
        assertTrue(r.messages().stream().anyMatch(m -> m instanceof Message.HeartbeatResponse hr && hr.readRound() == 7),
                "the heartbeat acknowledgement goes out at once: " + r);
        follower.advance(r);

        RaftCore voter = new RaftCore(RaftConfig.builder(3, Set.of(1, 2, 3), new SplittableRandom(3)).build(),
                HardState.INITIAL, List.of());
        voter.step(new Message.VoteRequest(1, 3, 1, 0, 0, true, false));
        Ready pre = voter.ready();
        assertTrue(pre.messages().stream().anyMatch(m -> m instanceof Message.VoteResponse v && v.preVote() && v.granted()),
                "a pre-vote grant changes no state and goes out at once: " + pre);
        voter.advance(pre);
        voter.step(new Message.VoteRequest(1, 3, 1, 0, 0, false, false));
        Ready real = voter.ready();
        assertTrue(real.messagesAfterPersist().stream().anyMatch(m -> m instanceof Message.VoteResponse v && v.granted()),
                "a real vote waits until the vote is persisted: " + real);
        assertTrue(real.messages().isEmpty(), "nothing of the real vote goes out before the disk write: " + real);
    }
}
