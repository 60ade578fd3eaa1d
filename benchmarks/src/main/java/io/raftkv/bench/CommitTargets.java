package io.raftkv.bench;

import io.raftkv.bench.jraft.JraftTarget;
import io.raftkv.bench.microraft.MicroRaftTarget;
import io.raftkv.client.ReadFrom;
import io.raftkv.cluster.Cluster;
import io.raftkv.raft.ReadPolicy;
import io.raftkv.cluster.ClusterTransport;

/** Opens the {@link CommitTarget} a benchmark's {@code system} parameter names, so every benchmark builds them alike. */
final class CommitTargets {
    /** The seed of every raftkv cluster in the benchmarks, so that runs elect and time out alike. */
    static final long SEED = 7;

    private CommitTargets() {}

    /**
     * A started store of {@code nodes} nodes with a leader: {@code "raftkv"} (an embedded cluster with
     * memory storage, idle nodes spinning {@code spins} times before they park), {@code "raftkv-tcp"} (the
     * same over TCP on loopback ports; {@code "raftkv-tcp-platform"} on platform threads;
     * {@code "raftkv-tls-platform"} that under mutual TLS),
     * {@code "raftkv-procs"} / {@code "raftkv-procs-platform"} ({@code nodes} {@code raftkv node} processes on
     * loopback, on virtual or platform threads, see {@link NodeProcessesTarget}), {@code "microraft"}
     * (MicroRaft 0.7 over an in-memory transport)
     * or {@code "jraft"} (SOFAJRaft 1.4.1 over its own Bolt RPC on loopback ports, RocksDB log without
     * fsync; see {@link JraftTarget}). Neither peer has such a knob: {@code spins} must be 0 for them.
     */
    static CommitTarget open(String system, int nodes, int spins) {
        return switch (system) {
            case "raftkv" -> new RaftkvTarget(Cluster.builder().nodes(nodes).seed(SEED).spinsBeforePark(spins)
                    .readPolicy(readPolicy()), readFrom());
            // The same nodes over TCP on loopback in this JVM: what the sockets, frames and extra threads cost.
            case "raftkv-tcp" -> new RaftkvTarget(Cluster.builder().nodes(nodes).seed(SEED).spinsBeforePark(spins)
                    .transport(ClusterTransport.TCP));
            // The same on platform threads: each node's thread serves its sockets itself, as in socket mode.
            case "raftkv-tcp-platform" -> new RaftkvTarget(Cluster.builder().nodes(nodes).seed(SEED).spinsBeforePark(spins)
                    .transport(ClusterTransport.TCP).platformThreads(true));
            // Socket mode as users run it: node processes on loopback, this JVM their client.
            // As raftkv-tcp-platform, every connection under mutual TLS: what encryption costs. The certificates are
            // the tests' (-Dbench.tlsDir, default library/src/test/resources/tls, from the repository's root).
            case "raftkv-tls-platform" -> new RaftkvTarget(Cluster.builder().nodes(nodes).seed(SEED).spinsBeforePark(spins)
                    .transport(ClusterTransport.TCP).platformThreads(true).tls(benchTls()));
            case "raftkv-procs", "raftkv-procs-platform" -> {
                requireNoSpins("a raftkv node process", spins);
                yield new NodeProcessesTarget(nodes, system.endsWith("-platform") ? "platform" : "virtual", "1g");
            }
            case "microraft" -> {
                requireNoSpins("MicroRaft", spins);
                // Its reads (ClosedLoopBench -Dbench.op=get): -Dbench.query=LINEARIZABLE (the default) or LEADER_LEASE.
                yield new MicroRaftTarget(nodes).queryPolicy(
                        io.microraft.QueryPolicy.valueOf(System.getProperty("bench.query", "LINEARIZABLE")));
            }
            case "jraft" -> {
                requireNoSpins("SOFAJRaft", spins);
                yield new JraftTarget(nodes);
            }
            default -> throw new IllegalArgumentException("unknown system '" + system + "'; expected raftkv, raftkv-tcp, "
                    + "raftkv-tcp-platform, raftkv-tls-platform, raftkv-procs, raftkv-procs-platform, microraft or jraft");
        };
    }

    /**
     * The read policy of a raftkv cluster a read benchmark opens: {@code -Dbench.readPolicy=READ_INDEX} (the
     * default) or {@code LEASE}.
     */
    static ReadPolicy readPolicy() {
        return ReadPolicy.valueOf(System.getProperty("bench.readPolicy", "READ_INDEX"));
    }

    /** Where a raftkv reader sends its reads: {@code -Dbench.readFrom=LEADER} (the default) or {@code ANY}. */
    static ReadFrom readFrom() {
        return ReadFrom.valueOf(System.getProperty("bench.readFrom", "LEADER"));
    }

    private static void requireNoSpins(String peer, int spins) {
        if (spins != 0) {
            // A row labelled microraft/spins=200 would be a copy of spins=0 passed off as another setting.
            throw new IllegalArgumentException("spins is a raftkv setting (Cluster.Builder.spinsBeforePark); "
                    + peer + " has none, so run it with spins=0 only, not " + spins);
        }
    }

    /** The 1024 keys the benchmarks cycle through: {@code "k" + (i & 1023)}, made once so no benchmark times the concatenation. */
    static String[] keys() {
        String[] keys = new String[1024];
        for (int i = 0; i < keys.length; i++) keys[i] = "k" + i;
        return keys;
    }

    /** A value of {@code bytes} bytes in UTF-8 (ASCII, so also that many chars). */
    static String value(int bytes) {
        return "x".repeat(bytes);
    }

    /**
     * Checks that the benchmark runs on a virtual thread exactly when it is the method named
     * {@code virtualMethod}: a -jvmArgsAppend on the command line replaces the one that asks for it.
     */
    static void requireThreadKind(org.openjdk.jmh.infra.BenchmarkParams params, String virtualMethod) {
        boolean wantVirtual = params.getBenchmark().endsWith("." + virtualMethod);
        if (Thread.currentThread().isVirtual() != wantVirtual) {
            throw new IllegalStateException(params.getBenchmark() + " must run on a " + (wantVirtual ? "virtual" : "platform")
                    + " thread but runs on " + Thread.currentThread() + "; was -jvmArgsAppend given on the command line?");
        }
    }

    /** The test certificates, for the TLS benchmark: a node's PKCS#12 store and the CA that signed it. */
    private static io.raftkv.transport.TlsConfig benchTls() {
        java.nio.file.Path dir = java.nio.file.Path.of(System.getProperty("bench.tlsDir", "library/src/test/resources/tls"));
        return io.raftkv.transport.TlsConfig.fromPkcs12(dir.resolve("node.p12"), "changeit".toCharArray(), dir.resolve("ca.pem"));
    }
}
