package io.raftkv.node;

import io.raftkv.raft.ReadPolicy;
import io.raftkv.raft.Role;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static io.raftkv.node.DrivenCluster.ELECTION_TICKS;
import static io.raftkv.node.DrivenCluster.TICK;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The node's clock under lease reads: a leader's lease must not outlast, in real time, the ticks it missed. */
class DrivenLeaseTest {

    @Test
    void aLeaderInItsLeaseAnswersAReadInTheSamePass() {
        DrivenCluster c = new DrivenCluster(Set.of(1, 2, 3), b -> b.readPolicy(ReadPolicy.LEASE));
        c.elect(1);
        c.put(1, 5);
        c.tick(); // a heartbeat round a majority answers
        List<Object> answers = new ArrayList<>();
        c.isolated.add(1); // no round could confirm it now: only the lease can
        c.node(1).read("q", DrivenCluster.noting(answers));
        c.node(1).step(false);
        assertEquals(List.of("ok q=5"), answers);
    }

    @Test
    void aLeaderPausedPastItsLeaseCountsTheTicksItMissedBeforeItReads() {
        DrivenCluster c = new DrivenCluster(Set.of(1, 2, 3), b -> b.readPolicy(ReadPolicy.LEASE));
        c.elect(1);
        c.put(1, 5);
        c.tick();

        // Node 1 stalls (a long GC, say) and is cut off; its clock runs on. The others elect node 2 or 3, which writes.
        c.isolated.add(1);
        int next = 0;
        for (int t = 0; t < 4 * ELECTION_TICKS && next == 0; t++) {
            c.now += TICK.toNanos();
            c.node(2).step(true);
            c.node(3).step(true);
            c.settle();
            next = c.node(2).status().role() == Role.LEADER ? 2 : c.node(3).status().role() == Role.LEADER ? 3 : 0;
        }
        assertTrue(next != 0, "nodes 2 and 3 elected a leader");
        assertEquals(12L, c.put(next, 7));

        // Node 1 resumes to a read, and its ticker's one flag: its clock must say how long it stalled.
        assertEquals(Role.LEADER, c.node(1).status().role(), "it has not heard of the new leader");
        List<Object> answers = new ArrayList<>();
        c.node(1).read("q", DrivenCluster.noting(answers));
        c.node(1).step(true);
        assertFalse(answers.contains("ok q=5"), "a stale read from a lease that ran out during the stall: " + answers);
    }
}
