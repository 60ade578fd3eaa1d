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

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/**
 * The floor under socket mode's commit latency: one 32-byte message to an echo thread and back over
 * loopback TCP, blocking sockets, with the echo thread a platform or a virtual thread. A commit
 * crosses four such one-way hops (client to leader, leader to follower and back, leader to client).
 * The benchmark's own thread is JMH's platform worker; {@code -jvmArgsAppend -Djmh.executor=VIRTUAL}
 * puts it on a virtual thread too.
 * <pre>./mvn21 -q test-compile exec:exec@jmh -Djmh.args="LoopbackRoundTrip"</pre>
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
@State(Scope.Thread)
public class LoopbackRoundTripBenchmark {
    @Param({"platform", "virtual"})
    String echoThread;

    private ServerSocket server;
    private Socket socket;
    private Thread echo;
    private InputStream in;
    private OutputStream out;
    private final byte[] message = new byte[32];

    @Setup(Level.Trial)
    public void start() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread.Builder builder = echoThread.equals("virtual") ? Thread.ofVirtual() : Thread.ofPlatform().daemon();
        echo = builder.name("echo").start(() -> {
            try (Socket s = server.accept()) {
                s.setTcpNoDelay(true);
                InputStream i = s.getInputStream();
                OutputStream o = s.getOutputStream();
                byte[] buf = new byte[256];
                for (int n; (n = i.read(buf)) > 0; ) o.write(buf, 0, n);
            } catch (IOException e) {
                // closed at tear-down
            }
        });
        socket = new Socket();
        socket.connect(server.getLocalSocketAddress());
        socket.setTcpNoDelay(true);
        in = socket.getInputStream();
        out = socket.getOutputStream();
    }

    @TearDown(Level.Trial)
    public void stop() throws IOException, InterruptedException {
        socket.close();
        server.close();
        echo.join(5000);
    }

    @Benchmark
    public int roundTrip() throws IOException {
        out.write(message);
        int got = 0;
        while (got < message.length) got += in.read(message, got, message.length - got);
        return got;
    }
}
