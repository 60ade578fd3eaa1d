package io.raftkv.transport;

import io.raftkv.raft.Message;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.DelayQueue;
import java.util.concurrent.Delayed;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/** The network of one in-JVM cluster: hands messages from node to node without copying them, with seeded fault injection. */
public final class InMemoryNetwork implements AutoCloseable {
    /*
     * Speed. With no fault configured, Transport.send reads a few fields and calls the destination's
     * sink on the sender's own thread: no lock, no allocation, no thread hop. Fault settings live in one
     * immutable snapshot, swapped on every change, so the fast path tests a single reference.
     *
     * Semantics.
     * - Ids are node ids, at least 1. A node is always linked to itself.
     * - partition() replaces the previous partition (cuts and isolations stay); nodes named in no group
     *   form one more group together. isolate() and cut() add to what is already cut.
     * - Links, drop, duplicate, delay and reorder are decided when a message is sent, by the sender's
     *   transport, from the sender's own random stream (seed, node id, incarnation). The sender is the
     *   transport's owner, whatever the message's from() says, so a partition cannot be bypassed.
     * - A delayed message is in flight, as on a real network: it still arrives if its link is cut or the
     *   fault settings change afterwards, even after heal(). It is dropped if its destination is
     *   disconnected when it falls due; if the destination has reconnected meanwhile, the new sink gets it.
     *   close() discards it.
     * - Each copy of a duplicated message draws its own delay.
     * - A reordered message is held back for an extra (max - min) delay plus 1-2 ms, so it arrives after
     *   what its sender sends in the next millisecond.
     * - Messages to a node that is not connected are dropped and counted; so are messages sent through a
     *   closed transport.
     * - The delay thread is started by the first delay or reorder setting and runs until close().
     */

    /** Ids below this are routed through an array; larger ones through a map, so a huge id costs no huge array. */
    private static final int DENSE_IDS = 1024;
    /** Longer delays are surely mistakes, and bounding them keeps due times far from overflow. */
    private static final Duration MAX_DELAY = Duration.ofDays(1);
    private static final long REORDER_HOLD_MIN_NANOS = 1_000_000;
    private static final long REORDER_HOLD_MAX_NANOS = 2_000_000;
    private static final System.Logger LOG = System.getLogger(InMemoryNetwork.class.getName());

    private final long seed;
    private final Object lock = new Object();

    /** Null when no fault is configured: the fast path tests only this. */
    private volatile Faults faults;
    /** Copy-on-write routing tables; an entry is null when that node is not connected. */
    private volatile MessageSink[] sinks = new MessageSink[0];
    private volatile Map<Integer, MessageSink> farSinks = Map.of();

    private final DelayQueue<InFlight> inFlight = new DelayQueue<>();
    private final AtomicLong inFlightSequence = new AtomicLong();
    /** Written only by the delay thread. */
    private final Counts delayThreadCounts = new Counts();

    // Guarded by lock.
    private final Map<Integer, Link> links = new HashMap<>();
    private final Map<Integer, Integer> incarnations = new HashMap<>();
    private final List<Counts> allCounts = new ArrayList<>(List.of(delayThreadCounts));
    private Thread delayThread;
    private boolean closed;

    /** Creates an empty network whose every random decision derives from {@code seed}. */
    public InMemoryNetwork(long seed) {
        this.seed = seed;
    }

    /** Registers (or replaces, e.g. after a restart) the sink of node {@code id}; returns that node's Transport. */
    public Transport connect(int id, MessageSink sink) {
        checkId("node id", id);
        Objects.requireNonNull(sink, "sink");
        synchronized (lock) {
            checkOpen();
            Link old = links.get(id);
            if (old != null) old.closed = true;
            int incarnation = incarnations.merge(id, 1, Integer::sum) - 1;
            Link link = new Link(id, new SplittableRandom(streamSeed(seed, id, incarnation)));
            links.put(id, link);
            allCounts.add(link.counts);
            route(id, sink);
            return link;
        }
    }

    /** Takes node {@code id} down: messages to it are dropped until it connects again, and its old Transport stops sending. */
    public void disconnect(int id) {
        checkId("node id", id);
        synchronized (lock) {
            checkOpen();
            Link old = links.remove(id);
            if (old != null) old.closed = true;
            route(id, null);
        }
    }

    /**
     * Splits the nodes into groups that cannot talk to each other, replacing any earlier partition; nodes
     * named in no group form one more group together.
     */
    public void partition(Collection<? extends Collection<Integer>> groups) {
        Objects.requireNonNull(groups, "groups");
        if (groups.isEmpty()) throw new IllegalArgumentException("partition needs at least one group of node ids");
        Map<Integer, Integer> groupOf = new HashMap<>();
        int group = 0;
        for (Collection<Integer> members : groups) {
            group++;
            if (members == null || members.isEmpty()) {
                throw new IllegalArgumentException("partition group " + group + " is empty; every group needs at least one node id, got " + groups);
            }
            for (Integer id : members) {
                if (id == null) throw new IllegalArgumentException("partition group " + group + " contains null, got " + groups);
                checkId("node id in partition group " + group, id);
                Integer earlier = groupOf.put(id, group);
                if (earlier != null && earlier != group) {
                    throw new IllegalArgumentException("node " + id + " is in partition groups " + earlier + " and " + group
                            + "; groups must not overlap, got " + groups);
                }
            }
        }
        int[] ids = groupOf.keySet().stream().mapToInt(Integer::intValue).sorted().toArray();
        int[] groupOfIds = Arrays.stream(ids).map(groupOf::get).toArray();
        update(f -> f.withPartition(ids, groupOfIds));
    }

    /** Cuts every link to and from node {@code id}, in addition to the cuts already made. */
    public void isolate(int id) {
        checkId("node id", id);
        update(f -> f.withIsolated(id));
    }

    /** Cuts the link from node {@code from} to node {@code to}, in that direction only. */
    public void cut(int from, int to) {
        checkId("from", from);
        checkId("to", to);
        if (from == to) throw new IllegalArgumentException("cut needs two different nodes, got " + from + " -> " + to);
        update(f -> f.withCut(from, to));
    }

    /** Removes every partition, isolation and cut, and sets drop, duplicate, delay and reorder back to none. */
    public void heal() {
        update(f -> Faults.NONE);
    }

    /** Sets the probability, from 0 to 1, that a message is lost. */
    public void dropProbability(double p) {
        checkProbability("drop", p);
        update(f -> f.withDrop(p));
    }

    /** Sets the probability, from 0 to 1, that a message is delivered twice. */
    public void duplicateProbability(double p) {
        checkProbability("duplicate", p);
        update(f -> f.withDuplicate(p));
    }

    /** Makes each delivered message wait a time drawn uniformly from [{@code min}, {@code max}]; zero and zero means no delay. */
    public void delay(Duration min, Duration max) {
        Objects.requireNonNull(min, "min");
        Objects.requireNonNull(max, "max");
        if (min.isNegative()) throw new IllegalArgumentException("delay min must be >= 0, was " + min);
        if (max.compareTo(min) < 0) throw new IllegalArgumentException("delay max (" + max + ") must be >= min (" + min + ")");
        if (max.compareTo(MAX_DELAY) > 0) throw new IllegalArgumentException("delay max must be at most " + MAX_DELAY + ", was " + max);
        long minNanos = min.toNanos();
        long maxNanos = max.toNanos();
        update(f -> f.withDelay(minNanos, maxNanos));
    }

    /** Sets the probability, from 0 to 1, that a message is held back behind messages sent after it. */
    public void reorderProbability(double p) {
        checkProbability("reorder", p);
        update(f -> f.withReorder(p));
    }

    /** Whether node {@code from} can currently send to node {@code to}: no cut, isolation or partition between them. */
    public boolean linked(int from, int to) {
        checkId("from", from);
        checkId("to", to);
        synchronized (lock) {
            checkOpen();
        }
        Faults f = faults;
        return f == null || f.linked(from, to);
    }

    /** Counts of what the network has done so far; each count is exact once the network is quiet. */
    public Stats stats() {
        synchronized (lock) {
            checkOpen();
            long delivered = 0, dropped = 0, duplicated = 0, delayed = 0;
            for (Counts c : allCounts) {
                delivered += c.delivered();
                dropped += c.dropped();
                duplicated += c.duplicated();
                delayed += c.delayed();
            }
            return new Stats(delivered, dropped, duplicated, delayed);
        }
    }

    /**
     * What the network has done: copies handed to a sink, messages or copies lost (to a fault, a closed
     * transport or an absent node), extra copies made, and copies that went through the delay thread.
     */
    public record Stats(long delivered, long dropped, long duplicated, long delayed) {}

    /** Closes every transport, discards messages in flight and stops (and joins) the delay thread; closing twice does nothing. */
    @Override
    public void close() {
        Thread thread;
        synchronized (lock) {
            if (closed) return;
            closed = true;
            for (Link link : links.values()) link.closed = true;
            links.clear();
            faults = null;
            sinks = new MessageSink[0];
            farSinks = Map.of();
            thread = delayThread;
        }
        if (thread != null) {
            // A message-less entry due now stops the thread; unlike an interrupt, a sink cannot swallow it.
            inFlight.clear();
            inFlight.put(new InFlight(System.nanoTime(), -1, 0, null));
            boolean interrupted = false;
            while (true) {
                try {
                    thread.join();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) Thread.currentThread().interrupt();
        }
        inFlight.clear();
    }

    /** The delay thread, or null if no delay or reorder was ever configured; for tests. */
    Thread delayThread() {
        synchronized (lock) {
            return delayThread;
        }
    }

    // --- the send path -------------------------------------------------------------------------------

    /** One node's sending end; used by that node's thread only, which is why its random stream and counts need no lock. */
    private final class Link implements Transport {
        private final int id;
        private final SplittableRandom random;
        private final Counts counts = new Counts();
        volatile boolean closed;

        Link(int id, SplittableRandom random) {
            this.id = id;
            this.random = random;
        }

        @Override
        public void send(Message message) {
            if (closed) {
                counts.addDropped();
                return;
            }
            Faults f = faults;
            if (f == null) {
                deliverNow(message.to(), message, counts);
            } else {
                sendWithFaults(message, f);
            }
        }

        private void sendWithFaults(Message message, Faults f) {
            int to = message.to();
            if (!f.linked(id, to) || (f.drop > 0 && random.nextDouble() < f.drop)) {
                counts.addDropped();
                return;
            }
            boolean twice = f.duplicate > 0 && random.nextDouble() < f.duplicate;
            if (twice) counts.addDuplicated();
            sendCopy(to, message, f);
            if (twice) sendCopy(to, message, f);
        }

        private void sendCopy(int to, Message message, Faults f) {
            long wait = 0;
            if (f.maxDelayNanos > 0) {
                wait = f.minDelayNanos + (f.maxDelayNanos > f.minDelayNanos
                        ? random.nextLong(f.maxDelayNanos - f.minDelayNanos + 1) : 0);
            }
            if (f.reorder > 0 && random.nextDouble() < f.reorder) {
                wait += (f.maxDelayNanos - f.minDelayNanos) + random.nextLong(REORDER_HOLD_MIN_NANOS, REORDER_HOLD_MAX_NANOS + 1);
            }
            if (wait == 0) {
                deliverNow(to, message, counts);
            } else {
                counts.addDelayed();
                inFlight.put(new InFlight(System.nanoTime() + wait, inFlightSequence.getAndIncrement(), to, message));
            }
        }

        @Override
        public void close() {
            closed = true;
        }

        @Override
        public String toString() {
            return "InMemoryNetwork.Transport[node " + id + (closed ? ", closed]" : "]");
        }
    }

    private void deliverNow(int to, Message message, Counts counts) {
        MessageSink sink = sinkOf(to);
        if (sink == null) {
            counts.addDropped();
            return;
        }
        // Counted before the hand-over, so a receiver that has the message also sees it in stats().
        counts.addDelivered();
        sink.deliver(message);
    }

    private MessageSink sinkOf(int id) {
        MessageSink[] table = sinks;
        if (id >= 0 && id < table.length) return table[id];
        return id >= DENSE_IDS ? farSinks.get(id) : null;
    }

    // --- the delay thread ----------------------------------------------------------------------------

    /** A message copy waiting for its due time (no message: stop); equal due times leave in the order they were sent. */
    private static final class InFlight implements Delayed {
        final long dueNanos;
        final long sequence;
        final int to;
        final Message message;

        InFlight(long dueNanos, long sequence, int to, Message message) {
            this.dueNanos = dueNanos;
            this.sequence = sequence;
            this.to = to;
            this.message = message;
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            InFlight o = (InFlight) other;
            long d = dueNanos - o.dueNanos; // nanoTime values are compared by difference, never directly
            if (d != 0) return d < 0 ? -1 : 1;
            return Long.compare(sequence, o.sequence);
        }
    }

    private void runDelays() {
        while (true) {
            InFlight next;
            try {
                next = inFlight.take();
            } catch (InterruptedException e) {
                continue; // nothing but close() stops this thread, and it does so with a message-less entry
            }
            if (next.message == null) return;
            try {
                deliverNow(next.to, next.message, delayThreadCounts);
            } catch (RuntimeException e) {
                // No sender is left to hand this to; a faulty sink must not stop every later delivery.
                LOG.log(System.Logger.Level.WARNING, "sink of node " + next.to + " threw on a delayed message", e);
            }
        }
    }

    // --- configuration -------------------------------------------------------------------------------

    private interface FaultChange {
        Faults apply(Faults current);
    }

    private void update(FaultChange change) {
        synchronized (lock) {
            checkOpen();
            Faults current = faults;
            Faults next = change.apply(current == null ? Faults.NONE : current);
            // The delay thread must be running before any sender can see a delay.
            if ((next.maxDelayNanos > 0 || next.reorder > 0) && delayThread == null) {
                delayThread = Thread.ofVirtual().name("raftkv-network-delays").start(this::runDelays);
            }
            faults = next.isNone() ? null : next;
        }
    }

    private void route(int id, MessageSink sink) {
        if (id < DENSE_IDS) {
            MessageSink[] table = Arrays.copyOf(sinks, Math.max(sinks.length, id + 1));
            table[id] = sink;
            sinks = table;
        } else {
            Map<Integer, MessageSink> table = new HashMap<>(farSinks);
            if (sink == null) table.remove(id); else table.put(id, sink);
            farSinks = Map.copyOf(table);
        }
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the network is closed");
    }

    private static void checkId(String what, int id) {
        if (id < 1) throw new IllegalArgumentException(what + " must be >= 1, was " + id);
    }

    private static void checkProbability(String what, double p) {
        if (!(p >= 0 && p <= 1)) throw new IllegalArgumentException(what + " probability must be in [0, 1], was " + p);
    }

    /** Each (node, incarnation) gets its own well-mixed stream, so one sender's decisions do not depend on another's. */
    private static long streamSeed(long seed, int id, int incarnation) {
        return mix64(seed ^ mix64(((long) id << 32) | (incarnation & 0xFFFF_FFFFL)));
    }

    private static long mix64(long z) { // Stafford's variant 13, as SplittableRandom uses
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    // --- state ---------------------------------------------------------------------------------------

    /** The fault settings at one moment; never changed, only replaced. */
    private static final class Faults {
        static final Faults NONE = new Faults(new long[0], new int[0], new int[0], new int[0], 0, 0, 0, 0, 0);

        final long[] cuts;          // sorted (from << 32 | to)
        final int[] isolated;       // sorted
        final int[] partitionIds;   // sorted; nodes not here are in group 0
        final int[] partitionGroup; // parallel to partitionIds
        final double drop;
        final double duplicate;
        final double reorder;
        final long minDelayNanos;
        final long maxDelayNanos;

        private Faults(long[] cuts, int[] isolated, int[] partitionIds, int[] partitionGroup,
                       double drop, double duplicate, double reorder, long minDelayNanos, long maxDelayNanos) {
            this.cuts = cuts;
            this.isolated = isolated;
            this.partitionIds = partitionIds;
            this.partitionGroup = partitionGroup;
            this.drop = drop;
            this.duplicate = duplicate;
            this.reorder = reorder;
            this.minDelayNanos = minDelayNanos;
            this.maxDelayNanos = maxDelayNanos;
        }

        boolean linked(int from, int to) {
            if (from == to) return true;
            if (isolated.length > 0 && (Arrays.binarySearch(isolated, from) >= 0 || Arrays.binarySearch(isolated, to) >= 0)) {
                return false;
            }
            if (cuts.length > 0 && Arrays.binarySearch(cuts, key(from, to)) >= 0) return false;
            return partitionIds.length == 0 || groupOf(from) == groupOf(to);
        }

        private int groupOf(int id) {
            int i = Arrays.binarySearch(partitionIds, id);
            return i >= 0 ? partitionGroup[i] : 0;
        }

        boolean isNone() {
            return cuts.length == 0 && isolated.length == 0 && partitionIds.length == 0
                    && drop == 0 && duplicate == 0 && reorder == 0 && maxDelayNanos == 0;
        }

        Faults withCut(int from, int to) {
            long k = key(from, to);
            if (Arrays.binarySearch(cuts, k) >= 0) return this;
            long[] next = Arrays.copyOf(cuts, cuts.length + 1);
            next[cuts.length] = k;
            Arrays.sort(next);
            return new Faults(next, isolated, partitionIds, partitionGroup, drop, duplicate, reorder, minDelayNanos, maxDelayNanos);
        }

        Faults withIsolated(int id) {
            if (Arrays.binarySearch(isolated, id) >= 0) return this;
            int[] next = Arrays.copyOf(isolated, isolated.length + 1);
            next[isolated.length] = id;
            Arrays.sort(next);
            return new Faults(cuts, next, partitionIds, partitionGroup, drop, duplicate, reorder, minDelayNanos, maxDelayNanos);
        }

        Faults withPartition(int[] ids, int[] groups) {
            return new Faults(cuts, isolated, ids, groups, drop, duplicate, reorder, minDelayNanos, maxDelayNanos);
        }

        Faults withDrop(double p) {
            return new Faults(cuts, isolated, partitionIds, partitionGroup, p, duplicate, reorder, minDelayNanos, maxDelayNanos);
        }

        Faults withDuplicate(double p) {
            return new Faults(cuts, isolated, partitionIds, partitionGroup, drop, p, reorder, minDelayNanos, maxDelayNanos);
        }

        Faults withReorder(double p) {
            return new Faults(cuts, isolated, partitionIds, partitionGroup, drop, duplicate, p, minDelayNanos, maxDelayNanos);
        }

        Faults withDelay(long minNanos, long maxNanos) {
            return new Faults(cuts, isolated, partitionIds, partitionGroup, drop, duplicate, reorder, minNanos, maxNanos);
        }

        private static long key(int from, int to) {
            return ((long) from << 32) | (to & 0xFFFF_FFFFL);
        }
    }

    /**
     * Counters with a single writer (one sender's thread, or the delay thread): an increment is a plain
     * read and an ordered store, no atomic instruction; {@link #stats} reads them from any thread.
     */
    private static final class Counts {
        private static final VarHandle DELIVERED, DROPPED, DUPLICATED, DELAYED;

        static {
            try {
                MethodHandles.Lookup l = MethodHandles.lookup();
                DELIVERED = l.findVarHandle(Counts.class, "delivered", long.class);
                DROPPED = l.findVarHandle(Counts.class, "dropped", long.class);
                DUPLICATED = l.findVarHandle(Counts.class, "duplicated", long.class);
                DELAYED = l.findVarHandle(Counts.class, "delayed", long.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private long delivered;
        private long dropped;
        private long duplicated;
        private long delayed;

        void addDelivered() { DELIVERED.setRelease(this, delivered + 1); }
        void addDropped() { DROPPED.setRelease(this, dropped + 1); }
        void addDuplicated() { DUPLICATED.setRelease(this, duplicated + 1); }
        void addDelayed() { DELAYED.setRelease(this, delayed + 1); }

        long delivered() { return (long) DELIVERED.getAcquire(this); }
        long dropped() { return (long) DROPPED.getAcquire(this); }
        long duplicated() { return (long) DUPLICATED.getAcquire(this); }
        long delayed() { return (long) DELAYED.getAcquire(this); }
    }
}
