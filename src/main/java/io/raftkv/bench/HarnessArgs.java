package io.raftkv.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The command line of {@link LatencyHarnessMain}: the cluster's settings and the harness's.
 *
 * @param nodes  nodes in the embedded cluster
 * @param spins  {@code Cluster.Builder.spinsBeforePark} of every node
 * @param config what the harness runs
 * @param help   whether {@code --help} was asked for (the other values are then the defaults)
 */
public record HarnessArgs(int nodes, int spins, HarnessConfig config, boolean help) {
    public static final String USAGE = """
            Usage: LatencyHarnessMain [options]
            Drives an embedded raftkv cluster (memory storage) with writes at fixed rates and reports
            their latency from each write's intended send time.
              --nodes N          nodes in the cluster, 1 to 99 (default 3)
              --rates R1,R2,...  target rates in writes per second (default 1000,10000)
              --duration D       measured time per rate, such as 5s, 500ms or 1m (default 5s)
              --warmup D         unrecorded time before each rate is measured (default 2s; 0 for none)
              --clients N        most writes outstanding at once, one client each (default 64)
              --value-bytes N    bytes per value (default 128)
              --out DIR          where the .hgrm files, summary.json and the plot go (default bench-results/harness)
              --spins N          how often an idle node spins before it parks (default 0)
              --help             this text
            """;

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m)");

    /**
     * Reads {@code args} ({@code --flag value} or {@code --flag=value}).
     *
     * @throws IllegalArgumentException naming the flag, what it was given and what it accepts
     */
    public static HarnessArgs parse(String... args) {
        int nodes = 3, spins = 0;
        HarnessConfig.Builder config = HarnessConfig.builder();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            String flag = arg, value = null;
            int eq = arg.indexOf('=');
            if (arg.startsWith("--") && eq > 0) {
                flag = arg.substring(0, eq);
                value = arg.substring(eq + 1);
            }
            if (flag.equals("--help") || flag.equals("-h")) return new HarnessArgs(nodes, spins, config.build(), true);
            if (!isKnown(flag)) {
                throw new IllegalArgumentException("unknown option '" + arg + "'; the options are --nodes, --rates, "
                        + "--duration, --warmup, --clients, --value-bytes, --out, --spins and --help");
            }
            if (value == null) {
                if (i + 1 >= args.length) throw new IllegalArgumentException(flag + " needs a value");
                value = args[++i];
            }
            switch (flag) {
                case "--nodes" -> nodes = wholeNumber(flag, value, 1, 99);
                case "--rates" -> config.rates(rates(value));
                case "--duration" -> config.duration(duration(flag, value, false));
                case "--warmup" -> config.warmup(duration(flag, value, true));
                case "--clients" -> config.maxClients(wholeNumber(flag, value, 1, HarnessConfig.MAX_CLIENTS));
                case "--value-bytes" -> config.valueBytes(wholeNumber(flag, value, 0, HarnessConfig.MAX_VALUE_BYTES));
                case "--out" -> config.outputDir(directory(value));
                case "--spins" -> spins = wholeNumber(flag, value, 0, Integer.MAX_VALUE);
                default -> throw new AssertionError(flag);
            }
        }
        return new HarnessArgs(nodes, spins, config.build(), false);
    }

    private static boolean isKnown(String flag) {
        return switch (flag) {
            case "--nodes", "--rates", "--duration", "--warmup", "--clients", "--value-bytes", "--out", "--spins" -> true;
            default -> false;
        };
    }

    private static int wholeNumber(String flag, String value, int min, int max) {
        long n = parseLong(flag, value, "a whole number");
        if (n < min || n > max) {
            throw new IllegalArgumentException(flag + " must be between " + min + " and " + max + ", was " + value);
        }
        return (int) n;
    }

    private static List<Long> rates(String value) {
        List<Long> rates = new ArrayList<>();
        for (String part : value.split(",", -1)) {
            long r = parseLong("--rates", part.strip(), "a comma-separated list of whole writes per second, "
                    + "such as 1000,10000,50000");
            if (r < 1 || r > HarnessConfig.MAX_RATE) {
                throw new IllegalArgumentException("--rates: each rate must be between 1 and " + HarnessConfig.MAX_RATE
                        + " writes/s, was " + part.strip());
            }
            rates.add(r);
        }
        return rates;
    }

    private static long parseLong(String flag, String value, String expected) {
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " takes " + expected + ", not '" + value + "'");
        }
    }

    private static Duration duration(String flag, String value, boolean zeroAllowed) {
        Matcher m = DURATION.matcher(value.strip().toLowerCase(Locale.ROOT));
        Duration d;
        if (zeroAllowed && value.strip().equals("0")) {
            d = Duration.ZERO;
        } else if (m.matches()) {
            long n = parseLong(flag, m.group(1), "a duration such as 5s, 500ms or 1m");
            d = switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                default -> Duration.ofMinutes(n);
            };
        } else {
            throw new IllegalArgumentException(flag + " takes a duration such as 5s, 500ms or 1m, not '" + value + "'");
        }
        if (d.isZero() && !zeroAllowed) throw new IllegalArgumentException(flag + " must be longer than zero");
        return d;
    }

    private static Path directory(String value) {
        if (value.isBlank()) throw new IllegalArgumentException("--out needs a directory");
        return Path.of(value);
    }
}
