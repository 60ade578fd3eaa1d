package io.raftkv.bench;

import io.raftkv.cli.RaftkvCommand;
import io.raftkv.transport.tcp.LoopbackPorts;
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

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

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
    private final List<Process> nodes = new ArrayList<>();
    private Path data;
    private SocketClusterTarget target;
    private CommitTarget.Writer writer;
    private String value;
    private int n;

    @Setup(Level.Trial)
    public void start() throws IOException {
        value = CommitTargets.value(valueBytes);
        data = Files.createTempDirectory("raftkv-bench-nodes");
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(3);
        StringBuilder list = new StringBuilder();
        peers.forEach((id, a) -> list.append(list.isEmpty() ? "" : ",").append(id).append("=127.0.0.1:").append(a.getPort()));
        String java = ProcessHandle.current().info().command().orElseThrow();
        for (int id : peers.keySet()) {
            nodes.add(new ProcessBuilder(java, "-Xmx" + nodeHeap, "-cp", System.getProperty("java.class.path"),
                    RaftkvCommand.class.getName(), "node", "--id", Integer.toString(id), "--peers", list.toString(),
                    "--data", data.resolve("node-" + id).toString(), "--no-fsync", "--threads", threads)
                    .redirectErrorStream(true).redirectOutput(data.resolve("node-" + id + ".log").toFile()).start());
        }
        target = new SocketClusterTarget(peers, "raftkv", threads.equals("platform")
                ? Thread.ofPlatform().daemon().factory() : Thread.ofVirtual().factory());
        writer = target.newWriter();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) { // the nodes' JVMs are starting: the first put retries until a leader answers
            try {
                writer.put("warm", value);
                return;
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("the node processes did not serve within 30 s", e);
            }
        }
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException, InterruptedException {
        if (target != null) target.close();
        for (Process p : nodes) p.toHandle().destroy(); // SIGTERM: a graceful stop
        for (Process p : nodes) {
            if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
        }
        if (data != null) {
            try (Stream<Path> files = Files.walk(data)) {
                for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
            }
        }
    }

    @Benchmark
    public void put() {
        writer.put(keys[n++ & 1023], value);
    }
}
