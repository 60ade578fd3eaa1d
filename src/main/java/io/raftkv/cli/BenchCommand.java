package io.raftkv.cli;

import io.raftkv.bench.HarnessArgs;
import io.raftkv.bench.LatencyHarnessMain;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

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

    @Override
    public Integer call() throws InterruptedException {
        return LatencyHarnessMain.run(harness, spec.commandLine().getOut(), spec.commandLine().getErr());
    }
}
