package io.raftkv.node;

import io.raftkv.raft.Message;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.Role;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.transport.Transport;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Production {@link RaftNode}s that are never started, driven pass by pass on the test's thread: one FIFO of
 * messages between them, a clock the test moves, snapshots written at once. Nothing runs unless the test asks,
 * so a test of the node's own logic is an exact trace, with no thread, sleep or deadline.
 */
final class DrivenCluster {
    static final Duration TICK = Duration.ofMillis(10);
    static final int ELECTION_TICKS = 10;

    final Map<Integer, RaftNode> nodes = new TreeMap<>();
    final Map<Integer, MemoryStorage> storages = new TreeMap<>();
    final Map<Integer, Counter> machines = new TreeMap<>();
    final Map<Integer, AtomicInteger> leadershipChanges = new TreeMap<>();
    private final ArrayDeque<Message> wire = new ArrayDeque<>();
    /** Nodes whose traffic, both ways, is lost. */
    final Set<Integer> isolated = new HashSet<>();
    /** Messages lost besides: those this rule matches. */
    java.util.function.Predicate<Message> drop = m -> false;
    /** Whether nodes added from now on can snapshot their state machine. */
    boolean snapshots = true;
    /**
     * Nodes added from now on whose state machine freezes its state and whose snapshot writes wait in
     * {@link #pendingWrites} until the test runs them (as the writer thread would, late).
     */
    final Set<Integer> deferredWriters = new HashSet<>();
    final Map<Integer, ArrayDeque<Runnable>> pendingWrites = new TreeMap<>();
    /** What each node asked of its storage, in order: "persist term T" and "install snapshot I" (snapshot writers' install). */
    final Map<Integer, List<String>> storageCalls = new TreeMap<>();
    /** Snapshot readers and writers each node holds open: opened, less one per close() (a second close counts too). */
    final Map<Integer, AtomicInteger> openReaders = new TreeMap<>();
    final Map<Integer, AtomicInteger> openWriters = new TreeMap<>();

    /** Snapshot readers and writers node {@code id} holds open. */
    int openSnapshotHandles(int id) {
        return openReaders.get(id).get() + openWriters.get(id).get();
    }
    long now = 1_000_000_000L;
    private final Set<Integer> firstVoters;
    private final java.util.function.UnaryOperator<RaftConfig.Builder> tweak;
    private SnapshotPolicy policy = SnapshotPolicy.defaults();

    /** A state machine that adds up the first byte of each command; snapshots and restores its sum and count. */
    static final class Counter implements StateMachine {
        long sum;
        long count;
        final List<Long> appliedIndexes = new ArrayList<>();

        /** Thrown by the next apply, if set: an Error stops the node. */
        Error failWith;

        @Override public Object apply(long index, byte[] command) {
            if (failWith != null) throw failWith;
            if (command.length > 0 && command[0] == 'X') throw new IllegalArgumentException("X is refused");
            appliedIndexes.add(index);
            count++;
            sum += command.length == 0 ? 0 : command[0];
            return sum;
        }

        @Override public Object query(Object query) { return query + "=" + sum; }

        final boolean canSnapshot;
        /** Whether {@link #freeze} copies the state (for a write off the node's thread). */
        boolean freezes;

        Counter(boolean canSnapshot) {
            this.canSnapshot = canSnapshot;
        }

        @Override public Frozen freeze() {
            if (!freezes) return null;
            long s = sum;
            long n = count;
            return out -> {
                DataOutputStream d = new DataOutputStream(out);
                d.writeLong(s);
                d.writeLong(n);
                d.flush();
            };
        }

        @Override public boolean canSnapshot() { return canSnapshot; }

        @Override public void snapshot(OutputStream out) throws IOException {
            DataOutputStream d = new DataOutputStream(out);
            d.writeLong(sum);
            d.writeLong(count);
            d.flush();
        }

        @Override public void restore(InputStream in) throws IOException {
            DataInputStream d = new DataInputStream(in);
            sum = d.readLong();
            count = d.readLong();
        }
    }

    DrivenCluster(Set<Integer> voters) {
        this(voters, b -> b);
    }

    /** The nodes' Raft settings, besides their timing, changed by {@code tweak}: for nodes added later too. */
    DrivenCluster(Set<Integer> voters, java.util.function.UnaryOperator<RaftConfig.Builder> tweak) {
        this.firstVoters = Set.copyOf(voters);
        this.tweak = tweak;
        for (int id : voters) add(id);
    }

    DrivenCluster policy(SnapshotPolicy p) {
        this.policy = p;
        nodes.values().forEach(n -> n.snapshotPolicy(p));
        return this;
    }

    /** Adds a node that knows the first voters (a voter of them, or a newcomer waiting to be told its place). */
    /** A reply that notes what it was told, in order: "ok RESULT" or "notLeader HINT". */
    static Reply noting(List<Object> answers) {
        return new Reply() {
            @Override public void ok(Object result) { answers.add("ok " + result); }
            @Override public void notLeader(int leaderHint) { answers.add("notLeader " + leaderHint); }
        };
    }

    /** The failure a completed-exceptionally future holds. */
    static Throwable failureOf(CompletableFuture<?> f) {
        org.junit.jupiter.api.Assertions.assertTrue(f.isCompletedExceptionally(), "not failed: " + f);
        return org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.CompletionException.class, f::join).getCause();
    }

    RaftNode add(int id) {
        RaftConfig config = tweak.apply(RaftConfig.builder(id, firstVoters, new SplittableRandom(31L * id))
                .electionTicks(ELECTION_TICKS).heartbeatTicks(1)).build();
        MemoryStorage storage = new MemoryStorage();
        Counter machine = new Counter(snapshots);
        ArrayDeque<Runnable> writes = new ArrayDeque<>();
        pendingWrites.put(id, writes);
        boolean deferred = deferredWriters.contains(id);
        machine.freezes = deferred;
        AtomicInteger changes = new AtomicInteger();
        Transport transport = new Transport() {
            @Override public void send(Message m) { wire.add(m); }
            @Override public void close() { }
        };
        List<String> calls = new ArrayList<>();
        storageCalls.put(id, calls);
        AtomicInteger readers = new AtomicInteger();
        AtomicInteger writers = new AtomicInteger();
        openReaders.put(id, readers);
        openWriters.put(id, writers);
        RaftNode node = RaftNode.builder(config, recording(storage, calls, readers, writers), machine).transport(sink -> transport).tickInterval(TICK).onLeadershipChange(changes::incrementAndGet).threads(Thread.ofPlatform()::unstarted).clock(() -> now).snapshotWriters(deferred ? writes::add : Runnable::run).build().snapshotPolicy(policy);
        nodes.put(id, node);
        storages.put(id, storage);
        machines.put(id, machine);
        leadershipChanges.put(id, changes);
        return node;
    }

    /**
     * {@code storage}, noting each persist's term and each snapshot install in {@code calls}, and counting the
     * snapshot readers and writers open.
     */
    private static io.raftkv.storage.Storage recording(MemoryStorage storage, List<String> calls, AtomicInteger readers,
                                                       AtomicInteger writers) {
        return (io.raftkv.storage.Storage) java.lang.reflect.Proxy.newProxyInstance(io.raftkv.storage.Storage.class.getClassLoader(),
                new Class<?>[] {io.raftkv.storage.Storage.class}, (proxy, method, args) -> {
                    if (method.getName().equals("persist") && args[0] != null) {
                        calls.add("persist term " + ((io.raftkv.raft.HardState) args[0]).term());
                    }
                    Object result = invoke(storage, method, args);
                    if (method.getName().equals("createSnapshot")) {
                        io.raftkv.storage.SnapshotWriter w = (io.raftkv.storage.SnapshotWriter) result;
                        writers.incrementAndGet();
                        return java.lang.reflect.Proxy.newProxyInstance(io.raftkv.storage.SnapshotWriter.class.getClassLoader(),
                                new Class<?>[] {io.raftkv.storage.SnapshotWriter.class}, (p, m, a) -> {
                                    if (m.getName().equals("install")) calls.add("install snapshot " + w.meta().index());
                                    if (m.getName().equals("close")) writers.decrementAndGet();
                                    return invoke(w, m, a);
                                });
                    }
                    if (method.getName().equals("openSnapshot")) {
                        io.raftkv.storage.SnapshotReader r = (io.raftkv.storage.SnapshotReader) result;
                        readers.incrementAndGet();
                        return java.lang.reflect.Proxy.newProxyInstance(io.raftkv.storage.SnapshotReader.class.getClassLoader(),
                                new Class<?>[] {io.raftkv.storage.SnapshotReader.class}, (p, m, a) -> {
                                    if (m.getName().equals("close")) readers.decrementAndGet();
                                    return invoke(r, m, a);
                                });
                    }
                    return result;
                });
    }

    private static Object invoke(Object target, java.lang.reflect.Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }

    RaftNode node(int id) {
        return nodes.get(id);
    }

    /** Passes of every node and deliveries until nothing is left to do; no tick. */
    void settle() {
        for (int round = 0; round < 100_000; round++) {
            boolean worked = false;
            for (RaftNode n : nodes.values()) {
                if (!n.stopped() && n.hasWork()) {
                    n.step(false);
                    worked = true;
                }
            }
            Message m = wire.poll();
            if (m != null) {
                RaftNode to = nodes.get(m.to());
                if (to != null && !isolated.contains(m.to()) && !isolated.contains(m.from()) && !drop.test(m)) to.deliver(m);
                worked = true;
            }
            if (!worked) return;
        }
        throw new AssertionError("the cluster did not settle");
    }

    /** One tick for every node (the clock moves one tick), then settles. */
    void tick() {
        now += TICK.toNanos();
        for (RaftNode n : nodes.values()) n.step(true);
        settle();
    }

    void ticks(int n) {
        for (int i = 0; i < n; i++) tick();
    }

    /** Makes {@code id} campaign and settles; it leads after. */
    void elect(int id) {
        node(id).campaign();
        settle();
        if (node(id).status().role() != Role.LEADER) throw new AssertionError("node " + id + " was not elected: " + node(id).status());
    }

    /** Proposes a one-byte command at {@code id} and settles; returns what the reply was told. */
    Object put(int id, int value) {
        CompletableFuture<Object> answer = new CompletableFuture<>();
        node(id).propose(new byte[] {(byte) value}, new Reply() {
            @Override public void ok(Object result) { answer.complete(result); }
            @Override public void notLeader(int leaderHint) { answer.complete("notLeader " + leaderHint); }
            @Override public void unavailable(String reason) { answer.complete("unavailable " + reason); }
        });
        settle();
        return answer.getNow("no answer");
    }

    static byte[] snapshotBytes(long sum, long count) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(b);
        d.writeLong(sum);
        d.writeLong(count);
        return b.toByteArray();
    }
}
