package io.raftkv.bench;

import io.raftkv.cluster.Cluster;
import io.raftkv.cluster.ClusterTransport;
import io.raftkv.kv.KvClient;
import io.raftkv.storage.FileStorage;
import io.raftkv.storage.FileStorageForces;
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
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.IterationParams;
import org.openjdk.jmh.runner.IterationType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.Stream;

/**
 * Commit throughput and latency of a 3-node cluster in one JVM whose nodes keep their logs in files,
 * every write forced to disk: one {@code put} of a 128-byte value, from the client's call until the
 * leader answers (committed and applied). With one client each commit pays its own fsyncs; with 64
 * clients a node's ready batch carries many entries and forces them once (group commit). After each
 * iteration it prints the commits per fsync, counted from the stores themselves.
 */
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(1)
public class FileCommitBenchmark {
    private static final String VALUE = "v".repeat(128);

    /** The cluster, its stores by node id, and what was committed and forced since the iteration began. */
    @State(Scope.Benchmark)
    public static class FileCluster {
        Path dir;
        Cluster cluster;
        final Map<Integer, FileStorage> stores = new ConcurrentHashMap<>();
        final LongAdder commits = new LongAdder();
        final AtomicInteger clients = new AtomicInteger();

        private long startNanos;
        private long startCommits;
        private long startLeaderForces;
        private long startAllForces;
        private int leader;
        private long measuredCommits;
        private long measuredLeaderForces;
        private long measuredAllForces;
        private long measuredNanos;

        /**
         * How the nodes talk: {@code memory} (the in-memory network), {@code tcp} (loopback sockets, virtual
         * threads) or {@code tcp-platform} (loopback sockets, each node's platform thread serving its own
         * connections, as a {@code raftkv node} process runs); over TCP the clients are too.
         */
        @Param({"memory"})
        String transport;

        @Setup(Level.Trial)
        public void start() throws IOException {
            dir = Files.createTempDirectory("raftkv-file-commit-");
            Cluster.Builder b = switch (transport) {
                case "memory" -> Cluster.builder();
                case "tcp" -> Cluster.builder().transport(ClusterTransport.TCP);
                case "tcp-platform" -> Cluster.builder().transport(ClusterTransport.TCP).platformThreads(true);
                default -> throw new IllegalArgumentException("transport must be memory, tcp or tcp-platform, was " + transport);
            };
            // What Cluster.Builder.storage(dir) does, keeping each store to read its force counter.
            cluster = b.nodes(3)
                    .storage(id -> {
                        FileStorage s = FileStorage.open(dir.resolve("node-" + id), FileStorage.Options.defaults());
                        stores.put(id, s);
                        return s;
                    })
                    .start();
            cluster.awaitLeader(Duration.ofSeconds(10));
        }

        @Setup(Level.Iteration)
        public void mark() {
            leader = cluster.awaitLeader(Duration.ofSeconds(10));
            startCommits = commits.sum();
            startLeaderForces = FileStorageForces.of(stores.get(leader));
            startAllForces = allForces();
            startNanos = System.nanoTime();
        }

        @TearDown(Level.Iteration)
        public void report(IterationParams iteration) {
            long nanos = System.nanoTime() - startNanos;
            long n = commits.sum() - startCommits;
            long leaderForces = FileStorageForces.of(stores.get(leader)) - startLeaderForces;
            long all = allForces() - startAllForces;
            System.out.printf("%n  [file storage] %d commits in %.2f s (%.0f ops/s); fsyncs: leader %d, all nodes %d; "
                            + "commits per leader fsync %.2f, per fsync on any node %.2f%n",
                    n, nanos / 1e9, n / (nanos / 1e9), leaderForces, all, (double) n / leaderForces, (double) n / all);
            if (iteration.getType() == IterationType.MEASUREMENT) {
                measuredCommits += n;
                measuredLeaderForces += leaderForces;
                measuredAllForces += all;
                measuredNanos += nanos;
            }
        }

        @TearDown(Level.Trial)
        public void close() throws IOException {
            System.out.printf("%n  [file storage, measured iterations] %d commits, %.0f ops/s; %.2f commits per leader "
                            + "fsync, %.2f per fsync on any node (%d leader fsyncs, %d in all)%n",
                    measuredCommits, measuredCommits / (measuredNanos / 1e9),
                    (double) measuredCommits / measuredLeaderForces, (double) measuredCommits / measuredAllForces,
                    measuredLeaderForces, measuredAllForces);
            cluster.close();
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
            }
        }

        private long allForces() {
            long sum = 0;
            for (FileStorage s : stores.values()) sum += FileStorageForces.of(s);
            return sum;
        }
    }

    /** One client per benchmark thread, writing its own key over and over. */
    @State(Scope.Thread)
    public static class Writer {
        KvClient client;
        String key;

        @Setup(Level.Trial)
        public void open(FileCluster c) {
            client = c.cluster.newClient();
            key = "k-" + c.clients.incrementAndGet();
        }
    }

    @Benchmark
    @Threads(1)
    public void oneClient(FileCluster c, Writer w) {
        w.client.put(w.key, VALUE);
        c.commits.increment();
    }

    @Benchmark
    @Threads(64)
    public void clients64(FileCluster c, Writer w) {
        w.client.put(w.key, VALUE);
        c.commits.increment();
    }
}
