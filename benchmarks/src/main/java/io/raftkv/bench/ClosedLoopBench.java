package io.raftkv.bench;

import org.HdrHistogram.Histogram;
import org.HdrHistogram.HistogramLogReader;
import org.HdrHistogram.HistogramLogWriter;
import org.HdrHistogram.Recorder;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;

/**
 * Closed-loop commit latency with HdrHistogram, for raftkv and its peers (MicroRaft, SOFAJRaft) alike:
 * {@code clients} clients each put a distinct value (its own counter in a {@code valueBytes} string) back
 * to back, and every put is timed from the call until it returns. After a warm-up, one window of
 * {@code seconds} is measured: commits per second, p50 to p99.99 and the worst commit, the worst commit of
 * every second, GC time and count, the process's CPU, and the heap left after the last collection, sampled
 * each second (a soak shows whether it stays flat). One client is a platform thread, as a caller outside
 * any virtual-thread pool would be; more are virtual threads. Beside the figures it prints the machine's
 * memory latency ({@link MachineProbe}): once alone before the cluster starts, and once a second during the
 * window (about a millisecond of loads each), with how closely the commits of each second follow it; the
 * core's own speed each second; and how often the virtual-thread carriers parked each second, with how
 * closely the commits follow that. A rate that halves while the probes stay flat is the program's doing,
 * not the machine's.
 *
 * <pre>java -cp target/benchmarks.jar io.raftkv.bench.ClosedLoopBench SYSTEM NODES CLIENTS VALUE_BYTES WARMUP_S SECONDS OUT_DIR [LABEL]</pre>
 * SYSTEM is raftkv, raftkv-tcp, microraft or jraft (see {@link CommitTargets#open}). It prints one summary
 * line (and a per-second line with -Dbench.verbose=true) and appends the window's histogram to
 * {@code OUT_DIR/LABEL.hlog}; {@code ClosedLoopBench plot OUT_DIR TITLE} draws every .hlog there (all the
 * windows of a file together) as one percentile plot, {@code plot.svg}.
 *
 * <p>{@code -Dbench.op=get} times linearizable reads instead of puts (every key is written once first): raftkv's
 * read policy by {@code -Dbench.readPolicy=READ_INDEX|LEASE} (in one JVM; node processes take
 * {@code -Dbench.nodeArgs="--reads lease"}) and where its clients read by {@code -Dbench.readFrom=LEADER|ANY};
 * MicroRaft's query policy by {@code -Dbench.query=LINEARIZABLE|LEADER_LEASE}.
 *
 * <p>To find what stalls a commit: {@code -Dbench.stalls=MICROS} lists every commit slower than that, with
 * the wall-clock time it ended (to set beside a JFR recording's GC pauses and safepoints), and runs a
 * hiccup meter: a platform thread that parks for 1 ms at a time and records how late it wakes, which
 * is what the OS and the JVM did to a thread that needs nothing else. Off by default: the meter's
 * thousand wake-ups a second are load of their own.
 */
public final class ClosedLoopBench {
    private static final long HIGHEST = 60_000_000_000L; // 60 s, in ns
    private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);

    private ClosedLoopBench() {}

    public static void main(String[] args) throws Exception {
        if (args.length >= 2 && args[0].equals("plot")) {
            plot(Path.of(args[1]), args.length > 2 ? args[2] : "commit latency");
            return;
        }
        if (args.length < 7) {
            System.err.println("usage: ClosedLoopBench SYSTEM NODES CLIENTS VALUE_BYTES WARMUP_S SECONDS OUT_DIR [LABEL]"
                    + " | plot OUT_DIR [TITLE]\n  SYSTEM: raftkv, raftkv-tcp, microraft or jraft");
            System.exit(2);
        }
        String system = args[0];
        int nodes = Integer.parseInt(args[1]);
        int clients = Integer.parseInt(args[2]);
        int valueBytes = Integer.parseInt(args[3]);
        int warmup = Integer.parseInt(args[4]);
        int seconds = Integer.parseInt(args[5]);
        Path out = Path.of(args[6]);
        String label = args.length > 7 ? args[7] : system + "-" + nodes + "n-" + clients + "c";
        if (valueBytes < 16) throw new IllegalArgumentException("VALUE_BYTES must be >= 16 to hold a distinct counter");
        Files.createDirectories(out);
        boolean verbose = Boolean.getBoolean("bench.verbose");
        String op = System.getProperty("bench.op", "put");
        if (!op.equals("put") && !op.equals("get")) throw new IllegalArgumentException("-Dbench.op must be put or get, was " + op);
        boolean reads = op.equals("get");

        Recorder recorder = new Recorder(HIGHEST, 3);
        long stallNanos = Long.getLong("bench.stalls", 0L) * 1_000L;
        java.util.concurrent.ConcurrentLinkedQueue<Stall> stalls = new java.util.concurrent.ConcurrentLinkedQueue<>();
        Recorder hiccups = new Recorder(HIGHEST, 3);
        LongAdder errors = new LongAdder();
        AtomicReference<Throwable> firstError = new AtomicReference<>();
        String[] keys = CommitTargets.keys();
        String prefix = "x".repeat(valueBytes - 16);
        byte[] template = (prefix + "0".repeat(16)).getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        MachineProbe probe = new MachineProbe();
        double memAlone = probe.sample(20, 20_000);
        try (CommitTarget target = CommitTargets.open(system, nodes, Integer.getInteger("bench.spins", 0))) {
            List<CommitTarget.Writer> writers = new ArrayList<>();
            List<CommitTarget.Reader> readers = new ArrayList<>();
            for (int i = 0; i < clients; i++) writers.add(target.newWriter());
            for (CommitTarget.Writer w : writers) w.put("warm", prefix + "0000000000000000"); // opens raftkv's session
            if (reads) {
                // Every key holds a value before the first read, so each read finds one.
                if (!writers.isEmpty()) for (String key : keys) writers.get(0).put(key, prefix + "0000000000000000");
                for (int i = 0; i < clients; i++) readers.add(target.newReader());
            }
            // With no clients, the run measures what an idle cluster costs (its CPU, above all).
            List<Thread> threads = new ArrayList<>();
            boolean[] running = {true};
            for (int i = 0; i < clients; i++) {
                CommitTarget.Writer w = writers.get(i);
                CommitTarget.Reader r = reads ? readers.get(i) : null;
                long first = (long) i << 40;
                Runnable loop = () -> {
                    long n = first;
                    byte[] chars = template.clone();
                    while (running[0]) {
                        String key = keys[(int) (n & 1023)];
                        String value = null;
                        if (r == null) {
                            // A distinct value per put: the counter in hex in the last 16 chars (one String, one copy).
                            long x = n;
                            for (int d = chars.length - 1; d >= chars.length - 16; d--, x >>>= 4) chars[d] = HEX[(int) (x & 15)];
                            value = new String(chars, java.nio.charset.StandardCharsets.ISO_8859_1);
                        }
                        n++;
                        long t0 = System.nanoTime();
                        try {
                            if (r == null) w.put(key, value);
                            else if (r.get(key) == null) throw new IllegalStateException("no value for " + key);
                            long took = System.nanoTime() - t0;
                            recorder.recordValue(Math.min(took, HIGHEST));
                            if (stallNanos > 0 && took > stallNanos) stalls.add(new Stall(System.currentTimeMillis(), false, took));
                        } catch (RuntimeException e) {
                            errors.increment();
                            firstError.compareAndSet(null, e);
                        }
                    }
                };
                threads.add(clients == 1 ? Thread.ofPlatform().name("client-0").start(loop)
                        : Thread.ofVirtual().name("client-" + i).start(loop));
            }
            if (stallNanos > 0) {
                Thread meter = Thread.ofPlatform().daemon().name("hiccup-meter").start(() -> {
                    while (running[0]) {
                        long t = System.nanoTime();
                        LockSupport.parkNanos(1_000_000);
                        long late = Math.max(0, System.nanoTime() - t - 1_000_000);
                        hiccups.recordValue(Math.min(late, HIGHEST));
                        if (late > stallNanos) stalls.add(new Stall(System.currentTimeMillis(), true, late));
                    }
                });
                threads.add(meter);
            }
            Thread.sleep(warmup * 1000L);
            stalls.clear();
            long term0 = term(target);
            recorder.getIntervalHistogram(); // drop the warm-up
            hiccups.getIntervalHistogram();
            long gcTime0 = gcTime(), gcCount0 = gcCount();
            long cpu0 = cpuNanos();
            long start = System.nanoTime();
            Histogram window = new Histogram(HIGHEST, 3);
            Histogram interval = null;
            long worstSecondMax = 0, minPerSecond = Long.MAX_VALUE, maxPerSecond = 0;
            long liveMin = Long.MAX_VALUE, liveMax = 0;
            List<String> perSecond = new ArrayList<>();
            double[] memPerSecond = new double[seconds];
            double[] cpuPerSecond = new double[seconds];
            double[] switchesPerSecond = new double[seconds];
            long switchMark = MachineProbe.carrierSwitches();
            // With no clients the run measures what an idle cluster costs: the probes (about 2 ms of CPU a
            // second) would be a large part of it, so only the carriers' parks are read.
            boolean probing = clients > 0;
            long[] commitsPerSecond = new long[seconds];
            long cpuMark = cpu0;
            for (int s = 1; s <= seconds; s++) {
                long due = start + s * 1_000_000_000L;
                long wait;
                while ((wait = due - System.nanoTime()) > 0) Thread.sleep(Math.max(1, wait / 1_000_000));
                interval = recorder.getIntervalHistogram(interval);
                window.add(interval);
                double mem = probing ? probe.sample() : Double.NaN;
                memPerSecond[s - 1] = mem;
                double core = probing ? MachineProbe.cpuSample(5, 50_000) : Double.NaN;
                cpuPerSecond[s - 1] = core;
                long switchNow = MachineProbe.carrierSwitches();
                long switches = switchMark < 0 || switchNow < 0 ? -1 : switchNow - switchMark;
                switchMark = switchNow;
                switchesPerSecond[s - 1] = switches;
                commitsPerSecond[s - 1] = interval.getTotalCount();
                long live = liveAfterLastGc();
                liveMin = Math.min(liveMin, live);
                liveMax = Math.max(liveMax, live);
                minPerSecond = Math.min(minPerSecond, interval.getTotalCount());
                maxPerSecond = Math.max(maxPerSecond, interval.getTotalCount());
                worstSecondMax = Math.max(worstSecondMax, interval.getMaxValue());
                long cpuNow = cpuNanos();
                String line = String.format(Locale.ROOT, "  second %3d: %,9d commits, max %8.1f us, live after GC %6.1f MB, "
                                + "CPU %.2f cores, memory %5.1f ns/load, core %.3f ns/step, carrier parks %,6d",
                        s, interval.getTotalCount(), interval.getMaxValue() / 1e3, live / 1e6, (cpuNow - cpuMark) / 1e9, mem,
                        core, switches);
                cpuMark = cpuNow;
                perSecond.add(line);
                if (verbose) System.out.println(line);
            }
            double elapsed = (System.nanoTime() - start) / 1e9;
            long cpu = cpuNanos() - cpu0;
            long gcTime = gcTime() - gcTime0, gcCount = gcCount() - gcCount0;
            long elections = term(target) - term0;
            running[0] = false;
            for (Thread t : threads) t.join(10_000);

            String summary = String.format(Locale.ROOT,
                    "%s %d nodes %d clients %d B: %,.0f %s/s (per second %,d..%,d) | p50 %.1f p90 %.1f p99 %.1f "
                            + "p99.9 %.1f p99.99 %.1f worst %.1f us | CPU %.2f cores | GC %d ms in %d collections | "
                            + "live after GC %.1f..%.1f MB | errors %d | new terms %s | memory %.1f ns/load alone, "
                            + "%.1f (%.1f..%.1f) per second, r(commits, memory) %+.2f | core %.3f..%.3f ns/step | carrier parks %,.0f/s "
                            + "(%,.0f..%,.0f), r(commits, parks) %+.2f | %s, JDK %s",
                    reads ? system + " get" : system, nodes, clients, valueBytes, window.getTotalCount() / elapsed,
                    reads ? "reads" : "commits", minPerSecond, maxPerSecond,
                    window.getValueAtPercentile(50) / 1e3, window.getValueAtPercentile(90) / 1e3,
                    window.getValueAtPercentile(99) / 1e3, window.getValueAtPercentile(99.9) / 1e3,
                    window.getValueAtPercentile(99.99) / 1e3, window.getMaxValue() / 1e3,
                    cpu / 1e9 / elapsed, gcTime, gcCount, liveMin / 1e6, liveMax / 1e6, errors.sum(), elections < 0 ? "n/a" : Long.toString(elections),
                    memAlone, median(memPerSecond), min(memPerSecond), max(memPerSecond),
                    correlation(commitsPerSecond, memPerSecond), min(cpuPerSecond), max(cpuPerSecond),
                    median(switchesPerSecond), min(switchesPerSecond), max(switchesPerSecond),
                    correlation(commitsPerSecond, switchesPerSecond), label,
                    Runtime.version());
            System.out.println(summary);
            if (stallNanos > 0) {
                Histogram h = hiccups.getIntervalHistogram();
                System.out.printf(Locale.ROOT, "  hiccup meter (1 ms parks of a platform thread): p99 %.1f p99.9 %.1f worst %.1f us%n",
                        h.getValueAtPercentile(99) / 1e3, h.getValueAtPercentile(99.9) / 1e3, h.getMaxValue() / 1e3);
                System.out.println("  commits slower than " + stallNanos / 1000 + " us, and hiccups as long, in episodes"
                        + " (events ending within 5 ms of each other), by the wall-clock time the first ended:");
                for (String episode : Stall.episodes(new ArrayList<>(stalls))) System.out.println("    " + episode);
            }
            if (firstError.get() != null) firstError.get().printStackTrace(System.out);
            Path log = out.resolve(label + ".hlog");
            boolean fresh = !Files.exists(log);
            try (PrintStream p = new PrintStream(Files.newOutputStream(log, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND))) {
                HistogramLogWriter w = new HistogramLogWriter(p);
                if (fresh) w.outputLogFormatVersion();
                w.outputComment(summary);
                window.setStartTimeStamp(0);
                window.setEndTimeStamp((long) (elapsed * 1000));
                w.outputIntervalHistogram(window);
            }
            Files.write(out.resolve(label + ".seconds.txt"), perSecond, java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
        }
    }

    static double median(double[] xs) {
        double[] s = xs.clone();
        java.util.Arrays.sort(s);
        int n = s.length;
        return n == 0 ? Double.NaN : n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double min(double[] xs) {
        return java.util.Arrays.stream(xs).min().orElse(Double.NaN);
    }

    private static double max(double[] xs) {
        return java.util.Arrays.stream(xs).max().orElse(Double.NaN);
    }

    /** Pearson's r between the two series (NaN if either is constant or they are shorter than 3). */
    static double correlation(long[] a, double[] b) {
        int n = Math.min(a.length, b.length);
        if (n < 3) return Double.NaN;
        double ma = 0, mb = 0;
        for (int i = 0; i < n; i++) {
            ma += a[i];
            mb += b[i];
        }
        ma /= n;
        mb /= n;
        double sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < n; i++) {
            double da = a[i] - ma, db = b[i] - mb;
            sab += da * db;
            saa += da * da;
            sbb += db * db;
        }
        return saa == 0 || sbb == 0 ? Double.NaN : sab / Math.sqrt(saa * sbb);
    }

    /** A commit slower than the threshold, or as long a hiccup, and the wall-clock millisecond it ended. */
    private record Stall(long endMillis, boolean hiccup, long nanos) {
        /** The stalls grouped into episodes, one line each: when, how many commits, the longest commit and hiccup. */
        static List<String> episodes(List<Stall> stalls) {
            stalls.sort(java.util.Comparator.comparingLong(Stall::endMillis));
            List<String> out = new ArrayList<>();
            int i = 0;
            while (i < stalls.size()) {
                long first = stalls.get(i).endMillis, last = first;
                int commits = 0;
                long worstCommit = 0, worstHiccup = 0;
                for (; i < stalls.size() && stalls.get(i).endMillis - last <= 5; i++) {
                    Stall st = stalls.get(i);
                    last = st.endMillis;
                    if (st.hiccup) {
                        worstHiccup = Math.max(worstHiccup, st.nanos);
                    } else {
                        commits++;
                        worstCommit = Math.max(worstCommit, st.nanos);
                    }
                }
                out.add(String.format(Locale.ROOT, "%s  %3d commits, longest %6.1f ms; hiccup %6.1f ms",
                        java.time.Instant.ofEpochMilli(first), commits, worstCommit / 1e6, worstHiccup / 1e6));
            }
            return out;
        }
    }

    /** Plots every .hlog in {@code dir}, each file's windows added together, as one percentile plot. */
    private static void plot(Path dir, String title) throws IOException {
        List<PercentilePlot.Series> series = new ArrayList<>();
        List<Path> logs;
        try (var s = Files.list(dir)) {
            logs = s.filter(p -> p.toString().endsWith(".hlog")).sorted().toList();
        }
        for (Path p : logs) {
            Histogram all = new Histogram(HIGHEST, 3);
            int windows = 0;
            try (HistogramLogReader r = new HistogramLogReader(p.toFile())) {
                for (var h = r.nextIntervalHistogram(); h != null; h = r.nextIntervalHistogram()) {
                    all.add((Histogram) h);
                    windows++;
                }
            }
            String name = p.getFileName().toString().replace(".hlog", "");
            series.add(new PercentilePlot.Series(String.format(Locale.ROOT, "%s (%d runs, worst %.1f ms)", name, windows,
                    all.getMaxValue() / 1e6), all));
        }
        Files.writeString(dir.resolve("plot.svg"), PercentilePlot.svg(title,
                "closed loop, every put timed from call to return; all measured windows of each setting", series));
        System.out.println("wrote " + dir.resolve("plot.svg"));
    }

    /** The highest term among the nodes (so the difference counts elections): raftkv's and jraft's; -1 for MicroRaft. */
    private static long term(CommitTarget target) {
        if (target instanceof io.raftkv.bench.jraft.JraftTarget j) return j.term();
        if (!(target instanceof RaftkvTarget r)) return -1;
        return r.cluster().statuses().stream().mapToLong(io.raftkv.node.NodeStatus::term).max().orElse(0);
    }

    private static long gcTime() {
        long t = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) t += Math.max(0, b.getCollectionTime());
        return t;
    }

    private static long gcCount() {
        long n = 0;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) n += Math.max(0, b.getCollectionCount());
        return n;
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** The heap in use right after the last collection (of any kind), over every heap pool; 0 before the first. */
    private static long liveAfterLastGc() {
        com.sun.management.GcInfo last = null;
        for (GarbageCollectorMXBean b : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (!(b instanceof com.sun.management.GarbageCollectorMXBean sun)) continue;
            com.sun.management.GcInfo info = sun.getLastGcInfo();
            if (info != null && (last == null || info.getEndTime() > last.getEndTime())) last = info;
        }
        if (last == null) return 0;
        java.util.Set<String> heapPools = new java.util.HashSet<>();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) heapPools.add(pool.getName());
        }
        long used = 0;
        for (var e : last.getMemoryUsageAfterGc().entrySet()) {
            if (heapPools.contains(e.getKey())) used += e.getValue().getUsed();
        }
        return used;
    }
}
