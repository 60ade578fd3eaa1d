package io.raftkv.lincheck;

import io.raftkv.client.ClientException;
import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvLimits;
import io.raftkv.kv.net.TcpKvConnector;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Records a history against a cluster in socket mode (nodes in other processes, reached over TCP) with
 * {@link RecordingClient}s, reads every key once at the end, and checks the history for
 * linearizability: what {@code scripts/netns-partitions.sh} runs while it cuts links between nodes.
 * {@code --check FILE} only checks a history written earlier.
 *
 * <p>Exit status: 0 linearizable; 1 not linearizable, undecided, or a client failed; 2 bad usage;
 * 3 the cluster did not serve (no operation completed, or the final reads failed).
 */
public final class RemoteHistoryCheck {
    static final String USAGE = """
            usage: RemoteHistoryCheck --peers 1=HOST:PORT,2=HOST:PORT,... [--cluster-id NAME] [--seconds S]
                                      [--clients N] [--keys N] [--seed S] [--history FILE]
                                      [--deadline-ms MS] [--pacing-ms MS] [--feature-level N]
                   RemoteHistoryCheck --check FILE
              --peers        the nodes' client addresses, as given to raftkv node
              --cluster-id   the cluster's id (default raftkv)
              --seconds      how long the clients run (default 30)
              --clients      concurrent clients, each with its own connections (default 4)
              --keys         how many keys they share (default 4)
              --seed         seeds the clients' choices (default: from the clock); printed either way
              --history      write the history as JSON to FILE
              --deadline-ms  a call's deadline, after which a write is recorded as pending (default 1000)
              --pacing-ms    each client pauses up to this long between calls (default 2)
              --feature-level only what a cluster at this feature level serves: 1 is GET, PUT and REPLACE
                             (for a rolling upgrade from a build older than feature levels); 2, the
                             default, adds DELETE and CAS
              --check FILE   check the history in FILE (JSON, as --history writes it) and nothing else
            exit status: 0 linearizable; 1 not linearizable, undecided, or a client failed; 2 bad usage;
                         3 the cluster did not serve""";
    static final int LINEARIZABLE = 0, FAILED = 1, USAGE_ERROR = 2, DID_NOT_SERVE = 3;
    private static final Duration FINAL_READ_DEADLINE = Duration.ofSeconds(15);
    private static final Duration ATTEMPT_TIMEOUT = Duration.ofMillis(250);

    private RemoteHistoryCheck() {
    }

    public static void main(String[] args) throws Exception {
        System.exit(run(args, System.out, System.err));
    }

    static int run(String[] args, PrintStream out, PrintStream err) throws IOException, InterruptedException {
        Map<String, String> opts = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            if (name.equals("--help") || name.equals("-h")) {
                out.println(USAGE);
                return LINEARIZABLE;
            }
            if (!List.of("--peers", "--cluster-id", "--seconds", "--clients", "--keys", "--seed", "--history",
                    "--deadline-ms", "--pacing-ms", "--feature-level", "--check").contains(name)) {
                return usage(err, "unknown option '" + name + "'");
            }
            if (i + 1 >= args.length) return usage(err, "option " + name + " needs a value");
            if (opts.put(name, args[++i]) != null) return usage(err, "option " + name + " is given twice");
        }
        if (opts.containsKey("--check")) {
            if (opts.size() > 1) return usage(err, "--check takes no other option");
            return checkFile(Path.of(opts.get("--check")), out, err);
        }
        if (!opts.containsKey("--peers")) return usage(err, "--peers is required");
        Map<Integer, InetSocketAddress> peers;
        long seconds, deadlineMillis, pacingMillis, seed;
        int clients, keyCount, featureLevel;
        try {
            peers = parsePeers(opts.get("--peers"));
            seconds = number(opts, "--seconds", 30, 1, 3600);
            clients = (int) number(opts, "--clients", 4, 1, 256);
            keyCount = (int) number(opts, "--keys", 4, 1, 1000);
            deadlineMillis = number(opts, "--deadline-ms", 1000, 1, 600_000);
            pacingMillis = number(opts, "--pacing-ms", 2, 0, 10_000);
            featureLevel = (int) number(opts, "--feature-level", 2, 1, 2);
            seed = opts.containsKey("--seed") ? number(opts, "--seed", 0, Long.MIN_VALUE, Long.MAX_VALUE) : System.nanoTime();
        } catch (IllegalArgumentException e) {
            return usage(err, e.getMessage());
        }
        String clusterId = opts.getOrDefault("--cluster-id", "raftkv");
        Path historyFile = opts.containsKey("--history") ? Path.of(opts.get("--history")) : null;
        List<String> keys = new ArrayList<>();
        for (int k = 0; k < keyCount; k++) keys.add("k" + k);

        out.printf("history: seed %d; %d clients on %d keys for %d s against %s (cluster '%s'), deadline %d ms%s%n",
                seed, clients, keyCount, seconds, peers, clusterId, deadlineMillis,
                featureLevel == 1 ? "; GET, PUT and REPLACE only (feature level 1)" : "");
        Duration deadline = Duration.ofMillis(deadlineMillis);
        Duration attempt = deadline.compareTo(ATTEMPT_TIMEOUT) < 0 ? deadline : ATTEMPT_TIMEOUT;
        List<TcpKvConnector> connectors = new ArrayList<>();
        List<RecordingClient> workers = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        AtomicBoolean stop = new AtomicBoolean();
        long start = System.nanoTime();
        long stopped;
        List<Operation> history = new ArrayList<>();
        try {
            for (int c = 1; c <= clients; c++) {
                TcpKvConnector connector = new TcpKvConnector(peers, clusterId);
                connectors.add(connector); // each client its own connections, as separate client processes would have
                RecordingClient w = new RecordingClient(c, new KvClient(connector, KvLimits.DEFAULT, deadline, attempt), keys,
                        new SplittableRandom(seed + c), stop, TimeUnit.MILLISECONDS.toNanos(pacingMillis));
                workers.add(featureLevel == 1 ? w.levelOneOnly() : w);
            }
            for (RecordingClient w : workers) threads.add(Thread.ofVirtual().name("history-client-" + w.id()).start(w));
            Thread.sleep(Duration.ofSeconds(seconds)); // the length of the workload, not a wait for a condition
            stop.set(true);
            stopped = System.nanoTime();
            Duration joinLimit = deadline.plusSeconds(10);
            for (Thread t : threads) {
                if (!t.join(joinLimit)) {
                    err.println("history: " + t.getName() + " did not stop within " + joinLimit.toMillis() + " ms");
                    return FAILED;
                }
            }
            for (RecordingClient w : workers) history.addAll(w.history());
        } finally {
            stop.set(true);
            for (TcpKvConnector c : connectors) c.close();
        }
        long ran = System.nanoTime() - start;
        int code = LINEARIZABLE;
        for (RecordingClient w : workers) {
            if (w.failure() != null) {
                err.println("history: client " + w.id() + " failed: " + w.failure());
                code = FAILED;
            }
        }

        int finalReader = clients + 1;
        String finalReadProblem = null;
        try (TcpKvConnector connector = new TcpKvConnector(peers, clusterId);
             KvClient reader = new KvClient(connector, KvLimits.DEFAULT, FINAL_READ_DEADLINE, ATTEMPT_TIMEOUT)) {
            history.addAll(RecordingClient.finalReads(finalReader, reader, keys));
        } catch (ClientException e) { // OutcomeUnknownException included: no node confirmed a read in time
            finalReadProblem = e.getMessage();
        }

        HistorySummary summary = HistorySummary.of(history, workers);
        out.printf("history: seed %d; %s in %.1f s%n", seed, summary, ran / 1e9);
        out.println("history: completed per second: " + perSecond(history, start, finalReader));
        out.println("history: " + longestWriteGap(history, start, stopped, finalReader));
        if (summary.completed() == 0) {
            err.println("history: the cluster did not serve: no operation completed");
            code = Math.max(code, DID_NOT_SERVE);
        }
        if (finalReadProblem != null) {
            err.println("history: the cluster did not serve the final reads within " + FINAL_READ_DEADLINE.toSeconds()
                    + " s: " + finalReadProblem);
            code = Math.max(code, DID_NOT_SERVE);
        } else {
            for (String problem : RecordingClient.lostWrites(history, keys, finalReader)) {
                err.println("history: lost write: " + problem);
                code = FAILED;
            }
        }
        if (historyFile != null) write(history, historyFile, out);
        CheckResult result = check(history, out);
        if (!result.ok()) code = FAILED;
        out.println("history: seed " + seed + ": " + (code == LINEARIZABLE ? "PASS" : "FAIL") + " (exit " + code + ")");
        return code;
    }

    private static int checkFile(Path file, PrintStream out, PrintStream err) throws IOException {
        List<Operation> history;
        try {
            history = HistoryJson.parse(Files.readString(file));
        } catch (IOException e) {
            err.println("history: cannot read " + file + ": " + e);
            return USAGE_ERROR;
        } catch (IllegalArgumentException e) {
            err.println("history: " + file + " is not a history: " + e.getMessage());
            return USAGE_ERROR;
        }
        out.println("history: " + file + ": " + HistorySummary.of(history, 0));
        return check(history, out).ok() ? LINEARIZABLE : FAILED;
    }

    private static CheckResult check(List<Operation> history, PrintStream out) {
        long t0 = System.nanoTime();
        CheckResult result = LinearizabilityChecker.check(history);
        out.printf("history: %s (checked in %d ms)%s: %s%n", result.verdict(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0),
                result.key() == null ? "" : ", key " + result.key(), result.explanation());
        return result;
    }

    private static void write(List<Operation> history, Path file, PrintStream out) throws IOException {
        if (file.toAbsolutePath().getParent() != null) Files.createDirectories(file.toAbsolutePath().getParent());
        List<Operation> sorted = new ArrayList<>(history);
        sorted.sort(Comparator.comparingLong(Operation::callTime));
        try (Writer w = Files.newBufferedWriter(file)) {
            HistoryJson.write(sorted, w);
        }
        out.println("history: written to " + file);
    }

    /** Operations completed in each second of the run (final reads left out): where the faults bit. */
    private static String perSecond(List<Operation> history, long start, int finalReader) {
        TreeMap<Long, Integer> counts = new TreeMap<>();
        for (Operation op : history) {
            if (op.pending() || op.clientId() == finalReader) continue;
            counts.merge(TimeUnit.NANOSECONDS.toSeconds(op.returnTime() - start), 1, Integer::sum);
        }
        if (counts.isEmpty()) return "none";
        StringBuilder b = new StringBuilder();
        for (long s = 0; s <= counts.lastKey(); s++) b.append(s == 0 ? "" : " ").append(counts.getOrDefault(s, 0));
        return b.toString();
    }

    /**
     * The longest time in which no write was acknowledged, from the first acknowledged write to the end of the run
     * (the clients' own start, connections and sessions, left out): how long the cluster stopped taking writes at
     * worst, as its clients saw it.
     */
    private static String longestWriteGap(List<Operation> history, long start, long stopped, int finalReader) {
        List<Long> acks = new ArrayList<>();
        for (Operation op : history) {
            if (!op.pending() && op.kind() != OpKind.GET && op.clientId() != finalReader) acks.add(op.returnTime());
        }
        acks.sort(null);
        long from = acks.isEmpty() ? start : acks.getFirst(), gap = -1, gapFrom = from;
        acks.add(Math.max(stopped, acks.isEmpty() ? stopped : acks.getLast()));
        for (long t : acks) {
            if (t - from > gap) {
                gap = t - from;
                gapFrom = from;
            }
            from = t;
        }
        return String.format("longest gap between acknowledged writes: %d ms, from %.3f s to %.3f s into the run",
                TimeUnit.NANOSECONDS.toMillis(gap), (gapFrom - start) / 1e9, (gapFrom + gap - start) / 1e9);
    }

    private static Map<Integer, InetSocketAddress> parsePeers(String value) {
        Map<Integer, InetSocketAddress> peers = new TreeMap<>();
        for (String part : value.split(",")) {
            String p = part.strip();
            int eq = p.indexOf('='), colon = p.lastIndexOf(':');
            if (eq <= 0 || colon < eq + 2 || colon == p.length() - 1) {
                throw new IllegalArgumentException("--peers: '" + p + "' is not ID=HOST:PORT");
            }
            try {
                int id = Integer.parseInt(p.substring(0, eq));
                int port = Integer.parseInt(p.substring(colon + 1));
                if (peers.put(id, new InetSocketAddress(p.substring(eq + 1, colon), port)) != null) {
                    throw new IllegalArgumentException("--peers: node " + id + " is listed twice");
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--peers: '" + p + "': the id and port must be numbers");
            }
        }
        return peers;
    }

    private static long number(Map<String, String> opts, String name, long fallback, long min, long max) {
        String v = opts.get(name);
        if (v == null) return fallback;
        long n;
        try {
            n = Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a whole number, was '" + v + "'");
        }
        if (n < min || n > max) throw new IllegalArgumentException(name + " must be from " + min + " to " + max + ", was " + n);
        return n;
    }

    private static int usage(PrintStream err, String problem) {
        err.println("history: " + problem);
        err.println(USAGE);
        return USAGE_ERROR;
    }
}
