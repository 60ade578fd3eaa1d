package io.raftkv.raft;

import io.raftkv.raft.Message.Heartbeat;
import io.raftkv.raft.Message.HeartbeatResponse;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import static io.raftkv.raft.RaftElectionTest.sent;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The core's one reusable Ready: what it hands out, how long it holds, and what a copy keeps. */
class RaftReadyTest {

    private static byte[] cmd(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    }

    private static RaftCore campaigner() {
        RaftCore c = new RaftCore(RaftConfig.builder(1, Set.of(1, 2, 3), new SplittableRandom(7)).build(), HardState.INITIAL, List.of());
        while (!c.hasReady()) c.tick();
        return c;
    }

    private static RaftCore loneLeader() {
        RaftCore c = new RaftCore(RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).build(), HardState.INITIAL, List.of());
        while (c.role() != Role.LEADER) c.tick();
        while (c.hasReady()) c.advance(c.ready());
        return c;
    }

    @Test
    void whatArrivesWhileAReadyIsHandledGoesIntoTheNextOneAndLeavesTheCurrentAlone() {
        RaftCore c = campaigner();
        Ready first = c.ready();
        Ready kept = first.copy();
        assertFalse(sent(first).isEmpty(), "a campaign asks the others for votes");

        // A leader of a later term is heard before the runtime is done with the first ready: the answer to it
        // must neither appear in the ready being handled (sent twice, or sent before the write it waits on)
        // nor be lost when the core refills its buffers.
        c.step(new Heartbeat(2, 1, kept.term() + 3, 0, 0));
        assertEquals(sent(kept), sent(first));
        c.advance(first);

        Ready second = c.ready();
        assertSame(first, second, "the core refills one Ready rather than making one per pass");
        List<HeartbeatResponse> answers = RaftElectionTest.sent(second, HeartbeatResponse.class);
        assertEquals(1, answers.size(), () -> "one answer to the new leader, in " + second);
        assertEquals(2, answers.get(0).to());
        assertEquals(kept.term() + 3, second.term());
        assertFalse(sent(kept).isEmpty(), "a copy keeps what its ready held");
        assertFalse(sent(kept).stream().anyMatch(HeartbeatResponse.class::isInstance));
    }

    @Test
    void aCopyKeepsItsEntriesWhileTheCoreRefillsItsOwn() {
        RaftCore c = loneLeader();
        long first = c.propose(cmd("a"));
        Ready r = c.ready();
        Ready kept = r.copy();
        c.advance(r);
        c.propose(cmd("b"));
        c.propose(cmd("c"));
        c.ready();
        assertEquals(1, kept.entries().size());
        assertEquals(first, kept.entries().get(0).index());
        assertEquals(2, r.entries().size(), "the core's own ready now holds the next pass");
        assertEquals(first + 1, r.entries().get(0).index());
    }

    @Test
    void theListsAreReadOnly() {
        RaftCore c = loneLeader();
        c.propose(cmd("a"));
        Ready r = c.ready();
        assertThrows(UnsupportedOperationException.class, () -> r.entries().clear());
        assertThrows(UnsupportedOperationException.class, () -> r.messages().add(new Heartbeat(1, 2, 1, 0, 0)));
        assertThrows(UnsupportedOperationException.class, () -> r.committedEntries().clear());
        assertThrows(UnsupportedOperationException.class, () -> r.copy().entries().clear());
        assertTrue(r.mustPersist());
    }

    @Test
    void aBurstIsHandedOutWholeAndTheNextPassStartsClean() {
        RaftCore c = loneLeader();
        int n = 10_000;
        for (int i = 0; i < n; i++) c.propose(cmd("v" + i));
        Ready big = c.ready();
        assertEquals(n, big.entries().size());
        c.advance(big);
        Ready commit = c.ready();
        assertEquals(n, commit.committedEntries().size());
        c.advance(commit);
        c.propose(cmd("after"));
        Ready next = c.ready();
        assertEquals(1, next.entries().size());
        assertEquals("after", new String(next.entries().get(0).data()));
    }
}
