package io.raftkv.frontend;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.raftkv.kv.net.SocketNode;
import io.raftkv.node.NodeStatus;
import io.raftkv.storage.StorageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code raftkv grpc-server raftserver<i>}: server i of a front end's cluster, as {@code raftkv frontend}
 * starts it: one raftkv node whose port (9000 + i) serves its peers, the raftkv client protocol and the
 * gRPC {@code KeyValueStore} service, and which dials each peer from the source port the harness expects.
 */
@Command(name = "grpc-server", mixinStandardHelpOptions = true,
        description = "Run server i of a gRPC front end's cluster (raftkv frontend starts these; see README).")
public final class RaftServerCommand implements Callable<Integer> {
    /** The name's digits: raftserver followed by 1 to 9, and nothing else. */
    static final Pattern NAME = Pattern.compile("raftserver([1-9])");

    @Spec
    private CommandSpec spec;

    @Parameters(index = "0", paramLabel = "raftserverI", description = "raftserver1 to raftserver9: which server this is.")
    private String name;

    @Option(names = "--servers", required = true, paramLabel = "N", description = "How many servers the cluster has.")
    private int servers;

    @Option(names = "--data", required = true, paramLabel = "DIR", description = "This server's own data directory.")
    private Path data;

    @Option(names = "--server-base-port", defaultValue = "" + PortPlan.DEFAULT_SERVER_BASE, paramLabel = "PORT",
            description = "Server i listens on PORT + i (default: ${DEFAULT-VALUE}).")
    private int serverBase;

    @Option(names = "--source-base-port", defaultValue = "" + PortPlan.DEFAULT_SOURCE_BASE, paramLabel = "PORT",
            description = "Server s dials server d from PORT + N*(s-1) + (d-1) (default: ${DEFAULT-VALUE}).")
    private int sourceBase;

    @Option(names = "--cluster-id", defaultValue = "raftkv", paramLabel = "NAME", description = "As for raftkv node.")
    private String clusterId;

    @Option(names = "--no-fsync", description = "Do not force writes to disk before acknowledging them.")
    private boolean noFsync;

    @Option(names = "--timeout-ms", defaultValue = "3000", paramLabel = "MS",
            description = "How long a GET, PUT or REPLACE may take before it fails (default: ${DEFAULT-VALUE}).")
    private int timeoutMillis;

    @Option(names = "--parent", paramLabel = "PID", description = "Stop when this process ends (the front end passes its own).")
    private long parent;

    /**
     * What the front end runs: this command alone, without the rest of the command line, whose set-up (picocli
     * reading every command's annotations) would cost each of the servers starting at once a good part of
     * its start.
     */
    public static void main(String[] args) {
        System.exit(new CommandLine(new RaftServerCommand()).execute(args));
    }

    private static long uptimeMillis() {
        return java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
    }

    @Override
    public Integer call() throws InterruptedException {
        NettyNative.off();
        CommandLine cl = spec.commandLine();
        Matcher m = NAME.matcher(name);
        if (!m.matches()) {
            throw new CommandLine.ParameterException(cl, "Invalid server name '" + name + "': expected raftserver1 to raftserver9");
        }
        int id = Integer.parseInt(m.group(1));
        PortPlan plan;
        try {
            plan = new PortPlan(servers, serverBase, sourceBase);
            plan.server(id);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        if (timeoutMillis < 1) throw new CommandLine.ParameterException(cl, "Invalid value for option '--timeout-ms': must be >= 1");
        PrintWriter out = cl.getOut();
        PrintWriter err = cl.getErr();
        if (parent > 0) {
            // Orphaned servers would hold the ports of the next cluster: go with the front end, however it ends.
            ProcessHandle.of(parent).ifPresentOrElse(p -> p.onExit().thenRun(() -> System.exit(0)), () -> System.exit(0));
        }

        Semaphore changed = new Semaphore(0);
        GrpcSplice grpc = new GrpcSplice();
        SocketNode node;
        try {
            node = SocketNode.start(id, plan.addresses(), data,
                    SocketNode.Options.defaults().withClusterId(clusterId).withSync(!noFsync),
                    changed::release, t -> t.serveAlso(grpc).dialFrom(plan.dialFrom(id)));
        } catch (UncheckedIOException e) {
            err.println("raftkv grpc-server: " + name + ": " + e.getCause().getMessage());
            return 1;
        } catch (StorageException | IllegalArgumentException e) {
            err.println("raftkv grpc-server: " + name + ": " + e.getMessage());
            return 1;
        }
        // The node runs (and may be elected) before gRPC's classes are even loaded: a JVM's start is most of
        // the time a new cluster takes to elect, and gRPC is only needed when a gRPC call comes.
        LeaderClients clients = new LeaderClients(plan.addresses(), clusterId, java.time.Duration.ofMillis(timeoutMillis));
        Server server;
        try {
            server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
                    .executor(Executors.newVirtualThreadPerTaskExecutor())
                    .addService(new KeyValueStoreService(node::status, clients)).build().start();
        } catch (IOException e) {
            err.println("raftkv grpc-server: " + name + ": cannot start its gRPC server: " + e.getMessage());
            node.close();
            return 1;
        }
        grpc.target((InetSocketAddress) server.getListenSockets().getFirst());
        out.printf("%s (server %d of %d) serving peers, clients and gRPC KeyValueStore on %s; data in %s (%d ms after"
                + " the JVM started)%n", name, id, servers, node.address(), data, uptimeMillis());
        out.flush();

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdownNow();
            clients.close();
            node.close();
            stopped.countDown();
        }, "raftserver-shutdown"));
        NodeStatus shown = null;
        while (stopped.getCount() > 0) {
            changed.tryAcquire(1, TimeUnit.SECONDS);
            changed.drainPermits();
            if (node.failure() != null) {
                err.println("raftkv grpc-server: " + name + " failed: " + node.failure());
                return 1;
            }
            NodeStatus s = node.status();
            if (shown == null || s.role() != shown.role() || s.term() != shown.term() || s.leader() != shown.leader()) {
                out.printf("term %d: %s%s (at %d ms)%n", s.term(), s.role().name().toLowerCase(Locale.ROOT).replace('_', '-'),
                        s.leader() == 0 ? ", no leader known" : s.leader() == id ? "" : ", leader is server " + s.leader(),
                        uptimeMillis());
                out.flush();
                shown = s;
            }
        }
        return 0;
    }
}
