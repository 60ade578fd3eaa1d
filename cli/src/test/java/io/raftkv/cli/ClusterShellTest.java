package io.raftkv.cli;

import io.raftkv.cluster.Cluster;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClusterShellTest {
    private static final Duration LEADER_WAIT = Duration.ofSeconds(5);

    private Cluster cluster;
    private final StringWriter buffer = new StringWriter();
    private ClusterShell shell;

    @AfterEach
    void close() {
        if (cluster != null) cluster.close();
    }

    private void start(Cluster.Builder builder) {
        cluster = builder.seed(42).start();
        cluster.awaitLeader(LEADER_WAIT);
        shell = new ClusterShell(cluster, new BufferedReader(new StringReader("")), new PrintWriter(buffer), false);
    }

    /** Runs one line and returns what it printed, without the trailing newline. */
    private String run(String line) {
        buffer.getBuffer().setLength(0);
        assertTrue(shell.execute(line), "the session goes on after: " + line);
        return buffer.toString().stripTrailing();
    }

    private static String script(Cluster cluster, String input) {
        StringWriter out = new StringWriter();
        new ClusterShell(cluster, new BufferedReader(new StringReader(input)), new PrintWriter(out), false).run();
        return out.toString();
    }

    @Test
    void aScriptedSessionPutsGetsReplacesAndShowsStatus() {
        cluster = Cluster.builder().nodes(3).seed(1).start();
        int leader = cluster.awaitLeader(LEADER_WAIT);
        String out = script(cluster, """
                put greeting hello
                get greeting
                put note some text  with spaces
                get note
                replace greeting bonjour
                get greeting
                replace missing x
                get missing

                status
                quit
                get greeting
                """);
        assertEquals("""
                ok
                hello
                ok
                some text  with spaces
                replaced
                bonjour
                not replaced: missing is absent
                (absent)
                """, out.substring(0, out.indexOf("id ")), out);
        String[] table = out.substring(out.indexOf("id ")).split("\n");
        assertEquals(5, table.length, "a header, one line per node, the configuration, and nothing after quit: " + out);
        assertEquals("configuration: voters [1, 2, 3]", table[4]);
        assertTrue(table[0].matches("id\\s+alive\\s+role\\s+term\\s+leader\\s+last index\\s+commit\\s+applied"), table[0]);
        assertTrue(table[leader].matches(leader + "\\s+yes\\s+leader\\s+\\d+\\s+" + leader + "\\s+\\d+\\s+\\d+\\s+\\d+"),
                table[leader]);
    }

    @Test
    void delRemovesAKeyAndCasSetsOnlyWhatItExpects() {
        start(Cluster.builder().nodes(3));
        assertEquals("not deleted: k is absent", run("del k"));
        assertEquals("not set: k does not hold v0", run("cas k v0 v1"));
        assertEquals("set", run("cas k (absent) first value"), "(absent) expects the key absent; NEW is the rest of the line");
        assertEquals("first value", run("get k"));
        assertEquals("not set: k exists", run("cas k (absent) again"));
        assertEquals("not set: k does not hold first", run("cas k first second"));
        assertEquals("ok", run("put k one"));
        assertEquals("set", run("cas k one two"));
        assertEquals("two", run("get k"));
        assertEquals("deleted", run("del k"));
        assertEquals("(absent)", run("get k"));
        assertEquals("not deleted: k is absent", run("delete k"));
        assertEquals("error: usage: del KEY", run("del"));
        assertEquals("error: usage: del KEY", run("del two words"));
        assertEquals("error: usage: cas KEY EXPECTED NEW (EXPECTED (absent): only if KEY is absent)", run("cas k v"));
        assertTrue(run("help").contains("cas KEY EXPECTED NEW"));
    }

    @Test
    void nodesAreAddedRemovedAndHandedLeadershipFromTheShell() {
        start(Cluster.builder().nodes(3));
        assertEquals("ok", run("put k v"));
        assertEquals("voters [1, 2, 3]", run("members"));
        assertEquals("""
                adding a node: it joins as a learner and is promoted once it has caught up
                node 4 is a voter; configuration: voters [1, 2, 3, 4]""", run("add"));
        int leader = cluster.awaitLeader(LEADER_WAIT);
        String transferred = run("transfer 4");
        assertTrue(transferred.startsWith("waiting for node 4 to catch up with node " + leader + " (index "), transferred);
        assertTrue(transferred.endsWith(") and take over...\nnode 4 leads in term " + cluster.status(4).term()), transferred);
        assertEquals("node 4 leads already, in term " + cluster.status(4).term(), run("transfer 4"));
        assertEquals("v", run("get k"), "the new node serves what was written before it joined");
        int other = cluster.awaitLeader(LEADER_WAIT) == 1 ? 2 : 1;
        String removed = run("remove " + other);
        assertEquals("removed node " + other + "; configuration: " + cluster.configuration(), removed);
        assertTrue(!cluster.configuration().contains(other) && cluster.configuration().voters().size() == 3,
                cluster.configuration().toString());
        assertEquals("error: no node " + other + ": this cluster has nodes " + cluster.nodeIds(), run("transfer " + other));
        assertEquals("error: add takes no arguments", run("add 5"));
        assertEquals("error: usage: remove ID", run("remove"));
    }

    @Test
    void afterTheLeaderIsKilledANewOneLeadsAndStillHasTheValue() {
        start(Cluster.builder().nodes(5));
        assertEquals("ok", run("put k v"));
        int old = cluster.awaitLeader(LEADER_WAIT);
        assertEquals("node " + old + " leads in term " + cluster.status(old).term(), run("leader"));

        assertEquals("killed node " + old, run("kill " + old));
        int next = cluster.awaitLeader(LEADER_WAIT);
        assertNotEquals(old, next);
        assertTrue(run("leader").startsWith("node " + next + " leads in term "));
        assertEquals("v", run("get k"));
        assertTrue(run("status").lines().anyMatch(l -> l.matches(old + "\\s+no\\s+-\\s+.*")), buffer::toString);

        assertEquals("error: node " + old + " is already down", run("kill " + old));
        assertEquals("restarted node " + old, run("restart " + old));
        assertEquals("error: node " + old + " is running; kill it first", run("restart " + old));
    }

    @Test
    void withoutAMajorityAWriteTimesOutWithAClearMessageAndHealingRestoresService() {
        start(Cluster.builder().nodes(5).clientDeadline(Duration.ofMillis(500)));
        assertEquals("ok", run("put k before"));

        assertEquals("partitioned: 1,2 | 3,4 | 5 (the nodes named in no group)", run("partition 1,2 3,4"));
        String[] timedOut = run("put k during").split("\n");
        assertEquals("waiting for a majority to commit (5 of 5 nodes up, the network is partitioned)...", timedOut[0]);
        assertTrue(timedOut[1].startsWith("error: ") && timedOut.length == 2, String.join("\n", timedOut));

        assertEquals("healed: every node reaches every other", run("heal"));
        cluster.awaitLeader(LEADER_WAIT);
        String v = run("get k");
        assertTrue(v.equals("before") || v.equals("during"), v); // the timed-out write may or may not have applied
        assertEquals("ok", run("put k after"));
        assertEquals("after", run("get k"));

        assertEquals("partitioned: 1,2 | 3,4,5", run("partition 1,2 3,4,5"));
        cluster.awaitLeader(LEADER_WAIT);
        // The leader may still be one cut off on the minority side, until the majority elects its own.
        assertTrue(run("get k").matches("(waiting for a majority to confirm the read \\(5 of 5 nodes up, the network"
                + " is partitioned\\)\\.\\.\\.\n)?after"), buffer::toString);
        run("heal");
    }

    @Test
    void withTooFewNodesUpACommandSaysWhatItWaitsForAndATransferToADeadNodeIsRefusedAtOnce() {
        start(Cluster.builder().nodes(5).clientDeadline(Duration.ofMillis(500)));
        assertEquals("ok", run("put k v"), "a majority: nothing to say");
        int leader = cluster.awaitLeader(LEADER_WAIT);
        int[] others = cluster.nodeIds().stream().mapToInt(Integer::intValue).filter(id -> id != leader).toArray();

        run("partition " + others[0] + " " + leader + "," + others[1] + "," + others[2] + "," + others[3]);
        assertEquals("error: node " + others[0] + " is cut off from the leader, node " + leader + ": heal the network first",
                run("transfer " + others[0]));
        run("heal");

        for (int i = 0; i < 3; i++) run("kill " + others[i]);
        assertEquals("error: node " + others[0] + " is down: restart it first", run("transfer " + others[0]));
        String[] put = run("put k w").split("\n");
        assertEquals("waiting for a majority to commit (2 of 5 nodes up)...", put[0]);
        assertTrue(put[1].startsWith("error: "), put[1]);
        String[] get = run("get k").split("\n");
        assertEquals("waiting for a majority to confirm the read (2 of 5 nodes up)...", get[0]);
        assertTrue(get[1].startsWith("error: "), get[1]);

        run("restart " + others[0]);
        cluster.awaitLeader(LEADER_WAIT);
        assertTrue(run("get k").matches("v|w"), buffer::toString); // the timed-out put may or may not have applied
    }

    @Test
    void badInputPrintsOneLineErrorsAndTheSessionGoesOn() {
        start(Cluster.builder().nodes(3));
        assertEquals("error: unknown command 'frobnicate'; type help for the list", run("frobnicate 1"));
        assertEquals("error: usage: put KEY VALUE", run("put"));
        assertEquals("error: usage: put KEY VALUE", run("put onlykey"));
        assertEquals("error: usage: get KEY", run("get"));
        assertEquals("error: usage: get KEY", run("get two words"));
        assertEquals("error: usage: replace KEY VALUE", run("replace k"));
        assertEquals("error: usage: kill ID", run("kill"));
        assertEquals("error: 'one' is not a node id (one of [1, 2, 3]); usage: kill ID", run("kill one"));
        assertEquals("error: no node 7: this cluster has nodes [1, 2, 3]", run("kill 7"));
        assertEquals("error: no node 0: this cluster has nodes [1, 2, 3]", run("restart 0"));
        assertEquals("error: status takes no arguments", run("status now"));
        assertTrue(run("partition").startsWith("error: usage: partition "));
        assertTrue(run("partition 1,x 2").startsWith("error: 'x' is not a node id"));
        assertTrue(run("partition 1, 2").startsWith("error: '' is not a node id"));
        assertEquals("error: node 1 is named twice; a node is in one group", run("partition 1 1,2"));
        assertEquals("error: no node 4: this cluster has nodes [1, 2, 3]", run("partition 1 4"));
        assertTrue(run("help").contains("partition G1 G2"));
        assertEquals("", run("   "));

        assertEquals("ok", run("PUT k v"));
        assertEquals("v", run("get k"));
        assertFalse(shell.execute("exit"));
    }

    @Test
    void benchMeasuresPutsAgainstTheRunningClusterInOneBlockAndKeepsOutOfThePersonsKeys() {
        cluster = Cluster.builder().nodes(3).seed(5).start();
        cluster.awaitLeader(LEADER_WAIT);
        String out = script(cluster, """
                put k0 mine
                bench 1 200
                get k0
                get bench-0
                """).replace(System.lineSeparator(), "\n");
        String[] lines = out.split("\n");
        assertEquals("ok", lines[0]);
        assertEquals("bench: 1 s of puts at 200/s after a 0.5 s warm-up; 64 clients, 128-byte values, "
                + "keys bench-0..bench-1023", lines[1]);
        assertTrue(lines[2].matches("  reached  [\\d,]+ ops/s \\([\\d,]+ writes, 0 failed\\)"), lines[2]);
        assertTrue(lines[3].matches("  latency  p50 [\\d.,]+ µs, p99 [\\d.,]+ µs, max [\\d.,]+ µs, "
                + "from each write's intended send time"), lines[3]);
        int next = 4;
        if (lines[next].startsWith("  WARNING: ")) next++; // a slow CI machine may fall short of even 200/s
        assertEquals("mine", lines[next], "bench wrote none of the person's keys: " + out);
        // Each write's value is distinct: its slot number in hex over the last 16 of the 128 chars.
        assertTrue(lines[next + 1].matches("x{112}[0-9a-f]{16}"), out);
        assertEquals(next + 2, lines.length, out);
    }

    @Test
    void benchRefusesBadArgumentsInOneLine() {
        start(Cluster.builder().nodes(1));
        assertEquals("error: 'x' is not a whole number; usage: bench [SECS] [RATE], e.g. bench 5 20000 for 5 s at "
                + "20,000 writes/s", run("bench x"));
        assertEquals("error: SECS must be between 1 and 60, was 0", run("bench 0"));
        assertEquals("error: SECS must be between 1 and 60, was 61", run("bench 61"));
        assertEquals("error: RATE must be between 1 and 1000000000, was 0", run("bench 1 0"));
        assertTrue(run("bench 1 2 3").startsWith("error: usage: bench [SECS] [RATE]"));
        assertTrue(run("help").contains("bench [SECS] [RATE]"));
    }

    @Test
    void printsAPromptOnlyWhenInteractive() {
        cluster = Cluster.builder().nodes(1).seed(3).start();
        cluster.awaitLeader(LEADER_WAIT);
        StringWriter out = new StringWriter();
        new ClusterShell(cluster, new BufferedReader(new StringReader("put a b\n")), new PrintWriter(out), true).run();
        assertEquals("raftkv> ok\nraftkv> ", out.toString().replace(System.lineSeparator(), "\n"));
        assertEquals("ok\n", script(cluster, "put a b\n").replace(System.lineSeparator(), "\n"));
    }
}
