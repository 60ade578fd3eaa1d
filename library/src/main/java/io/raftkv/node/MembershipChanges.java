package io.raftkv.node;

import io.raftkv.raft.ConfigChange;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.Progress;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.Role;

import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;

/**
 * A leader's membership changes under way, on the node's thread: the changes proposed and waiting to be
 * applied, and at most one server being added as a voter the safe way (thesis §4.2.1: a learner first,
 * promoted once it keeps up with the leader's log within an election timeout of a round's start).
 */
final class MembershipChanges {
    private record PendingChange(long index, long term, CompletableFuture<Configuration> done) {}

    /** A server being added as a voter. */
    private static final class Promotion {
        final int node;
        /** What the configuration is to keep for it (its address), or null. */
        final String context;
        final CompletableFuture<Configuration> done;
        final long deadline;
        /** The leader's last index when the current catch-up round began, and when that was; 0 before the first. */
        long roundTarget;
        long roundStart;
        /** Whether this promotion has seen the node in the configuration (as a learner); if it goes, it was removed. */
        boolean seenAsMember;

        Promotion(int node, String context, CompletableFuture<Configuration> done, long deadline) {
            this.node = node;
            this.context = context;
            this.done = done;
            this.deadline = deadline;
        }
    }

    private final int id;
    private final LongSupplier clock;
    private final long tickNanos;
    private final ArrayDeque<PendingChange> pending = new ArrayDeque<>();
    private Promotion promotion;

    /** For node {@code id}, on {@code clock}, whose ticks are {@code tickNanos} long. */
    MembershipChanges(int id, LongSupplier clock, long tickNanos) {
        this.id = id;
        this.clock = clock;
        this.tickNanos = tickNanos;
    }

    /** Proposes {@code change}; {@code done} completes once it is applied here, or fails with why it cannot be. */
    void propose(RaftCore core, ConfigChange change, CompletableFuture<Configuration> done) {
        try {
            long index = core.proposeConfigChange(change);
            if (index == RaftCore.REJECTED && core.role() == Role.LEADER) {
                // Handing leadership over: a retry soon, at whoever leads then, can succeed.
                done.completeExceptionally(new IllegalStateException("node " + id + " is handing leadership over"));
            } else if (index == RaftCore.REJECTED) {
                done.completeExceptionally(new NotLeaderException(id, core.leader()));
            } else {
                pending.add(new PendingChange(index, core.term(), done));
            }
        } catch (IllegalArgumentException | IllegalStateException e) {
            done.completeExceptionally(e);
        }
    }

    /**
     * Starts adding {@code node} as a voter, with {@code context} (or none: null) in the configuration, to be done
     * (or given up, with a TimeoutException) by {@code deadline}.
     */
    void startPromotion(RaftCore core, int node, String context, CompletableFuture<Configuration> done, long deadline) {
        if (promotion != null) {
            done.completeExceptionally(new IllegalStateException("node " + promotion.node + " is being added already"));
        } else if (core.role() != Role.LEADER) {
            done.completeExceptionally(new NotLeaderException(id, core.leader()));
        } else {
            promotion = new Promotion(node, context, done, deadline);
            advance(core);
        }
    }

    /** A configuration entry was applied: the change that proposed it is done, or lost to another leader's entry. */
    void applied(RaftCore core, Entry e) {
        PendingChange p;
        while ((p = pending.peek()) != null && p.index <= e.index()) {
            pending.poll();
            if (p.index == e.index() && p.term == e.term()) p.done.complete(Configuration.decode(e.data()));
            else p.done.completeExceptionally(new NotLeaderException(id, core.leader())); // another leader's entry won
        }
    }

    /** Whether a server is being added. */
    boolean promoting() {
        return promotion != null;
    }

    /** Moves an addition along: learner, catch-up rounds, promotion; called on every pass while one is under way. */
    void advance(RaftCore core) {
        Promotion p = promotion;
        if (core.role() != Role.LEADER) {
            promotion = null;
            p.done.completeExceptionally(new NotLeaderException(id, core.leader()));
            return;
        }
        Configuration c = core.configuration();
        boolean settled = core.commitIndex() >= core.log().lastConfigIndex();
        if (c.isVoter(p.node)) {
            if (settled) {
                promotion = null;
                p.done.complete(c);
            }
            return;
        }
        long now = clock.getAsLong();
        if (now - p.deadline > 0) {
            promotion = null;
            p.done.completeExceptionally(new TimeoutException("node " + p.node + " did not catch up"
                    + " with the leader's log in time; it stays " + (c.isLearner(p.node) ? "a learner" : "out of the cluster")));
            return;
        }
        if (!settled) return; // one change at a time: wait for the last to commit
        try {
            if (!c.contains(p.node)) {
                if (p.seenAsMember) {
                    // Someone removed it meanwhile: adding it back would undo that.
                    promotion = null;
                    p.done.completeExceptionally(new IllegalStateException("node " + p.node
                            + " was removed while it was being added"));
                    return;
                }
                core.proposeConfigChange(new ConfigChange(ConfigChange.Kind.ADD_LEARNER, p.node, p.context));
                return;
            }
            p.seenAsMember = true;
            Progress pr = core.progress(p.node);
            long electionNanos = tickNanos * core.config().electionTicks();
            if (p.roundTarget == 0) {
                p.roundTarget = core.log().lastIndex();
                p.roundStart = now;
            } else if (pr.match() >= p.roundTarget) {
                if (now - p.roundStart <= electionNanos) {
                    core.proposeConfigChange(ConfigChange.promote(p.node));
                } else {
                    p.roundTarget = core.log().lastIndex();
                    p.roundStart = now;
                }
            }
        } catch (IllegalStateException retryLater) {
            // This leader has not committed in its term yet; the next pass tries again.
        } catch (IllegalArgumentException e) {
            promotion = null;
            p.done.completeExceptionally(e);
        }
    }

    /** This node no longer leads: what only a leader can finish fails, naming {@code leaderHint}. */
    void leadershipLost(int leaderHint) {
        for (PendingChange p : pending) p.done.completeExceptionally(new NotLeaderException(id, leaderHint));
        pending.clear();
        if (promotion != null) {
            promotion.done.completeExceptionally(new NotLeaderException(id, leaderHint));
            promotion = null;
        }
    }
}
