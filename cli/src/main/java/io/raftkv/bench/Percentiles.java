package io.raftkv.bench;

import org.HdrHistogram.Histogram;

import java.util.List;

/**
 * The percentiles a latency report shows, in nanoseconds; all zero when nothing was recorded.
 */
public record Percentiles(long p50, long p90, long p99, long p999, long p9999, long max) {
    /** The labels of the fields, in order, as reports print them. */
    public static final List<String> LABELS = List.of("p50", "p90", "p99", "p99.9", "p99.99", "max");

    static Percentiles of(Histogram h) {
        if (h.getTotalCount() == 0) return new Percentiles(0, 0, 0, 0, 0, 0);
        // HdrHistogram reports the highest value equivalent to the recorded one (within its 3
        // significant digits); getMaxValue is the same kind of figure, so the columns agree.
        return new Percentiles(h.getValueAtPercentile(50), h.getValueAtPercentile(90), h.getValueAtPercentile(99),
                h.getValueAtPercentile(99.9), h.getValueAtPercentile(99.99), h.getMaxValue());
    }

    /** The values in the order of {@link #LABELS}. */
    public long[] values() {
        return new long[] {p50, p90, p99, p999, p9999, max};
    }
}
