package io.raftkv.bench;

import io.raftkv.cluster.Cluster;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * How long an embedded cluster takes from {@code start()} to a leader recognised by a majority: what
 * a unit test that embeds a cluster pays. Each iteration is one cold start with a new seed; the
 * cluster is closed outside the measured time.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 50)
@Measurement(iterations = 500)
@Fork(1)
@State(Scope.Thread)
public class ClusterStartBenchmark {
    @Param({"3", "5"})
    int nodes;

    private Cluster cluster;
    private long seed = 1;

    @Benchmark
    public int startAndElect() {
        cluster = Cluster.builder().nodes(nodes).seed(seed++).start();
        return cluster.awaitLeader(Duration.ofSeconds(10));
    }

    @TearDown(Level.Iteration)
    public void close() {
        if (cluster != null) cluster.close();
        cluster = null;
    }
}
