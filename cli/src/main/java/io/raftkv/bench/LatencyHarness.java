package io.raftkv.bench;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * An open-loop latency harness: drives a {@link CommitTarget} at each of a list of fixed rates,
 * measures every write from its intended send time (see {@link OpenLoopRun}) and writes, to the
 * configured directory, one HdrHistogram {@code .hgrm} file per rate, {@code summary.json} and a
 * percentile plot, {@code latency-percentiles.svg}.
 */
public final class LatencyHarness {
    /** Keys {@code k0} to {@code k1023} ({@link #run}), written in turn. */
    private static final int KEYS = 1024;
    public static final String SUMMARY_FILE = "summary.json";
    public static final String PLOT_FILE = "latency-percentiles.svg";

    private final HarnessConfig config;
    private final PrintWriter log;

    /** A harness that prints its progress and results to {@code log}. */
    public LatencyHarness(HarnessConfig config, PrintStream log) {
        this(config, new PrintWriter(new OutputStreamWriter(Objects.requireNonNull(log, "log"), log.charset()), true));
    }

    /** A harness that prints its progress and results to {@code log} (a command line's output, say). */
    public LatencyHarness(HarnessConfig config, PrintWriter log) {
        this.config = Objects.requireNonNull(config, "config");
        this.log = Objects.requireNonNull(log, "log");
    }

    /** The name of the histogram file of {@code rate}. */
    public static String histogramFile(long rate) {
        return "latency-" + rate + ".hgrm";
    }

    /** As {@link #run(CommitTarget, String)}, described by the target's name. */
    public List<RateResult> run(CommitTarget target) throws InterruptedException {
        return run(target, target.name());
    }

    /**
     * Runs every rate in turn against {@code target} and writes the results; {@code description}
     * (such as "3 nodes, memory storage") goes into the summary and the plot.
     *
     * @throws UncheckedIOException if the results cannot be written
     */
    public List<RateResult> run(CommitTarget target, String description) throws InterruptedException {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(description, "description");
        Instant startedAt = Instant.now();
        Path dir = config.outputDir();
        createDirectories(dir);
        log.println("writing results to " + dir.toAbsolutePath());

        log.printf(Locale.ROOT, "%s (%s): %d clients, %d-byte values, warm-up %s and %s measured per rate%n",
                target.name(), description, config.maxClients(), config.valueBytes(),
                describe(config.warmup().toNanos()), describe(config.duration().toNanos()));
        log.flush();
        List<String> histogramFiles = new ArrayList<>();
        List<PercentilePlot.Series> lines = new ArrayList<>();
        List<RateResult> results = sweep(target, "k", outcome -> {
            RateResult r = outcome.result();
            String file = histogramFile(r.targetRate());
            histogramFiles.add(file);
            // Written as soon as a rate ends, so that a later failure does not lose it.
            write(dir.resolve(file), out -> outcome.latency().outputPercentileDistribution(out, 1000.0));
            lines.add(new PercentilePlot.Series(legendLabel(r), outcome.latency()));
            log.printf(Locale.ROOT, "%,d writes/s: reached %,.0f/s, p50 %s µs, p99 %s µs, max %s µs%n",
                    r.targetRate(), r.achievedRate(), ResultTable.micros(r.latency().p50()),
                    ResultTable.micros(r.latency().p99()), ResultTable.micros(r.latency().max()));
            r.warning().ifPresent(w -> log.println("WARNING: " + w));
            log.flush();
        });

        String json = SummaryJson.of(target.name(), description, config, startedAt, results, histogramFiles);
        write(dir.resolve(SUMMARY_FILE), out -> out.print(json));
        String svg = PercentilePlot.svg(target.name() + ": write latency by percentile, from intended send time",
                description + ", " + config.maxClients() + " clients, " + config.valueBytes() + "-byte values, "
                        + describe(config.duration().toNanos()) + " per rate", lines);
        write(dir.resolve(PLOT_FILE), out -> out.print(svg));

        log.println();
        log.print(ResultTable.format(results));
        log.println("results in " + dir.toAbsolutePath() + ": " + SUMMARY_FILE + ", " + PLOT_FILE + ", "
                + String.join(", ", histogramFiles));
        log.flush();
        return List.copyOf(results);
    }

    /**
     * Runs every rate in turn against {@code target}, as {@link #run} does, but prints nothing and
     * writes no file (the configured output directory is not used): a quick look, such as the
     * {@code bench} command of the cluster shell. The keys written are {@code keyPrefix} followed by 0
     * to 1023, so that a measurement of a store a person also uses can keep out of that person's keys.
     */
    public List<RateResult> measure(CommitTarget target, String keyPrefix) throws InterruptedException {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(keyPrefix, "keyPrefix");
        return List.copyOf(sweep(target, keyPrefix, outcome -> {}));
    }

    private List<RateResult> sweep(CommitTarget target, String keyPrefix, Consumer<OpenLoopRun.Outcome> eachRate)
            throws InterruptedException {
        // Made before the first rate: a writer may need the store to open a session for it.
        List<CommitTarget.Writer> writers = new ArrayList<>();
        for (int i = 0; i < config.maxClients(); i++) writers.add(target.newWriter());
        String[] keys = new String[KEYS];
        for (int i = 0; i < KEYS; i++) keys[i] = keyPrefix + i;
        String value = "x".repeat(config.valueBytes());

        List<RateResult> results = new ArrayList<>();
        for (long rate : config.rates()) {
            OpenLoopRun.Outcome outcome =
                    new OpenLoopRun(rate, config.warmup(), config.duration(), writers, keys, value).run();
            results.add(outcome.result());
            eachRate.accept(outcome);
        }
        return results;
    }

    private static String legendLabel(RateResult r) {
        String label = String.format(Locale.ROOT, "%,d/s", r.targetRate());
        return r.reachedTarget() ? label
                : label + String.format(Locale.ROOT, " (NOT reached: %,.0f/s)", r.achievedRate());
    }

    private static String describe(long nanos) {
        return nanos % 1_000_000_000L == 0 ? nanos / 1_000_000_000L + " s" : nanos / 1_000_000 + " ms";
    }

    private interface Content {
        void writeTo(PrintStream out);
    }

    private static void write(Path file, Content content) {
        try (PrintStream out = new PrintStream(Files.newOutputStream(file), false, StandardCharsets.UTF_8)) {
            content.writeTo(out);
            // PrintStream keeps I/O errors to itself; ask, or a full disk would pass unnoticed.
            if (out.checkError()) throw new IOException("could not write " + file);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write " + file, e);
        }
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("could not create the output directory " + dir, e);
        }
    }
}
