package io.raftkv.raft;

/**
 * One step of a membership change: a single server added as a learner, promoted to voter, or removed. A learner
 * may be added with a context, an opaque string the configuration keeps for it (its address, in socket mode).
 */
public record ConfigChange(Kind kind, int node, String context) {
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
        if (context != null) {
            if (kind != Kind.ADD_LEARNER) throw new IllegalArgumentException("only a learner's addition carries a context");
            Configuration.checkContext(context);
        }
    }

    /** A change with no context. */
    public ConfigChange(Kind kind, int node) {
        this(kind, node, null);
    }

    /** Adds {@code node} as a learner whose context in the configuration is {@code context}. */
    public static ConfigChange addLearner(int node, String context) {
        return new ConfigChange(Kind.ADD_LEARNER, node, java.util.Objects.requireNonNull(context, "context"));
    }

    public static ConfigChange addLearner(int node) { return new ConfigChange(Kind.ADD_LEARNER, node); }

    public static ConfigChange promote(int node) { return new ConfigChange(Kind.PROMOTE, node); }

    public static ConfigChange remove(int node) { return new ConfigChange(Kind.REMOVE, node); }
}
