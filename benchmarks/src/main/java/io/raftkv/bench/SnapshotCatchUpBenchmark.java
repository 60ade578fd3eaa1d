package io.raftkv.bench;

import io.raftkv.cluster.Cluster;
import io.raftkv.cluster.ClusterTransport;
import io.raftkv.kv.KvClient;
import io.raftkv.node.NodeStatus;
import io.raftkv.node.SnapshotPolicy;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * How long a follower that missed more than the leader keeps takes to catch up by snapshot: from
 * {@code restart} to having applied everything the leader committed. The state is {@code keys} keys of
 * 100-byte values (the snapshot is about {@code keys} × 110 bytes); before each measurement the follower
 * is down while the others write past two snapshot thresholds, so that the leader has compacted what the
 * follower lacks. In memory and over loopback TCP.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3)
@Measurement(iterations = 10)
@Fork(1)
@State(Scope.Thread)
public class SnapshotCatchUpBenchmark {
    @Param({"10000", "100000"})
    int keys;

    @Param({"IN_MEMORY", "TCP"})
    ClusterTransport transport;

    private static final String VALUE = "v".repeat(100);
    private static final int SNAPSHOT_BYTES = 1 << 20;
    private Cluster cluster;
    private final List<KvClient> clients = new ArrayList<>();

    @Setup(Level.Trial)
    public void fill() throws InterruptedException {
        cluster = Cluster.builder().nodes(3).transport(transport).clientDeadline(Duration.ofSeconds(30))
                .snapshots(SnapshotPolicy.defaults().withLogBytes(SNAPSHOT_BYTES).withTrailingEntries(0)).start();
        cluster.awaitLeader(Duration.ofSeconds(10));
        for (int c = 0; c < 16; c++) clients.add(cluster.newClient());
        writeAll(0, keys);
    }

    /** Writes keys {@code from..to} from 16 clients at once. */
    private void writeAll(int from, int to) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients.size(); c++) {
            KvClient client = clients.get(c);
            int first = from + c;
            threads.add(Thread.ofVirtual().start(() -> {
                for (int k = first; k < to; k += clients.size()) client.put("key-" + k, VALUE);
            }));
        }
        for (Thread t : threads) t.join();
    }

    @Setup(Level.Iteration)
    public void followerMissesMoreThanTheLeaderKeeps() throws InterruptedException {
        cluster.kill(3);
        // Past two thresholds of ~150-byte entries; a node snapshots once its log passes the policy's bytes
        // and the last snapshot's size (about 110 bytes a key), whichever is larger.
        long threshold = Math.max(SNAPSHOT_BYTES, keys * 110L);
        int entries = (int) (2 * threshold / 150 + 1_000);
        for (int done = 0; done < entries; done += Math.min(entries - done, keys)) {
            writeAll(0, Math.min(entries - done, keys));
        }
    }

    @Benchmark
    public long restartAndCatchUp() {
        cluster.restart(3);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            int leader = cluster.leader().orElse(0);
            if (leader != 0) {
                NodeStatus l = cluster.status(leader);
                NodeStatus f = cluster.status(3);
                if (f.appliedIndex() >= l.commitIndex() && f.appliedIndex() > 0) return f.appliedIndex();
            }
            if (System.nanoTime() - deadline > 0) throw new IllegalStateException("node 3 did not catch up: " + cluster.statuses());
            LockSupport.parkNanos(50_000);
        }
    }

    @TearDown(Level.Iteration)
    public void check() {
        long installed = cluster.snapshotStats(3).orElseThrow().installed();
        if (installed < 1) throw new IllegalStateException("node 3 caught up without a snapshot: " + cluster.snapshotStats(3));
    }

    @TearDown(Level.Trial)
    public void close() {
        for (KvClient c : clients) c.close();
        cluster.close();
    }
}
