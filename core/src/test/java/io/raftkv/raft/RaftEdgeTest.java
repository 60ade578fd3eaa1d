package io.raftkv.raft;

import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.VoteRequest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import static io.raftkv.raft.TestNetwork.cmd;
import static io.raftkv.raft.TestNetwork.logOfTerms;
import static io.raftkv.raft.TestNetwork.lone;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Edges that mutation testing showed no other test noticed: each test here fails with the mutant it names
 * (a line of the core changed by PIT), and says what would go wrong in a cluster.
 */
class RaftEdgeTest {
    private static final Set<Integer> THREE = Set.of(1, 2, 3);
    /** What a core starts with by default: its build's feature level. */
    private static final Configuration CONFIG = Configuration.ofVoters(THREE).withFeatureLevel(FeatureLevel.SUPPORTED);

    /** Stable index after a truncation one too far (index + 1): a leader could count an entry not on disk. */
    @Test
    void aTruncatedLogIsStableOnlyUpToTheEntryBeforeTheCut() {
        RaftLog log = new RaftLog(0, 0, CONFIG, logOfTerms(1, 1, 1, 1, 1), 0);
        assertEquals(5, log.stable());
        assertEquals(4, log.maybeAppend(2, 1, List.of(cmd(3, 2), cmd(4, 2))));
        assertEquals(2, log.stable(), "entries 3 and 4 of term 2 are not on disk yet");
        OutList<Entry> toPersist = new OutList<>();
        log.takeUnstable(toPersist);
        assertEquals(List.of(cmd(3, 2), cmd(4, 2)), toPersist);
        log.stableTo(4, 2);
        assertEquals(4, log.stable());
    }

    /** The guard against overwriting a committed entry, loosened by one, let the entry at the commit index go. */
    @Test
    void anAppendThatConflictsAtTheCommitIndexIsRefused() {
        RaftLog log = new RaftLog(0, 0, CONFIG, logOfTerms(1, 1, 1), 3);
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> log.maybeAppend(2, 1, List.of(cmd(3, 2))));
        assertEquals("entry 3@2:" + cmd(3, 2).data().length + "B conflicts with committed entry " + log.entry(3)
                + " (commit index 3)", e.getMessage());
        // Just past the commit index, a conflict is an overwrite like any other.
        RaftLog uncommitted = new RaftLog(0, 0, CONFIG, logOfTerms(1, 1, 1), 2);
        assertEquals(3, uncommitted.maybeAppend(2, 1, List.of(cmd(3, 2))));
        assertEquals(2, uncommitted.term(3));
    }

    /**
     * A probe below the follower's commit index is answered with that index, even when the follower compacted
     * the probed entry away; dropped, or checked against the log, the leader never finds where to go on.
     */
    @Test
    void aProbeBelowTheCommitIndexIsAnsweredWithIt() {
        RaftCore follower = lone(2, THREE, b -> b.preVote(false), new HardState(1, 1, 5), logOfTerms(1, 1, 1, 1, 1, 1));
        follower.advance(follower.ready()); // applies 1..5
        follower.snapshotTaken(follower.snapshotMeta(5));
        follower.compact(5);
        follower.step(new AppendRequest(1, 2, 1, 3, 1, List.of(), 5));
        Ready r = follower.ready();
        List<Message> out = new ArrayList<>(r.messages());
        out.addAll(r.messagesAfterPersist());
        assertEquals(List.of(new AppendResponse(2, 1, 1, true, 5, 0, 0)), out);
    }

    /** reportSnapshotFailed made a no-op: the leader would wait for good on a snapshot that will never arrive. */
    @Test
    void aFailedSnapshotSendLetsTheLeaderProbeAndSendItAgain() {
        TestNetwork net = RaftCompactionTest.withNode3BehindASnapshot();
        RaftCore leader = net.core(1);
        SnapshotMeta snap = leader.latestSnapshot();
        net.dropIf(m -> m instanceof Message.InstallSnapshot); // the transfer fails: none of it arrives
        net.heartbeatFrom(1);
        net.deliverAll();
        assertEquals(Progress.State.SNAPSHOT, leader.progress(3).state);
        leader.reportSnapshotFailed(3);
        assertEquals(Progress.State.PROBE, leader.progress(3).state);
        net.heal();
        net.heartbeatFrom(1);
        net.deliverAll();
        assertEquals(snap, net.core(3).latestSnapshot(), "sent again once probed, and installed");
    }

    /**
     * A leader that steps down keeps no election clock of its leadership: it waits a whole election timeout
     * as a follower before it campaigns (without the reset it would start one at once, disrupting the new term).
     */
    @Test
    void aLeaderThatStepsDownWaitsAWholeElectionTimeoutBeforeItCampaigns() {
        RaftCore c = lone(1, THREE, b -> b.preVote(false).checkQuorum(false), HardState.INITIAL, List.of());
        while (c.role() != Role.CANDIDATE) c.tick();
        c.step(new Message.VoteResponse(2, 1, c.term(), true, false));
        assertEquals(Role.LEADER, c.role());
        c.advance(c.ready());
        for (int i = 0; i < TestNetwork.ELECTION_TICKS - 1; i++) c.tick(); // its leader's clock runs up
        long term = c.term();
        // A candidate of a later term with a shorter log: the leader steps down but does not vote for it.
        c.step(new VoteRequest(3, 1, term + 1, 0, 0, false, false));
        assertEquals(Role.FOLLOWER, c.role());
        for (int i = 0; i < TestNetwork.ELECTION_TICKS - 1; i++) {
            c.tick();
            assertEquals(Role.FOLLOWER, c.role(), "campaigned " + (i + 1) + " ticks after stepping down");
        }
    }

    private static List<Message> out(Ready r) {
        List<Message> all = new ArrayList<>(r.messages());
        all.addAll(r.messagesAfterPersist());
        return all;
    }

    /** A candidate that never heard back, made leader by one vote after {@code waited} ticks. */
    private static RaftCore leaderAfterWaiting(int waited, boolean checkQuorum) {
        RaftCore c = lone(1, THREE, b -> b.preVote(false).checkQuorum(checkQuorum), HardState.INITIAL, List.of());
        while (c.role() != Role.CANDIDATE) c.tick();
        for (int i = 0; i < waited; i++) c.tick();
        assertEquals(Role.CANDIDATE, c.role(), "still the same candidacy");
        c.step(new Message.VoteResponse(2, 1, c.term(), true, false));
        assertEquals(Role.LEADER, c.role());
        c.advance(c.ready());
        return c;
    }

    /**
     * A stale leader learns it was replaced only if someone tells it: with CheckQuorum or PreVote on, a node
     * answers an append or heartbeat of an older term with its own term; with both off it stays silent (etcd).
     */
    @Test
    void anAppendOrHeartbeatOfAnOlderTermIsAnsweredWithTheNewTermWhenCheckQuorumOrPreVoteIsOn() {
        record Case(boolean preVote, boolean checkQuorum) {}
        for (Case k : List.of(new Case(true, false), new Case(false, true), new Case(true, true), new Case(false, false))) {
            for (Message stale : List.<Message>of(new AppendRequest(2, 1, 3, 0, 0, List.of(), 0),
                    new Message.Heartbeat(2, 1, 3, 0, 1))) {
                RaftCore c = lone(1, THREE, b -> b.preVote(k.preVote()).checkQuorum(k.checkQuorum()),
                        new HardState(5, 0, 0), List.of());
                c.step(stale);
                List<Message> expected = k.preVote() || k.checkQuorum()
                        ? List.of(new AppendResponse(1, 2, 5, false, 0, 0, 0)) : List.of();
                assertEquals(expected, out(c.ready()), k + " " + stale);
                assertEquals(5, c.term());
            }
        }
    }

    /** A leader asked to campaign keeps its term: a new election would depose it for nothing. */
    @Test
    void aLeaderAskedToCampaignDoesNothing() {
        RaftCore c = lone(1, Set.of(1), b -> b, HardState.INITIAL, List.of());
        c.campaign();
        assertEquals(Role.LEADER, c.role());
        long term = c.term();
        c.campaign();
        assertEquals(Role.LEADER, c.role());
        assertEquals(term, c.term());
        assertEquals("node 1 LEADER term " + term + " last 1@" + term + " commit 0", c.toString());
    }

    /**
     * A membership change counts toward the uncommitted bound although it is never refused: while it is
     * uncommitted, a proposal that would pass the bound with it is BUSY.
     */
    @Test
    void anUncommittedMembershipChangeCountsTowardTheUncommittedBound() {
        Entry change = Entry.config(1, 1, CONFIG.apply(io.raftkv.raft.ConfigChange.addLearner(4)));
        byte[] command = new byte[10];
        long bound = change.size() + new Entry(1, 1, Entry.Kind.COMMAND, command).size() - 1;
        TestNetwork net = TestNetwork.of(3, b -> b.maxUncommittedBytes(bound));
        net.elect(1);
        net.isolate(2);
        net.isolate(3);
        RaftCore leader = net.core(1);
        long index = leader.proposeConfigChange(io.raftkv.raft.ConfigChange.addLearner(4));
        assertEquals(leader.log().lastIndex(), index);
        assertEquals(RaftCore.BUSY, leader.propose(command));
        assertEquals(index + 1, leader.progress(4).next(), "a new member is first probed just past the log's end");
    }

    @Test
    void snapshotsMustDescribeTheLogAndTheNewestOneIsKept() {
        RaftCore c = lone(1, Set.of(1), b -> b, new HardState(1, 1, 4), logOfTerms(1, 1, 1, 1));
        c.advance(c.ready()); // applies 1..4
        assertEquals("a snapshot can be taken at an applied index the log holds, 0..4; not at 5",
                assertThrows(IllegalArgumentException.class, () -> c.snapshotMeta(5)).getMessage());
        SnapshotMeta wrongTerm = new SnapshotMeta(3, 2, CONFIG.apply(io.raftkv.raft.ConfigChange.remove(3)));
        assertEquals(wrongTerm + " does not describe this log, which holds " + c.snapshotMeta(3),
                assertThrows(IllegalArgumentException.class, () -> c.snapshotTaken(wrongTerm)).getMessage());
        assertEquals("cannot compact the log up to index 2: no snapshot reaches it",
                assertThrows(IllegalArgumentException.class, () -> c.compact(2)).getMessage());
        SnapshotMeta at3 = c.snapshotMeta(3);
        c.snapshotTaken(at3);
        c.snapshotTaken(c.snapshotMeta(2));
        assertEquals(at3, c.latestSnapshot(), "an older snapshot does not replace the newest");
        assertEquals("cannot compact the log up to index 4: no snapshot reaches it (the newest is " + at3 + ")",
                assertThrows(IllegalArgumentException.class, () -> c.compact(4)).getMessage());
        c.compact(3);
        assertEquals("a snapshot can be taken at an applied index the log holds, 3..4; not at 2",
                assertThrows(IllegalArgumentException.class, () -> c.snapshotMeta(2)).getMessage());
    }

    /** Each pre-vote round counts only its own answers: a rejection from the last round must not outlive it. */
    @Test
    void aNewPreVoteRoundForgetsTheLastRoundsAnswers() {
        RaftCore c = lone(1, THREE, b -> b.checkQuorum(false), HardState.INITIAL, List.of());
        while (c.role() != Role.PRE_CANDIDATE) c.tick();
        c.step(new Message.VoteResponse(2, 1, c.term(), false, true));
        assertEquals(Role.PRE_CANDIDATE, c.role(), "one of three rejected, one silent");
        int ticks = 0;
        c.ready();
        while (c.ready().messages().stream().noneMatch(m -> m instanceof VoteRequest)) {
            c.tick();
            assertTrue(++ticks < 3 * TestNetwork.ELECTION_TICKS, "no new pre-vote round");
        }
        assertEquals(Role.PRE_CANDIDATE, c.role());
        c.step(new Message.VoteResponse(2, 1, c.term() + 1, true, true));
        assertEquals(Role.CANDIDATE, c.role(), "node 2 grants this round: two of three");
    }

    /** A new leader's CheckQuorum clock starts at its election, not at its candidacy. */
    @Test
    void aLeadersCheckQuorumClockStartsWhenItIsElected() {
        RaftCore c = leaderAfterWaiting(5, true);
        for (int i = 0; i < TestNetwork.ELECTION_TICKS - 1; i++) {
            c.tick();
            assertEquals(Role.LEADER, c.role(), "stepped down " + (i + 1) + " ticks after winning");
        }
        c.tick();
        assertEquals(Role.FOLLOWER, c.role(), "a whole election timeout without a word from a majority");
    }

    /**
     * Stepping down for want of a quorum changes no term or vote and sends nothing, yet the runtime must hear of
     * it at once: it holds the clients' writes, which only a ready whose role is no longer leader makes it answer.
     */
    @Test
    void aLeaderSteppedDownByCheckQuorumReportsItsNewRoleInTheNextReady() {
        RaftCore c = leaderAfterWaiting(0, true);
        while (c.role() == Role.LEADER) {
            if (c.hasReady()) c.advance(c.ready());
            c.tick();
        }
        assertTrue(c.hasReady(), "a step-down with no output of its own");
        Ready r = c.ready();
        assertEquals(Role.FOLLOWER, r.role());
        assertEquals(RaftCore.NONE, r.leader());
        assertTrue(out(r).isEmpty());
        c.advance(r);
        assertFalse(c.hasReady(), "the change is reported once");
    }

    /** A candidate that hears the leader of its term (a heartbeat or a snapshot) follows it and acts on the message. */
    @Test
    void aCandidateFollowsALeaderOfItsTermThatSendsAHeartbeatOrASnapshot() {
        RaftCore c = lone(1, THREE, b -> b.preVote(false), new HardState(1, 0, 0), logOfTerms(1, 1));
        while (c.role() != Role.CANDIDATE) c.tick();
        long term = c.term();
        c.ready();
        c.step(new Message.Heartbeat(2, 1, term, 2, 4));
        assertEquals(Role.FOLLOWER, c.role());
        assertEquals(2, c.leader());
        assertEquals(2, c.commitIndex());
        assertTrue(out(c.ready()).contains(new Message.HeartbeatResponse(1, 2, term, 4)));

        RaftCore d = lone(1, THREE, b -> b.preVote(false), new HardState(1, 0, 0), logOfTerms(1, 1));
        while (d.role() != Role.CANDIDATE) d.tick();
        d.ready();
        SnapshotMeta snap = new SnapshotMeta(5, 1, CONFIG);
        d.step(new Message.InstallSnapshot(3, 1, d.term(), snap));
        assertEquals(Role.FOLLOWER, d.role());
        assertEquals(3, d.leader());
        Ready r = d.ready();
        assertEquals(snap, r.snapshot());
        assertTrue(out(r).contains(new AppendResponse(1, 3, d.term(), true, 5, 0, 0)));
    }

    /** A leader that removes itself leads, uncounted, until the removal commits, then hands over; a removed follower hears nothing more. */
    @Test
    void aRemovedMemberIsNoLongerReplicatedToAndARemovedLeaderHandsOver() {
        TestNetwork net = TestNetwork.of(3);
        net.elect(1);
        RaftCore leader = net.core(1);
        leader.proposeConfigChange(io.raftkv.raft.ConfigChange.remove(3));
        assertEquals(null, leader.progress(3));
        net.deliverAll();
        int before = net.delivered().size();
        net.heartbeatFrom(1);
        assertTrue(net.delivered().subList(before, net.delivered().size()).stream().noneMatch(m -> m.to() == 3),
                "nothing goes to the removed node");

        leader.proposeConfigChange(io.raftkv.raft.ConfigChange.remove(1));
        assertEquals(Set.of(2), leader.voters());
        net.deliverAll();
        assertEquals(Role.FOLLOWER, leader.role(), "stepped down once its removal committed");
        assertEquals(List.of(2), net.leaders(), "handed over to the voter left");
    }

    /**
     * A read waiting for its heartbeat round is confirmed by a smaller majority once a removal is in force:
     * the acknowledgements already in count under the new configuration.
     */
    @Test
    void aPendingReadIsConfirmedByTheAcknowledgementsItHasOnceARemovalShrinksTheMajority() {
        TestNetwork net = TestNetwork.of(4);
        net.elect(1);
        RaftCore leader = net.core(1);
        net.isolate(3);
        net.isolate(4);
        assertTrue(leader.readIndex(7));
        net.deliverAll(); // the read's round reaches node 2 only: 2 of 4 is no majority
        assertTrue(net.node(1).readStates.isEmpty());
        leader.proposeConfigChange(io.raftkv.raft.ConfigChange.remove(4));
        assertEquals(List.of(new ReadState(7, leader.commitIndex())), leader.ready().readStates(), "1 and 2 of 3");
    }

    /** A read dropped when its leader stepped down must not come back when that node leads again. */
    @Test
    void aReadDroppedOnSteppingDownIsNotConfirmedInALaterTerm() {
        TestNetwork net = TestNetwork.of(3, b -> b.checkQuorum(false));
        net.elect(1);
        RaftCore leader = net.core(1);
        net.isolate(1);
        assertTrue(leader.readIndex(7));
        net.deliverAll();
        leader.step(new AppendResponse(2, 1, leader.term() + 1, false, 0, 0, 0));
        assertEquals(Role.FOLLOWER, leader.role());
        net.deliverAll();
        assertEquals(List.of(7L), net.node(1).droppedReads);
        net.heal();
        net.elect(1);
        net.heartbeatFrom(1);
        net.heartbeatFrom(1);
        assertTrue(net.node(1).readStates.isEmpty(), "read 7 was dropped: " + net.node(1).readStates);
    }

    /** The test-only defect switches do what they say (the simulations' checks are tested with them). */
    @Test
    void theDefectSwitchesDoWhatTheySay() {
        RaftCore counts = lone(1, Set.of(1), b -> b.defectForTesting(RaftConfig.Defect.COUNT_OWN_ENTRY_BEFORE_DURABLE),
                HardState.INITIAL, List.of());
        counts.campaign();
        counts.advance(counts.ready());
        long index = counts.propose(new byte[] {1});
        assertEquals(index, counts.commitIndex(), "committed before its write is durable");
        RaftCore sound = lone(1, Set.of(1), b -> b, HardState.INITIAL, List.of());
        sound.campaign();
        sound.advance(sound.ready());
        assertEquals(index, sound.propose(new byte[] {1}));
        assertEquals(index - 1, sound.commitIndex(), "not before its write is durable");

        for (RaftConfig.Defect d : List.of(RaftConfig.Defect.NONE, RaftConfig.Defect.CONFIRM_READ_BY_EARLIER_ROUND)) {
            TestNetwork net = TestNetwork.of(3, b -> b.defectForTesting(d));
            net.elect(1);
            net.heartbeatFrom(1); // a round acknowledged by all
            net.isolate(2);
            net.isolate(3);
            RaftCore leader = net.core(1);
            assertTrue(leader.readIndex(9));
            List<ReadState> confirmed = leader.ready().readStates();
            assertEquals(d == RaftConfig.Defect.NONE ? List.of() : List.of(new ReadState(9, leader.commitIndex())), confirmed,
                    d + ": a read is confirmed by an earlier round only with the defect");
        }
    }

    /** Of the messages of an older term, only a leader's (appends, heartbeats) and pre-votes get an answer. */
    @Test
    void ofTheMessagesOfAnOlderTermOnlyALeadersAndPreVotesAreAnswered() {
        SnapshotMeta snap = new SnapshotMeta(3, 1, CONFIG);
        List<Message> silent = List.of(new VoteRequest(2, 1, 3, 9, 3, false, false),
                new Message.VoteResponse(2, 1, 3, true, false), new Message.HeartbeatResponse(2, 1, 3, 1),
                new AppendResponse(2, 1, 3, true, 0, 0, 0), new Message.InstallSnapshot(2, 1, 3, snap),
                new Message.TimeoutNow(2, 1, 3));
        for (Message stale : silent) {
            RaftCore c = lone(1, THREE, b -> b, new HardState(5, 0, 0), List.of());
            c.step(stale);
            assertEquals(List.of(), out(c.ready()), stale.toString());
        }
        RaftCore c = lone(1, THREE, b -> b.preVote(false).checkQuorum(false), new HardState(5, 0, 0), List.of());
        c.step(new VoteRequest(2, 1, 4, 9, 3, true, false));
        assertEquals(List.of(new Message.VoteResponse(1, 2, 5, false, true)), out(c.ready()), "a stale pre-vote is refused");
    }

    @Test
    void aNodeThatIsNotAVoterDoesNotCampaignWhenAsked() {
        RaftCore learner = lone(4, THREE, b -> b, HardState.INITIAL, List.of());
        learner.campaign();
        assertEquals(Role.FOLLOWER, learner.role());
        assertEquals(0, learner.term());
    }

    @Test
    void membershipChangesWaitForATransferToEnd() {
        TestNetwork net = TestNetwork.of(3);
        net.elect(1);
        net.isolate(3);
        RaftCore leader = net.core(1);
        leader.propose(new byte[] {1});
        net.deliverAll();
        assertTrue(leader.transferLeadership(3));
        assertEquals(RaftCore.REJECTED, leader.proposeConfigChange(io.raftkv.raft.ConfigChange.remove(2)));
        assertEquals(CONFIG, leader.configuration());
    }

    @Test
    void snapshotsCanBeTakenFromTheLogsStartToWhatIsAppliedAndCompactingTwiceIsHarmless() {
        RaftCore fresh = lone(1, Set.of(1), b -> b, HardState.INITIAL, List.of());
        assertEquals("a snapshot can be taken at an applied index the log holds, 0..0; not at 0",
                assertThrows(IllegalArgumentException.class, () -> fresh.snapshotMeta(0)).getMessage(), "nothing to snapshot at 0");
        fresh.compact(0); // nothing to drop: no snapshot needed

        RaftCore c = lone(1, Set.of(1), b -> b, new HardState(1, 1, 4), logOfTerms(1, 1, 1, 1));
        c.advance(c.ready());
        assertEquals(new SnapshotMeta(4, 1, CONFIG_OF_ONE), c.snapshotMeta(4), "up to the last applied entry");
        c.snapshotTaken(c.snapshotMeta(2));
        c.snapshotTaken(c.snapshotMeta(3));
        assertEquals(3, c.latestSnapshot().index(), "a newer snapshot replaces the older");
        c.compact(3);
        c.compact(3);
        assertEquals(new SnapshotMeta(3, 1, CONFIG_OF_ONE), c.snapshotMeta(3), "the log's own snapshot point");
        assertEquals(4, c.log().firstIndex());
    }

    private static final Configuration CONFIG_OF_ONE = Configuration.ofVoters(Set.of(1)).withFeatureLevel(FeatureLevel.SUPPORTED);

    /** A leader that lost its quorum drops its reads, and says so in a ready even if nothing else changed. */
    @Test
    void aLeaderThatStepsDownForLackOfAQuorumReportsItsDroppedReads() {
        TestNetwork net = TestNetwork.of(3);
        net.elect(1);
        net.isolate(2);
        net.isolate(3);
        RaftCore leader = net.core(1);
        assertTrue(leader.readIndex(5));
        net.deliverAll();
        for (int i = 0; i < 3 * TestNetwork.ELECTION_TICKS && leader.role() == Role.LEADER; i++) {
            net.tick(1);
            if (leader.role() == Role.LEADER) net.deliverAll();
        }
        assertEquals(Role.FOLLOWER, leader.role());
        assertTrue(leader.hasReady());
        assertEquals(List.of(5L), leader.ready().droppedReads());
    }

    /** Each confirmed read is released once, not again with every later ready. */
    @Test
    void aConfirmedReadIsReleasedOnce() {
        TestNetwork net = TestNetwork.of(3);
        net.elect(1);
        assertTrue(net.core(1).readIndex(5));
        net.deliverAll();
        net.heartbeatFrom(1);
        net.heartbeatFrom(1);
        assertEquals(List.of(new ReadState(5, net.core(1).commitIndex())), net.node(1).readStates);
    }

    /** The candidate it voted for may ask again (its request was lost or repeated): it gets the same vote. */
    @Test
    void aRepeatedRequestFromTheCandidateVotedForIsGrantedAgain() {
        RaftCore c = lone(1, THREE, b -> b.preVote(false), HardState.INITIAL, List.of());
        VoteRequest ask = new VoteRequest(2, 1, 1, 0, 0, false, false);
        c.step(ask);
        assertEquals(List.of(new Message.VoteResponse(1, 2, 1, true, false)), out(c.ready()));
        c.step(ask);
        assertEquals(List.of(new Message.VoteResponse(1, 2, 1, true, false)), out(c.ready()));
        c.step(new VoteRequest(3, 1, 1, 0, 0, false, false));
        assertEquals(List.of(new Message.VoteResponse(1, 3, 1, false, false)), out(c.ready()), "one vote per term");
    }

    /**
     * A pre-vote asks whether a node would vote in the next term: granted by a node that voted or knows a
     * leader in this one (CheckQuorum off: no lease), refused for the term it is in.
     */
    @Test
    void aPreVoteIsGrantedForALaterTermOnlyEvenByANodeThatKnowsALeader() {
        RaftCore c = lone(1, THREE, b -> b.checkQuorum(false), new HardState(2, 0, 0), List.of());
        c.step(new Message.Heartbeat(2, 1, 2, 0, 1));
        c.ready();
        assertEquals(2, c.leader());
        c.step(new VoteRequest(3, 1, 3, 0, 0, true, false));
        assertEquals(List.of(new Message.VoteResponse(1, 3, 3, true, true)), out(c.ready()));
        c.step(new VoteRequest(3, 1, 2, 0, 0, true, false));
        assertEquals(List.of(new Message.VoteResponse(1, 3, 2, false, true)), out(c.ready()), "not for the term it is in");
        assertEquals(2, c.term());
    }

    @Test
    void withTheStaleLogDefectAVoteGoesToACandidateWithAShorterLog() {
        for (RaftConfig.Defect d : List.of(RaftConfig.Defect.NONE, RaftConfig.Defect.VOTE_FOR_STALE_LOGS)) {
            RaftCore c = lone(1, THREE, b -> b.preVote(false).defectForTesting(d), new HardState(1, 0, 0), logOfTerms(1, 1));
            c.step(new VoteRequest(2, 1, 2, 1, 1, false, false));
            assertEquals(List.of(new Message.VoteResponse(1, 2, 2, d != RaftConfig.Defect.NONE, false)), out(c.ready()), d.toString());
        }
    }

    @Test
    void aLeaderIgnoresAnswersFromANodeThatIsNotAMember() {
        TestNetwork net = TestNetwork.of(3);
        net.elect(1);
        RaftCore leader = net.core(1);
        long commit = leader.commitIndex();
        leader.step(new AppendResponse(7, 1, leader.term(), true, 99, 0, 0));
        leader.step(new Message.HeartbeatResponse(7, 1, leader.term(), 1));
        assertEquals(commit, leader.commitIndex());
        assertEquals(Role.LEADER, leader.role());
    }

    /** Heartbeats to followers that have everything carry no append along. */
    @Test
    void heartbeatsToCaughtUpFollowersSendNoAppends() {
        TestNetwork net = TestNetwork.of(3);
        net.elect(1);
        net.heartbeatFrom(1);
        int before = net.delivered().size();
        net.heartbeatFrom(1);
        net.heartbeatFrom(1);
        List<Message> after = net.delivered().subList(before, net.delivered().size());
        assertTrue(after.stream().noneMatch(m -> m instanceof AppendRequest), after.toString());
        assertTrue(after.stream().anyMatch(m -> m instanceof Message.Heartbeat));
    }

    /** The follower side of a snapshot it does not need: it answers with how far it is, whether it holds the entry or compacted it. */
    @Test
    void aSnapshotAFollowerDoesNotNeedIsAnsweredWithWhereItStands() {
        RaftCore f = lone(2, THREE, b -> b, new HardState(1, 1, 4), logOfTerms(1, 1, 1, 1, 1));
        f.advance(f.ready());
        f.snapshotTaken(f.snapshotMeta(4));
        f.compact(4);
        f.step(new Message.InstallSnapshot(1, 2, 1, new SnapshotMeta(2, 1, CONFIG)));
        Ready r = f.ready();
        assertEquals(null, r.snapshot());
        assertEquals(List.of(new AppendResponse(2, 1, 1, true, 4, 0, 0)), out(r), "an old snapshot: answered with the commit index");

        // One that ends at an entry it holds but has not committed: it commits to there, keeps the rest.
        f.step(new Message.InstallSnapshot(1, 2, 1, new SnapshotMeta(5, 1, CONFIG)));
        r = f.ready();
        assertEquals(null, r.snapshot());
        assertEquals(5, f.commitIndex());
        assertEquals(List.of(new AppendResponse(2, 1, 1, true, 5, 0, 0)), out(r));
    }

    @Test
    void anInstalledSnapshotBringsItsConfigurationIntoForce() {
        Configuration four = CONFIG.apply(io.raftkv.raft.ConfigChange.addLearner(4));
        RaftCore f = lone(2, THREE, b -> b, new HardState(1, 0, 0), List.of());
        f.step(new Message.InstallSnapshot(1, 2, 1, new SnapshotMeta(9, 1, four)));
        assertEquals(four, f.configuration());
        assertEquals(four, f.committedConfiguration());
    }

    /** A removal in force lets a smaller majority commit what it already holds, at once. */
    @Test
    void aRemovalCommitsWhatTheSmallerMajorityAlreadyHolds() {
        TestNetwork net = TestNetwork.of(4);
        net.elect(1);
        net.isolate(3);
        net.isolate(4);
        RaftCore leader = net.core(1);
        long index = leader.propose(new byte[] {1});
        net.deliverAll();
        assertEquals(index - 1, leader.commitIndex(), "two of four hold it");
        leader.proposeConfigChange(io.raftkv.raft.ConfigChange.remove(4));
        assertEquals(index, leader.commitIndex(), "two of three hold it");
        assertEquals(Configuration.ofVoters(Set.of(1, 2, 3, 4)).withFeatureLevel(FeatureLevel.SUPPORTED), leader.committedConfiguration(),
                "the removal itself is not committed yet");
    }

    /** A read waiting for the leader's first commit is dropped with its leadership, and stays dropped. */
    @Test
    void aReadWaitingForTheFirstCommitIsDroppedForGoodWhenItsLeaderStepsDown() {
        RaftCore c = leaderAfterWaiting(0, false);
        assertTrue(c.readIndex(7));
        c.step(new AppendResponse(2, 1, c.term() + 1, false, 0, 0, 0));
        assertEquals(List.of(7L), c.ready().droppedReads());
        while (c.role() != Role.CANDIDATE) c.tick();
        c.step(new Message.VoteResponse(2, 1, c.term(), true, false));
        assertEquals(Role.LEADER, c.role());
        c.advance(c.ready());
        c.step(new AppendResponse(2, 1, c.term(), true, c.log().lastIndex(), 0, 0));
        assertEquals(c.log().lastIndex(), c.commitIndex(), "its own term's first entry committed");
        c.tick();
        List<Message> beats = c.ready().messages();
        for (Message m : beats) {
            if (m instanceof Message.Heartbeat h && h.to() == 2) c.step(new Message.HeartbeatResponse(2, 1, c.term(), h.readRound()));
        }
        assertEquals(List.of(), c.ready().readStates(), "read 7 was dropped");
    }

    /** What promises nothing durable goes before the write: a leader's heartbeats, transfers and snapshots. */
    @Test
    void aLeadersHeartbeatsTimeoutNowAndSnapshotsGoBeforeItsWrite() {
        TestNetwork net = RaftCompactionTest.withNode3BehindASnapshot();
        RaftCore leader = net.core(1);
        net.hold(1); // its readies are handled here, one by one
        leader.tick();
        List<Ready> readies = new ArrayList<>();
        for (int i = 0; i < 10 && leader.hasReady(); i++) {
            Ready r = net.takeReady(1);
            readies.add(r);
            net.finish(1, r);
            net.deliverAll();
        }
        // Node 3, behind the snapshot, answers the heartbeat, rejects the probe that follows, and is sent the snapshot.
        Message heartbeat = null;
        Message snapshot = null;
        for (Ready r : readies) {
            assertTrue(r.messagesAfterPersist().isEmpty(), r.toString());
            for (Message m : r.messages()) {
                if (m instanceof Message.Heartbeat) heartbeat = m;
                if (m instanceof Message.InstallSnapshot) snapshot = m;
            }
        }
        assertTrue(heartbeat != null && snapshot != null, readies.toString());
        // The transfer to node 2, which holds everything, goes at once.
        assertTrue(leader.transferLeadership(2));
        Ready r = leader.ready();
        assertTrue(r.messages().stream().anyMatch(m -> m instanceof Message.TimeoutNow), r.toString());
        assertTrue(r.messagesAfterPersist().isEmpty(), r.toString());
    }

    /** A transfer to a follower whose snapshot send failed sends it the snapshot again at once. */
    @Test
    void aTransferToAFollowerBehindASnapshotStartsSendingItAtOnce() {
        TestNetwork net = RaftCompactionTest.withNode3BehindASnapshot();
        RaftCore leader = net.core(1);
        net.dropIf(m -> m instanceof Message.InstallSnapshot);
        net.heartbeatFrom(1);
        assertEquals(Progress.State.SNAPSHOT, leader.progress(3).state);
        leader.reportSnapshotFailed(3);
        net.heal();
        assertTrue(leader.transferLeadership(3));
        assertTrue(leader.ready().messages().stream().anyMatch(m -> m instanceof Message.InstallSnapshot && m.to() == 3));
    }

    /** Each campaign draws its election timeout afresh: nodes that split a vote would otherwise split it again for ever. */
    @Test
    void eachCampaignDrawsItsElectionTimeoutAfresh() {
        for (boolean preVote : List.of(true, false)) {
            RaftCore c = lone(1, THREE, b -> b.preVote(preVote).checkQuorum(false), HardState.INITIAL, List.of());
            java.util.Set<Integer> gaps = new TreeSet<>();
            int ticks = 0;
            for (int campaigns = 0; campaigns < 10; ) {
                c.tick();
                ticks++;
                if (out(c.ready()).stream().anyMatch(m -> m instanceof VoteRequest)) {
                    gaps.add(ticks);
                    ticks = 0;
                    campaigns++;
                }
            }
            assertTrue(gaps.size() > 1, "pre-vote " + preVote + ": every campaign waited " + gaps + " ticks");
            assertTrue(gaps.stream().allMatch(g -> g >= TestNetwork.ELECTION_TICKS && g < 2 * TestNetwork.ELECTION_TICKS), gaps.toString());
        }
    }

    /**
     * A follower that learns a commit index with the entries it covers persists it only once they are durable,
     * and then in a ready of its own: the commit hint a restart reads must catch up even when nothing else changes.
     */
    @Test
    void aCommitIndexLearnedWithItsEntriesIsPersistedOnceTheyAreDurable() {
        RaftCore f = lone(2, THREE, b -> b, new HardState(1, 1, 0), List.of());
        f.step(new AppendRequest(1, 2, 1, 0, 0, logOfTerms(1, 1), 2));
        Ready first = f.ready();
        assertEquals(new HardState(1, 1, 0), first.hardState() == null ? new HardState(1, 1, 0) : first.hardState(),
                "not past what is durable before this write");
        f.advance(first);
        assertTrue(f.hasReady(), "the commit hint moved on once the entries are durable");
        assertEquals(new HardState(1, 1, 2), f.ready().hardState());
    }

    /** A new member with an empty log, behind a compacted leader, is sent the snapshot after one probe, not two. */
    @Test
    void anEmptyNewcomerBehindACompactedLeaderIsSentTheSnapshotAfterOneProbe() {
        TestNetwork net = RaftCompactionTest.withNode3BehindASnapshot();
        net.heartbeatFrom(1);
        net.deliverAll();
        net.addNode(4, THREE);
        RaftCore leader = net.core(1);
        int before = net.delivered().size();
        leader.proposeConfigChange(io.raftkv.raft.ConfigChange.addLearner(4));
        net.deliverAll();
        net.heartbeatFrom(1); // the learner answers a heartbeat: the leader probes it
        net.heartbeatFrom(1);
        List<Message> toFour = net.delivered().subList(before, net.delivered().size()).stream().filter(m -> m.to() == 4).toList();
        int snapshotAt = toFour.indexOf(toFour.stream().filter(m -> m instanceof Message.InstallSnapshot).findFirst().orElseThrow(() -> new AssertionError(net.delivered().subList(before, net.delivered().size()).toString())));
        assertEquals(1, toFour.subList(0, snapshotAt).stream().filter(m -> m instanceof AppendRequest).count(), toFour.toString());
        assertEquals(leader.latestSnapshot(), net.core(4).latestSnapshot());
    }
}
