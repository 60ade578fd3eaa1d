package io.raftkv.raft;

/** One step of a membership change: a single server added as a learner, promoted to voter, or removed. */
public record ConfigChange(Kind kind, int node) {
    /** What the change does to {@link #node()}. */
    public enum Kind {
        /** Joins as a learner: it receives the log but does not vote. */
        ADD_LEARNER,
        /** A learner becomes a voter. */
        PROMOTE,
        /** A voter or learner leaves. */
        REMOVE
    }

    public ConfigChange {
        java.util.Objects.requireNonNull(kind, "kind");
        if (node < 1) throw new IllegalArgumentException("node id must be >= 1, was " + node);
    }

    public static ConfigChange addLearner(int node) { return new ConfigChange(Kind.ADD_LEARNER, node); }

    public static ConfigChange promote(int node) { return new ConfigChange(Kind.PROMOTE, node); }

    public static ConfigChange remove(int node) { return new ConfigChange(Kind.REMOVE, node); }
}
