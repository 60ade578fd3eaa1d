package io.raftkv.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RaftkvCommandTest {
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int execute(String input, String... args) {
        CommandLine cl = RaftkvCommand.commandLine(new BufferedReader(new StringReader(input)), false);
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        return cl.execute(args);
    }

    @Test
    void nodesOutOfRangeIsRefusedWithTheAllowedRange() {
        assertEquals(2, execute("", "cluster", "--nodes", "0"));
        assertTrue(err.toString().startsWith("Invalid value for option '--nodes': 0 is not between 1 and 99"), err::toString);
        assertEquals("", out.toString());
        err.getBuffer().setLength(0);
        assertEquals(2, execute("", "cluster", "--nodes", "100"));
        assertTrue(err.toString().contains("100 is not between 1 and 99"), err::toString);
    }

    @Test
    void aNonNumericNodeCountIsRefused() {
        assertEquals(2, execute("", "cluster", "--nodes", "abc"));
        assertTrue(err.toString().startsWith("Invalid value for option '--nodes': 'abc' is not an int"), err::toString);
    }

    @Test
    void withoutACommandItPrintsTheUsageAndSucceeds() {
        assertEquals(0, execute(""));
        assertTrue(out.toString().startsWith("Usage: raftkv "), out::toString);
        for (String command : new String[] {"cluster", "node", "client", "bench"}) {
            assertTrue(out.toString().contains("\n  " + command + " "), command + " missing from\n" + out);
        }
        assertEquals("", err.toString());
    }

    @Test
    void theFrontEndsServerProcessCommandRunsButIsNotListed() {
        assertEquals(0, execute("", "--help"));
        assertTrue(out.toString().contains("  frontend "), out::toString);
        assertFalse(out.toString().contains("grpc-server"), out::toString);
        out.getBuffer().setLength(0);
        assertEquals(0, execute("", "grpc-server", "--help"));
        assertTrue(out.toString().startsWith("Usage: raftkv grpc-server "), out::toString);
    }

    @Test
    void clusterStartsAClusterAndRunsTheShellUntilEndOfInput() {
        assertEquals(0, execute("put a hello world\nget a\n", "cluster", "--nodes", "3", "--seed", "7"));
        String[] lines = out.toString().split("\\R");
        assertTrue(lines[0].matches("started 3 nodes \\(seed 7\\); node \\d leads after .* ms; type help for commands"),
                lines[0]);
        assertEquals("ok", lines[1]);
        assertEquals("hello world", lines[2]);
        assertEquals("", err.toString());
    }
}
