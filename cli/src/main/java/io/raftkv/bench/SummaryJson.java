package io.raftkv.bench;

import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Writes a harness sweep's results, configuration and machine as one JSON document (by hand: the
 * shape is fixed and small, and a JSON library would be one more dependency).
 */
public final class SummaryJson {
    private SummaryJson() {}

    static String of(String target, String description, HarnessConfig config, Instant startedAt,
                     List<RateResult> results, List<String> histogramFiles) {
        Runtime rt = Runtime.getRuntime();
        StringBuilder b = new StringBuilder(1024 + 768 * results.size());
        b.append("{\n");
        b.append("  \"target\": ").append(quote(target)).append(",\n");
        b.append("  \"description\": ").append(quote(description)).append(",\n");
        b.append("  \"startedAt\": ").append(quote(startedAt.toString())).append(",\n");
        b.append("  \"machine\": {\"cpus\": ").append(rt.availableProcessors())
                .append(", \"maxHeapBytes\": ").append(rt.maxMemory())
                .append(", \"os\": ").append(quote(System.getProperty("os.name") + " " + System.getProperty("os.arch")))
                .append(", \"java\": ").append(quote(System.getProperty("java.vm.name") + " " + Runtime.version()))
                .append("},\n");
        b.append("  \"config\": {\"rates\": ").append(config.rates())
                .append(", \"warmupSeconds\": ").append(num(config.warmup().toNanos() / 1e9))
                .append(", \"durationSeconds\": ").append(num(config.duration().toNanos() / 1e9))
                .append(", \"maxClients\": ").append(config.maxClients())
                .append(", \"valueBytes\": ").append(config.valueBytes()).append("},\n");
        b.append("  \"latencyUnit\": \"us\",\n");
        b.append("  \"latencyFrom\": \"intended send time\",\n");
        b.append("  \"results\": [");
        for (int i = 0; i < results.size(); i++) {
            b.append(i == 0 ? "\n" : ",\n");
            appendResult(b, results.get(i), histogramFiles.get(i));
        }
        b.append(results.isEmpty() ? "]\n" : "\n  ]\n");
        b.append("}\n");
        return b.toString();
    }

    private static void appendResult(StringBuilder b, RateResult r, String histogramFile) {
        b.append("    {\"targetRate\": ").append(r.targetRate())
                .append(", \"achievedRate\": ").append(num(r.achievedRate()))
                .append(", \"reachedTarget\": ").append(r.reachedTarget())
                .append(", \"count\": ").append(r.count())
                .append(", \"errors\": ").append(r.errors())
                .append(", \"warmupErrors\": ").append(r.warmupErrors())
                .append(", \"unsent\": ").append(r.unsent())
                .append(",\n     \"latency\": ");
        appendPercentiles(b, r.latency());
        b.append(",\n     \"sendDelay\": ");
        appendPercentiles(b, r.sendDelay());
        b.append(",\n     \"firstError\": ").append(r.firstError().map(SummaryJson::quote).orElse("null"))
                .append(", \"warning\": ").append(r.warning().map(SummaryJson::quote).orElse("null"))
                .append(", \"histogram\": ").append(quote(histogramFile)).append('}');
    }

    private static void appendPercentiles(StringBuilder b, Percentiles p) {
        long[] values = p.values();
        b.append('{');
        for (int i = 0; i < values.length; i++) {
            if (i > 0) b.append(", ");
            b.append(quote(Percentiles.LABELS.get(i))).append(": ").append(num(values[i] / 1e3));
        }
        b.append('}');
    }

    /** A finite number as JSON (which has no NaN or infinity), to 3 decimals. */
    private static String num(double d) {
        if (!Double.isFinite(d)) return "null";
        return String.format(Locale.ROOT, "%.3f", d);
    }

    /** {@code s} as a JSON string: quoted, with quotes, backslashes and control characters escaped. */
    public static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }
}
