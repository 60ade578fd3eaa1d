package io.raftkv.cli;

import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvLimits;
import io.raftkv.kv.net.MembershipOp;
import io.raftkv.kv.net.TcpKvConnector;
import io.raftkv.lincheck.CheckResult;
import io.raftkv.lincheck.HistorySummary;
import io.raftkv.lincheck.LinearizabilityChecker;
import io.raftkv.lincheck.Operation;
import io.raftkv.lincheck.RecordingClient;
import io.raftkv.transport.tcp.LoopbackPorts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Membership by address with {@code raftkv node} processes: three first voters grow to five with nodes that
 * join knowing one seed's address, and shrink back to three until none of the first three is left, while
 * clients that were given one seed address write and read throughout. Their history must be linearizable.
 */
class MembershipByAddressProcessesTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final List<String> KEYS = List.of("a", "b", "c");
    private static final int CLIENTS = 3;
    private final Process[] processes = new Process[7];
    private Map<Integer, InetSocketAddress> addresses;
    private Path data;

    @AfterEach
    void stopAll() {
        NodeProcess.stopAll(processes);
    }

    @Test
    void aClusterGrowsToFiveAndShrinksToThreeNewMembersByAddressWhileClientsWrite(@TempDir Path dir) throws Exception {
        data = dir;
        addresses = LoopbackPorts.reserve(List.of(1, 2, 3, 4, 5, 6));
        String firstThree = "1=" + hostPort(1) + ",2=" + hostPort(2) + ",3=" + hostPort(3);
        for (int id = 1; id <= 3; id++) startNode(id, "--peers", firstThree);

        long seed = System.nanoTime();
        System.out.println("MembershipByAddressProcessesTest: seed " + seed);
        try (TcpKvConnector connector = TcpKvConnector.discover(List.of(addresses.get(1)), "raftkv", WAIT)) {
            AtomicBoolean stop = new AtomicBoolean();
            List<RecordingClient> workers = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                workers.add(new RecordingClient(c, new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500)),
                        KEYS, new SplittableRandom(seed + c), stop, TimeUnit.MILLISECONDS.toNanos(2)));
            }
            for (RecordingClient w : workers) threads.add(Thread.ofVirtual().name("client-" + w.id()).start(w));

            join(connector, 4, 1, "voters [1, 2, 3, 4]");
            join(connector, 5, 2, "voters [1, 2, 3, 4, 5]");
            remove(1, "voters [2, 3, 4, 5]");
            join(connector, 6, 5, "voters [2, 3, 4, 5, 6]");
            remove(2, "voters [3, 4, 5, 6]");
            remove(3, "voters [4, 5, 6]");
            awaitCondition("the clients to follow the members", () -> connector.nodes().equals(List.of(4, 5, 6)));
            // Each client goes on past the last removal: it has to reach the three new members alone.
            for (RecordingClient w : workers) {
                int before = w.completed();
                awaitCondition("client " + w.id() + " to complete operations on the new members", () -> w.completed() >= before + 20);
            }

            stop.set(true);
            for (Thread t : threads) assertTrue(t.join(WAIT), t.getName() + " stopped");
            List<Operation> history = new ArrayList<>();
            for (RecordingClient w : workers) {
                if (w.failure() != null) throw new AssertionError("client " + w.id() + " failed (seed " + seed + ")", w.failure());
                history.addAll(w.history());
            }
            history.addAll(RecordingClient.finalReads(CLIENTS, new KvClient(connector, KvLimits.DEFAULT, WAIT,
                    Duration.ofMillis(500)), KEYS));
            HistorySummary summary = HistorySummary.of(history, workers);
            System.out.println("MembershipByAddressProcessesTest: seed " + seed + "; " + summary);
            assertTrue(summary.completed() > 0, summary.toString());
            List<String> lost = RecordingClient.lostWrites(history, KEYS, CLIENTS);
            assertTrue(lost.isEmpty(), "seed " + seed + ": acknowledged writes lost: " + lost);
            CheckResult result = LinearizabilityChecker.check(history);
            assertTrue(result.ok(), "seed " + seed + ": " + result.verdict() + " (key " + result.key() + "): " + result.explanation());
        }
    }

    /** Starts node {@code id} with --join naming node {@code seed} only, and waits until the members are {@code expected}. */
    private void join(TcpKvConnector connector, int id, int seed, String expected) throws IOException {
        startNode(id, "--join", hostPort(seed), "--address", hostPort(id));
        awaitCondition("the members to be " + expected, () -> {
            try {
                return connector.membership(MembershipOp.MEMBERS, 0, Duration.ofSeconds(2)).equals(expected);
            } catch (RuntimeException notYet) {
                return false;
            }
        });
    }

    /**
     * Removes node {@code id} with {@code raftkv client}, given only the address of a member that joined later
     * (the last one), checks the members it prints, and stops the removed node's process.
     */
    private void remove(int id, String expected) throws InterruptedException {
        int newest = 6;
        while (processes[newest] == null) newest--;
        Run r = run("client", "--peers", newest + "=" + hostPort(newest), "--timeout-ms", "20000", "remove-node", Integer.toString(id));
        assertEquals(0, r.code, r.err);
        assertEquals(expected, r.out.strip());
        processes[id].destroy();
        assertTrue(processes[id].waitFor(30, TimeUnit.SECONDS), "node " + id + " stops");
    }

    private String hostPort(int id) {
        return "127.0.0.1:" + addresses.get(id).getPort();
    }

    private void startNode(int id, String... how) throws IOException {
        List<String> args = new ArrayList<>(List.of("--id", Integer.toString(id), "--data", data.resolve("node-" + id).toString(),
                "--no-fsync", "--snapshot-every", "16k"));
        args.addAll(List.of(how));
        processes[id] = NodeProcess.start(id, List.of(), args, null);
    }

    private static void awaitCondition(String what, BooleanSupplier condition) {
        NodeProcess.await(what, WAIT, condition);
    }

    private static Run run(String... args) {
        return Run.run(args);
    }
}
