package io.raftkv.raft;

/**
 * What a leader knows of one follower's log and how it sends to it: probing one message at a time
 * until it finds where their logs match, then replicating with a window of pipelined messages.
 */
public final class Progress {
    /** How the leader sends entries to this follower. */
    public enum State {
        /** Unknown where the logs match: one append at a time, then wait for the answer or a heartbeat. */
        PROBE,
        /** Logs match up to {@code match}: stream appends, up to the in-flight window. */
        REPLICATE,
        /** The follower needs entries the leader has compacted away; it must be sent a snapshot. */
        SNAPSHOT
    }

    long match;
    long next;
    State state = State.PROBE;
    /** In PROBE, an append was sent and the leader waits before sending another. */
    boolean probeSent;
    /** In SNAPSHOT, the index of the snapshot sent: once the follower's log reaches it, replication resumes. */
    long pendingSnapshot;
    /** Heard from since the last CheckQuorum round. */
    boolean recentActive;
    final Inflights inflights;

    Progress(long next, int maxInflight) {
        this.next = next;
        this.inflights = new Inflights(maxInflight);
    }

    public long match() { return match; }

    public long next() { return next; }

    public State state() { return state; }

    void becomeProbe() {
        state = State.PROBE;
        next = match + 1;
        probeSent = false;
        inflights.reset();
    }

    void becomeReplicate() {
        state = State.REPLICATE;
        next = match + 1;
        probeSent = false;
        inflights.reset();
    }

    void becomeSnapshot(long snapshotIndex) {
        state = State.SNAPSHOT;
        pendingSnapshot = snapshotIndex;
        probeSent = false;
        inflights.reset();
    }

    /** Whether the leader should hold back appends to this follower now. */
    boolean paused() {
        return switch (state) {
            case PROBE -> probeSent;
            case REPLICATE -> inflights.full();
            case SNAPSHOT -> true;
        };
    }

    /** Records that an append ending at {@code lastIndex} (carrying {@code count} entries) was sent. */
    void sentEntries(long lastIndex, int count) {
        if (state == State.REPLICATE) {
            if (count > 0) {
                next = lastIndex + 1;
                inflights.add(lastIndex);
            }
        } else {
            probeSent = true;
        }
    }

    /** A success up to {@code index}; returns whether this told the leader anything new. */
    boolean maybeUpdate(long index) {
        boolean updated = false;
        if (index > match) {
            match = index;
            updated = true;
            probeSent = false;
        }
        next = Math.max(next, index + 1);
        return updated;
    }

    /**
     * A rejection of the append that followed {@code rejected}; {@code probeFrom} is where the
     * leader's log and the follower's hint suggest probing. Returns false for a stale rejection.
     */
    boolean maybeDecrease(long rejected, long probeFrom) {
        // A rejection of an append sent before the snapshot: the snapshot's answer is what counts now.
        if (state == State.SNAPSHOT) return false;
        if (state == State.REPLICATE) {
            // Out of order: this rejection is of an append older than what is known to match.
            if (rejected <= match) return false;
            next = match + 1;
            return true;
        }
        // In probe only the rejection of the latest probe counts.
        if (next - 1 != rejected) return false;
        next = Math.max(Math.min(rejected, probeFrom + 1), match + 1);
        probeSent = false;
        return true;
    }

    @Override
    public String toString() {
        return state + (state == State.SNAPSHOT ? "(" + pendingSnapshot + ")" : "") + " match=" + match + " next=" + next + " inflight=" + inflights.count();
    }
}
