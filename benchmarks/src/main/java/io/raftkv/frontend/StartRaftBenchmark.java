package io.raftkv.frontend;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.raftkv.frontend.proto.Empty;
import io.raftkv.frontend.proto.FrontEndGrpc;
import io.raftkv.frontend.proto.IntegerArg;
import io.raftkv.frontend.proto.KeyValueStoreGrpc;
import io.raftkv.frontend.proto.State;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * What the harness of the system raftkv replaces waits for after {@code StartRaft(5)}: the time until one of
 * the five new server processes says it leads ({@code GetState}), JVM starts included. The front end runs
 * from the command-line jar ({@code target/raftkv.jar}, so that its servers use the class archive it
 * records), as a user runs it; build it first with {@code ./mvn21 -q package -DskipTests}. Each iteration
 * is one StartRaft, which kills the previous iteration's servers first.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 10)
@Fork(1)
@org.openjdk.jmh.annotations.State(Scope.Benchmark)
public class StartRaftBenchmark {
    private static final int N = 5;
    private Process frontend;
    private ManagedChannel front;
    private final List<ManagedChannel> servers = new ArrayList<>();
    private int serverBase;
    private Path data;

    @Setup
    public void startFrontend() throws IOException, InterruptedException {
        Path jar = Path.of("target", "raftkv.jar");
        if (!Files.isRegularFile(jar)) throw new IllegalStateException("build the jar first: ./mvn21 -q package -DskipTests");
        data = Files.createTempDirectory("raftkv-startraft-bench");
        int port = freePort();
        serverBase = 21000;
        String java = ProcessHandle.current().info().command().orElseThrow();
        frontend = new ProcessBuilder(java, "-jar", jar.toString(), "frontend", "--port", Integer.toString(port),
                "--server-base-port", Integer.toString(serverBase), "--source-base-port", "27001", "--data", data.toString())
                .redirectErrorStream(true).redirectOutput(data.resolve("frontend.log").toFile()).start();
        front = NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", port)).usePlaintext().build();
        for (int i = 1; i <= N; i++) {
            servers.add(NettyChannelBuilder.forAddress(new InetSocketAddress("127.0.0.1", serverBase + i)).usePlaintext().build());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!Files.readString(data.resolve("frontend.log")).contains("frontend serving")) {
            if (!frontend.isAlive() || System.nanoTime() - deadline > 0) {
                throw new IllegalStateException("the front end did not start: " + Files.readString(data.resolve("frontend.log")));
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
        }
    }

    @Benchmark
    public int startRaftToLeader() {
        FrontEndGrpc.newBlockingStub(front).withDeadlineAfter(5, TimeUnit.SECONDS)
                .startRaft(IntegerArg.newBuilder().setArg(N).build());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() - deadline < 0) {
            for (int i = 0; i < N; i++) {
                try {
                    State s = KeyValueStoreGrpc.newBlockingStub(servers.get(i)).withDeadlineAfter(200, TimeUnit.MILLISECONDS)
                            .getState(Empty.getDefaultInstance());
                    if (s.getIsLeader()) return i + 1;
                } catch (StatusRuntimeException notYet) {
                    servers.get(i).resetConnectBackoff(); // ask again at the next poll, not after gRPC's backoff
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        throw new IllegalStateException("no leader within 60 s of StartRaft");
    }

    @TearDown
    public void stop() throws InterruptedException {
        front.shutdownNow();
        servers.forEach(ManagedChannel::shutdownNow);
        frontend.destroy(); // its shutdown hook stops the servers it started
        if (!frontend.waitFor(20, TimeUnit.SECONDS)) frontend.destroyForcibly();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
