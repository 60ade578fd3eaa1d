package io.raftkv.node;

/** The node asked cannot do it because it does not lead; {@link #leaderHint()} is the leader it knows of, or 0. */
public final class NotLeaderException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final int leaderHint;

    public NotLeaderException(int node, int leaderHint) {
        super("node " + node + " is not the leader" + (leaderHint > 0 ? "; node " + leaderHint + " is" : ""));
        this.leaderHint = leaderHint;
    }

    public int leaderHint() {
        return leaderHint;
    }
}
