package io.raftkv.cluster;

import io.raftkv.node.NodeStatus;
import io.raftkv.raft.Role;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Samples a cluster's statuses on a background thread for as long as it is open, recording which
 * node was seen leading in each term, so that a test can assert Raft's election safety: at most one
 * leader per term. Close it before the cluster.
 */
final class LeaderSampler implements AutoCloseable {
    private static final long PERIOD_NANOS = TimeUnit.MICROSECONDS.toNanos(500);

    private final Cluster cluster;
    private final Thread thread;
    // Guarded by this.
    private final Map<Long, Integer> leaderOfTerm = new TreeMap<>();
    private final List<String> violations = new ArrayList<>();
    private long samples;
    private volatile boolean stopping;
    private volatile Throwable failure;

    private LeaderSampler(Cluster cluster) {
        this.cluster = cluster;
        // Not named raftkv-*: the thread-leak test looks for those.
        this.thread = Thread.ofPlatform().daemon().name("test-leader-sampler").unstarted(this::run);
    }

    static LeaderSampler start(Cluster cluster) {
        LeaderSampler s = new LeaderSampler(cluster);
        s.sample();
        s.thread.start();
        return s;
    }

    private void run() {
        try {
            while (!stopping) {
                sample();
                LockSupport.parkNanos(PERIOD_NANOS);
            }
        } catch (Throwable t) {
            failure = t;
        }
    }

    /** Takes one sample now, on the caller's thread. */
    synchronized void sample() {
        samples++;
        for (NodeStatus s : cluster.statuses()) {
            if (!s.alive() || s.role() != Role.LEADER) continue;
            Integer earlier = leaderOfTerm.putIfAbsent(s.term(), s.id());
            if (earlier != null && earlier != s.id()) {
                violations.add("term " + s.term() + " has two leaders, nodes " + earlier + " and " + s.id());
            }
        }
    }

    /** The leaders seen so far, by term. */
    synchronized Map<Long, Integer> leadersByTerm() {
        return new TreeMap<>(leaderOfTerm);
    }

    synchronized long samples() {
        return samples;
    }

    /** Fails the test if two nodes were ever seen leading in the same term, or if sampling broke. */
    synchronized void assertOneLeaderPerTerm() {
        if (failure != null) fail("the leader sampler stopped on an error", failure);
        sample();
        assertTrue(violations.isEmpty(), "election safety violated: " + violations + "; leaders by term: " + leaderOfTerm);
        assertTrue(samples > 1, "the sampler took no samples");
    }

    /** Stops sampling; the cluster must still be open. */
    @Override
    public void close() {
        stopping = true;
        LockSupport.unpark(thread);
        try {
            if (!thread.join(Duration.ofSeconds(5))) fail("the leader sampler did not stop within 5 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted while stopping the leader sampler");
        }
    }
}
