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
import org.openjdk.jmh.infra.BenchmarkParams;

import java.util.concurrent.TimeUnit;

/**
 * Commit latency as one client sees it: one {@code put} of a {@code valueBytes} value, from the call
 * until the store answers that it is committed and applied, for raftkv (an embedded cluster with
 * memory storage, through {@link RaftkvTarget}) and MicroRaft 0.7 (through {@code MicroRaftTarget}),
 * on 3 and 5 nodes. Keys cycle through {@code "k" + (i & 1023)}. The store is rebuilt for every
 * iteration, outside the measured time: raftkv's core keeps its whole log in memory for now.
 *
 * <p>{@link #put} is called by JMH's own worker, a platform thread, so every answer wakes that
 * thread through the OS. {@link #putFromVirtualThread} is the same call from a virtual-thread
 * worker ({@code -Djmh.executor=VIRTUAL}, set by its {@code @Fork}): the client an embedding
 * application on virtual threads would be. {@code spins} is {@code Cluster.Builder.spinsBeforePark}
 * (raftkv only; MicroRaft refuses anything but 0).
 *
 * <p>Run the whole matrix (12 settings, 2 methods, about 5 minutes):
 * <pre>./mvn21 -q test-compile exec:exec@jmh -Djmh.args="CommitLatencyBenchmark -prof gc"</pre>
 * One setting, platform-thread client only:
 * <pre>./mvn21 -q test-compile exec:exec@jmh -Djmh.args="CommitLatencyBenchmark.put$ -p system=raftkv -p nodes=3 -p valueBytes=128"</pre>
 * ({@code -jvmArgsAppend} on the command line replaces the virtual-thread method's own; it then
 * refuses to run rather than measure a platform thread under its name.)
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Thread)
public class CommitLatencyBenchmark {
    @Param({"raftkv", "microraft"})
    String system;

    @Param({"3", "5"})
    int nodes;

    @Param({"16", "128", "1024"})
    int valueBytes;

    /** How often an idle raftkv node spins before it parks (Cluster.Builder.spinsBeforePark); 0 parks at once. */
    @Param({"0"})
    int spins;

    private final String[] keys = CommitTargets.keys();
    private CommitTarget target;
    private CommitTarget.Writer writer;
    private String value;
    private int n;

    @Setup(Level.Iteration)
    public void setUp(BenchmarkParams params) {
        CommitTargets.requireThreadKind(params, "putFromVirtualThread");
        value = CommitTargets.value(valueBytes);
        target = CommitTargets.open(system, nodes, spins);
        writer = target.newWriter();
        writer.put("warm", value); // opens raftkv's client session outside the measured time
    }

    @TearDown(Level.Iteration)
    public void tearDown() {
        if (target != null) target.close();
        target = null;
    }

    @Benchmark
    public void put() {
        writer.put(keys[n++ & 1023], value);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = "-Djmh.executor=VIRTUAL")
    public void putFromVirtualThread() {
        writer.put(keys[n++ & 1023], value);
    }
}
