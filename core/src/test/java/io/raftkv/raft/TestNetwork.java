package io.raftkv.raft;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A deterministic, single-threaded network of {@link RaftCore}s for unit tests: one FIFO queue of
 * messages, an in-memory disk per node, and cuts that lose messages. Nothing happens unless a test
 * asks for it, so every test is an exact protocol trace.
 */
final class TestNetwork {
    static final int ELECTION_TICKS = 10;
    static final long SEED = 42;
    /**
     * The nodes here keep next to nothing of their applied log on the heap: every test that sends a follower
     * entries it is behind on then reads them back from the leader's disk, as a file store's would.
     */
    static final long LOG_CACHE_BYTES = 1;

    private final Map<Integer, Node> nodes = new TreeMap<>();
    private final ArrayDeque<Message> queue = new ArrayDeque<>();
    private final List<Message> delivered = new ArrayList<>();
    private final Set<Integer> isolated = new HashSet<>();
    private final Set<List<Integer>> cutLinks = new HashSet<>();
    private final List<Predicate<Message>> dropRules = new ArrayList<>();
    /** Nodes whose output {@link #deliverAll} leaves alone, so a test can handle it by hand. */
    private final Set<Integer> held = new HashSet<>();

    /** One node: its core, what it has persisted, and what it has handed to its state machine. */
    static final class Node {
        final RaftConfig config;
        RaftCore core;
        HardState hardState = HardState.INITIAL;
        final List<Entry> disk = new ArrayList<>();
        final List<Entry> applied = new ArrayList<>();
        final List<ReadState> readStates = new ArrayList<>();
        final List<Long> droppedReads = new ArrayList<>();
        /** The node's newest snapshot, and the entries applied up to it (the "state" it holds). */
        SnapshotMeta snapshot;
        List<Entry> snapshotState = List.of();
        /** The state a leader's InstallSnapshot carried, kept until the core asks for it to be installed. */
        List<Entry> receivedState;

        Node(RaftConfig config) {
            this.config = config;
            this.core = new RaftCore(config, HardState.INITIAL, List.of());
            core.readFrom(this::read);
        }

        /** What a store that reads its log by index gives: the core may release applied entries and read them here. */
        List<Entry> read(long from, long to, long maxBytes) {
            reads++;
            if (disk.isEmpty() || from < disk.get(0).index() || to - 1 > disk.get(disk.size() - 1).index() || from >= to) {
                throw new IllegalArgumentException("disk of node " + config.id() + " holds no " + from + ".." + (to - 1));
            }
            return readRun(disk, from, to, maxBytes);
        }

        /** How many times the core read entries back from this node's disk. */
        int reads;

        /** Does what a runtime's storage does with a ready: drop from the first entry given, append, keep the hard state. */
        void persist(Ready r) {
            if (r.snapshot() != null) {
                // The core installs a snapshot only when its log does not hold the snapshot's last entry.
                snapshot = r.snapshot();
                snapshotState = receivedState;
                disk.clear();
            }
            if (r.hardState() != null) hardState = r.hardState();
            if (!r.entries().isEmpty()) {
                long first = r.entries().get(0).index();
                while (!disk.isEmpty() && disk.get(disk.size() - 1).index() >= first) disk.remove(disk.size() - 1);
                disk.addAll(r.entries());
            }
        }

        void apply(Ready r) {
            if (r.snapshot() != null) {
                applied.clear();
                applied.addAll(snapshotState);
            }
            applied.addAll(r.committedEntries());
            readStates.addAll(r.readStates());
            droppedReads.addAll(r.droppedReads());
        }
    }

    private TestNetwork(int size, UnaryOperator<RaftConfig.Builder> tweak) {
        Set<Integer> voters = IntStream.rangeClosed(1, size).boxed().collect(Collectors.toUnmodifiableSet());
        for (int id = 1; id <= size; id++) {
            RaftConfig.Builder b = RaftConfig.builder(id, voters, new SplittableRandom(SEED * 31 + id))
                    .electionTicks(ELECTION_TICKS)
                    .heartbeatTicks(1)
                    .logCacheBytes(LOG_CACHE_BYTES);
            nodes.put(id, new Node(tweak.apply(b).build()));
        }
    }

    static TestNetwork of(int size) {
        return new TestNetwork(size, b -> b);
    }

    static TestNetwork of(int size, UnaryOperator<RaftConfig.Builder> tweak) {
        return new TestNetwork(size, tweak);
    }

    /**
     * Takes a snapshot of node {@code id}'s state as of its last applied entry, and compacts its log
     * (in memory and on its disk) up to {@code keep} entries before that.
     */
    SnapshotMeta snapshot(int id, long keep) {
        Node n = node(id);
        long index = n.core.log().applied();
        SnapshotMeta meta = n.core.snapshotMeta(index);
        n.core.snapshotTaken(meta);
        n.snapshot = meta;
        n.snapshotState = List.copyOf(n.applied.subList(0, (int) index));
        long compactTo = Math.max(n.core.log().firstIndex() - 1, index - keep);
        n.core.compact(compactTo);
        n.disk.removeIf(e -> e.index() <= index); // the disk keeps what follows its snapshot only
        return meta;
    }

    /** Adds a node that is not in any configuration yet: it starts with {@code bootstrap} as the voters it knows. */
    void addNode(int id, Set<Integer> bootstrap) {
        if (nodes.containsKey(id)) throw new IllegalArgumentException("node " + id + " exists");
        RaftConfig c = RaftConfig.builder(id, bootstrap, new SplittableRandom(SEED * 31 + id))
                .electionTicks(ELECTION_TICKS).heartbeatTicks(1).logCacheBytes(LOG_CACHE_BYTES).build();
        nodes.put(id, new Node(c));
    }

    /** A network whose nodes start from the given persisted states (index i is node i + 1). */
    static TestNetwork restoredFrom(UnaryOperator<RaftConfig.Builder> tweak, List<HardState> states, List<List<Entry>> logs) {
        TestNetwork net = new TestNetwork(states.size(), tweak);
        for (int id = 1; id <= states.size(); id++) {
            Node n = net.node(id);
            n.hardState = states.get(id - 1);
            n.disk.addAll(logs.get(id - 1));
            n.core = new RaftCore(n.config, n.hardState, List.copyOf(n.disk));
            n.core.readFrom(n::read);
        }
        return net;
    }

    Node node(int id) {
        Node n = nodes.get(id);
        if (n == null) throw new IllegalArgumentException("no node " + id);
        return n;
    }

    RaftCore core(int id) {
        return node(id).core;
    }

    Set<Integer> ids() {
        return nodes.keySet();
    }

    // ---------------------------------------------------------------- output of the cores

    /**
     * Takes a node's ready and sends what may go before its write (step 1 of {@link Ready}'s order). A copy:
     * tests hold a ready while the core makes the next one.
     */
    Ready takeReady(int id) {
        Ready r = core(id).ready().copy();
        r.messages().forEach(this::send);
        return r;
    }

    /** Steps 2 to 5 of {@link Ready}'s order: persist, send the rest, apply, advance. */
    void finish(int id, Ready r) {
        Node n = node(id);
        n.persist(r);
        r.messagesAfterPersist().forEach(this::send);
        n.apply(r);
        n.core.advance(r);
    }

    /** Handles a node's whole ready, if it has one. */
    Ready process(int id) {
        if (!core(id).hasReady()) return null;
        Ready r = takeReady(id);
        finish(id, r);
        return r;
    }

    private boolean processAll() {
        boolean any = false;
        for (int id : nodes.keySet()) {
            if (held.contains(id)) continue;
            if (process(id) != null) any = true;
        }
        return any;
    }

    // ---------------------------------------------------------------- messages

    private void send(Message m) {
        if (!lost(m)) queue.add(m);
    }

    private boolean lost(Message m) {
        return isolated.contains(m.from()) || isolated.contains(m.to()) || cutLinks.contains(List.of(m.from(), m.to()))
                || dropRules.stream().anyMatch(rule -> rule.test(m));
    }

    /** Delivers the oldest queued message, dropping it if a cut now lies in its way; false if none. */
    boolean deliverOne() {
        Message m = queue.poll();
        if (m == null) return false;
        if (!lost(m)) {
            delivered.add(m);
            if (m instanceof Message.InstallSnapshot is) {
                node(m.to()).receivedState = List.copyOf(node(m.from()).snapshotState.subList(0, (int) is.snapshot().index()));
            }
            core(m.to()).step(m);
        }
        return true;
    }

    /** Processes readies and delivers messages until nothing is left to do (held nodes' readies excepted). */
    void deliverAll() {
        for (int rounds = 0; rounds < 1_000_000; rounds++) {
            boolean worked = processAll();
            if (!deliverOne() && !worked) return;
        }
        throw new AssertionError("the network did not settle: " + queue.size() + " messages queued");
    }

    /** Processes readies and delivers messages one at a time until {@code condition} holds. */
    void deliverUntil(BooleanSupplier condition) {
        for (int rounds = 0; rounds < 1_000_000; rounds++) {
            if (condition.getAsBoolean()) return;
            processAll();
            if (condition.getAsBoolean()) return;
            if (!deliverOne() && !processAll()) {
                if (condition.getAsBoolean()) return;
                throw new AssertionError("the network settled before the condition held: " + this);
            }
        }
        throw new AssertionError("the condition never held: " + this);
    }

    /** Delivers only the queued messages that match, in order, after processing readies; keeps the rest queued. */
    void deliverMatching(Predicate<Message> which) {
        processAll();
        List<Message> keep = new ArrayList<>();
        List<Message> go = new ArrayList<>();
        for (Message m : queue) (which.test(m) ? go : keep).add(m);
        queue.clear();
        queue.addAll(keep);
        for (Message m : go) {
            if (!lost(m)) {
                delivered.add(m);
                core(m.to()).step(m);
            }
        }
    }

    /** The messages waiting to be delivered, oldest first. */
    List<Message> queued() {
        return List.copyOf(queue);
    }

    <T extends Message> List<T> queued(Class<T> type) {
        return queue.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** Every message delivered so far, in order. */
    List<Message> delivered() {
        return List.copyOf(delivered);
    }

    <T extends Message> List<T> delivered(Class<T> type) {
        return delivered.stream().filter(type::isInstance).map(type::cast).toList();
    }

    // ---------------------------------------------------------------- faults

    /** Loses every message to or from {@code id} from now on. */
    void isolate(int id) {
        isolated.add(id);
    }

    /** Loses every message from {@code from} to {@code to} from now on. */
    void cut(int from, int to) {
        cutLinks.add(List.of(from, to));
    }

    /** Loses every message that matches, from now on. */
    void dropIf(Predicate<Message> rule) {
        dropRules.add(rule);
    }

    void heal() {
        isolated.clear();
        cutLinks.clear();
        dropRules.clear();
    }

    void hold(int id) {
        held.add(id);
    }

    void release(int id) {
        held.remove(id);
    }

    /** Crashes and restarts a node: it keeps only what it persisted. */
    void restart(int id) {
        Node n = node(id);
        n.core = new RaftCore(n.config, n.hardState, n.snapshot, List.copyOf(n.disk));
        n.core.readFrom(n::read);
        n.applied.clear();
        n.applied.addAll(n.snapshotState);
        n.readStates.clear();
        n.droppedReads.clear();
        queue.removeIf(m -> m.to() == id);
    }

    // ---------------------------------------------------------------- time

    void tick(int id) {
        core(id).tick();
    }

    /**
     * Ticks {@code leader} once (a heartbeat, as the clusters here beat every tick) and delivers
     * everything: how followers learn a commit index that no append carried to them.
     */
    void heartbeatFrom(int leader) {
        tick(leader);
        deliverAll();
    }

    /** Ticks every node once: a cut loses messages, it does not stop clocks. */
    void tickAll() {
        for (int id : nodes.keySet()) core(id).tick();
    }

    /** Ticks every node and delivers everything, {@code rounds} times. */
    void run(int rounds) {
        for (int i = 0; i < rounds; i++) {
            tickAll();
            deliverAll();
        }
    }

    /** Ticks {@code id} until it starts campaigning; returns the ticks it took. */
    int tickUntilCampaign(int id) {
        RaftCore c = core(id);
        for (int t = 1; t <= 2 * c.config().electionTicks(); t++) {
            c.tick();
            if (c.role() != Role.FOLLOWER) return t;
        }
        throw new AssertionError("node " + id + " did not campaign within two election timeouts: " + c);
    }

    /** Makes {@code id} campaign and delivers everything; asserts that it won. */
    void elect(int id) {
        tickUntilCampaign(id);
        deliverAll();
        if (core(id).role() != Role.LEADER) throw new AssertionError("node " + id + " was not elected: " + this);
    }

    // ---------------------------------------------------------------- observation

    /** The ids of the nodes that think they lead. */
    List<Integer> leaders() {
        return nodes.values().stream().filter(n -> n.core.role() == Role.LEADER).map(n -> n.core.id()).toList();
    }

    @Override
    public String toString() {
        return nodes.values().stream().map(n -> n.core.toString()).collect(Collectors.joining("; "));
    }

    // ---------------------------------------------------------------- building blocks for hand-made logs

    /**
     * What a {@link LogSource} over {@code stored} (consecutive entries) gives: {@code from} to {@code to - 1}, as
     * many as fit in {@code maxBytes}, at least one.
     */
    static List<Entry> readRun(List<Entry> stored, long from, long to, long maxBytes) {
        long first = stored.get(0).index();
        List<Entry> out = new ArrayList<>();
        long bytes = 0;
        for (long i = from; i < to; i++) {
            Entry e = stored.get((int) (i - first));
            bytes += e.size();
            if (!out.isEmpty() && bytes > maxBytes) break;
            out.add(e);
        }
        return out;
    }

    static Entry cmd(long index, long term) {
        return new Entry(index, term, Entry.Kind.COMMAND, ("e" + index + "t" + term).getBytes());
    }

    /** Entries 1..terms.length, entry i having term terms[i - 1]. */
    static List<Entry> logOfTerms(long... terms) {
        List<Entry> out = new ArrayList<>();
        for (int i = 0; i < terms.length; i++) out.add(cmd(i + 1, terms[i]));
        return out;
    }

    /** A single-node core that is not part of any network, for tests that step messages by hand. */
    static RaftCore lone(int id, Set<Integer> voters, UnaryOperator<RaftConfig.Builder> tweak, HardState hs, List<Entry> log) {
        RaftConfig.Builder b = RaftConfig.builder(id, voters, new SplittableRandom(SEED * 31 + id))
                .electionTicks(ELECTION_TICKS)
                .heartbeatTicks(1);
        return new RaftCore(tweak.apply(b).build(), hs, log);
    }
}
