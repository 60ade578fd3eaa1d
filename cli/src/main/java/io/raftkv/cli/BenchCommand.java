package io.raftkv.cli;

import io.raftkv.bench.HarnessArgs;
import io.raftkv.bench.HarnessConfig;
import io.raftkv.bench.SocketClusterTarget;
import io.raftkv.bench.LatencyHarnessMain;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.concurrent.Callable;

/** {@code raftkv bench}: the open-loop latency harness against a cluster it starts in this JVM. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        footer = {"", "Exit status: 0 after a run (a rate that fell short is a warning, not a failure), 1 if it "
                + "failed, 2 for bad options."})
public final class BenchCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    // The options and their checks are the harness's own, shared with LatencyHarnessMain.
    @Mixin
    private HarnessArgs harness;

    @Option(names = "--peers", paramLabel = "ID=HOST:PORT,...", converter = PeerList.Converter.class, order = 20,
            description = "Measure a running socket-mode cluster (raftkv node processes) at these addresses instead"
                    + " of starting one in this JVM; --nodes and --spins then do not apply.")
    private PeerList peers;

    @Option(names = "--cluster-id", defaultValue = "raftkv", paramLabel = "NAME", order = 21,
            description = "With --peers: the cluster's id, as given to raftkv node (default: ${DEFAULT-VALUE}).")
    private String clusterId;

    @Override
    public Integer call() throws InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (peers == null) return LatencyHarnessMain.run(harness, out, err);
        HarnessConfig config = harness.config();
        return LatencyHarnessMain.run(config, () -> new SocketClusterTarget(peers.addresses(), clusterId),
                peers.addresses().size() + " node processes at " + peers.addresses().values() + ", over TCP", out, err);
    }
}
