package io.raftkv.frontend;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.raftkv.kv.net.SocketNode;
import io.raftkv.raft.Role;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.lang.System.Logger.Level;

/**
 * A class-data sharing archive of what a server loads, made once by a training JVM when the front end
 * starts, so that the n servers of each StartRaft start faster: on two cores, n JVMs loading and
 * verifying the same few thousand classes at once is most of the time from StartRaft to a leader.
 *
 * <p>The training JVM ({@link #main}) runs one single-node server with its gRPC service and one write,
 * then exits; the JVM writes the archive as it exits ({@code -XX:ArchiveClassesAtExit}). Servers started
 * before it is ready, or when training failed (the reason is in {@code class-archive.log}), start without
 * it. Its command line does not contain "raftserver", so no {@code pkill -f raftserver<i>} takes it for a
 * server.
 */
final class ServerClassArchive implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ServerClassArchive.class.getName());

    private final Path file;
    private final Process training;
    private volatile boolean ready;

    private ServerClassArchive(Path file, Process training) {
        this.file = file;
        this.training = training;
    }

    /** Starts the training JVM for servers launched as {@code launch} launches them; returns at once. */
    static ServerClassArchive train(ServerProcesses.Launch launch, Path root) {
        Path file = root.resolve("server-classes.jsa");
        for (String entry : launch.classPath().split(java.io.File.pathSeparator)) {
            if (Files.isDirectory(Path.of(entry))) { // a build's classes, say: the JVM archives classes from jars only
                LOG.log(Level.DEBUG, () -> "servers start without a class archive: the class path has a directory, " + entry);
                return new ServerClassArchive(file, null);
            }
        }
        Path work = root.resolve("class-archive-training");
        List<String> cmd = new ArrayList<>();
        cmd.add(launch.java());
        cmd.addAll(launch.jvmOptions());
        cmd.addAll(List.of("-XX:ArchiveClassesAtExit=" + file, "-cp", launch.classPath(), ServerClassArchive.class.getName(),
                work.toString()));
        try {
            Files.deleteIfExists(file);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
                    .redirectOutput(root.resolve("class-archive.log").toFile()).start();
            ServerClassArchive archive = new ServerClassArchive(file, p);
            p.onExit().thenAccept(done -> {
                archive.ready = done.exitValue() == 0 && Files.isRegularFile(file);
                if (archive.ready) LOG.log(Level.DEBUG, () -> "servers start with the class archive " + file);
                else LOG.log(Level.INFO, () -> "servers start without a class archive: its training ended with status "
                        + done.exitValue() + " (see " + root.resolve("class-archive.log") + ")");
                try {
                    ServerProcesses.deleteRecursively(work);
                } catch (IOException ignored) {
                    // a scratch directory in the front end's data directory
                }
            });
            return archive;
        } catch (IOException e) {
            LOG.log(Level.INFO, "servers start without a class archive: cannot start its training: " + e.getMessage());
            return new ServerClassArchive(file, null);
        }
    }

    /** What a server's JVM needs to use the archive: nothing until it is ready. */
    List<String> jvmOptions() {
        // Quiet: a JVM that cannot use the archive (another JDK, another class path) starts without it.
        return ready ? List.of("-XX:SharedArchiveFile=" + file, "-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off")
                : List.of();
    }

    @Override
    public void close() {
        if (training != null) training.destroyForcibly();
    }

    /** The training: a one-node server, its gRPC service, one write; then exit 0. Argument: a scratch directory. */
    public static void main(String[] args) throws Exception {
        NettyNative.off();
        Path work = Path.of(args[0]);
        ServerProcesses.deleteRecursively(work);
        // The command line's classes too, as a server parses its options.
        new CommandLine(new RaftServerCommand()).setOut(new PrintWriter(new StringWriter())).execute("--help");
        int port;
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Map<Integer, InetSocketAddress> self = Map.of(1, new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
        GrpcSplice grpc = new GrpcSplice();
        try (SocketNode node = SocketNode.start(1, self, work, SocketNode.Options.defaults(), () -> { },
                t -> t.serveAlso(grpc).dialFrom(Map.of()));
             LeaderClients clients = new LeaderClients(self, "raftkv", Duration.ofSeconds(10))) {
            Server server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .executor(Executors.newVirtualThreadPerTaskExecutor())
                    .addService(new KeyValueStoreService(node::status, clients)).build().start();
            grpc.target((InetSocketAddress) server.getListenSockets().getFirst());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (node.status().role() != Role.LEADER) {
                if (System.nanoTime() > deadline) throw new IllegalStateException("the training node was not elected in 10 s");
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5));
            }
            clients.put("training", "done");
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        ServerProcesses.deleteRecursively(work);
        LOG.log(Level.INFO, "trained: the class archive is written as this JVM exits");
        System.exit(0);
    }
}
