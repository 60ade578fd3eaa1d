package io.raftkv.cli;

import io.raftkv.cluster.Cluster;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/** {@code raftkv cluster}: starts a cluster in this JVM and runs the interactive {@link ClusterShell} on it. */
@Command(name = "cluster", mixinStandardHelpOptions = true,
        description = "Start an embedded cluster in this JVM and open a shell on it (type help there).")
public final class ClusterCommand implements Callable<Integer> {
    private static final Duration FIRST_LEADER_WAIT = Duration.ofSeconds(5);
    /** The shell's history, in the home directory, as other shells keep theirs. */
    static final String HISTORY_FILE = ".raftkv_history";

    @Spec
    private CommandSpec spec;

    @Option(names = "--nodes", paramLabel = "N", defaultValue = "5",
            description = "How many nodes, 1 to 99 (default: ${DEFAULT-VALUE}).")
    private int nodes;

    @Option(names = "--seed", paramLabel = "SEED",
            description = "Seed for the randomized election timeouts (default: from the clock; printed at start).")
    private Long seed;

    private final BufferedReader in;
    private final boolean interactive;

    ClusterCommand(BufferedReader in, boolean interactive) {
        this.in = in;
        this.interactive = interactive;
    }

    @Override
    public Integer call() {
        if (nodes < 1 || nodes > 99) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "Invalid value for option '--nodes': " + nodes + " is not between 1 and 99");
        }
        long s = seed != null ? seed : System.nanoTime();
        PrintWriter out = spec.commandLine().getOut();
        try (Cluster cluster = Cluster.builder().nodes(nodes).seed(s).start()) {
            long t0 = System.nanoTime();
            int leader = cluster.awaitLeader(FIRST_LEADER_WAIT);
            out.printf("started %d nodes (seed %d); node %d leads after %.1f ms; type help for commands%n", nodes, s,
                    leader, (System.nanoTime() - t0) / 1e6);
            out.flush();
            ShellInput input = input(out);
            try {
                new ClusterShell(cluster, input, out).run();
            } finally {
                input.close();
            }
        }
        return 0;
    }

    /**
     * On a terminal, JLine's line editing and history (in {@link #HISTORY_FILE} in the home directory);
     * else, or if the terminal cannot be driven, plain lines, with a prompt on a terminal.
     */
    private ShellInput input(PrintWriter out) {
        if (interactive) {
            try {
                Path history = Path.of(System.getProperty("user.home"), HISTORY_FILE);
                return new TerminalInput(TerminalInput.systemTerminal(), ClusterShell.COMMANDS, history);
            } catch (IOException | RuntimeException | LinkageError e) {
                // No stty, say, or a JLine that wants what is not there: the shell still works, without editing
            }
        }
        return ShellInput.plain(in, out, interactive);
    }

    /**
     * Whether standard input and output are a terminal. JDK 22+ gives a {@link Console} even when they
     * are redirected and says so through {@code Console.isTerminal()}, which JDK 21 lacks.
     */
    static boolean isTerminal() {
        Console console = System.console();
        if (console == null) return false;
        try {
            return (Boolean) Console.class.getMethod("isTerminal").invoke(console);
        } catch (ReflectiveOperationException e) {
            return true; // JDK 21: a console exists only for a terminal
        }
    }
}
