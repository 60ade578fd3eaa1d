package io.raftkv.bench;

import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The latency harness's options, the embedded cluster's and the harness's, as a picocli mixin: the one
 * parser of both {@code raftkv bench} and {@link LatencyHarnessMain}.
 *
 * <p>picocli checks the form of each value; {@link #nodes()}, {@link #spins()} and {@link #config()}
 * check the ranges, and throw a {@link ParameterException} that names the option, what it was given and
 * what it accepts. The defaults here are {@link HarnessConfig.Builder}'s (a test holds them equal).
 */
@Command(description = {
        "Measure write latency at fixed rates (open loop) against a cluster started in this JVM (memory storage).",
        "Each write is timed from its intended send time, so that a stall counts against every write queued "
                + "behind it. Prints p50 to p99.99 and max per rate with the rate reached, and writes one .hgrm "
                + "histogram per rate, summary.json and a percentile plot (SVG) to --out.",
        ""})
public final class HarnessArgs {
    // The command this mixin is part of: its errors are that command's (exit status 2, its usage).
    @Spec(Spec.Target.MIXEE)
    private CommandSpec command;

    @Option(names = "--nodes", paramLabel = "N", defaultValue = "3", order = 1,
            description = "Nodes in the cluster, 1 to 99 (default: ${DEFAULT-VALUE}).")
    private int nodes;

    @Option(names = "--rates", paramLabel = "RATE", split = ",", splitSynopsisLabel = ",", defaultValue = "1000,10000", order = 2,
            converter = RateConverter.class,
            description = "Target rates in writes per second, comma-separated, run in turn (default: ${DEFAULT-VALUE}).")
    private List<Long> rates;

    @Option(names = "--duration", paramLabel = "D", defaultValue = "5s", converter = DurationConverter.class, order = 3,
            description = "Measured time per rate, such as 5s, 500ms or 1m (default: ${DEFAULT-VALUE}).")
    private Duration duration;

    @Option(names = "--warmup", paramLabel = "D", defaultValue = "2s", converter = DurationConverter.class, order = 4,
            description = "Unrecorded time before each rate is measured; 0 for none (default: ${DEFAULT-VALUE}).")
    private Duration warmup;

    @Option(names = "--clients", paramLabel = "N", defaultValue = "64", order = 5,
            description = "Most writes outstanding at once, one client each, 1 to " + HarnessConfig.MAX_CLIENTS
                    + " (default: ${DEFAULT-VALUE}).")
    private int clients;

    @Option(names = "--value-bytes", paramLabel = "N", defaultValue = "128", order = 6,
            description = "Bytes per value, 0 to " + HarnessConfig.MAX_VALUE_BYTES + " (default: ${DEFAULT-VALUE}).")
    private int valueBytes;

    @Option(names = "--out", paramLabel = "DIR", order = 7,
            description = "Where the .hgrm files, summary.json and the plot go, created if missing (default: a new"
                    + " directory " + HarnessConfig.DEFAULT_OUTPUT_DIR + "/<date>-<time> under the current one)."
                    + " The run prints the directory when it starts and when it ends.")
    private Path out;

    @Option(names = "--spins", paramLabel = "N", defaultValue = "0", order = 8,
            description = "Spins of an idle node before it parks (default: ${DEFAULT-VALUE}).")
    private int spins;

    /** The number of nodes, 1 to 99. */
    public int nodes() {
        return inRange("--nodes", nodes, 1, 99);
    }

    /** {@code Cluster.Builder.spinsBeforePark} of every node, 0 or more. */
    public int spins() {
        return inRange("--spins", spins, 0, Integer.MAX_VALUE);
    }

    /** What the harness runs. */
    public HarnessConfig config() {
        if (duration.isZero()) throw invalid("--duration", "the measured time must be longer than zero");
        if (out != null && out.toString().isBlank()) throw invalid("--out", "a directory is needed");
        inRange("--clients", clients, 1, HarnessConfig.MAX_CLIENTS);
        inRange("--value-bytes", valueBytes, 0, HarnessConfig.MAX_VALUE_BYTES);
        try {
            HarnessConfig.Builder b = HarnessConfig.builder().rates(rates).duration(duration).warmup(warmup)
                    .maxClients(clients).valueBytes(valueBytes);
            return (out != null ? b.outputDir(out) : b).build();
        } catch (IllegalArgumentException e) {
            throw invalid("--rates", e.getMessage()); // a rate listed twice: the rest is checked above
        }
    }

    private int inRange(String option, int value, int min, int max) {
        if (value < min || value > max) throw invalid(option, value + " is not between " + min + " and " + max);
        return value;
    }

    private ParameterException invalid(String option, String why) {
        return new ParameterException(command.commandLine(), "Invalid value for option '" + option + "': " + why);
    }

    /** One rate of {@code --rates}: a whole number of writes per second, 1 to {@link HarnessConfig#MAX_RATE}. */
    static final class RateConverter implements ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            long r;
            try {
                r = Long.parseLong(value.strip());
            } catch (NumberFormatException e) {
                throw new TypeConversionException("'" + value + "' is not a whole number of writes per second; "
                        + "give one or more, such as 1000,10000");
            }
            if (r < 1 || r > HarnessConfig.MAX_RATE) {
                throw new TypeConversionException(r + " is not between 1 and " + HarnessConfig.MAX_RATE + " writes/s");
            }
            return r;
        }
    }

    /** A duration as people type it: {@code 500ms}, {@code 5s}, {@code 1m}, or {@code 0}. */
    static final class DurationConverter implements ITypeConverter<Duration> {
        private static final Pattern DURATION = Pattern.compile("(\\d{1,9})(ms|s|m)");

        @Override
        public Duration convert(String value) {
            String v = value.strip().toLowerCase(Locale.ROOT);
            if (v.equals("0")) return Duration.ZERO;
            Matcher m = DURATION.matcher(v);
            if (!m.matches()) {
                throw new TypeConversionException("'" + value + "' is not a duration such as 5s, 500ms or 1m");
            }
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMinutes(n);
            };
        }
    }
}
