package io.raftkv.cluster;

import io.raftkv.client.ClientException;
import io.raftkv.kv.KvClient;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * The child process of {@link CrashRecoveryTest}: runs a file-backed 3-node cluster (every write
 * forced to disk) on the directory it is given, with clients that write unique keys and report each
 * write the cluster acknowledged, until it is killed.
 *
 * <p>Arguments: {@code <directory> <run> <clients> <seed>}. Prints, one line each, flushed:
 * {@code READY} once a leader is elected, then {@code ACK <key> <value>} after every {@code put}
 * that returned normally (never before). Keys are {@code k-r<run>c<client>-<n>}, values
 * {@code v-<n>}, so every key is written once across all runs. A shutdown hook prints
 * {@code SHUTDOWN}: a SIGKILL never runs it, so the test can tell a kill from a graceful stop. The
 * worker halts when its standard input ends, so it cannot outlive a test JVM that died.
 */
public final class CrashWorker {
    private CrashWorker() {}

    public static void main(String[] args) throws InterruptedException {
        if (args.length != 4) {
            System.err.println("usage: CrashWorker <directory> <run> <clients> <seed>");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        String run = args[1];
        int clients = Integer.parseInt(args[2]);
        long seed = Long.parseLong(args[3]);
        PrintStream out = System.out;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            out.println("SHUTDOWN");
            out.flush();
        }));
        Thread.ofPlatform().daemon().name("stdin-watch").start(CrashWorker::haltWhenStdinEnds);

        // Not closed: the process ends by SIGKILL, which is the point.
        Cluster cluster = Cluster.builder().nodes(3).seed(seed).storage(dir).start();
        cluster.awaitLeader(Duration.ofSeconds(30));
        out.println("READY");
        out.flush();
        for (int c = 0; c < clients; c++) {
            String client = "r" + run + "c" + c;
            KvClient kv = cluster.newClient();
            Thread.ofVirtual().name("client-" + client).start(() -> write(kv, client, out));
        }
        new CountDownLatch(1).await(); // until killed
    }

    private static void write(KvClient kv, String client, PrintStream out) {
        for (long n = 0; ; n++) {
            String key = "k-" + client + "-" + n;
            String value = "v-" + n;
            try {
                kv.put(key, value);
            } catch (ClientException e) {
                // Outcome unknown (no leader within the deadline, say): not acknowledged, so not
                // reported; the next write takes the next key.
                System.err.println("put " + key + " failed: " + e);
                continue;
            }
            // PrintStream.println holds its lock for the whole line, so lines of different clients never interleave.
            out.println("ACK " + key + " " + value);
            out.flush();
        }
    }

    private static void haltWhenStdinEnds() {
        try {
            while (System.in.read() >= 0) {
                // the test never writes; wait for end of stream
            }
        } catch (IOException ignored) {
            // a broken pipe means the same: the parent is gone
        }
        Runtime.getRuntime().halt(3);
    }
}
