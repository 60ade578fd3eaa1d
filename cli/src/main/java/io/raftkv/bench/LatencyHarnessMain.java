package io.raftkv.bench;

import io.raftkv.cluster.Cluster;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * Runs the {@link LatencyHarness} against an embedded raftkv cluster with memory storage, with the
 * options of {@link HarnessArgs}, as {@code raftkv bench} does (this is that command without the rest
 * of the command line, for {@code exec:exec@harness}). Exit status: 0 after a run (warnings included),
 * 2 for bad options, 1 if the run failed.
 */
@Command(name = "LatencyHarnessMain", mixinStandardHelpOptions = true, sortOptions = false)
public final class LatencyHarnessMain implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private HarnessArgs harness;

    public static void main(String[] args) {
        io.raftkv.cli.LogFormat.useOneLine();
        int status = run(args);
        if (status != 0) System.exit(status);
    }

    /** Parses {@code args} and runs the harness, printing to standard output; returns the exit status. */
    public static int run(String... args) {
        return new CommandLine(new LatencyHarnessMain()).execute(args);
    }

    @Override
    public Integer call() throws InterruptedException {
        return run(harness, spec.commandLine().getOut(), spec.commandLine().getErr());
    }

    /**
     * Runs the harness as {@code harness} says against a new embedded cluster, printing its progress
     * and results to {@code out}; returns the exit status: 0, or 1 (said on {@code err}) if the results
     * could not be written.
     *
     * @throws picocli.CommandLine.ParameterException if an option is out of range, before anything starts
     */
    public static int run(HarnessArgs harness, PrintWriter out, PrintWriter err) throws InterruptedException {
        int nodes = harness.nodes();
        int spins = harness.spins();
        Cluster.Builder cluster = Cluster.builder().nodes(nodes).spinsBeforePark(spins);
        return run(harness.config(), () -> new RaftkvTarget(cluster),
                nodes + " nodes, memory storage, spinsBeforePark " + spins, out, err);
    }

    /**
     * Runs the harness with {@code config} against the target {@code open} makes (and the run closes),
     * described in the results as {@code description}; exit status as {@link #run(HarnessArgs, PrintWriter, PrintWriter)}.
     */
    public static int run(HarnessConfig config, java.util.function.Supplier<? extends CommitTarget> open,
                          String description, PrintWriter out, PrintWriter err) throws InterruptedException {
        out.printf("JVM %s on %d cpus (%s %s), max heap %,d MiB%n", Runtime.version(),
                Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"), System.getProperty("os.arch"),
                Runtime.getRuntime().maxMemory() >> 20);
        try (CommitTarget target = open.get()) {
            List<RateResult> results = new LatencyHarness(config, out).run(target, description);
            long warned = results.stream().filter(r -> r.warning().isPresent()).count();
            if (warned > 0) out.println(warned + " of " + results.size() + " rates have warnings (above)");
            return 0;
        } catch (UncheckedIOException e) {
            err.println("error: " + e.getMessage() + ": " + e.getCause().getMessage());
            return 1;
        } finally {
            out.flush();
            err.flush();
        }
    }
}
