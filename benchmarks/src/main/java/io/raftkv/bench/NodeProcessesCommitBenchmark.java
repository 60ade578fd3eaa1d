package io.raftkv.bench;

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

import java.util.concurrent.TimeUnit;

/**
 * Commit latency across process boundaries: three {@code raftkv node} processes on loopback TCP (no
 * fsync), and one client in the benchmark's JVM calling {@code put} in a closed loop through
 * {@link SocketClusterTarget}. The nodes run on the JDK and class path of this JVM, with
 * {@code nodeHeap} each, their threads ({@code raftkv node --threads}) and the client's socket readers
 * virtual or platform threads. Compare with {@link CommitLatencyBenchmark}'s {@code raftkv-tcp} (the same
 * sockets within one JVM) and {@code raftkv} (in memory):
 * <pre>./mvn21 -q test-compile exec:exec@jmh -Djmh.args="NodeProcessesCommitBenchmark"</pre>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 3, time = 3)
@Fork(1)
@State(Scope.Benchmark)
public class NodeProcessesCommitBenchmark {
    @Param({"128"})
    int valueBytes;

    @Param({"256m"})
    String nodeHeap;

    /** The nodes' {@code --threads}, and the kind of the client's socket reader threads. */
    @Param({"virtual", "platform"})
    String threads;

    private final String[] keys = CommitTargets.keys();
    private NodeProcessesTarget target;
    private CommitTarget.Writer writer;
    private String value;
    private int n;

    @Setup(Level.Trial)
    public void start() {
        value = CommitTargets.value(valueBytes);
        target = new NodeProcessesTarget(3, threads, nodeHeap);
        writer = target.newWriter();
    }

    @TearDown(Level.Trial)
    public void stop() {
        if (target != null) target.close();
    }

    @Benchmark
    public void put() {
        writer.put(keys[n++ & 1023], value);
    }
}
