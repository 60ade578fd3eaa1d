package io.raftkv.node;

import io.raftkv.raft.Progress;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.Role;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * A leader handing leadership over before it stops, on the node's thread: it picks the voter whose log is
 * most up to date, asks its core to transfer to it (thesis §3.10), and is done once another node leads, or
 * gives up at its deadline. A node that does not lead has nothing to hand over.
 */
final class LeadershipHandOver {
    private final int id;
    private final LongSupplier clock;
    private final List<CompletableFuture<Integer>> waiting = new ArrayList<>();
    private long deadline;
    private int target = RaftCore.NONE;

    /** For node {@code id}, on {@code clock}. */
    LeadershipHandOver(int id, LongSupplier clock) {
        this.id = id;
        this.clock = clock;
    }

    /** Whether a hand-over is under way: {@link #advance} must run after every pass. */
    boolean pending() {
        return !waiting.isEmpty();
    }

    /**
     * Starts handing leadership over, to be done by {@code deadline} (on the clock's scale); {@code done}
     * completes with the new leader's id, with {@link RaftCore#NONE} at once if this node does not lead or
     * has no other voter, or fails with a {@link TimeoutException} at the deadline. A second request joins the
     * one under way, which then runs to the later deadline.
     */
    void start(RaftCore core, CompletableFuture<Integer> done, long deadline) {
        boolean underWay = pending();
        if (!underWay || deadline - this.deadline > 0) this.deadline = deadline;
        waiting.add(done);
        if (!underWay) {
            target = core.role() == Role.LEADER ? mostUpToDateVoter(core) : RaftCore.NONE;
            if (target == RaftCore.NONE) {
                finish(RaftCore.NONE);
                return;
            }
        }
        advance(core);
    }

    /** After a pass: done if another node leads; else, while this node still leads, keeps the transfer going. */
    void advance(RaftCore core) {
        int leader = core.leader();
        if (leader != RaftCore.NONE && leader != id) {
            finish(leader);
        } else if (clock.getAsLong() - deadline >= 0) {
            TimeoutException late = new TimeoutException("node " + id + " could not hand leadership to node " + target
                    + " in time; " + (core.role() == Role.LEADER ? "it still leads" : "no other node leads yet"));
            target = RaftCore.NONE;
            for (CompletableFuture<Integer> f : takeWaiting()) f.completeExceptionally(late);
        } else if (core.role() == Role.LEADER) {
            // Ignored while the transfer to the target is under way; after the core abandons it (an election
            // timeout without success: the target was slow to catch up, say) this starts it again.
            if (!core.transferLeadership(target)) {
                // The target is no voter any more (a membership change committed meanwhile): pick again.
                target = mostUpToDateVoter(core);
                if (target == RaftCore.NONE) finish(RaftCore.NONE);
                else core.transferLeadership(target);
            }
        }
        // Not leading and no leader known: it stepped down for the target's election; wait to hear who won.
    }

    /** The node stops: nobody is handed anything any more. */
    void stopped() {
        IllegalStateException e = new IllegalStateException("node " + id + " stopped before another node led");
        target = RaftCore.NONE;
        for (CompletableFuture<Integer> f : takeWaiting()) f.completeExceptionally(e);
    }

    /**
     * The voter, other than this leader, whose log matches the leader's furthest (the lowest id of those that
     * tie): it needs the fewest entries before it can take over, and the one most likely alive. NONE if there
     * is no other voter.
     */
    static int mostUpToDateVoter(RaftCore core) {
        int best = RaftCore.NONE;
        long bestMatch = -1;
        for (int v : core.configuration().voters()) {
            if (v == core.id()) continue;
            Progress pr = core.progress(v);
            long match = pr == null ? 0 : pr.match();
            if (match > bestMatch) {
                best = v;
                bestMatch = match;
            }
        }
        return best;
    }

    private void finish(int leader) {
        target = RaftCore.NONE;
        for (CompletableFuture<Integer> f : takeWaiting()) f.complete(leader);
    }

    /** The futures to complete, taken out first: completing one may run code that starts another hand-over. */
    private List<CompletableFuture<Integer>> takeWaiting() {
        List<CompletableFuture<Integer>> out = List.copyOf(waiting);
        waiting.clear();
        return out;
    }
}
