package io.raftkv.cli;

import io.raftkv.cluster.Cluster;
import io.raftkv.cluster.ClusterTransport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code raftkv bench}, driven in-process: its options, its errors and one tiny run. */
class BenchCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int execute(String... args) {
        CommandLine cl = RaftkvCommand.commandLine(new BufferedReader(new StringReader("")), false);
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    private String[] errLines() {
        return err.toString().split("\\R");
    }

    @Test
    void aBadValueExitsWithStatusTwoAndOneLineSayingWhatIsAllowed() {
        assertEquals(2, execute("bench", "--rates", "1000,fast"));
        String[] lines = errLines();
        assertEquals("Invalid value for option '--rates' (RATE): 'fast' is not a whole number of writes per second; "
                + "give one or more, such as 1000,10000", lines[0]);
        assertEquals("Try 'raftkv bench --help' for the options.", lines[1]);
        assertEquals(2, lines.length, err::toString);
        assertEquals("", out.toString());
    }

    @Test
    void aValueOutOfRangeIsRefusedBeforeAnythingStarts() {
        assertEquals(2, execute("bench", "--nodes", "0", "--duration", "1m"));
        assertEquals("Invalid value for option '--nodes': 0 is not between 1 and 99", errLines()[0]);
        assertEquals("", out.toString(), "no cluster was started, nothing was measured");
    }

    @Test
    void anUnknownOptionIsNamedWithTheNearestKnownOne() {
        assertEquals(2, execute("bench", "--rate", "1000"));
        assertTrue(err.toString().startsWith("Unknown options: '--rate', '1000'"), err::toString);
        assertTrue(err.toString().contains("--rates"), err::toString);
    }

    @Test
    void helpListsEveryOptionWithItsDefault() {
        assertEquals(0, execute("bench", "--help"));
        String help = out.toString().replaceAll("\\s+", " "); // as a person reads it, whatever the wrapping
        assertTrue(help.startsWith("Usage: raftkv bench "), help);
        for (String option : new String[] {"--nodes=N", "--rates=RATE[,RATE...]", "--duration=D", "--warmup=D",
                "--clients=N", "--value-bytes=N", "--out=DIR", "--spins=N"}) {
            assertTrue(help.contains(option), option + " missing from\n" + help);
        }
        for (String dflt : new String[] {"(default: 3)", "(default: 1000,10000)", "(default: 5s)", "(default: 2s)",
                "(default: 64)", "(default: 128)", "(default: a new directory bench-out/<date>-<time> under the current one)",
                "(default: 0)"}) {
            assertTrue(help.contains(dflt), dflt + " missing from\n" + help);
        }
        out.getBuffer().setLength(0);
        assertEquals(0, execute("--help"));
        assertTrue(out.toString().contains("bench"), "raftkv --help lists bench:\n" + out);
    }

    @Test
    void aTinyRunExitsZeroAndWritesItsSummary(@TempDir Path dir) throws Exception {
        Path results = dir.resolve("results");
        assertEquals(0, execute("bench", "--nodes", "1", "--rates", "200", "--duration", "250ms", "--warmup", "0",
                "--clients", "2", "--value-bytes", "16", "--out", results.toString()), err::toString);
        assertEquals("", err.toString());
        String summary = Files.readString(results.resolve("summary.json"));
        assertTrue(summary.contains("\"targetRate\": 200,"), summary);
        assertTrue(summary.contains("\"description\": \"1 nodes, memory storage, spinsBeforePark 0\""), summary);
        assertTrue(Files.exists(results.resolve("latency-200.hgrm")));
        assertTrue(Files.exists(results.resolve("latency-percentiles.svg")));
        String printed = out.toString();
        assertTrue(printed.contains("200 writes/s: reached "), printed);
        assertTrue(printed.startsWith("JVM "), printed);
        assertTrue(printed.lines().skip(1).findFirst().orElse("").equals("writing results to " + results.toAbsolutePath()),
                printed);
        assertTrue(printed.contains("results in " + results.toAbsolutePath()), printed);
    }

    @Test
    void withPeersItMeasuresARunningClusterOverTcp(@TempDir Path dir) throws Exception {
        try (Cluster cluster = Cluster.builder().nodes(3).transport(ClusterTransport.TCP).start()) {
            cluster.awaitLeader(Duration.ofSeconds(10));
            StringBuilder peers = new StringBuilder();
            for (int id : cluster.nodeIds()) {
                peers.append(peers.isEmpty() ? "" : ",").append(id).append("=127.0.0.1:")
                        .append(cluster.address(id).orElseThrow().getPort());
            }
            Path results = dir.resolve("tcp");
            assertEquals(0, execute("bench", "--peers", peers.toString(), "--cluster-id", cluster.clusterId().orElseThrow(),
                    "--rates", "200", "--duration", "250ms", "--warmup", "0", "--clients", "2", "--out",
                    results.toString()), err::toString);
            String summary = Files.readString(results.resolve("summary.json"));
            assertTrue(summary.contains("3 node processes at"), summary);
            assertTrue(summary.contains("\"errors\": 0"), summary);
            assertTrue(cluster.status(cluster.awaitLeader(Duration.ofSeconds(10))).commitIndex() >= 50,
                    "the writes reached the cluster");
        }
    }

    @Test
    void aBadPeerListIsAUsageError() {
        assertEquals(2, execute("bench", "--peers", "1=127.0.0.1"));
        assertTrue(err.toString().contains("expected HOST:PORT"), err::toString);
    }
}
