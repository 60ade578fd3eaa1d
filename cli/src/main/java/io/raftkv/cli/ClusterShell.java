package io.raftkv.cli;

import io.raftkv.client.ClientException;
import io.raftkv.bench.HarnessConfig;
import io.raftkv.bench.LatencyHarness;
import io.raftkv.bench.RaftkvTarget;
import io.raftkv.bench.RateResult;
import io.raftkv.bench.ResultTable;
import io.raftkv.cluster.Cluster;
import io.raftkv.kv.KvClient;
import io.raftkv.client.SessionExpiredException;
import io.raftkv.node.NodeStatus;
import io.raftkv.raft.Configuration;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.StringJoiner;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The interactive shell of {@code raftkv cluster}: reads one command a line and runs it against an
 * embedded cluster; bad input prints a one-line error and the session goes on.
 */
public final class ClusterShell {
    static final String PROMPT = "raftkv> ";

    /** How long {@code leader} waits for one, so that it can be typed right after {@code kill}. */
    static final Duration LEADER_WAIT = Duration.ofSeconds(2);

    /** {@code bench}'s defaults and bounds: a quick look, so seconds rather than minutes. */
    static final int BENCH_SECONDS = 2;
    static final int BENCH_MAX_SECONDS = 60;
    static final long BENCH_RATE = 1_000;
    /** Unrecorded time before {@code bench} measures: the first writes of a run open sessions and meet a cold JIT. */
    static final Duration BENCH_WARMUP = Duration.ofMillis(500);
    /** {@code bench} writes keys bench-0 to bench-1023, out of the way of the keys a person types. */
    static final String BENCH_KEY_PREFIX = "bench-";

    private static final Pattern COMMAND = Pattern.compile("\\s*(\\S+)\\s*(.*)");
    private static final Pattern KEY_VALUE = Pattern.compile("(\\S+)\\s+(.*\\S)\\s*");
    private static final Pattern KEY_EXPECTED_VALUE = Pattern.compile("(\\S+)\\s+(\\S+)\\s+(.*\\S)\\s*");
    /** What {@code cas} takes for EXPECTED to mean "only if the key is absent": what {@code get} prints for one. */
    static final String ABSENT = "(absent)";
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private static final String HELP = """
            commands:
              put KEY VALUE       set KEY; VALUE is the rest of the line and may hold spaces
              get KEY             read KEY (linearizable)
              replace KEY VALUE   set KEY only if it exists
              del KEY             remove KEY; says whether it held a value
              cas KEY EXPECTED NEW
                                  set KEY to NEW only if it holds EXPECTED (one word; (absent): only if KEY
                                  is absent); NEW is the rest of the line
              status              one line per node: alive, role, term, leader, last/commit/applied index
              leader              the leader a majority recognises (waits up to 2 s for one)
              kill ID             crash node ID (its storage is kept)
              restart ID          start a killed node again
              partition G1 G2...  split the nodes into groups that cannot reach each other, e.g. partition 1,2 3,4,5
              heal                remove every partition
              add                 start a new node and make it a voter (a learner until it has caught up)
              remove ID           take node ID out of the cluster, through the log, and stop it
              transfer ID         hand leadership to node ID and wait until it leads
              members             the configuration in force: voters and learners
              bench [SECS] [RATE] put at RATE writes/s (default 1000) for SECS seconds (default 2, at most 60)
                                  after a 0.5 s warm-up, from 64 clients, to keys bench-0..bench-1023; prints
                                  the rate reached and latency p50/p99/max from each write's intended send time
              help                this list
              quit, exit          close the cluster and leave (so does end of input)""";

    /** The command names, for a terminal to complete. */
    static final List<String> COMMANDS = List.of("put", "get", "replace", "status", "leader", "kill", "restart",
            "partition", "heal", "add", "remove", "transfer", "members", "bench", "help", "quit", "exit");

    private final Cluster cluster;
    private final ShellInput in;
    private final PrintWriter out;
    private KvClient client;

    /**
     * A shell over {@code cluster}, reading from {@code in} and writing to {@code out}; it prints a
     * prompt only if {@code interactive}. It does not close the cluster.
     */
    public ClusterShell(Cluster cluster, BufferedReader in, PrintWriter out, boolean interactive) {
        this(cluster, ShellInput.plain(in, out, interactive), out);
    }

    /** A shell over {@code cluster}, reading from {@code in} (a terminal, say) and writing to {@code out}. */
    ClusterShell(Cluster cluster, ShellInput in, PrintWriter out) {
        this.cluster = cluster;
        this.in = in;
        this.out = out;
    }

    /** Runs commands until {@code quit}, {@code exit} or the end of the input. */
    public void run() {
        while (true) {
            String line;
            try {
                line = in.readLine(PROMPT);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read the shell's input", e);
            }
            if (line == null || !execute(line)) break;
        }
        out.flush();
        if (client != null) client.close();
    }

    /** Runs one command line; returns false if the shell should end. */
    public boolean execute(String line) {
        Matcher m = COMMAND.matcher(line);
        if (!m.matches()) {
            out.flush();
            return true; // blank line
        }
        String command = m.group(1).toLowerCase(Locale.ROOT);
        String args = m.group(2).strip();
        try {
            switch (command) {
                case "put" -> put(args);
                case "get" -> get(args);
                case "replace" -> replace(args);
                case "del", "delete" -> delete(args);
                case "cas" -> compareAndSet(args);
                case "status" -> status(args);
                case "leader" -> leader(args);
                case "kill" -> kill(args);
                case "restart" -> restart(args);
                case "partition" -> partition(args);
                case "heal" -> heal(args);
                case "add" -> add(args);
                case "remove" -> remove(args);
                case "transfer" -> transfer(args);
                case "members" -> members(args);
                case "bench" -> bench(args);
                case "help", "?" -> out.println(HELP);
                case "quit", "exit" -> {
                    return false;
                }
                default -> error("unknown command '" + m.group(1) + "'; type help for the list");
            }
        } catch (SessionExpiredException e) {
            client.close();
            client = null; // the next command opens a new session
            error(e.getMessage() + "; a new session is opened for the next command");
        } catch (ClientException | IllegalArgumentException | IllegalStateException e) {
            error(e.getMessage());
        } catch (RuntimeException e) {
            // Whatever else went wrong, the session goes on: say what it was in one line.
            error(e.getClass().getSimpleName() + ": " + e.getMessage());
        }
        out.flush();
        return true;
    }

    // ---------------------------------------------------------------- key-value commands

    private void put(String args) {
        String[] kv = keyValue("put", args);
        sayIfNoMajority("commit");
        client().put(kv[0], kv[1]);
        out.println("ok");
    }

    private void get(String args) {
        String key = oneWord("get KEY", args);
        sayIfNoMajority("confirm the read");
        out.println(client().get(key).orElse("(absent)"));
    }

    private void replace(String args) {
        String[] kv = keyValue("replace", args);
        sayIfNoMajority("commit");
        out.println(client().replace(kv[0], kv[1]) ? "replaced" : "not replaced: " + kv[0] + " is absent");
    }

    private void delete(String args) {
        String key = oneWord("del KEY", args);
        out.println(client().delete(key) ? "deleted" : "not deleted: " + key + " is absent");
    }

    private void compareAndSet(String args) {
        Matcher m = KEY_EXPECTED_VALUE.matcher(args);
        if (!m.matches()) {
            throw new IllegalArgumentException("usage: cas KEY EXPECTED NEW (EXPECTED " + ABSENT + ": only if KEY is absent)");
        }
        String key = m.group(1);
        String expected = m.group(2).equals(ABSENT) ? null : m.group(2);
        boolean set = client().compareAndSet(key, expected, m.group(3));
        out.println(set ? "set" : expected == null ? "not set: " + key + " exists" : "not set: " + key + " does not hold " + expected);
    }

    private KvClient client() {
        if (client == null) client = cluster.newClient();
        return client;
    }

    // ---------------------------------------------------------------- cluster commands

    private void status(String args) {
        noArgs("status", args);
        StatusTable table = new StatusTable(out);
        for (NodeStatus s : cluster.statuses()) table.row(s);
        out.println("configuration: " + cluster.configuration());
    }

    private void add(String args) {
        noArgs("add", args);
        out.println("adding a node: it joins as a learner and is promoted once it has caught up");
        sayIfNoMajority("commit the change");
        out.flush();
        int id = cluster.addNode();
        out.println("node " + id + " is a voter; configuration: " + cluster.configuration());
    }

    private void remove(String args) {
        int id = nodeId("remove ID", args);
        sayIfNoMajority("commit the change");
        cluster.removeNode(id);
        out.println("removed node " + id + "; configuration: " + cluster.configuration());
    }

    /**
     * Hands leadership over, saying first what it waits for; what cannot work (a node that is down, not a
     * voter or cut off from the leader) is refused at once rather than after the deadline.
     */
    private void transfer(String args) {
        int id = nodeId("transfer ID", args);
        if (!cluster.isAlive(id)) throw new IllegalArgumentException("node " + id + " is down: restart it first");
        Configuration configuration = cluster.configuration();
        if (!configuration.isVoter(id)) {
            throw new IllegalArgumentException("node " + id + " is not a voter of " + configuration
                    + "; only a voter can lead");
        }
        OptionalInt now = cluster.leader();
        if (now.isEmpty()) {
            out.println("waiting for a leader (" + majorityShortfall().orElse("an election is under way")
                    + "), then for node " + id + " to catch up with it and take over...");
        } else if (now.getAsInt() == id) {
            out.println("node " + id + " leads already, in term " + cluster.status(id).term());
            return;
        } else {
            int leader = now.getAsInt();
            if (!cluster.linked(leader, id) || !cluster.linked(id, leader)) {
                throw new IllegalArgumentException("node " + id + " is cut off from the leader, node " + leader
                        + ": heal the network first");
            }
            out.println("waiting for node " + id + " to catch up with node " + leader + " (index "
                    + cluster.status(id).lastIndex() + " of " + cluster.status(leader).lastIndex() + ") and take over...");
        }
        out.flush();
        cluster.transferLeadership(id);
        out.println("node " + id + " leads in term " + cluster.status(id).term());
    }

    private void members(String args) {
        noArgs("members", args);
        out.println(cluster.configuration());
    }

    private void leader(String args) {
        noArgs("leader", args);
        OptionalInt now = cluster.leader();
        if (now.isEmpty()) {
            out.println("waiting up to " + LEADER_WAIT.toSeconds() + " s for a leader ("
                    + majorityShortfall().orElse("an election is under way") + ")...");
            out.flush();
        }
        int id = now.isPresent() ? now.getAsInt() : cluster.awaitLeader(LEADER_WAIT); // NoLeaderException says why not
        out.println("node " + id + " leads in term " + cluster.status(id).term());
    }

    private void kill(String args) {
        int id = nodeId("kill ID", args);
        cluster.kill(id);
        out.println("killed node " + id);
    }

    private void restart(String args) {
        int id = nodeId("restart ID", args);
        cluster.restart(id);
        out.println("restarted node " + id);
    }

    private void partition(String args) {
        if (args.isEmpty()) throw new IllegalArgumentException("usage: partition G1 G2..., e.g. partition 1,2 3,4,5");
        List<Set<Integer>> groups = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        for (String word : WHITESPACE.split(args)) {
            Set<Integer> group = new LinkedHashSet<>();
            for (String part : word.split(",", -1)) {
                int id = parseId(part, "partition G1 G2..., e.g. partition 1,2 3,4,5");
                if (!seen.add(id)) throw new IllegalArgumentException("node " + id + " is named twice; a node is in one group");
                group.add(id);
            }
            groups.add(group);
        }
        Set<Integer> rest = new LinkedHashSet<>(cluster.nodeIds());
        rest.removeAll(seen);
        @SuppressWarnings("unchecked")
        Set<Integer>[] array = groups.toArray(new Set[0]);
        cluster.partition(array);
        StringJoiner shown = new StringJoiner(" | ", "partitioned: ", "");
        for (Set<Integer> g : groups) shown.add(join(g));
        if (!rest.isEmpty()) shown.add(join(rest) + " (the nodes named in no group)");
        out.println(shown);
    }

    private void heal(String args) {
        noArgs("heal", args);
        cluster.heal();
        out.println("healed: every node reaches every other");
    }

    /**
     * The open-loop harness of {@code raftkv bench}, one rate, against this cluster as it is (faults
     * included), without files: a measurement of the nodes' commit path, clients and all.
     */
    private void bench(String args) {
        String usage = "bench [SECS] [RATE], e.g. bench 5 20000 for 5 s at 20,000 writes/s";
        String[] words = args.isEmpty() ? new String[0] : WHITESPACE.split(args);
        if (words.length > 2) throw new IllegalArgumentException("usage: " + usage);
        int seconds = words.length > 0
                ? (int) wholeNumber(words[0], "SECS", 1, BENCH_MAX_SECONDS, usage) : BENCH_SECONDS;
        long rate = words.length > 1 ? wholeNumber(words[1], "RATE", 1, HarnessConfig.MAX_RATE, usage) : BENCH_RATE;
        // With no leader every write would wait out the client deadline; say so at once instead.
        cluster.awaitLeader(LEADER_WAIT);
        HarnessConfig config = HarnessConfig.builder().rates(rate).warmup(BENCH_WARMUP)
                .duration(Duration.ofSeconds(seconds)).build();
        out.printf(Locale.ROOT, "bench: %d s of puts at %,d/s after a %.1f s warm-up; %d clients, %d-byte values, "
                        + "keys %s0..%s1023%n", seconds, rate, BENCH_WARMUP.toMillis() / 1e3, config.maxClients(),
                config.valueBytes(), BENCH_KEY_PREFIX, BENCH_KEY_PREFIX);
        out.flush(); // the run takes seconds: show what it does meanwhile
        RateResult r;
        try (RaftkvTarget target = RaftkvTarget.over(cluster)) {
            r = new LatencyHarness(config, out).measure(target, BENCH_KEY_PREFIX).getFirst();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("bench was interrupted");
        }
        out.printf(Locale.ROOT, "  reached  %,.0f ops/s (%,d writes, %,d failed)%n", r.achievedRate(), r.count(),
                r.errors());
        out.printf(Locale.ROOT, "  latency  p50 %s µs, p99 %s µs, max %s µs, from each write's intended send time%n",
                ResultTable.micros(r.latency().p50()), ResultTable.micros(r.latency().p99()),
                ResultTable.micros(r.latency().max()));
        r.warning().ifPresent(w -> out.println("  WARNING: " + w));
    }

    // ---------------------------------------------------------------- waiting

    /**
     * Before a command that blocks until a majority of the voters acts ({@code what}: commit, confirm the
     * read), says so if they cannot now, and why: too few nodes up, a partition, or no leader yet.
     */
    private void sayIfNoMajority(String what) {
        majorityShortfall().ifPresent(why -> {
            out.println("waiting for a majority to " + what + " (" + why + ")...");
            out.flush();
        });
    }

    /**
     * Why a majority of the voters cannot act now, or empty if they can: a leader that reaches a majority
     * of the voters, counting itself, with every link both ways.
     */
    private Optional<String> majorityShortfall() {
        Set<Integer> voters = cluster.configuration().voters();
        List<Integer> up = new ArrayList<>();
        for (int v : voters) if (cluster.nodeIds().contains(v) && cluster.isAlive(v)) up.add(v);
        int majority = voters.size() / 2 + 1;
        String counted = up.size() + " of " + voters.size() + " nodes up";
        if (up.size() < majority) return Optional.of(counted);
        OptionalInt leader = cluster.leader();
        if (leader.isPresent()) {
            int l = leader.getAsInt();
            long reached = up.stream().filter(v -> v == l || cluster.linked(l, v) && cluster.linked(v, l)).count();
            if (reached >= majority) return Optional.empty();
        }
        for (int a : up) {
            for (int b : up) {
                if (a != b && !cluster.linked(a, b)) return Optional.of(counted + ", the network is partitioned");
            }
        }
        return Optional.of(counted + ", electing a leader");
    }

    // ---------------------------------------------------------------- parsing

    private static long wholeNumber(String word, String name, long min, long max, String usage) {
        long n;
        try {
            n = Long.parseLong(word);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + word + "' is not a whole number; usage: " + usage);
        }
        if (n < min || n > max) {
            throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ", was " + word);
        }
        return n;
    }

    private static String[] keyValue(String command, String args) {
        Matcher m = KEY_VALUE.matcher(args);
        if (!m.matches()) throw new IllegalArgumentException("usage: " + command + " KEY VALUE");
        return new String[] {m.group(1), m.group(2)};
    }

    private static String oneWord(String usage, String args) {
        if (args.isEmpty() || WHITESPACE.matcher(args).find()) throw new IllegalArgumentException("usage: " + usage);
        return args;
    }

    private static void noArgs(String command, String args) {
        if (!args.isEmpty()) throw new IllegalArgumentException(command + " takes no arguments");
    }

    private int nodeId(String usage, String args) {
        return parseId(oneWord(usage, args), usage);
    }

    private int parseId(String word, String usage) {
        try {
            int id = Integer.parseInt(word);
            if (!cluster.nodeIds().contains(id)) {
                throw new IllegalArgumentException("no node " + id + ": this cluster has nodes " + cluster.nodeIds());
            }
            return id;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + word + "' is not a node id (one of " + cluster.nodeIds()
                    + "); usage: " + usage);
        }
    }

    private static String join(Set<Integer> ids) {
        StringJoiner j = new StringJoiner(",");
        for (int id : ids) j.add(Integer.toString(id));
        return j.toString();
    }

    private void error(String message) {
        out.println("error: " + message);
    }
}
