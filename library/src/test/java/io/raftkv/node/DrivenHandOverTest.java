package io.raftkv.node;

import io.raftkv.raft.RaftCore;
import io.raftkv.raft.Role;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;

import static io.raftkv.node.DrivenCluster.failureOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A leader that is to stop hands leadership over first ({@link RaftNode#handOverLeadership}), each case an exact
 * trace of {@link DrivenCluster}: no tick passes unless the test says so, so "no election timeout was spent" is
 * what the trace shows, not a measured time.
 */
class DrivenHandOverTest {
    private static final Set<Integer> THREE = Set.of(1, 2, 3);

    @Test
    void theLeaderHandsOverToTheMostUpToDateVoterInOneTermWithoutATick() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.put(1, 1);
        c.isolated.add(2); // node 2 misses the next writes: node 3 is the one to take over
        c.put(1, 2);
        c.put(1, 3);
        c.isolated.remove(2);
        long term = c.node(1).status().term();

        CompletableFuture<Integer> done = c.node(1).handOverLeadership(Duration.ofSeconds(1));
        c.settle(); // messages only: the clock stands still
        assertEquals(3, done.join());
        assertEquals(Role.LEADER, c.node(3).status().role());
        assertEquals(term + 1, c.node(3).status().term(), "one election, the one the leader asked for");
        assertEquals(Role.FOLLOWER, c.node(1).status().role());
        assertEquals(3, c.node(1).status().leader());
        assertEquals(9L, c.put(3, 3), "the new leader holds every write (1 + 2 + 3) and takes new ones");
    }

    @Test
    void aTargetThatIsDownIsPassedOverAfterAnElectionTimeoutForTheNext() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.put(1, 1);
        c.isolated.add(2); // down, though its log matched the leader's as far as node 3's did: the first pick
        CompletableFuture<Integer> done = c.node(1).handOverLeadership(Duration.ofSeconds(5));
        c.settle();
        c.ticks(DrivenCluster.ELECTION_TICKS - 1);
        assertFalse(done.isDone(), "node 2 has its election timeout");
        c.tick();
        assertEquals(3, done.getNow(-1));
        assertEquals(Role.LEADER, c.node(3).status().role());
    }

    @Test
    void aLeaderNewInOfficeTurnsToTheVoterItHearsFromFirst() {
        DrivenCluster c = new DrivenCluster(THREE);
        // Elected without an answer to its first appends yet: it knows neither follower's log.
        c.drop = m -> m instanceof io.raftkv.raft.Message.AppendResponse;
        c.elect(1);
        c.isolated.add(2); // and node 2, its first pick (the lowest id of a tie), is down
        CompletableFuture<Integer> done = c.node(1).handOverLeadership(Duration.ofSeconds(5));
        c.settle();
        c.drop = m -> false;
        for (int i = 0; i < 3 && !done.isDone(); i++) c.tick(); // a heartbeat round: node 3 answers
        assertEquals(3, done.getNow(-1), "node 3's log turned out to match further: it took node 2's place at once");
    }

    @Test
    void aFollowerOrALeaderAloneHasNothingToHandOver() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        CompletableFuture<Integer> follower = c.node(2).handOverLeadership(Duration.ofSeconds(1));
        c.settle();
        assertEquals(RaftCore.NONE, follower.join());
        assertEquals(Role.LEADER, c.node(1).status().role(), "nothing changed");

        DrivenCluster alone = new DrivenCluster(Set.of(1));
        alone.elect(1);
        CompletableFuture<Integer> single = alone.node(1).handOverLeadership(Duration.ofSeconds(1));
        alone.settle();
        assertEquals(RaftCore.NONE, single.join());
        assertEquals(Role.LEADER, alone.node(1).status().role(), "no other voter: it leads on");
    }

    @Test
    void aHandOverNobodyCanTakeGivesUpAtItsDeadline() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.isolated.addAll(Set.of(2, 3));
        CompletableFuture<Integer> done = c.node(1).handOverLeadership(DrivenCluster.TICK.multipliedBy(3));
        CompletableFuture<Integer> joined = c.node(1).handOverLeadership(DrivenCluster.TICK.multipliedBy(2));
        c.settle();
        assertFalse(done.isDone());
        assertEquals("notLeader 1", c.put(1, 7), "proposals are refused while it hands over");
        c.ticks(2);
        assertFalse(joined.isDone(), "a second request joins the first, and its later deadline");
        c.ticks(1);
        Throwable late = failureOf(done);
        assertInstanceOf(TimeoutException.class, late);
        assertTrue(late.getMessage().contains("node 1 could not hand leadership to node 2 in time"), late.getMessage());
        assertInstanceOf(TimeoutException.class, failureOf(joined));
    }

    @Test
    void aNodeThatStopsWhileHandingOverSaysSo() {
        DrivenCluster c = new DrivenCluster(THREE);
        c.elect(1);
        c.isolated.addAll(Set.of(2, 3));
        CompletableFuture<Integer> done = c.node(1).handOverLeadership(Duration.ofSeconds(1));
        c.settle();
        c.node(1).close();
        c.settle();
        assertTrue(failureOf(done).getMessage().contains("node 1 stopped before another node led"));
        CompletableFuture<Integer> after = c.node(1).handOverLeadership(Duration.ofSeconds(1));
        assertEquals(RaftCore.NONE, after.join(), "a stopped node leads nobody");
    }
}
