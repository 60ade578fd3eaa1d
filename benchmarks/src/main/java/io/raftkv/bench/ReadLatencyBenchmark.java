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
import org.openjdk.jmh.infra.BenchmarkParams;

import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Linearizable read latency as one client sees it: one {@link KvClient#get} of a key holding a
 * {@code valueBytes} value, from the call until the leader answers, on an embedded raftkv cluster
 * with memory storage. The read goes through ReadIndex (a heartbeat round confirmed by a majority,
 * then the state machine), not through the log, so the log does not grow and one cluster serves the
 * whole trial. As in {@code CommitLatencyBenchmark}, {@link #get} is called by JMH's worker, a platform
 * thread, and {@link #getFromVirtualThread} by a virtual-thread worker ({@code -Djmh.executor=VIRTUAL},
 * set by its {@code @Fork}; a {@code -jvmArgsAppend} on the command line replaces it, and the method
 * then refuses to run).
 *
 * <p>Run: <pre>./mvn21 -q test-compile exec:exec@jmh -Djmh.args="ReadLatencyBenchmark -prof gc"</pre>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Thread)
public class ReadLatencyBenchmark {
    private static final String KEY = "k";

    @Param({"3"})
    int nodes;

    @Param({"128"})
    int valueBytes;

    private RaftkvTarget target;
    private KvClient client;

    @Setup(Level.Trial)
    public void setUp(BenchmarkParams params) {
        CommitTargets.requireThreadKind(params, "getFromVirtualThread");
        target = new RaftkvTarget(Cluster.builder().nodes(nodes).seed(CommitTargets.SEED));
        client = target.cluster().newClient();
        String value = CommitTargets.value(valueBytes);
        client.put(KEY, value);
        Optional<String> read = client.get(KEY);
        if (!read.equals(Optional.of(value))) {
            throw new IllegalStateException("read back " + read.map(v -> v.length() + " chars").orElse("nothing")
                    + " after a put of " + valueBytes + " bytes");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (target != null) target.close();
    }

    @Benchmark
    public Optional<String> get() {
        return client.get(KEY);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = "-Djmh.executor=VIRTUAL")
    public Optional<String> getFromVirtualThread() {
        return client.get(KEY);
    }
}
