package io.raftkv.cli;

import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvException;
import io.raftkv.kv.KvLimits;
import io.raftkv.kv.net.TcpKvConnector;
import io.raftkv.transport.TlsConfig;
import io.raftkv.node.NodeStatus;
import io.raftkv.raft.Role;
import io.raftkv.transport.tcp.LoopbackPorts;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Three {@code raftkv node} processes on loopback, driven as a user would: {@code raftkv client} and a
 * {@link KvClient} over TCP. The leader is killed with SIGKILL; a new one must serve; the killed node,
 * restarted on its data directory, must catch up; SIGTERM must stop a node gracefully.
 */
class NodeProcessesTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    /** A node's log record as the command line formats it, behind the "[id] " this test adds. */
    private static final Pattern LOG_LINE =
            Pattern.compile("\\[\\d] \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} [A-Z]+ io\\.raftkv\\.[\\w.$]+: .+");
    private final Process[] processes = new Process[5];
    private final List<String> output = new CopyOnWriteArrayList<>();
    private Map<Integer, InetSocketAddress> peers;
    private String peerList;
    private Path data;

    @AfterEach
    void stopAll() {
        NodeProcess.stopAll(processes);
    }

    @Test
    void aNewLeaderServesAfterSigkillAndTheRestartedNodeCatchesUp(@TempDir Path dir) throws Exception {
        reservePeers(dir, 3);
        for (int id = 1; id <= 3; id++) startNode(id, "--pid-file", pidFile(id).toString());

        try (TcpKvConnector connector = new TcpKvConnector(peers, "raftkv")) {
            int leader = awaitLeader(connector, 0);
            for (int id = 1; id <= 3; id++) awaitPidFile(id);
            assertEquals(0, client("put", "colour", "blue"), output::toString);
            assertEquals(List.of("blue"), clientOut("get", "colour"));
            assertEquals(0, client("replace", "colour", "green"));
            assertEquals(1, client("replace", "shape", "round"), "replace of a missing key says so");
            assertEquals(1, client("get", "shape"));

            processes[leader].toHandle().destroyForcibly(); // SIGKILL
            assertTrue(processes[leader].waitFor(10, TimeUnit.SECONDS));
            int next = awaitLeader(connector, leader);
            assertNotEquals(leader, next);
            // The survivors log losing it: one line per record, with its time (raftkv node sets that format).
            await(() -> output.stream().anyMatch(l -> LOG_LINE.matcher(l).matches()) ? true : null,
                    "a log line from a node; output " + output);
            assertTrue(output.stream().noneMatch(l -> l.matches("\\[\\d] (SEVERE|WARNING|INFO|CONFIG|FINE|FINER|FINEST): .*")),
                    () -> "a record in java.util.logging's two-line format: " + output);
            KvClient kv = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            assertEquals(Optional.of("green"), kv.get("colour"), "the new leader has every acknowledged write");
            // More than the 1,024 entries a node keeps behind its snapshot (taken every 16 KiB here): the
            // restarted node can only catch up by the leader's snapshot, over TCP, into its file store.
            for (int i = 0; i < 2_000; i++) kv.put("k" + (i % 50), "v" + i);

            assertTrue(Files.exists(pidFile(leader)), "SIGKILL leaves the pid file behind");
            startNode(leader, "--pid-file", pidFile(leader).toString()); // on the same data directory and pid file
            awaitPidFile(leader); // the file of a process that ended is replaced
            long commit = connector.status(next, WAIT).commitIndex();
            NodeStatus caughtUp = await(() -> {
                try {
                    NodeStatus s = connector.status(leader, Duration.ofSeconds(1));
                    return s.appliedIndex() >= commit ? s : null;
                } catch (KvException e) {
                    return null;
                }
            }, "restarted node " + leader + " to apply up to index " + commit);
            assertEquals(Role.FOLLOWER, caughtUp.role());
            await(() -> output.stream().anyMatch(l -> l.matches("\\[" + leader + "] " + NodeCommandTest.TIME
                            + " installed the leader's snapshot up to index \\d+")) ? true : null,
                    "node " + leader + " to say it installed a snapshot; output " + output);
            assertEquals(Optional.of("v1999"), kv.get("k49"));

            List<String> table = clientOut("status");
            assertEquals(4, table.size(), table::toString);
            assertTrue(table.get(0).startsWith("id"), table::toString);
            assertEquals(1, table.stream().skip(1).filter(l -> l.split("\\s+")[2].equals("leader")).count(), table::toString);

            int follower = peers.keySet().stream().filter(id -> id != next).findFirst().orElseThrow();
            // SIGTERM through the handle: Process.destroy() would also close our end of its output pipe.
            processes[follower].toHandle().destroy();
            assertTrue(processes[follower].waitFor(10, TimeUnit.SECONDS), "SIGTERM stops the node");
            await(() -> output.stream().anyMatch(l -> l.matches("\\[" + follower + "] " + NodeCommandTest.TIME
                            + " node " + follower + " stopped")) ? true : null,
                    "node " + follower + " to say it stopped; output " + output);
            // Its output and its logs, in one stream here as in a log file: a time on every line (but a stack
            // trace's, which belong to the line above).
            assertTrue(output.stream().filter(l -> !l.matches("\\[\\d] (\\s.*|Caused by: .*)"))
                    .allMatch(l -> l.matches("\\[\\d] " + NodeCommandTest.TIME + " .+")), output::toString);
            assertFalse(Files.exists(pidFile(follower)), "a clean exit removes the pid file");
            kv.put("after", "sigterm"); // two of three still serve
            assertEquals(Optional.of("sigterm"), kv.get("after"));
        }
    }

    @Test
    void aPortInUseAndBadFlagsGetClearErrors(@TempDir Path dir) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            String list = "1=127.0.0.1:" + taken.getLocalPort() + ",2=127.0.0.1:1";
            Run r = run("node", "--id", "1", "--peers", list, "--data", dir.resolve("n1").toString());
            assertEquals(1, r.code);
            assertTrue(r.err.contains("cannot listen on") && r.err.contains(Integer.toString(taken.getLocalPort())), r.err);
        }
        Run r = run("node", "--id", "4", "--peers", "1=127.0.0.1:7001,2=127.0.0.1:7002", "--data", dir.toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("node 4 is not in --peers"), r.err);
        r = run("node", "--id", "1", "--peers", "1=127.0.0.1:70001", "--data", dir.toString());
        assertEquals(2, r.code);
        assertTrue(r.err.contains("port 70001 is not between 1 and 65535"), r.err);
        r = run("node", "--id", "1", "--peers", "1=127.0.0.1:7001", "--data", dir.toString(), "--threads", "green");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("expected virtual or platform"), r.err);
        r = run("node", "--id", "1", "--peers", "1=127.0.0.1:7001", "--data", dir.toString(), "--tls-cert", "node.pem");
        assertEquals(1, r.code);
        assertTrue(r.err.contains("TLS needs --tls-ca FILE"), r.err);
        r = run("node", "--id", "1", "--peers", "1=127.0.0.1:7001", "--data", dir.toString(), "--tls-ca",
                dir.resolve("missing-ca.pem").toString());
        assertEquals(1, r.code);
        assertTrue(r.err.contains("a node's TLS needs --tls-cert FILE"), r.err);
        r = run("node", "--id", "1", "--peers", "1=127.0.0.1:7001", "--data", dir.toString(), "--tls-cert",
                dir.resolve("missing.pem").toString(), "--tls-key", dir.resolve("missing-key.pem").toString(), "--tls-ca",
                dir.resolve("missing-ca.pem").toString());
        assertEquals(1, r.code);
        assertTrue(r.err.contains("no such file") && r.err.contains("missing.pem"), r.err);
        for (String option : new String[] {"--snapshot-every", "--log-cache"}) {
            for (String size : new String[] {"0", "-5m", "12q", "m", "99999999999g"}) {
                r = run("node", "--id", "1", "--peers", "1=127.0.0.1:7001", "--data", dir.toString(), option, size);
                assertEquals(2, r.code, size);
                assertTrue(r.err.contains("'" + option + "': '" + size + "'; expected a positive size"), r.err);
            }
        }
        r = run("client", "--peers", "1=localhost", "get", "k");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("expected HOST:PORT"), r.err);
        r = run("client", "--peers", "1=127.0.0.1:7001", "frobnicate", "k");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("Unknown command 'frobnicate'"), r.err);

        int dead;
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        // Long enough for a cold client process on a busy machine to see the refused connection at least once.
        r = run("client", "--peers", "1=127.0.0.1:" + dead, "--timeout-ms", "2000", "put", "k", "v");
        assertEquals(3, r.code);
        assertTrue(r.err.contains("cannot reach node 1") && r.err.contains("may or may not have been applied"), r.err);
    }

    /**
     * Membership from the command line: four addresses known to all, three voters at first; node 4 is
     * added (learner, caught up, promoted), handed leadership, and another node is removed. The nodes hold an
     * admin token: a client without it, or with another, is refused and changes nothing.
     */
    @Test
    void nodesAreAddedRemovedAndHandedLeadershipFromTheCommandLine(@TempDir Path dir) throws Exception {
        reservePeers(dir, 4);
        Path token = Files.writeString(dir.resolve("admin-token"), "s3cret\n");
        Path wrong = Files.writeString(dir.resolve("wrong-token"), "guess\n");
        String tokenFlag = "--admin-token-file";
        for (int id = 1; id <= 3; id++) startNode(id, "--voters", "1,2,3", tokenFlag, token.toString());
        try (TcpKvConnector connector = new TcpKvConnector(peers, "raftkv")) {
            awaitLeader(connector, 0);
            assertEquals(List.of("voters [1, 2, 3]"), clientOut("members"), "anyone may list the members");
            for (int i = 0; i < 100; i++) assertEquals(0, client("put", "k" + i, "v" + i));

            Run plain = run(withPeers("remove-node", "1"));
            assertEquals(4, plain.code, plain.err);
            assertTrue(plain.err.contains("admin requests need the cluster's admin token; this node was started with"
                    + " --admin-token-file"), plain.err);
            Run guessed = run(withPeers(tokenFlag, wrong.toString(), "remove-node", "1"));
            assertEquals(4, guessed.code, guessed.err);
            assertTrue(guessed.err.contains("the token this request carried is not it"), guessed.err);
            assertEquals(List.of("voters [1, 2, 3]"), clientOut("members"), "nothing changed");

            startNode(4, "--voters", "1,2,3", tokenFlag, token.toString()); // outside the configuration: it waits to be added
            assertEquals(List.of("voters [1, 2, 3, 4]"), clientOut(tokenFlag, token.toString(), "add-node", "4"));
            assertEquals(0, client("transfer-leader", tokenFlag, token.toString(), "4"), output::toString);
            assertEquals(4, awaitLeader(connector, 0));
            assertEquals(List.of("v42"), clientOut("get", "k42"), "the new node serves what was written before it joined");

            assertEquals(List.of("voters [2, 3, 4]"), clientOut(tokenFlag, token.toString(), "remove-node", "1"));
            assertEquals(List.of("{\"voters\":[2,3,4],\"learners\":[]}"), clientOut("members", "--output", "json"));
            // A second removal (say, a retry whose first answer was lost) finds the node gone: done, nothing to do.
            assertEquals(List.of("voters [2, 3, 4]"), clientOut(tokenFlag, token.toString(), "remove-node", "1"));
            Run unknown = run(withPeers("add-node", "9"));
            assertEquals(2, unknown.code);
            assertTrue(unknown.err.contains("node 9 is not in --peers"), unknown.err);
            Run stranger = run(withPeers(tokenFlag, token.toString(), "transfer-leader", "1"));
            assertEquals(4, stranger.code, stranger.err);
            assertTrue(stranger.err.contains("not a voter"), stranger.err);

            processes[1].toHandle().destroyForcibly(); // removed: the other three serve without it
            assertEquals(0, client("put", "after", "removal"));
            assertEquals(List.of("removal"), clientOut("get", "after"));
        }
    }

    /**
     * TLS from the command line: three node processes (two on virtual threads, one polling on a platform
     * thread) with a PEM certificate and the cluster's CA; clients that trust the CA read and write; a client
     * in clear is refused and told why; a client without a certificate (or the nodes' admin token) cannot
     * remove a node, while one with the operator's certificate (PKCS#12) can.
     */
    @Test
    void nodesRunTlsAndACertificateIsTheAdminCredential(@TempDir Path dir) throws Exception {
        reservePeers(dir, 3);
        Path tls = Path.of("../library/src/test/resources/tls").toAbsolutePath().normalize();
        Path password = Files.writeString(dir.resolve("p12-password"), "changeit\n");
        String ca = tls.resolve("ca.pem").toString();
        // A token no client is given: loopback clients are not administrators by default, and only a certificate is.
        Path token = Files.writeString(dir.resolve("admin-token"), "kept-from-clients\n");
        for (int id = 1; id <= 3; id++) {
            startNode(id, "--tls-cert", tls.resolve("node.pem").toString(), "--tls-key", tls.resolve("node-key.pem").toString(),
                    "--tls-ca", ca, "--admin-token-file", token.toString());
        }
        TlsConfig operator = TlsConfig.fromPkcs12(tls.resolve("client.p12"), "changeit".toCharArray(), Path.of(ca));
        try (TcpKvConnector connector = new TcpKvConnector(peers, "raftkv").tls(operator)) {
            awaitLeader(connector, 0);
            for (int i = 0; i < 20; i++) assertEquals(0, client("--tls-ca", ca, "put", "k" + i, "v" + i));
            assertEquals(List.of("v7"), clientOut("--tls-ca", ca, "get", "k7"));

            Run clear = run(withPeers("--timeout-ms", "2000", "get", "k7"));
            assertEquals(4, clear.code, clear.err);
            assertTrue(clear.err.contains("takes only TLS connections"), clear.err);

            Run anonymous = run(withPeers("--tls-ca", ca, "remove-node", "3"));
            assertEquals(4, anonymous.code, anonymous.err);
            assertTrue(anonymous.err.contains("a client certificate the cluster trusts"), anonymous.err);
            Run half = run(withPeers("--tls-ca", ca, "--tls-cert", tls.resolve("client.pem").toString(), "get", "k7"));
            assertEquals(2, half.code, half.err);
            assertTrue(half.err.contains("give its private key with --tls-key"), half.err);

            assertEquals(List.of("voters [1, 2]"), clientOut("--tls-ca", ca, "--tls-cert", tls.resolve("client.p12").toString(),
                    "--tls-password-file", password.toString(), "remove-node", "3"));
            assertEquals(List.of("v7"), clientOut("--tls-ca", ca, "get", "k7"));
        }
    }

    /**
     * Backup and restore from the command line: a backup saved with {@code raftkv client snapshot save} (an admin
     * request: refused without the token) starts a new node with {@code raftkv node --restore} that serves the
     * data; a damaged backup is refused before anything starts.
     */
    @Test
    void aBackupSavedFromTheCommandLineStartsANewClusterWithItsData(@TempDir Path dir) throws Exception {
        reservePeers(dir, 1);
        String token = Files.writeString(dir.resolve("admin-token"), "s3cret\n").toString();
        startNode(1, "--admin-token-file", token);
        Path backup = dir.resolve("backup.rkvb");
        try (TcpKvConnector connector = new TcpKvConnector(peers, "raftkv")) {
            awaitLeader(connector, 0);
            for (int i = 0; i < 50; i++) assertEquals(0, client("put", "k" + i, "v" + i));
            Run plain = run(withPeers("snapshot", "save", backup.toString()));
            assertEquals(4, plain.code, plain.err);
            assertTrue(plain.err.contains("admin requests need the cluster's admin token"), plain.err);
            assertFalse(Files.exists(backup));
            List<String> saved = clientOut("--admin-token-file", token, "snapshot", "save", backup.toString());
            assertTrue(saved.getFirst().matches("saved index \\d+ \\(term \\d+\\) of cluster 'raftkv', \\d+ bytes of state"
                    + " to " + Pattern.quote(backup.toString())), saved::toString);
        }
        processes[1].destroyForcibly();
        assertTrue(processes[1].waitFor(10, TimeUnit.SECONDS));

        byte[] bytes = Files.readAllBytes(backup);
        bytes[bytes.length / 2] ^= 1;
        Path damaged = Files.write(dir.resolve("damaged.rkvb"), bytes);
        Run refused = run("node", "--id", "1", "--peers", peerList, "--data", dir.resolve("other").toString(),
                "--restore", damaged.toString());
        assertEquals(1, refused.code, refused.err);
        assertTrue(refused.err.contains("raftkv node: " + damaged + " is damaged: its CRC does not match"), refused.err);
        assertFalse(Files.exists(dir.resolve("other")), "nothing was created");

        startNode(1, dir.resolve("restored"), "--restore", backup.toString(), "--admin-token-file", token);
        try (TcpKvConnector connector = new TcpKvConnector(peers, "raftkv")) {
            awaitLeader(connector, 0);
            assertEquals(List.of("v42"), clientOut("get", "k42"), "the restored node serves the backed-up data");
            assertEquals(0, client("put", "after", "restore"));
            assertEquals(List.of("voters [1]"), clientOut("members"));
        }
    }

    /**
     * A rolling restart, as an upgrade does it: each node in turn stopped with SIGTERM and started again on its
     * data, the leader last, while a client writes without pause. Elections here wait 3 to 6 s, so a leader that
     * merely stopped would leave the writes that long without one; stopped with SIGTERM it hands leadership
     * over first: the next leader is one term on, and the writes never pause for as long as an election timeout.
     */
    @Test
    void aRollingRestartKeepsServingWritesAndTheLeaderHandsOverOnSigterm(@TempDir Path dir) throws Exception {
        Duration electionTimeout = Duration.ofSeconds(3); // 600 ticks of 5 ms, at least
        reservePeers(dir, 3);
        for (int id = 1; id <= 3; id++) startNode(id, "--election-ticks", "600");
        try (TcpKvConnector connector = new TcpKvConnector(peers, "raftkv")) {
            int leader = awaitLeader(connector, 0);
            long term = connector.status(leader, WAIT).term();
            WriterLoop writer = new WriterLoop("rolling-restart-writer",
                    new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500)), WAIT);
            writer.awaitMore(20);

            for (int id : peers.keySet()) if (id != leader) restart(connector, id, leader);
            assertEquals(term, connector.status(leader, WAIT).term(), "the followers' restarts cost no election");

            sigterm(leader);
            int next = awaitLeader(connector, leader);
            assertEquals(term + 1, connector.status(next, WAIT).term(), "one election: the one the leader asked for");
            await(() -> output.stream().anyMatch(l -> l.matches("\\[" + leader + "] " + NodeCommandTest.TIME
                            + " node " + leader + " handed leadership to node " + next)) ? true : null,
                    "node " + leader + " to say it handed over; output " + output);
            // The library's own record of it, logged while the JVM shuts down, is not lost to the JDK's reset.
            await(() -> output.stream().anyMatch(l -> l.matches("\\[" + leader + "] " + NodeCommandTest.TIME
                            + " INFO io.raftkv.node.RaftNode: node " + leader + " handed leadership to node " + next
                            + " in \\d+ ms, and stops")) ? true : null,
                    "node " + leader + "'s log to record the hand-over; output " + output);
            startNode(leader, "--election-ticks", "600");
            awaitCaughtUp(connector, leader, next);
            writer.awaitMore(20);

            writer.stop();
            Duration gap = writer.longestGap();
            System.out.println("rolling restart: " + writer.acknowledged() + " writes, the longest gap " + gap.toMillis()
                    + " ms");
            assertTrue(gap.compareTo(electionTimeout) < 0, "the writes paused for " + gap.toMillis() + " ms");
            KvClient kv = new KvClient(connector, KvLimits.DEFAULT, WAIT, Duration.ofMillis(500));
            assertEquals(Optional.of(Long.toString(writer.acknowledged() - 1)), kv.get("w"), "every write acknowledged is there");
        }
    }

    /** Stops node {@code id} with SIGTERM, starts it again on its data, and waits until it has caught up with {@code leader}. */
    private void restart(TcpKvConnector connector, int id, int leader) throws Exception {
        sigterm(id);
        startNode(id, "--election-ticks", "600");
        awaitCaughtUp(connector, id, leader);
    }

    private void sigterm(int id) throws InterruptedException {
        // Through the handle: Process.destroy() would also close our end of its output pipe.
        processes[id].toHandle().destroy();
        assertTrue(processes[id].waitFor(30, TimeUnit.SECONDS), "SIGTERM stops node " + id);
    }

    private void awaitCaughtUp(TcpKvConnector connector, int id, int leader) {
        long commit = connector.status(leader, WAIT).commitIndex();
        await(() -> {
            try {
                return connector.status(id, Duration.ofSeconds(1)).appliedIndex() >= commit ? true : null;
            } catch (KvException e) {
                return null; // still starting
            }
        }, "node " + id + " to apply up to index " + commit);
    }

    // ---------------------------------------------------------------- processes

    /** Loopback addresses for nodes 1..n, and the --peers list that names them; data under {@code dir}. */
    private void reservePeers(Path dir, int n) {
        data = dir;
        peers = LoopbackPorts.reserve(n);
        peerList = NodeProcess.peerList(peers);
    }

    private void startNode(int id, String... extra) throws IOException {
        startNode(id, data.resolve("node-" + id), extra);
    }

    private void startNode(int id, Path dataDir, String... extra) throws IOException {
        List<String> args = new ArrayList<>(List.of("--id", Integer.toString(id), "--peers", peerList, "--data", dataDir.toString(),
                "--no-fsync", "--snapshot-every", "16k",
                // Half of that on the heap: a node that fell behind is sent entries read back from its leader's files.
                "--log-cache", "8k",
                // Node 3 on platform threads, the others on virtual ones: the two kinds must work together.
                "--threads", id == 3 ? "platform" : "virtual"));
        args.addAll(List.of(extra));
        processes[id] = NodeProcess.start(id, List.of(), args, output);
    }

    private Path pidFile(int id) {
        return data.resolve("node-" + id + ".pid");
    }

    /** Waits until node {@code id}'s pid file names its process. */
    private void awaitPidFile(int id) {
        String want = Long.toString(processes[id].pid());
        await(() -> {
            try {
                return Files.readString(pidFile(id)).strip().equals(want) ? true : null;
            } catch (IOException e) {
                return null;
            }
        }, "node " + id + "'s pid file to name process " + want);
    }

    /** A leader other than {@code not} that every reachable node agrees on. */
    private int awaitLeader(TcpKvConnector connector, int not) {
        return await(() -> {
            int leader = 0;
            long term = -1;
            for (int id : peers.keySet()) {
                try {
                    NodeStatus s = connector.status(id, Duration.ofSeconds(1));
                    if (s.role() == Role.LEADER && s.id() != not) {
                        if (leader != 0 && term == s.term()) fail("two leaders in term " + term);
                        leader = s.id();
                        term = s.term();
                    }
                } catch (KvException e) {
                    // down or starting
                }
            }
            return leader == 0 ? null : leader;
        }, "a leader other than node " + not);
    }

    private static <T> T await(Supplier<T> condition, String what) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            T v = condition.get();
            if (v != null) return v;
            if (System.nanoTime() > deadline) fail("timed out after " + WAIT.toSeconds() + " s waiting for " + what);
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20)); // polling a remote process: there is nothing to wait on
        }
    }

    private int client(String... args) {
        return run(withPeers(args)).code;
    }

    private List<String> clientOut(String... args) {
        Run r = run(withPeers(args));
        assertEquals(0, r.code, r.err);
        return r.out.lines().toList();
    }

    private String[] withPeers(String... args) {
        List<String> all = new ArrayList<>(List.of("client", "--peers", peerList));
        all.addAll(List.of(args));
        return all.toArray(String[]::new);
    }

    private static Run run(String... args) {
        return Run.run(args);
    }
}
