package io.raftkv.raft;

/**
 * How the simulations switch on the core's deliberate protocol bugs, which are package-private in
 * {@link RaftConfig} and so outside the library's API. It lives among the tests, in the core's package,
 * and ships in no jar a project depends on. Each defect here names one of the core's.
 */
public final class DefectSeam {
    private DefectSeam() {}

    /** The core's defects, by the same names. */
    public enum Defect {
        NONE,
        /** Commit an entry of an earlier term once a majority stores it (the bug of the paper's Figure 8). */
        COMMIT_EARLIER_TERM_BY_COUNTING,
        /** Grant a vote to every up-to-date candidate, even after voting for another in the same term. */
        GRANT_TWO_VOTES_PER_TERM,
        /** Grant votes without checking that the candidate's log is at least as up to date (Raft §5.4.1). */
        VOTE_FOR_STALE_LOGS,
        /** A leader counts its own copy of an entry as soon as it appends it, before its write is durable. */
        COUNT_OWN_ENTRY_BEFORE_DURABLE,
        /** A read is confirmed by acknowledgements of a heartbeat round sent before the read arrived. */
        CONFIRM_READ_BY_EARLIER_ROUND
    }

    /** {@code builder} with {@code defect} switched on (NONE: none). */
    public static RaftConfig.Builder with(RaftConfig.Builder builder, Defect defect) {
        return builder.defectForTesting(RaftConfig.Defect.valueOf(defect.name()));
    }
}
