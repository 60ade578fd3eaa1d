package io.raftkv.bench;

import io.raftkv.cluster.Cluster;
import io.raftkv.kv.KvClient;
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
import java.util.concurrent.TimeUnit;

/**
 * Commit latency as one client sees it: a PUT through KvClient to an embedded cluster with memory
 * storage, from the call to the leader's acknowledgement (proposal, replication to a majority,
 * apply, answer). The cluster is rebuilt each iteration so the in-memory log stays small.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
@State(Scope.Thread)
public class CommitLatencyBenchmark {
    @Param({"3"})
    int nodes;

    @Param({"128"})
    int valueBytes;

    /** How long an idle node spins before parking (see Cluster.Builder.spinsBeforePark). */
    @Param({"0", "200"})
    int spins;

    private Cluster cluster;
    private KvClient client;
    private String value;
    private long n;

    @Setup(Level.Iteration)
    public void setUp() {
        cluster = Cluster.builder().nodes(nodes).seed(7).spinsBeforePark(spins).start();
        cluster.awaitLeader(Duration.ofSeconds(10));
        client = cluster.newClient();
        value = "x".repeat(valueBytes);
        client.put("warm", value);
    }

    @TearDown(Level.Iteration)
    public void tearDown() {
        cluster.close();
    }

    @Benchmark
    public void put() {
        client.put("k" + (n++ & 1023), value);
    }
}
