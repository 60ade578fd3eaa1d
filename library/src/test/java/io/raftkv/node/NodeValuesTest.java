package io.raftkv.node;

import io.raftkv.raft.Role;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The node's small values: what each refuses (by its message), and the defaults a user's code relies on. */
class NodeValuesTest {

    private static String refusal(org.junit.jupiter.api.function.Executable call) {
        return assertThrows(IllegalArgumentException.class, call).getMessage();
    }

    @Test
    void aSnapshotPolicyTakesItsSmallestLegalValuesAndRefusesLessWithTheReason() {
        SnapshotPolicy least = new SnapshotPolicy(1, 0, 1, 1);
        assertEquals(List.of(1L, 0L), List.of(least.logBytes(), least.trailingEntries()));
        assertEquals(SnapshotPolicy.MAX_CHUNK_BYTES, new SnapshotPolicy(1, 0, SnapshotPolicy.MAX_CHUNK_BYTES, 1).chunkBytes());
        assertEquals("logBytes must be >= 1, was 0", refusal(() -> new SnapshotPolicy(0, 0, 1, 1)));
        assertEquals("trailingEntries must be >= 0, was -1", refusal(() -> new SnapshotPolicy(1, -1, 1, 1)));
        assertEquals("chunkBytes must be 1.." + SnapshotPolicy.MAX_CHUNK_BYTES + ", was 0", refusal(() -> new SnapshotPolicy(1, 0, 0, 1)));
        assertEquals("chunkBytes must be 1.." + SnapshotPolicy.MAX_CHUNK_BYTES + ", was " + (SnapshotPolicy.MAX_CHUNK_BYTES + 1),
                refusal(() -> new SnapshotPolicy(1, 0, SnapshotPolicy.MAX_CHUNK_BYTES + 1, 1)));
        assertEquals("chunksInFlight must be >= 1, was 0", refusal(() -> new SnapshotPolicy(1, 0, 1, 0)));
    }

    @Test
    void aRefusalNamesTheLeaderOnlyWhenOneIsKnown() {
        NotLeaderException known = new NotLeaderException(2, 3);
        assertEquals("node 2 is not the leader; node 3 is", known.getMessage());
        assertEquals(3, known.leaderHint());
        NotLeaderException unknown = new NotLeaderException(2, 0);
        assertEquals("node 2 is not the leader", unknown.getMessage());
        assertEquals(0, unknown.leaderHint());
        assertEquals("node 2 is not the leader", new NotLeaderException(2, -1).getMessage());
    }

    @Test
    void aDownNodesStatusKeepsItsTermAndNothingElse() {
        assertEquals(new NodeStatus(4, false, Role.FOLLOWER, 7, 0, 0, 0, 0), NodeStatus.down(4, 7));
    }

    @Test
    void aStateMachineSnapshotsOnlyIfItSaysItCan() {
        StateMachine plain = new StateMachine() {
            @Override public Object apply(long index, byte[] command) { return null; }
            @Override public Object query(Object query) { return null; }
        };
        assertFalse(plain.canSnapshot());
    }

    /** A reply that does not handle "busy" is told "no leader known here", which clients back off from. */
    @Test
    void aBusyLeaderIsAnsweredAsNoLeaderKnownByDefault() {
        List<Integer> hints = new ArrayList<>();
        Reply reply = new Reply() {
            @Override public void ok(Object result) { }
            @Override public void notLeader(int leaderHint) { hints.add(leaderHint); }
        };
        reply.unavailable("too many uncommitted entries");
        assertEquals(List.of(0), hints);
    }

    @Test
    void aProposalKeepsItsCommand() {
        byte[] command = {1, 2, 3};
        Proposal p = new Proposal(command) {
            @Override public void ok(Object result) { }
            @Override public void notLeader(int leaderHint) { }
        };
        assertArrayEquals(command, p.command());
    }
}
