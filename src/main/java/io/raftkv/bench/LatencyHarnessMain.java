package io.raftkv.bench;

import io.raftkv.cluster.Cluster;

import java.io.UncheckedIOException;
import java.util.List;

/**
 * Runs the {@link LatencyHarness} against an embedded raftkv cluster with memory storage; see
 * {@link HarnessArgs#USAGE} for the options. Exit status: 0 after a run (warnings included),
 * 2 for bad options, 1 if the run failed.
 */
public final class LatencyHarnessMain {
    private LatencyHarnessMain() {}

    public static void main(String[] args) throws InterruptedException {
        int status = run(args);
        if (status != 0) System.exit(status);
    }

    /** Parses {@code args} and runs the harness; returns the exit status. */
    public static int run(String... args) throws InterruptedException {
        HarnessArgs parsed;
        try {
            parsed = HarnessArgs.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            System.err.println();
            System.err.print(HarnessArgs.USAGE);
            return 2;
        }
        if (parsed.help()) {
            System.out.print(HarnessArgs.USAGE);
            return 0;
        }
        System.out.printf("JVM %s on %d cpus (%s %s), max heap %,d MiB%n", Runtime.version(),
                Runtime.getRuntime().availableProcessors(), System.getProperty("os.name"), System.getProperty("os.arch"),
                Runtime.getRuntime().maxMemory() >> 20);
        String description = parsed.nodes() + " nodes, memory storage, spinsBeforePark " + parsed.spins();
        Cluster.Builder cluster = Cluster.builder().nodes(parsed.nodes()).spinsBeforePark(parsed.spins());
        try (RaftkvTarget target = new RaftkvTarget(cluster)) {
            List<RateResult> results = new LatencyHarness(parsed.config(), System.out).run(target, description);
            long warned = results.stream().filter(r -> r.warning().isPresent()).count();
            if (warned > 0) System.out.println(warned + " of " + results.size() + " rates have warnings (above)");
            return 0;
        } catch (UncheckedIOException e) {
            System.err.println("error: " + e.getMessage() + ": " + e.getCause().getMessage());
            return 1;
        }
    }
}
