package io.raftkv.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.fail;

/** What the process tests share: a {@code raftkv node} in a JVM of its own, and waiting on such processes. */
final class NodeProcess {
    private NodeProcess() {}

    /**
     * Starts {@code raftkv node} with {@code nodeArgs} (after {@code node}) in a JVM of its own (256 MiB heap,
     * serial GC, the test's class path, {@code jvmOptions} too), its output merged and echoed as
     * {@code [node ID] line}; each line also goes to {@code lines}, as {@code [ID] line}, if that is not null.
     */
    static Process start(int id, List<String> jvmOptions, List<String> nodeArgs, List<String> lines) throws IOException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>(List.of(java, "-Xmx256m", "-XX:+UseSerialGC"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), RaftkvCommand.class.getName(), "node"));
        cmd.addAll(nodeArgs);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread.ofVirtual().name("node-" + id + "-output").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (lines != null) lines.add("[" + id + "] " + line);
                    System.out.println("[node " + id + "] " + line);
                }
            } catch (IOException ignored) {
                // the process ended
            }
        });
        return p;
    }

    /** The --peers list naming each of {@code addresses} on loopback, as ID=127.0.0.1:PORT,... */
    static String peerList(java.util.Map<Integer, java.net.InetSocketAddress> addresses) {
        StringBuilder sb = new StringBuilder();
        addresses.forEach((id, a) -> sb.append(sb.isEmpty() ? "" : ",").append(id).append("=127.0.0.1:").append(a.getPort()));
        return sb.toString();
    }

    /** Kills every process started (SIGKILL), and waits for each to end: what a test leaves behind. */
    static void stopAll(Process[] processes) {
        for (Process p : processes) if (p != null) p.destroyForcibly();
        for (Process p : processes) {
            if (p == null) continue;
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Waits until {@code condition} holds, for at most {@code wait}; fails the test naming {@code what} if it never does. */
    static void await(String what, Duration wait, BooleanSupplier condition) {
        long deadline = System.nanoTime() + wait.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) fail("timed out after " + wait.toSeconds() + " s waiting for " + what);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // polling remote processes: nothing to wait on
        }
    }
}
