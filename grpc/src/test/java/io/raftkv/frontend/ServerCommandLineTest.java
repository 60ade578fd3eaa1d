package io.raftkv.frontend;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@code pkill -f raftserver<i>} sees: server i's command line, and nobody else's, matches. */
class ServerCommandLineTest {
    private static final ServerProcesses.Launch LAUNCH = new ServerProcesses.Launch("/usr/bin/java",
            List.of("-Xmx256m"), "/opt/raftkv/raftkv.jar", List.of("--timeout-ms", "2000"));

    @Test
    void raftserverIMatchesServerIAloneAsPkillMatchesIt() {
        PortPlan plan = PortPlan.standard(PortPlan.MAX_SERVERS);
        List<String> lines = new ArrayList<>();
        for (int i = 1; i <= plan.servers(); i++) {
            // pgrep and pkill -f join /proc/PID/cmdline's arguments with spaces and search it, unanchored.
            lines.add(String.join(" ", LAUNCH.command(plan, i, Path.of("/data/server-" + i))));
        }
        for (int i = 1; i <= plan.servers(); i++) {
            Pattern p = Pattern.compile("raftserver" + i);
            for (int j = 1; j <= plan.servers(); j++) {
                assertEquals(i == j, p.matcher(lines.get(j - 1)).find(), "raftserver" + i + " against server " + j + ": " + lines.get(j - 1));
            }
        }
    }

    @Test
    void aCommandLineWithRaftserverElsewhereIsRefused() {
        PortPlan plan = PortPlan.standard(3);
        String why = assertThrows(IllegalArgumentException.class,
                () -> LAUNCH.command(plan, 1, Path.of("/tmp/raftserver2/server-1"))).getMessage();
        assertTrue(why.contains("/tmp/raftserver2/server-1") && why.contains("pkill -f raftserver1"), why);
        ServerProcesses.Launch inPath = new ServerProcesses.Launch("/home/me/raftserver-tests/jdk/bin/java", List.of(), "x.jar", List.of());
        assertThrows(IllegalArgumentException.class, () -> inPath.command(plan, 2, Path.of("/data/server-2")));
    }
}
