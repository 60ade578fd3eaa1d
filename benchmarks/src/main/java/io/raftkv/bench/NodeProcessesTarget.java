package io.raftkv.bench;

import io.raftkv.cli.RaftkvCommand;
import io.raftkv.transport.tcp.LoopbackPorts;

import java.io.IOException;
import java.io.UncheckedIOException;
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
 * Socket mode as a user runs it: {@code nodes} {@code raftkv node} processes on loopback TCP (no fsync),
 * started on this JVM's JDK and class path with {@code nodeHeap} each and their threads ({@code raftkv node
 * --threads}) virtual or platform, reached from this process through {@link SocketClusterTarget} (one
 * shared, pipelined connection per node; its reader threads of the same kind). Node logs go to a
 * temporary directory that {@link #close()} removes with the data. {@code -Dbench.nodeArgs="..."} adds
 * options to every node's command line (such as {@code --snapshot-every 4m}).
 */
final class NodeProcessesTarget implements CommitTarget {
    private static final long START_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final List<Process> processes = new ArrayList<>();
    private final Path data;
    private final SocketClusterTarget target;
    private final String name;

    NodeProcessesTarget(int nodes, String threads, String nodeHeap) {
        if (!threads.equals("virtual") && !threads.equals("platform")) {
            throw new IllegalArgumentException("threads must be virtual or platform, was '" + threads + "'");
        }
        this.name = "raftkv-procs" + (threads.equals("platform") ? "-platform" : "");
        try {
            data = Files.createTempDirectory("raftkv-bench-nodes");
            Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(nodes);
            StringBuilder list = new StringBuilder();
            peers.forEach((id, a) -> list.append(list.isEmpty() ? "" : ",").append(id).append("=127.0.0.1:").append(a.getPort()));
            String java = ProcessHandle.current().info().command().orElseThrow();
            // More raftkv node options, such as "--snapshot-every 4m", from -Dbench.nodeArgs.
            String[] extra = System.getProperty("bench.nodeArgs", "").isBlank() ? new String[0]
                    : System.getProperty("bench.nodeArgs").trim().split("\\s+");
            for (int id : peers.keySet()) {
                List<String> command = new ArrayList<>(List.of(java, "-Xmx" + nodeHeap, "-cp", System.getProperty("java.class.path"),
                        RaftkvCommand.class.getName(), "node", "--id", Integer.toString(id), "--peers", list.toString(),
                        "--data", data.resolve("node-" + id).toString(), "--no-fsync", "--threads", threads));
                command.addAll(List.of(extra));
                processes.add(new ProcessBuilder(command)
                        .redirectErrorStream(true).redirectOutput(data.resolve("node-" + id + ".log").toFile()).start());
            }
            target = new SocketClusterTarget(peers, "raftkv", threads.equals("platform")
                    ? Thread.ofPlatform().daemon().factory() : Thread.ofVirtual().factory());
        } catch (IOException e) {
            close();
            throw new UncheckedIOException("cannot start the node processes", e);
        }
    }

    @Override
    public String name() {
        return name;
    }

    /** A writer, once the cluster has taken a first write: the node JVMs may still be starting. */
    @Override
    public Writer newWriter() {
        Writer writer = target.newWriter();
        long deadline = System.nanoTime() + START_NANOS;
        while (true) {
            try {
                writer.put("warm", "up");
                return writer;
            } catch (RuntimeException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the node processes did not serve within 30 s; their logs are in " + data, e);
                }
            }
        }
    }

    /**
     * A reader, once the cluster has taken a first write (see {@link #newWriter}), reading from where
     * {@code -Dbench.readFrom} says; the nodes' read policy is theirs ({@code -Dbench.nodeArgs="--reads lease"}).
     */
    @Override
    public Reader newReader() {
        newWriter();
        return target.newReader(CommitTargets.readFrom());
    }

    /** Closes the connections, stops the processes (SIGTERM, then SIGKILL after 10 s) and deletes their data. */
    @Override
    public void close() {
        if (target != null) target.close();
        for (Process p : processes) p.toHandle().destroy();
        try {
            for (Process p : processes) {
                if (!p.waitFor(10, TimeUnit.SECONDS)) p.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            for (Process p : processes) p.destroyForcibly();
        }
        if (data == null) return;
        try (Stream<Path> files = Files.walk(data)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + data, e);
        }
    }
}
