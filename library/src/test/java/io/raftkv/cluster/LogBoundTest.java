package io.raftkv.cluster;

import io.raftkv.node.SnapshotPolicy;
import io.raftkv.node.SnapshotStats;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The log a node keeps on the heap stays within its bound under load, with the default policy: the
 * bytes applied before a snapshot is taken (twice that, as the log grows on while the snapshot is
 * written), each crossing overshooting by at most what one pass of the node's loop applies, the entries
 * kept behind it, and what is in flight. Not
 * timed: every client looks at every node's published log size after each of its puts.
 */
class LogBoundTest {
    private static final int CLIENTS = 16;
    private static final String VALUE = "v".repeat(128);

    @Test
    void theHeapLogStaysWithinItsBoundWhileThreeTimesItIsWritten() throws InterruptedException {
        SnapshotPolicy policy = SnapshotPolicy.defaults();
        assertTrue(policy.logBytes() <= 8L << 20, "the default bound is a few MiB, not " + policy.logBytes());
        // An entry: 24 bytes of bookkeeping, the command's 30-byte header and key, the value.
        long entryBytes = 24 + 30 + 8 + VALUE.length();
        // The log grows on while a snapshot is written off the node's thread: up to twice the threshold. A node
        // checks the threshold once per pass of its loop, so each crossing may overshoot by what one pass applies
        // (a follower that was held up applies its whole backlog at once): that is added below, as observed.
        long base = 2 * policy.logBytes() + (policy.trailingEntries() + 2L * CLIENTS + 64) * entryBytes;
        long toWrite = 3 * base;
        int putsEach = (int) (toWrite / entryBytes / CLIENTS) + 1;

        AtomicLong mostAppliedInAPass = new AtomicLong();
        try (Cluster cluster = Cluster.builder().nodes(3)
                .passObserver(p -> mostAppliedInAPass.accumulateAndGet(p.entriesApplied(), Math::max)).start()) {
            cluster.awaitLeader(java.time.Duration.ofSeconds(5));
            long largest = HeapLogWatch.putAndWatch(cluster, CLIENTS, putsEach, VALUE);
            long bound = base + 2 * mostAppliedInAPass.get() * entryBytes;
            System.out.println("LogBoundTest: at most " + largest + " bytes of log on a node; bound " + bound + " ("
                    + base + " and twice the most one pass applied, " + mostAppliedInAPass.get() + " entries)");
            long taken = 0;
            for (int node : cluster.nodeIds()) {
                SnapshotStats s = cluster.snapshotStats(node).orElseThrow();
                taken += s.taken();
                assertTrue(s.logBytes() <= bound, "node " + node + " holds " + s.logBytes() + " bytes of log; bound " + bound);
            }
            assertTrue(taken >= 3, "three times the bound was written, yet only " + taken + " snapshots were taken");
            assertTrue(largest <= bound, "a node held " + largest + " bytes of log; the bound is " + bound);
            assertTrue(largest > policy.logBytes() / 2, "the log never grew: " + largest + " bytes at most");
        }
    }
}
