package io.raftkv.lincheck;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The exit status and verdict of {@link RemoteHistoryCheck}, which the network-namespace script relies on. */
class RemoteHistoryCheckTest {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    private int run(String... args) throws Exception {
        return RemoteHistoryCheck.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @Test
    void aStaleReadFailsWithExitOne(@TempDir Path dir) throws Exception {
        // Client 1 wrote "b" and was told so before client 2 began its read, which still saw "a".
        Path file = dir.resolve("stale.json");
        Files.writeString(file, HistoryJson.toJson(List.of(
                Operation.put(1, 0, 10, "k", "a"),
                Operation.put(1, 20, 30, "k", "b"),
                Operation.get(2, 40, 50, "k", "a"))));
        assertEquals(1, run("--check", file.toString()));
        assertTrue(out.toString().contains("NOT_LINEARIZABLE"), out.toString());
    }

    @Test
    void aLinearizableHistoryWithAPendingWritePasses(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("ok.json");
        Files.writeString(file, HistoryJson.toJson(List.of(
                Operation.put(1, 0, 10, "k", "a"),
                Operation.pendingPut(2, 5, "k", "b"),
                Operation.get(1, 20, 30, "k", "b"),
                Operation.replace(1, 40, 50, "k", "c", true),
                Operation.get(3, 60, 70, "k", "c"))));
        assertEquals(0, run("--check", file.toString()));
        assertTrue(out.toString().contains("LINEARIZABLE"), out.toString());
    }

    @Test
    void badUsageExitsWithTwoAndSaysWhy() throws Exception {
        assertEquals(2, run("--seconds", "5"));
        assertTrue(err.toString().contains("--peers is required"), err.toString());
        assertEquals(2, run("--peers", "1=h:1", "--clients", "zero"));
        assertTrue(err.toString().contains("--clients must be a whole number"), err.toString());
        assertEquals(2, run("--peers", "1-h:1"));
        assertTrue(err.toString().contains("is not ID=HOST:PORT"), err.toString());
        assertEquals(2, run("--frobnicate", "1"));
        assertTrue(err.toString().contains("unknown option '--frobnicate'"), err.toString());
    }
}
