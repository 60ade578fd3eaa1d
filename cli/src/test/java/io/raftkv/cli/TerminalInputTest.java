package io.raftkv.cli;

import io.raftkv.cluster.Cluster;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The shell's terminal input (JLine) without a terminal: JLine's emulation of one over streams, fed the
 * keys a person would type: editing, history, completion, Ctrl-D. (Ctrl-C, which drops the line being
 * typed, is a signal the emulation raises on a thread of its own, so it is left to a real terminal.)
 */
class TerminalInputTest {
    private static final String UP = "\033OA"; // the up arrow, in the application mode JLine sets
    private static final String CTRL_D = "\004";
    private static final String BACKSPACE = "\177";

    private static Terminal terminal(String keys, ByteArrayOutputStream screen) throws IOException {
        // The provider the shell uses: pure Java, no native library.
        return TerminalBuilder.builder().system(false).provider(TerminalBuilder.PROP_PROVIDER_EXEC).type("xterm")
                .size(new Size(100, 30))
                .streams(new ByteArrayInputStream(keys.getBytes(StandardCharsets.UTF_8)), screen).build();
    }

    @Test
    void linesAreEditedRecalledCompletedAndKeptInTheHistoryFile(@TempDir Path dir) throws IOException {
        Path history = dir.resolve("history");
        String keys = "put a hello\r"
                + UP + BACKSPACE.repeat(5) + "bye\r"     // the last line again, edited
                + "sta\t\r"                                // completed to "status "
                + CTRL_D;                                  // the end
        ShellInput in = new TerminalInput(terminal(keys, new ByteArrayOutputStream()), ClusterShell.COMMANDS, history);
        assertEquals("put a hello", in.readLine("raftkv> "));
        assertEquals("put a bye", in.readLine("raftkv> "));
        assertEquals("status ", in.readLine("raftkv> "));
        assertEquals(null, in.readLine("raftkv> "));
        in.close();
        List<String> saved = Files.readAllLines(history).stream().map(l -> l.substring(l.indexOf(':') + 1)).toList();
        assertEquals(List.of("put a hello", "put a bye", "status"), saved);
    }

    @Test
    void theShellRunsOnIt() throws IOException {
        try (Cluster cluster = Cluster.builder().nodes(1).seed(3).start()) {
            cluster.awaitLeader(Duration.ofSeconds(5));
            StringWriter out = new StringWriter();
            Terminal t = terminal("put k v\rget k\rquit\r", new ByteArrayOutputStream());
            ShellInput in = new TerminalInput(t, ClusterShell.COMMANDS, null);
            new ClusterShell(cluster, in, new PrintWriter(out)).run();
            in.close();
            assertEquals("ok\nv\n", out.toString().replace(System.lineSeparator(), "\n"));
        }
    }
}
