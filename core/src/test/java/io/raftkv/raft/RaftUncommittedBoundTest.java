package io.raftkv.raft;

import io.raftkv.raft.Message.AppendRequest;
import io.raftkv.raft.Message.AppendResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;

import static io.raftkv.raft.RaftElectionTest.sent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A leader stops growing its log past maxUncommittedBytes of entries not yet committed, and goes on once they are. */
class RaftUncommittedBoundTest {
    private static final int COMMAND = 76; // + 24 = 100 bytes an entry

    private static RaftCore leader(long maxUncommittedBytes) {
        RaftCore c = TestNetwork.lone(1, Set.of(1, 2, 3), b -> b.preVote(false).maxUncommittedBytes(maxUncommittedBytes),
                HardState.INITIAL, List.of());
        while (c.role() != Role.CANDIDATE) c.tick();
        c.step(new Message.VoteResponse(2, 1, c.term(), true, false));
        assertEquals(Role.LEADER, c.role());
        c.advance(c.ready());
        return c;
    }

    /** Node 2 acknowledges everything the leader has: a majority with the leader, so all of it commits. */
    private static void followerCatchesUp(RaftCore c) {
        c.step(new AppendResponse(2, 1, c.term(), true, c.log().lastIndex(), 0, 0));
        while (c.hasReady()) c.advance(c.ready());
    }

    @Test
    void proposalsAreTurnedAwayWhileTooMuchIsUncommittedAndTakenAgainOnceItCommits() {
        RaftCore c = leader(1_000); // its no-op (24 bytes) is uncommitted, as are the commands it takes
        int taken = 0;
        long index;
        while ((index = c.propose(new byte[COMMAND])) != RaftCore.BUSY) {
            assertTrue(index > 0, "taken: " + index);
            taken++;
        }
        assertEquals(9, taken, "24 + 9 x 100 bytes fit under 1,000; a tenth would not");
        assertTrue(c.propose(new byte[52]) > 0, "76 bytes more fill the bound exactly");
        long last = c.log().lastIndex();
        assertEquals(RaftCore.BUSY, c.propose(new byte[0]), "nothing more, however small");
        assertEquals(RaftCore.BUSY, c.propose(new byte[COMMAND]));
        assertEquals(last, c.log().lastIndex(), "a turned-away proposal appends nothing");
        while (c.hasReady()) c.advance(c.ready());

        followerCatchesUp(c);
        assertEquals(last, c.commitIndex());
        assertEquals(last + 1, c.propose(new byte[COMMAND]), "taken again once the backlog committed");
    }

    @Test
    void aCommandLargerThanTheBoundIsTakenWhenNothingElseWaits() {
        RaftCore c = leader(100);
        while (c.hasReady()) c.advance(c.ready());
        followerCatchesUp(c); // the no-op commits
        long index = c.propose(new byte[10_000]);
        assertTrue(index > 0, "a command alone is never too large to propose: " + index);
        assertEquals(RaftCore.BUSY, c.propose(new byte[1]), "but nothing joins it until it commits");
    }

    @Test
    void aNewLeaderDoesNotCountEntriesOfEarlierTermsAgainstItsBound() {
        // Node 1 restarts holding 20 uncommitted entries of term 1 (2,000 bytes), more than its bound of 1,000.
        List<Entry> old = new java.util.ArrayList<>();
        for (int i = 1; i <= 20; i++) old.add(new Entry(i, 1, Entry.Kind.COMMAND, new byte[COMMAND]));
        RaftCore c = TestNetwork.lone(1, Set.of(1, 2, 3), b -> b.preVote(false).maxUncommittedBytes(1_000),
                new HardState(1, 1, 0), old);
        while (c.role() != Role.CANDIDATE) c.tick();
        c.step(new Message.VoteResponse(2, 1, c.term(), true, false));
        assertEquals(Role.LEADER, c.role());
        assertTrue(c.propose(new byte[COMMAND]) > 0, "the earlier leader's entries are not this one's backlog");
        List<AppendRequest> appends = RaftElectionTest.sent(c.ready(), AppendRequest.class);
        assertTrue(!appends.isEmpty());
    }

    /** What commits is taken off the count: a leader that keeps committing never turns a proposal away. */
    @Test
    void aLeaderThatKeepsCommittingIsNeverBusy() {
        TestNetwork net = RaftLogReplicationTest.stableCluster(3, b -> b.maxUncommittedBytes(2_000));
        for (int round = 0; round < 2_000; round++) {
            for (int i = 0; i < 10; i++) {
                long index = net.core(1).propose(new byte[COMMAND]);
                assertTrue(index > 0, "round " + round + ", proposal " + i + ": " + index);
            }
            net.deliverAll();
        }
    }
}
