package io.raftkv.frontend;

import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * {@code raftkv frontend}: the gRPC {@code FrontEnd} of the system raftkv replaces, on port 8001 of every
 * local address; {@code StartRaft(n)} starts n server processes ({@code raftkv grpc-server raftserver<i>}).
 */
@Command(name = "frontend", mixinStandardHelpOptions = true,
        description = "Serve the gRPC FrontEnd (Get, Put, Replace, StartRaft) of the system raftkv replaces, until"
                + " SIGTERM or Ctrl-C; StartRaft(n) starts n server processes. See README.")
public final class FrontendCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Option(names = "--port", defaultValue = "8001", paramLabel = "PORT",
            description = "The port to serve FrontEnd on, on every local address, IPv4 and IPv6 (default: ${DEFAULT-VALUE}).")
    private int port;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Where the servers keep their data and logs, in server-<i> and server-<i>.log (default: a new"
                    + " temporary directory, deleted when the front end stops). Each StartRaft empties the servers'"
                    + " directories.")
    private Path data;

    @Option(names = "--server-base-port", defaultValue = "" + PortPlan.DEFAULT_SERVER_BASE, paramLabel = "PORT",
            description = "Server i serves its peers and gRPC KeyValueStore on PORT + i (default: ${DEFAULT-VALUE}).")
    private int serverBase;

    @Option(names = "--source-base-port", defaultValue = "" + PortPlan.DEFAULT_SOURCE_BASE, paramLabel = "PORT",
            description = "Server s dials server d from local port PORT + n*(s-1) + (d-1), for firewalls to cut"
                    + " links by (default: ${DEFAULT-VALUE}).")
    private int sourceBase;

    @Option(names = "--timeout-ms", defaultValue = "3000", paramLabel = "MS",
            description = "How long a Get, Put or Replace may take, leader changes included, before it fails with"
                    + " DEADLINE_EXCEEDED (default: ${DEFAULT-VALUE}).")
    private int timeoutMillis;

    @Option(names = "--no-fsync", description = "The servers do not force writes to disk before acknowledging them.")
    private boolean noFsync;

    @Override
    public Integer call() throws InterruptedException {
        NettyNative.off();
        CommandLine cl = spec.commandLine();
        PrintWriter out = cl.getOut();
        PrintWriter err = cl.getErr();
        if (port < 0 || port > 65535) throw new CommandLine.ParameterException(cl, "Invalid value for option '--port': " + port + " is not between 0 and 65535");
        if (timeoutMillis < 1) throw new CommandLine.ParameterException(cl, "Invalid value for option '--timeout-ms': must be >= 1");
        try {
            new PortPlan(1, serverBase, sourceBase); // the bases are checked now; each n is checked at StartRaft
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(cl, e.getMessage());
        }
        String self = ProcessHandle.current().info().commandLine().orElse("");
        if (self.contains(ServerProcesses.NAME_PREFIX)) {
            err.println("raftkv frontend: its own command line contains '" + ServerProcesses.NAME_PREFIX
                    + "', so pkill -f raftserver<i> would kill the front end too: " + self);
            return 1;
        }
        Path root;
        try {
            root = data != null ? Files.createDirectories(data) : Files.createTempDirectory("raftkv-frontend-");
        } catch (IOException e) {
            err.println("raftkv frontend: cannot create the data directory: " + e);
            return 1;
        }
        List<String> serverOptions = new ArrayList<>(List.of("--timeout-ms", Integer.toString(timeoutMillis)));
        if (noFsync) serverOptions.add("--no-fsync");
        ServerProcesses.Launch launch = ServerProcesses.Launch.ofThisJvm(serverOptions);
        try {
            launch.command(PortPlan.standard(1), 1, root.resolve("server-1")); // a data path naming "raftserver" is refused now
        } catch (IllegalArgumentException e) {
            err.println("raftkv frontend: " + e.getMessage());
            return 1;
        }
        ServerClassArchive archive = ServerClassArchive.train(launch, root);
        FrontEndService service = new FrontEndService(root, n -> new PortPlan(n, serverBase, sourceBase),
                () -> launch.withJvmOptions(archive.jvmOptions()), "raftkv", Duration.ofMillis(timeoutMillis));
        Server server;
        try {
            // forPort binds the wildcard address: every local address, IPv6 and (dual-stack) IPv4.
            server = NettyServerBuilder.forPort(port).executor(Executors.newVirtualThreadPerTaskExecutor())
                    .addService(service).build().start();
        } catch (IOException e) {
            archive.close();
            err.println("raftkv frontend: cannot listen on port " + port + ": " + rootCause(e).getMessage()
                    + " (is another process using that port?)");
            return 1;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdownNow();
            archive.close();
            service.close(); // the servers go too
            if (data == null) { // a temporary directory of its own: the servers' data and logs, the class archive
                try {
                    ServerProcesses.deleteRecursively(root);
                } catch (IOException e) {
                    err.println("raftkv frontend: could not delete " + root + ": " + e);
                }
            }
            out.println("frontend stopped");
            out.flush();
            stopped.countDown();
        }, "raftkv-frontend-shutdown"));
        out.printf("frontend serving FrontEnd on port %d (every local address); servers' data and logs in %s%n",
                server.getPort(), root);
        out.flush();
        stopped.await();
        return 0;
    }

    private static Throwable rootCause(Throwable t) {
        while (t.getCause() != null && t.getCause() != t) t = t.getCause();
        return t;
    }
}
