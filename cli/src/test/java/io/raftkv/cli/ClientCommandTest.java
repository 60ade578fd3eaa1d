package io.raftkv.cli;

import io.raftkv.cluster.Cluster;
import io.raftkv.cluster.ClusterTransport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code raftkv client} through the command line, against a cluster over TCP in this JVM (the same
 * protocol node processes speak; NodeProcessesTest drives processes): each verb, the options before or
 * after it, {@code RAFTKV_PEERS}, {@code --output json} and the exit statuses.
 */
class ClientCommandTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static Cluster cluster;
    private static String peers;
    private static String clusterId;

    private Map<String, String> env = Map.of();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    @BeforeAll
    static void start() {
        cluster = Cluster.builder().nodes(3).transport(ClusterTransport.TCP).seed(11).start();
        cluster.awaitLeader(WAIT);
        StringBuilder b = new StringBuilder();
        for (int id : cluster.nodeIds()) {
            b.append(b.isEmpty() ? "" : ",").append(id).append("=127.0.0.1:").append(cluster.address(id).orElseThrow().getPort());
        }
        peers = b.toString();
        clusterId = cluster.clusterId().orElseThrow();
    }

    @AfterAll
    static void stop() {
        cluster.close();
    }

    private int execute(String... args) {
        out.getBuffer().setLength(0);
        err.getBuffer().setLength(0);
        CommandLine cl = RaftkvCommand.commandLine(new BufferedReader(new StringReader("")), false, env::get);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    private String out() {
        return out.toString().strip();
    }

    private String err() {
        return err.toString().strip();
    }

    @Test
    void theSharedOptionsGoBeforeTheVerbOrAfterIt() {
        assertEquals(0, execute("client", "--peers", peers, "--cluster-id", clusterId, "put", "colour", "blue"), err::toString);
        assertEquals("OK", out());
        assertEquals(0, execute("client", "get", "--peers", peers, "--cluster-id", clusterId, "colour"), err::toString);
        assertEquals("blue", out());
        assertEquals(0, execute("client", "--peers", peers, "replace", "colour", "green", "--cluster-id", clusterId));
        assertEquals("replaced", out());
        assertEquals("", err());

        // The verb's own value wins: here the wrong cluster id before the verb is overridden after it.
        assertEquals(0, execute("client", "--peers", peers, "--cluster-id", "another", "get", "--cluster-id", clusterId,
                "colour"), err::toString);
        assertEquals("green", out());
    }

    @Test
    void delAndCasSayWhetherTheyDidWithStatusOneWhenNot() {
        String[] c = {"client", "--peers", peers, "--cluster-id", clusterId};
        assertEquals(0, execute(concat(c, "cas", "--absent", "lock", "alice")), err::toString);
        assertEquals("set", out());
        assertEquals(1, execute(concat(c, "cas", "--absent", "lock", "bob")));
        assertEquals("not set: lock holds a value", err());
        assertEquals(1, execute(concat(c, "cas", "lock", "bob", "carol")));
        assertEquals("not set: lock does not hold bob", err());
        assertEquals(0, execute(concat(c, "cas", "lock", "alice", "carol")), err::toString);
        assertEquals(0, execute(concat(c, "get", "lock")));
        assertEquals("carol", out());
        assertEquals(0, execute(concat(c, "-o", "json", "del", "lock")), err::toString);
        assertEquals("{\"key\":\"lock\",\"deleted\":true}", out());
        assertEquals(1, execute(concat(c, "del", "lock")));
        assertEquals("not deleted: no key lock", err());
        assertEquals(1, execute(concat(c, "get", "lock")));

        assertEquals(2, execute(concat(c, "cas", "lock", "only-two")));
        assertTrue(err().startsWith("cas takes KEY EXPECTED NEW (or --absent KEY NEW), got 2 arguments"), err());
        assertEquals(2, execute(concat(c, "cas", "--absent", "lock", "a", "b")));
        assertTrue(err().startsWith("cas --absent takes KEY NEW, got 3 arguments"), err());
    }

    @Test
    void nothingToReadOrReplaceIsStatusOneWithTheReasonOnStandardError() {
        assertEquals(1, execute("client", "--peers", peers, "--cluster-id", clusterId, "get", "absent"));
        assertEquals("", out());
        assertEquals("no key absent", err());
        assertEquals(1, execute("client", "--peers", peers, "--cluster-id", clusterId, "replace", "absent", "x"));
        assertEquals("not replaced: no key absent", err());
    }

    @Test
    void jsonAnswersEveryVerb() {
        String[] json = {"client", "--peers", peers, "--cluster-id", clusterId, "--output", "json"};
        assertEquals(0, execute(concat(json, "put", "say", "he said \"hi\"")), err::toString);
        assertEquals("{\"key\":\"say\",\"put\":true}", out());
        assertEquals(0, execute(concat(json, "get", "say")));
        assertEquals("{\"key\":\"say\",\"found\":true,\"value\":\"he said \\\"hi\\\"\"}", out());
        assertEquals(1, execute(concat(json, "get", "nothing-here")));
        assertEquals("{\"key\":\"nothing-here\",\"found\":false}", out());
        assertEquals("", err(), "an answer, not an error: it goes to standard output");
        assertEquals(0, execute(concat(json, "replace", "say", "bye")));
        assertEquals("{\"key\":\"say\",\"replaced\":true}", out());
        assertEquals(1, execute(concat(json, "replace", "nothing-here", "x")));
        assertEquals("{\"key\":\"nothing-here\",\"replaced\":false}", out());
        assertEquals(0, execute(concat(json, "status")));
        String node = "\\{\"id\":%d,\"reachable\":true,\"alive\":true,\"role\":\"(leader|follower)\",\"term\":\\d+,"
                + "\"leader\":\\d,\"lastIndex\":\\d+,\"commitIndex\":\\d+,\"appliedIndex\":\\d+}";
        assertTrue(out().matches("\\[" + node.formatted(1) + "," + node.formatted(2) + "," + node.formatted(3) + "]"), out());

        // Membership answers (members, add-node, remove-node, transfer-leader) come from node processes: see
        // NodeProcessesTest. Their JSON is the configuration the leader sends as text.
        assertEquals("{\"voters\":[1,2,3],\"learners\":[]}", ClientVerbs.configurationJson("voters [1, 2, 3]"));
        assertEquals("{\"voters\":[1,2],\"learners\":[4]}", ClientVerbs.configurationJson("voters [1, 2] learners [4]"));
        assertEquals("{\"configuration\":\"something else\"}", ClientVerbs.configurationJson("something else"));
    }

    @Test
    void errorsInJsonModeGoToStandardErrorWithTheSameStatus() throws Exception {
        int dead;
        try (ServerSocket s = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            dead = s.getLocalPort();
        }
        assertEquals(3, execute("client", "-o", "json", "--peers", "1=127.0.0.1:" + dead, "--timeout-ms", "300", "put", "k", "v"));
        assertEquals("", out());
        assertTrue(err().startsWith("raftkv client: ") && err().contains("may or may not have been applied"), err());
        assertEquals(3, execute("client", "-o", "json", "--peers", "1=127.0.0.1:" + dead, "--timeout-ms", "300", "status"));
        assertTrue(out().matches("\\[\\{\"id\":1,\"reachable\":false,\"error\":\".+\"}]"), out());

        assertEquals(4, execute("client", "-o", "json", "--peers", peers, "--cluster-id", "another", "--timeout-ms", "2000",
                "get", "k"));
        assertEquals("", out());
        assertTrue(err().contains("another"), err());
    }

    @Test
    void peersComeFromRaftkvPeersUnlessGiven() {
        env = Map.of("RAFTKV_PEERS", peers);
        assertEquals(0, execute("client", "--cluster-id", clusterId, "put", "from-env", "yes"), err::toString);
        assertEquals(0, execute("client", "--cluster-id", clusterId, "get", "from-env"));
        assertEquals("yes", out());

        env = Map.of("RAFTKV_PEERS", "1=nowhere");
        assertEquals(0, execute("client", "--peers", peers, "--cluster-id", clusterId, "get", "from-env"), "--peers wins");
        assertEquals(2, execute("client", "get", "k"));
        assertEquals("Invalid value of RAFTKV_PEERS: '1=nowhere': expected HOST:PORT after '='", err().lines().findFirst().orElseThrow());

        env = Map.of();
        assertEquals(2, execute("client", "get", "k"));
        assertEquals("raftkv client: no cluster given: use --peers ID=HOST:PORT,... or set RAFTKV_PEERS", err(),
                "one line");
        assertEquals("", out());
    }

    @Test
    void eachVerbHasItsOwnHelpAndTheClientListsThem() {
        for (String verb : new String[] {"put", "get", "replace", "del", "cas", "status", "members", "add-node", "remove-node",
                "transfer-leader", "snapshot"}) {
            assertEquals(0, execute("client", verb, "--help"), verb);
            String help = out().replaceAll("\\s+", " ");
            assertTrue(help.startsWith("Usage: raftkv client " + verb + " "), help);
            assertTrue(help.contains("--peers=ID=HOST:PORT,...") && help.contains("--output=FORMAT"), help);
            assertTrue(help.contains("Exit status: 0 done; 1 get found no key"), help);
        }
        assertEquals(0, execute("client"), "no verb: the usage");
        String usage = out().replaceAll("\\s+", " ");
        assertTrue(usage.startsWith("Usage: raftkv client "), usage);
        assertTrue(usage.contains(" transfer-leader Hand leadership to voter ID"), usage);
    }

    @Test
    void badUsageIsStatusTwoBeforeAnythingIsSent() {
        assertEquals(2, execute("client", "--peers", peers, "frobnicate", "k"));
        assertTrue(err().startsWith("Unknown command 'frobnicate': expected put, get, replace, del, cas, status, members,"
                + " add-node, remove-node, transfer-leader or snapshot"), err());
        assertEquals(2, execute("client", "--peers", peers, "get"));
        assertTrue(err().startsWith("Missing required parameter: 'KEY'"), err());
        assertEquals(2, execute("client", "--peers", peers, "get", "a", "b"));
        assertEquals(2, execute("client", "--peers", peers, "--output", "xml", "get", "k"));
        assertTrue(err().startsWith("Invalid value for option '--output': 'xml'; expected simple or json"), err());
        assertEquals(2, execute("client", "--peers", peers, "add-node", "9"));
        assertTrue(err().startsWith("node 9 is not in --peers [1, 2, 3]"), err());
        assertEquals(2, execute("client", "--peers", peers, "remove-node", "one"));
        assertTrue(err().contains("'one' is not an int"), err());
        assertEquals(2, execute("client", "--peers", peers, "snapshot", "load", "backup.rkvb"));
        assertTrue(err().startsWith("Unknown snapshot command 'load': expected save"), err());
        assertEquals(2, execute("client", "--peers", peers, "snapshot", "save", "/nonexistent/dir/backup.rkvb"));
        assertTrue(err().startsWith("cannot write /nonexistent/dir/backup.rkvb: there is no directory /nonexistent/dir"), err());
        assertEquals(2, execute("client", "--peers", peers, "--timeout-ms", "0", "status"));
        assertTrue(err().startsWith("Invalid value for option '--timeout-ms': must be >= 1"), err());
        assertEquals(2, execute("client", "status", "--peers", "1=localhost"));
        assertTrue(err().contains("expected HOST:PORT"), err());
        assertTrue(err().endsWith("Try 'raftkv client status --help' for the options."), err());
        assertEquals("", out());
    }

    /**
     * The admin token file comes from --admin-token-file or $RAFTKV_ADMIN_TOKEN_FILE and is read only by the verbs
     * that present it: one that cannot be read fails those with status 2, and leaves the others alone.
     */
    @Test
    void anAdminTokenFileThatCannotBeReadIsBadUsageOfTheAdminVerbsOnly() {
        env = Map.of("RAFTKV_ADMIN_TOKEN_FILE", "/nonexistent/raftkv-admin-token");
        assertEquals(2, execute("client", "--peers", peers, "--cluster-id", clusterId, "remove-node", "2"));
        assertTrue(err().startsWith("Invalid value for option '--admin-token-file': cannot read the admin token file"
                + " /nonexistent/raftkv-admin-token"), err());
        assertEquals(0, execute("client", "--peers", peers, "--cluster-id", clusterId, "put", "token", "not needed"), err());
        env = Map.of();
        assertEquals(2, execute("client", "--peers", peers, "--cluster-id", clusterId, "transfer-leader",
                "--admin-token-file", "/nonexistent/other", "2"));
        assertTrue(err().startsWith("Invalid value for option '--admin-token-file': cannot read the admin token file"
                + " /nonexistent/other"), err());
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
