package io.raftkv.raft;

import java.util.function.IntToLongFunction;

/**
 * A leader's lease (thesis §6.4.1; {@link RaftCore#readIndex} gives the rule and why it is safe): when, in the
 * leader's ticks, it may confirm a read without a heartbeat round. It starts at the tick the leader sent the
 * newest round a majority of the voters in force acknowledged and lasts electionTicks - clockDriftTicks ticks.
 * Only heartbeat rounds count, since only their answers say which message they answer. Allocates nothing
 * after it is made.
 */
final class LeaderLease {
    private final int electionTicks;
    private final int driftTicks;
    /**
     * For each of the leader's last electionTicks ticks (tick t at slot t % electionTicks), the last round it had
     * sent before that tick began: rounds only grow, so a round's number tells the tick it was sent in.
     */
    private final long[] roundBeforeTick;
    /** The tick the leader took office at: earlier slots belong to another term. */
    private long since;
    /** The tick the lease ends at (it holds while the leader's tick count is below it), unless stale. */
    private long end = -1;
    /** Whether {@link #end} must be worked out again: a tick, an acknowledgement or a configuration came since. */
    private boolean stale = true;
    /** Whether the leader gave up leases for the rest of its term (it began a leadership transfer). */
    private boolean forfeited;

    LeaderLease(int electionTicks, int driftTicks) {
        this.electionTicks = electionTicks;
        this.driftTicks = driftTicks;
        this.roundBeforeTick = new long[electionTicks];
    }

    /** The node became leader at {@code tick}, having sent rounds up to {@code round} before: a lease of this term only. */
    void start(long tick, long round) {
        since = tick;
        roundBeforeTick[slot(tick)] = round;
        stale = true;
        forfeited = false;
    }

    /** The leader's clock reached {@code tick}, rounds up to {@code round} sent before it. */
    void tick(long tick, long round) {
        roundBeforeTick[slot(tick)] = round;
        stale = true;
    }

    /** An acknowledgement came, or the voters changed. */
    void invalidate() {
        stale = true;
    }

    /** No lease for the rest of this term: a transfer's target campaigns past the voters' wait. */
    void forfeit() {
        forfeited = true;
    }

    /**
     * Whether the lease holds at {@code now}, for a leader {@code self} whose voters are {@code voters} (itself
     * among them or not) and which has been sent {@code ackedRound}'s newest round by each; {@code scratch} has
     * room for a value per voter.
     */
    boolean held(long now, int self, int[] voters, IntToLongFunction ackedRound, long[] scratch) {
        if (forfeited) return false;
        if (stale) {
            for (int i = 0; i < voters.length; i++) {
                int v = voters[i];
                scratch[i] = v == self ? now : sentAt(ackedRound.applyAsLong(v), now);
            }
            long start = Quorum.committedIndex(scratch, voters.length); // the newest send a majority acknowledged
            end = start < 0 ? -1 : start + electionTicks - driftTicks;
            stale = false;
        }
        return now < end;
    }

    /** The tick round {@code round} was sent at, or -1 if none of this term's last electionTicks ticks. */
    private long sentAt(long round, long now) {
        long oldest = Math.max(since, now - electionTicks + 1);
        for (long t = now; t >= oldest; t--) {
            if (roundBeforeTick[slot(t)] < round) return t;
        }
        return -1;
    }

    private int slot(long tick) {
        return (int) (tick % electionTicks);
    }
}
