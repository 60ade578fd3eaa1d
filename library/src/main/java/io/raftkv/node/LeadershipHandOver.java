package io.raftkv.node;

import io.raftkv.raft.Progress;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.Role;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * A leader handing leadership over before it stops, on the node's thread: it asks its core to transfer
 * (thesis §3.10) to the voter whose log is most up to date, and is done once another node leads, or gives up at
 * its deadline. A node that does not lead has nothing to hand over.
 *
 * <p>The leader cannot tell a voter that is down from one that is slow, so the target is chosen again as it
 * learns: another voter whose log turns out to match further takes its place (a leader new in office knows
 * nobody's log at first), and a target that has not taken over within an election timeout (when the core
 * gives the transfer up) is passed over for the next best voter.
 */
final class LeadershipHandOver {
    private final int id;
    private final LongSupplier clock;
    private final long electionTimeoutNanos;
    private final List<CompletableFuture<Integer>> waiting = new ArrayList<>();
    /** Targets passed over in this hand-over: each had an election timeout and did not take over. */
    private final Set<Integer> passedOver = new HashSet<>();
    private long deadline;
    private int target = RaftCore.NONE;
    /** When the transfer to {@link #target} began. */
    private long targetSince;

    /** For node {@code id}, on {@code clock}, whose core gives a transfer up after {@code electionTimeoutNanos}. */
    LeadershipHandOver(int id, LongSupplier clock, long electionTimeoutNanos) {
        this.id = id;
        this.clock = clock;
        this.electionTimeoutNanos = electionTimeoutNanos;
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
        if (!underWay && (core.role() != Role.LEADER || mostUpToDateVoter(core, Set.of()) == RaftCore.NONE)) {
            finish(RaftCore.NONE);
            return;
        }
        advance(core);
    }

    /** After a pass: done if another node leads; else, while this node still leads, keeps the transfer going. */
    void advance(RaftCore core) {
        int leader = core.leader();
        long now = clock.getAsLong();
        if (leader != RaftCore.NONE && leader != id) {
            finish(leader);
        } else if (now - deadline >= 0) {
            TimeoutException late = new TimeoutException("node " + id + " could not hand leadership to node " + target
                    + " in time; " + (core.role() == Role.LEADER ? "it still leads" : "no other node leads yet"));
            for (CompletableFuture<Integer> f : takeWaiting()) f.completeExceptionally(late);
        } else if (core.role() == Role.LEADER) {
            if (target != RaftCore.NONE && now - targetSince >= electionTimeoutNanos) passedOver.add(target);
            int best = mostUpToDateVoter(core, passedOver);
            if (best == RaftCore.NONE && !passedOver.isEmpty()) {
                passedOver.clear(); // every voter had its turn: round again
                best = mostUpToDateVoter(core, passedOver);
            }
            if (best == RaftCore.NONE) {
                finish(RaftCore.NONE); // the others left the configuration meanwhile: it leads alone
                return;
            }
            if (target == RaftCore.NONE || passedOver.contains(target) || !core.configuration().isVoter(target)
                    || match(core, best) > match(core, target) || now - targetSince >= electionTimeoutNanos) {
                target = best;
                targetSince = now;
            }
            // Ignored while the transfer to the target is under way (it neither restarts nor resends); a new
            // target abandons the old one's.
            core.transferLeadership(target);
        }
        // Not leading and no leader known: it stepped down for the target's election; wait to hear who won.
    }

    /** The node stops: nobody is handed anything any more. */
    void stopped() {
        IllegalStateException e = new IllegalStateException("node " + id + " stopped before another node led");
        for (CompletableFuture<Integer> f : takeWaiting()) f.completeExceptionally(e);
    }

    /**
     * The voter, other than this leader and those passed over, whose log matches the leader's furthest (the
     * lowest id of those that tie): it needs the fewest entries before it can take over. NONE if there is none.
     */
    static int mostUpToDateVoter(RaftCore core, Set<Integer> passedOver) {
        int best = RaftCore.NONE;
        long bestMatch = -1;
        for (int v : core.configuration().voters()) {
            if (v == core.id() || passedOver.contains(v)) continue;
            long match = match(core, v);
            if (match > bestMatch) {
                best = v;
                bestMatch = match;
            }
        }
        return best;
    }

    private static long match(RaftCore core, int peer) {
        Progress pr = core.progress(peer);
        return pr == null ? 0 : pr.match();
    }

    private void finish(int leader) {
        for (CompletableFuture<Integer> f : takeWaiting()) f.complete(leader);
    }

    /** The futures to complete, taken out first (completing one may run code that starts another hand-over); resets. */
    private List<CompletableFuture<Integer>> takeWaiting() {
        List<CompletableFuture<Integer>> out = List.copyOf(waiting);
        waiting.clear();
        passedOver.clear();
        target = RaftCore.NONE;
        return out;
    }
}
