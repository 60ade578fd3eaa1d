package io.raftkv.raft;

import java.util.Collections;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.random.RandomGenerator;

/**
 * How one Raft node is set up: who it is, who votes, its timeouts in ticks, its flow-control limits
 * and the seeded random source its election timeouts come from.
 */
public final class RaftConfig {
    final int id;
    final Set<Integer> voters;
    /** {@link Builder#maxUncommittedBytes}'s default: 8 MiB. */
    public static final long DEFAULT_MAX_UNCOMMITTED_BYTES = 8L << 20;
    /** {@link Builder#logCacheBytes}'s default: 4 MiB. */
    public static final long DEFAULT_LOG_CACHE_BYTES = 4L << 20;
    /** {@link Builder#clockDriftTicks}'s default: 2 ticks. */
    public static final int DEFAULT_CLOCK_DRIFT_TICKS = 2;

    final int electionTicks;
    final int heartbeatTicks;
    final int maxEntriesPerMessage;
    final int maxBytesPerMessage;
    final int maxInflightMessages;
    final long maxUncommittedBytes;
    final long logCacheBytes;
    final boolean preVote;
    final boolean checkQuorum;
    final ReadPolicy readPolicy;
    final int clockDriftTicks;
    final int initialFeatureLevel;
    final RandomGenerator random;
    final Defect defect;

    /**
     * Deliberate protocol bugs. They exist only so that tests can show the safety checkers find real
     * violations: package-private, outside the API, reached by the simulations through a seam of their own.
     */
    enum Defect {
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

    private RaftConfig(Builder b) {
        this.id = b.id;
        // Sorted, not Set.copyOf: that set's iteration order changes from one JVM run to the next,
        // and the order messages are sent in must not, or a seed would not replay.
        this.voters = Collections.unmodifiableSortedSet(new TreeSet<>(b.voters));
        this.electionTicks = b.electionTicks;
        this.heartbeatTicks = b.heartbeatTicks;
        this.maxEntriesPerMessage = b.maxEntriesPerMessage;
        this.maxBytesPerMessage = b.maxBytesPerMessage;
        this.maxInflightMessages = b.maxInflightMessages;
        this.maxUncommittedBytes = b.maxUncommittedBytes;
        this.logCacheBytes = b.logCacheBytes;
        this.preVote = b.preVote;
        this.checkQuorum = b.checkQuorum;
        this.readPolicy = b.readPolicy;
        this.clockDriftTicks = b.clockDriftTicks;
        this.initialFeatureLevel = b.initialFeatureLevel;
        this.random = b.random;
        this.defect = b.defect;
    }

    public static Builder builder(int id, Set<Integer> voters, RandomGenerator random) {
        return new Builder(id, voters, random);
    }

    public int id() { return id; }
    public Set<Integer> voters() { return voters; }
    public int electionTicks() { return electionTicks; }
    public int heartbeatTicks() { return heartbeatTicks; }
    public int maxEntriesPerMessage() { return maxEntriesPerMessage; }
    public int maxBytesPerMessage() { return maxBytesPerMessage; }
    public int maxInflightMessages() { return maxInflightMessages; }
    public long maxUncommittedBytes() { return maxUncommittedBytes; }
    public long logCacheBytes() { return logCacheBytes; }
    public boolean preVote() { return preVote; }
    public boolean checkQuorum() { return checkQuorum; }
    public ReadPolicy readPolicy() { return readPolicy; }
    public int clockDriftTicks() { return clockDriftTicks; }
    public int initialFeatureLevel() { return initialFeatureLevel; }
    Defect defect() { return defect; }

    /** Builds a {@link RaftConfig}, checking every value as it is set. */
    public static final class Builder {
        private final int id;
        private final Set<Integer> voters;
        private final RandomGenerator random;
        private int electionTicks = 10;
        private int heartbeatTicks = 1;
        private int maxEntriesPerMessage = 256;
        private int maxBytesPerMessage = 1 << 20;
        private int maxInflightMessages = 256;
        private long maxUncommittedBytes = DEFAULT_MAX_UNCOMMITTED_BYTES;
        private long logCacheBytes = DEFAULT_LOG_CACHE_BYTES;
        private boolean preVote = true;
        private boolean checkQuorum = true;
        private ReadPolicy readPolicy = ReadPolicy.READ_INDEX;
        private int clockDriftTicks = DEFAULT_CLOCK_DRIFT_TICKS;
        private int initialFeatureLevel = FeatureLevel.SUPPORTED;
        private Defect defect = Defect.NONE;

        private Builder(int id, Set<Integer> voters, RandomGenerator random) {
            Objects.requireNonNull(voters, "voters");
            this.random = Objects.requireNonNull(random, "random");
            if (id < 1) throw new IllegalArgumentException("node id must be >= 1, was " + id);
            if (voters.isEmpty()) throw new IllegalArgumentException("voters must not be empty");
            for (Integer v : voters) {
                if (v == null) throw new NullPointerException("voters must not contain null");
                if (v < 1) throw new IllegalArgumentException("voter ids must be >= 1, got " + new TreeSet<>(voters));
            }
            this.id = id;
            this.voters = new TreeSet<>(voters); // a copy, so that what was checked is what is built
        }

        /** Base election timeout; each election waits a random number of ticks in [t, 2t). */
        public Builder electionTicks(int t) {
            if (t < 2) throw new IllegalArgumentException("electionTicks must be >= 2, was " + t);
            this.electionTicks = t;
            return this;
        }

        public Builder heartbeatTicks(int t) {
            if (t < 1) throw new IllegalArgumentException("heartbeatTicks must be >= 1, was " + t);
            this.heartbeatTicks = t;
            return this;
        }

        public Builder maxEntriesPerMessage(int n) {
            if (n < 1) throw new IllegalArgumentException("maxEntriesPerMessage must be >= 1, was " + n);
            this.maxEntriesPerMessage = n;
            return this;
        }

        /** Soft limit: a message holds at least one entry even if that entry alone is larger. */
        public Builder maxBytesPerMessage(int n) {
            if (n < 1) throw new IllegalArgumentException("maxBytesPerMessage must be >= 1, was " + n);
            this.maxBytesPerMessage = n;
            return this;
        }

        /** Append messages a leader may have outstanding to one follower in the replicate state. */
        public Builder maxInflightMessages(int n) {
            if (n < 1) throw new IllegalArgumentException("maxInflightMessages must be >= 1, was " + n);
            this.maxInflightMessages = n;
            return this;
        }

        /**
         * How many bytes of entries ({@link Entry#size()} each) a leader holds appended in its term and not yet
         * committed before it turns proposals away (default 8 MiB; etcd's MaxUncommittedEntriesSize). A leader that
         * has lost its majority, or whose followers lag, stops growing its log: {@link RaftCore#propose} returns
         * {@link RaftCore#BUSY} until commits catch up. A proposal is taken whatever its size while nothing is
         * uncommitted, so no command is too large for ever.
         */
        public Builder maxUncommittedBytes(long n) {
            if (n < 1) throw new IllegalArgumentException("maxUncommittedBytes must be >= 1, was " + n);
            this.maxUncommittedBytes = n;
            return this;
        }

        /**
         * How many bytes of entries ({@link Entry#size()} each) a node keeps on its heap once they are durable,
         * committed and applied, when its store can read them back ({@link RaftCore#readFrom(LogSource)}; default
         * 4 MiB). Past it, the oldest such entries leave the heap, so that the heap holds this much of the log
         * plus what is not yet applied, whatever the snapshot interval; a leader reads older entries back from
         * the store for a follower that is further behind. Without a {@link LogSource} the log stays on the heap
         * until a snapshot compacts it.
         */
        public Builder logCacheBytes(long n) {
            if (n < 1) throw new IllegalArgumentException("logCacheBytes must be >= 1, was " + n);
            this.logCacheBytes = n;
            return this;
        }

        public Builder preVote(boolean on) {
            this.preVote = on;
            return this;
        }

        public Builder checkQuorum(boolean on) {
            this.checkQuorum = on;
            return this;
        }

        /**
         * How a leader confirms a read (default {@link ReadPolicy#READ_INDEX}). {@link ReadPolicy#LEASE} needs
         * {@link #checkQuorum} on, and an election timeout longer than {@link #clockDriftTicks}; {@link #build()}
         * refuses it otherwise.
         */
        public Builder readPolicy(ReadPolicy policy) {
            this.readPolicy = Objects.requireNonNull(policy, "readPolicy");
            return this;
        }

        /**
         * What a {@link ReadPolicy#LEASE} lease leaves out of the election timeout, in ticks (default
         * {@value RaftConfig#DEFAULT_CLOCK_DRIFT_TICKS}): by how many ticks, over one election timeout, the
         * leader's clock may fall behind a voter's, counting the tick either clock may be off by where the
         * lease starts and where the voter's wait does. A runtime that ticks on a shared, steady clock (as
         * {@code RaftNode} does) needs 2; clocks of different speeds need more. Unused with ReadIndex.
         */
        public Builder clockDriftTicks(int t) {
            if (t < 1) throw new IllegalArgumentException("clockDriftTicks must be >= 1, was " + t);
            this.clockDriftTicks = t;
            return this;
        }

        /**
         * The {@link FeatureLevel feature level} of the first configuration, the one a node assumes while its log and
         * snapshot hold none (default {@link FeatureLevel#SUPPORTED}: every node runs this build, as in one JVM). A
         * cluster whose nodes may run older builds (processes upgraded one at a time) starts at
         * {@link FeatureLevel#BASE}, and its leader raises the level once every member supports more. Every node of
         * a cluster must be given the same.
         */
        public Builder initialFeatureLevel(int level) {
            if (level < FeatureLevel.BASE || level > FeatureLevel.SUPPORTED) {
                throw new IllegalArgumentException("initialFeatureLevel must be " + FeatureLevel.BASE + " to "
                        + FeatureLevel.SUPPORTED + " (the levels this build supports), was " + level);
            }
            this.initialFeatureLevel = level;
            return this;
        }

        /** Test-only: switches on a known protocol bug; see {@link Defect}. */
        Builder defectForTesting(Defect d) {
            this.defect = Objects.requireNonNull(d, "defect");
            return this;
        }

        public RaftConfig build() {
            if (heartbeatTicks >= electionTicks) {
                throw new IllegalArgumentException("heartbeatTicks (" + heartbeatTicks
                        + ") must be smaller than electionTicks (" + electionTicks + ")");
            }
            if (readPolicy == ReadPolicy.LEASE && !checkQuorum) {
                throw new IllegalArgumentException("ReadPolicy.LEASE needs checkQuorum: a lease rests on voters refusing"
                        + " to vote for another leader within an election timeout of hearing from theirs, which they do"
                        + " only with CheckQuorum on; turn checkQuorum on, or read with READ_INDEX");
            }
            if (readPolicy == ReadPolicy.LEASE && clockDriftTicks >= electionTicks) {
                throw new IllegalArgumentException("ReadPolicy.LEASE needs clockDriftTicks (" + clockDriftTicks
                        + ") below electionTicks (" + electionTicks + "): a lease lasts electionTicks - clockDriftTicks ticks");
            }
            return new RaftConfig(this);
        }
    }
}
