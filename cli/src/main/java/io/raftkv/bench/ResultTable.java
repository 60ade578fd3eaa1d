package io.raftkv.bench;

import java.util.List;
import java.util.Locale;

/**
 * Formats harness results as a plain-text table for a terminal, latencies in microseconds.
 */
public final class ResultTable {
    private ResultTable() {}

    /** A header, one row per rate, then each rate's warning if it has one. */
    public static String format(List<RateResult> results) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%12s %12s %10s %7s", "target/s", "reached/s", "writes", "errors"));
        for (String label : Percentiles.LABELS) b.append(String.format(Locale.ROOT, " %10s", label));
        b.append(String.format(Locale.ROOT, " %11s%n", "late p99"));
        for (RateResult r : results) b.append(row(r)).append('\n');
        b.append("latency in µs from each write's intended send time; \"late\": how late the harness sent it\n");
        for (RateResult r : results) {
            r.warning().ifPresent(w -> b.append(String.format(Locale.ROOT, "WARNING at %,d writes/s: %s%n", r.targetRate(), w)));
        }
        return b.toString();
    }

    /** One rate's figures on one line. */
    public static String row(RateResult r) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%,12d %,12.0f %,10d %,7d", r.targetRate(), r.achievedRate(), r.count(),
                r.errors()));
        for (long v : r.latency().values()) b.append(String.format(Locale.ROOT, " %10s", micros(v)));
        b.append(String.format(Locale.ROOT, " %11s", micros(r.sendDelay().p99())));
        return b.toString();
    }

    /** Nanoseconds as microseconds with three significant digits or more: "52.3", "1,250". */
    public static String micros(long nanos) {
        double us = nanos / 1e3;
        if (us < 10) return String.format(Locale.ROOT, "%.2f", us);
        if (us < 100) return String.format(Locale.ROOT, "%.1f", us);
        return String.format(Locale.ROOT, "%,.0f", us);
    }
}
