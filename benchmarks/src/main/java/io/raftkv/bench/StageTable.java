package io.raftkv.bench;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Locale;

/**
 * Where a commit's time goes, from a JFR recording of a benchmark run with {@code io.raftkv.NodePass}
 * enabled: per committed put, the nanoseconds each node spends in each stage of its loop (leader and
 * followers apart), the process's CPU (from {@code jdk.CPULoad}), GC pauses, and what is left: the
 * clients' threads, the virtual-thread scheduler and the JVM. Printed as a Markdown table.
 *
 * <pre>java -cp target/benchmarks.jar io.raftkv.bench.StageTable RECORDING.jfr SKIP_SECONDS [CORES]</pre>
 * SKIP_SECONDS leaves the warm-up out; CORES (default: this machine's) turns CPU load into CPU time.
 */
public final class StageTable {
    private static final String[] STAGES = {"inboxNanos", "readyNanos", "sendNanos", "persistNanos", "applyNanos", "answerNanos"};
    private static final String[] NAMES = {"inbox → core (append, step)", "ready (replicate, commit)", "send",
            "persist", "apply", "answer (publish, wake clients)"};

    private StageTable() {}

    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[0]);
        long skip = Long.parseLong(args[1]);
        int cores = args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors();
        List<RecordedEvent> events = RecordingFile.readAllEvents(file);
        Instant first = events.stream().map(RecordedEvent::getStartTime).min(Instant::compareTo).orElseThrow();
        Instant from = first.plusSeconds(skip);
        Instant to = events.stream().map(RecordedEvent::getEndTime).max(Instant::compareTo).orElseThrow();
        double[][] stage = new double[2][STAGES.length]; // [leader?1:0][stage]
        double[] pass = new double[2];
        long[] passes = new long[2];
        long commits = 0;
        double cpuNanos = 0;
        double gcNanos = 0;
        Instant cpuFrom = null;
        Instant cpuTo = null;
        for (RecordedEvent e : events) {
            if (e.getStartTime().isBefore(from)) continue;
            switch (e.getEventType().getName()) {
                case "io.raftkv.NodePass" -> {
                    int role = e.getBoolean("leader") ? 1 : 0;
                    for (int i = 0; i < STAGES.length; i++) stage[role][i] += e.getLong(STAGES[i]);
                    pass[role] += e.getDuration().toNanos();
                    passes[role]++;
                    if (role == 1) commits += e.getInt("answers");
                }
                case "jdk.CPULoad" -> {
                    // Load over the second before this sample.
                    cpuNanos += (e.getFloat("jvmUser") + e.getFloat("jvmSystem")) * cores * 1e9;
                    if (cpuFrom == null) cpuFrom = e.getStartTime();
                    cpuTo = e.getStartTime();
                }
                case "jdk.GarbageCollection" -> gcNanos += e.getDuration("sumOfPauses").toNanos();
                default -> { }
            }
        }
        double seconds = Duration.between(from, to).toNanos() / 1e9;
        double cpuSeconds = cpuFrom == null ? 0 : Duration.between(cpuFrom, cpuTo).toNanos() / 1e9 + 1;
        double cpuPerCommit = cpuNanos / (commits * (cpuSeconds / seconds));
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%,d commits in %.1f s (%,.0f/s); CPU %.2f cores%n%n", commits, seconds,
                commits / seconds, cpuNanos / 1e9 / cpuSeconds));
        b.append("| stage | leader ns/commit | followers ns/commit (both) |\n|---|---:|---:|\n");
        double nodeTotal = 0;
        for (int i = 0; i < STAGES.length; i++) {
            b.append(String.format(Locale.ROOT, "| %s | %.0f | %.0f |%n", NAMES[i], stage[1][i] / commits, stage[0][i] / commits));
        }
        double leaderOther = (pass[1] - sum(stage[1])) / commits;
        double followerOther = (pass[0] - sum(stage[0])) / commits;
        b.append(String.format(Locale.ROOT, "| rest of the pass (tick, snapshot check, status) | %.0f | %.0f |%n", leaderOther, followerOther));
        nodeTotal = (pass[0] + pass[1]) / commits;
        b.append(String.format(Locale.ROOT, "| **node passes** | **%.0f** | **%.0f** |%n", pass[1] / commits, pass[0] / commits));
        b.append(String.format(Locale.ROOT, "%n| per commit | ns |%n|---|---:|%n"));
        b.append(String.format(Locale.ROOT, "| node passes, all nodes (wall time on the node threads) | %.0f |%n", nodeTotal));
        b.append(String.format(Locale.ROOT, "| GC pauses (stop the world, all threads) | %.0f |%n", gcNanos / commits));
        b.append(String.format(Locale.ROOT, "| rest: clients (encode, wait), virtual-thread scheduler, snapshot writers, JIT, GC threads | %.0f |%n",
                cpuPerCommit - nodeTotal));
        b.append(String.format(Locale.ROOT, "| **process CPU** (jdk.CPULoad × %d cores) | **%.0f** |%n", cores, cpuPerCommit));
        b.append(String.format(Locale.ROOT, "%npasses: leader %,d (%.1f commits each), followers %,d%n", passes[1],
                commits / (double) passes[1], passes[0]));
        System.out.print(b);
    }

    private static double sum(double[] a) {
        double s = 0;
        for (double x : a) s += x;
        return s;
    }
}
