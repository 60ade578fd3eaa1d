package io.raftkv.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * What a {@link LatencyHarness} run does: the rates it sweeps, how long it warms up and measures
 * each, how many clients it may use, the size of the values it writes and where its results go.
 *
 * @param rates      target rates in writes per second, run in this order; each distinct and above 0
 * @param warmup     how long each rate runs, unrecorded, before it is measured (may be zero)
 * @param duration   how long each rate is measured
 * @param maxClients how many writers (one virtual thread each) may have a write outstanding
 * @param valueBytes the size of each written value, in bytes (ASCII, so characters too)
 * @param outputDir  where the histograms, the JSON summary and the plot are written
 */
public record HarnessConfig(List<Long> rates, Duration warmup, Duration duration, int maxClients, int valueBytes,
                            Path outputDir) {
    /** The largest rate: one write per nanosecond, the resolution of the schedule. */
    public static final long MAX_RATE = 1_000_000_000L;
    public static final int MAX_CLIENTS = 10_000;
    /** raftkv's default value limit (KvLimits.DEFAULT). */
    public static final int MAX_VALUE_BYTES = 1 << 20;

    public HarnessConfig {
        Objects.requireNonNull(rates, "rates");
        Objects.requireNonNull(warmup, "warmup");
        Objects.requireNonNull(duration, "duration");
        Objects.requireNonNull(outputDir, "outputDir");
        if (rates.isEmpty()) throw new IllegalArgumentException("rates must name at least one rate");
        Set<Long> seen = new HashSet<>();
        for (Long r : rates) {
            Objects.requireNonNull(r, "rates must not contain null");
            if (r < 1 || r > MAX_RATE) {
                throw new IllegalArgumentException("each rate must be between 1 and " + MAX_RATE + " writes/s, was " + r);
            }
            // One histogram file per rate, named after it: a repeated rate would overwrite its twin.
            if (!seen.add(r)) throw new IllegalArgumentException("rate " + r + " is listed twice in " + rates);
        }
        if (warmup.isNegative()) throw new IllegalArgumentException("warmup must be zero or positive, was " + warmup);
        if (duration.isNegative() || duration.isZero()) {
            throw new IllegalArgumentException("duration must be positive, was " + duration);
        }
        if (maxClients < 1 || maxClients > MAX_CLIENTS) {
            throw new IllegalArgumentException("maxClients must be between 1 and " + MAX_CLIENTS + ", was " + maxClients);
        }
        if (valueBytes < 0 || valueBytes > MAX_VALUE_BYTES) {
            throw new IllegalArgumentException("valueBytes must be between 0 and " + MAX_VALUE_BYTES + ", was " + valueBytes);
        }
        rates = List.copyOf(rates);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A run's directory under {@link #DEFAULT_OUTPUT_DIR}: its local start time, to the second. */
    private static final DateTimeFormatter RUN_NAME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");

    /** The directory under which a run with no output directory given writes, relative to the current one. */
    public static final String DEFAULT_OUTPUT_DIR = "bench-out";

    /**
     * The default output directory of a run started at {@code start}: {@code bench-out/<date>-<time>},
     * such as {@code bench-out/20250603-140712}, so that a run overwrites neither another run's results
     * nor files a person keeps.
     */
    public static Path newOutputDir(Instant start) {
        return Path.of(DEFAULT_OUTPUT_DIR, RUN_NAME.format(start.atZone(ZoneId.systemDefault())));
    }

    /** Builds a {@link HarnessConfig}; the defaults are those of {@code LatencyHarnessMain}. */
    public static final class Builder {
        private List<Long> rates = List.of(1_000L, 10_000L);
        private Duration warmup = Duration.ofSeconds(2);
        private Duration duration = Duration.ofSeconds(5);
        private int maxClients = 64;
        private int valueBytes = 128;
        private Path outputDir; // null: a new directory under bench-out, named when the configuration is built

        private Builder() {}

        /** Target rates in writes per second (default 1,000 and 10,000). */
        public Builder rates(List<Long> r) {
            this.rates = Objects.requireNonNull(r, "rates");
            return this;
        }

        public Builder rates(long... r) {
            return rates(Arrays.stream(r).boxed().toList());
        }

        /** Unrecorded time at each rate before it is measured (default 2 s). */
        public Builder warmup(Duration d) {
            this.warmup = Objects.requireNonNull(d, "warmup");
            return this;
        }

        /** Measured time at each rate (default 5 s). */
        public Builder duration(Duration d) {
            this.duration = Objects.requireNonNull(d, "duration");
            return this;
        }

        /** How many writes may be outstanding at once (default 64). */
        public Builder maxClients(int n) {
            this.maxClients = n;
            return this;
        }

        /** Bytes per written value (default 128). */
        public Builder valueBytes(int n) {
            this.valueBytes = n;
            return this;
        }

        /** Where results are written (default {@link #newOutputDir}, for the time {@link #build()} is called). */
        public Builder outputDir(Path dir) {
            this.outputDir = Objects.requireNonNull(dir, "outputDir");
            return this;
        }

        /** The configuration; every value is checked here. */
        public HarnessConfig build() {
            return new HarnessConfig(rates, warmup, duration, maxClients, valueBytes,
                    outputDir != null ? outputDir : newOutputDir(Instant.now()));
        }
    }
}
