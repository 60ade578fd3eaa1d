package io.raftkv.raft;

import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.VoteRequest;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.raftkv.raft.TestNetwork.cmd;
import static io.raftkv.raft.TestNetwork.logOfTerms;
import static io.raftkv.raft.TestNetwork.lone;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Edges that mutation testing showed no other test noticed: each test here fails with the mutant it names
 * (a line of the core changed by PIT), and says what would go wrong in a cluster.
 */
class RaftEdgeTest {
    private static final Set<Integer> THREE = Set.of(1, 2, 3);
    private static final Configuration CONFIG = Configuration.ofVoters(THREE);

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
        List<Message> out = new java.util.ArrayList<>(r.messages());
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
}
