package io.raftkv.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code raftkv node --pid-file}, {@code --force-new-cluster} and {@code --admin-token-file}, in this JVM: the refusals, which happen before a
 * node starts. That a running node writes the file and removes it at SIGTERM is in {@link NodeProcessesTest}.
 */
class NodeCommandTest {
    static final String TIME = "\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3}";
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    private int execute(String... args) {
        CommandLine cl = RaftkvCommand.commandLine(new BufferedReader(new StringReader("")), false);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        return cl.execute(args);
    }

    private int node(Path dir, Path pidFile) {
        return execute("node", "--id", "1", "--peers", "1=127.0.0.1:1", "--data", dir.resolve("data").toString(),
                "--pid-file", pidFile.toString());
    }

    @Test
    void aPidFileNamingARunningProcessIsRefusedAndKept(@TempDir Path dir) throws IOException {
        long running = ProcessHandle.current().parent().orElseThrow().pid(); // whoever started this test JVM
        Path file = Files.writeString(dir.resolve("node.pid"), running + "\n");
        assertEquals(1, node(dir, file));
        // One line, with the time as the node's log records have it.
        assertTrue(err.toString().strip().matches(TIME + " raftkv node: --pid-file \\S+ names process " + running
                + ", which is running: is this node running already\\?"), err::toString);
        assertEquals(running + "\n", Files.readString(file));
        assertFalse(Files.exists(dir.resolve("data")), "no node was started");
        assertEquals("", out.toString());
    }

    @Test
    void aPidFileHoldingSomethingElseIsLeftAlone(@TempDir Path dir) throws IOException {
        Path file = Files.writeString(dir.resolve("notes.txt"), "my notes\n");
        assertEquals(1, node(dir, file));
        assertTrue(err.toString().contains("does not hold a process id; it is left as it is"), err::toString);
        assertEquals("my notes\n", Files.readString(file));
    }

    @Test
    void aFileLeftByAProcessThatEndedIsReplacedAndReleasedOnlyByItsOwner(@TempDir Path dir) throws IOException {
        long me = ProcessHandle.current().pid();
        Path file = Files.writeString(dir.resolve("node.pid"), "999999999\n"); // above any pid_max: never running
        PidFile pid = PidFile.claim(file);
        assertEquals(me + System.lineSeparator(), Files.readString(file));
        pid.release();
        assertFalse(Files.exists(file));

        Files.writeString(dir.resolve("empty.pid"), ""); // a start that died between creating and writing it
        PidFile.claim(dir.resolve("empty.pid")).release();

        PidFile mine = PidFile.claim(file);
        Files.writeString(file, "999999998\n"); // someone else's now: not ours to remove
        mine.release();
        assertEquals("999999998\n", Files.readString(file));

        Path missingDir = dir.resolve("no-such-dir").resolve("node.pid");
        assertThrows(IOException.class, () -> PidFile.claim(missingDir));
    }

    @Test
    void forceNewClusterIsRefusedOnANodeWithNoDataAndWithOtherVoters(@TempDir Path dir) {
        Path data = dir.resolve("data");
        assertEquals(1, execute("node", "--id", "1", "--peers", "1=127.0.0.1:1,2=127.0.0.1:2", "--data", data.toString(),
                "--force-new-cluster"));
        assertTrue(err.toString().strip().matches(TIME + " raftkv node: there is no data in \\S+ to force a new cluster"
                + " from: a node with none joins a cluster as a new member"), err::toString);
        assertFalse(Files.exists(data), "nothing was created");
        assertEquals(2, execute("node", "--id", "1", "--peers", "1=127.0.0.1:1,2=127.0.0.1:2", "--data", data.toString(),
                "--force-new-cluster", "--voters", "1,2"));
        assertTrue(err.toString().contains("with --force-new-cluster this node becomes the only first voter: give"
                + " --voters 1 or none"), err::toString);
    }

    @Test
    void anAdminTokenFileThatIsMissingOrEmptyOrGivenWithUnauthenticatedAdminIsRefused(@TempDir Path dir) throws IOException {
        Path data = dir.resolve("data");
        assertEquals(1, execute("node", "--id", "1", "--peers", "1=127.0.0.1:1", "--data", data.toString(),
                "--admin-token-file", dir.resolve("none").toString()));
        assertTrue(err.toString().strip().matches(TIME + " raftkv node: cannot read the admin token file \\S+none: .+"),
                err::toString);
        Path empty = Files.writeString(dir.resolve("empty"), " \n");
        assertEquals(1, execute("node", "--id", "1", "--peers", "1=127.0.0.1:1", "--data", data.toString(),
                "--admin-token-file", empty.toString()));
        assertTrue(err.toString().contains("raftkv node: the admin token file " + empty + " is empty"), err::toString);
        assertEquals(2, execute("node", "--id", "1", "--peers", "1=127.0.0.1:1", "--data", data.toString(),
                "--admin-token-file", empty.toString(), "--allow-unauthenticated-admin"));
        assertTrue(err.toString().contains("--admin-token-file and --allow-unauthenticated-admin exclude each other"),
                err::toString);
        assertFalse(Files.exists(data), "nothing was created");
    }

    @Test
    void joinTakesItsOwnAddressAndNoPeersAndASeedThatDoesNotAnswerIsAClearError(@TempDir Path dir) {
        Path data = dir.resolve("data");
        assertEquals(2, execute("node", "--id", "4", "--join", "127.0.0.1:1", "--data", data.toString()));
        assertTrue(err.toString().contains("--join takes --address HOST:PORT"), err::toString);
        assertEquals(2, execute("node", "--id", "4", "--data", data.toString()));
        assertTrue(err.toString().contains("Missing required option: '--peers=ID=HOST:PORT,...' (or --join)"), err::toString);
        assertEquals(2, execute("node", "--id", "4", "--join", "nowhere", "--address", "127.0.0.1:7004", "--data", data.toString()));
        assertTrue(err.toString().contains("Invalid value for option '--join': 'nowhere' is not an address"), err::toString);
    }
}
