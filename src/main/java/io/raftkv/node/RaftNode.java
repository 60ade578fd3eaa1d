package io.raftkv.node;

import io.raftkv.raft.Entry;
import io.raftkv.raft.Message;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.ReadState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;
import io.raftkv.storage.Storage;
import io.raftkv.transport.MessageSink;
import io.raftkv.transport.Transport;
import org.jctools.queues.atomic.MpscUnboundedAtomicArrayQueue;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.concurrent.ThreadFactory;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One Raft node at run time: a virtual thread that owns a {@link RaftCore}, parks until a message,
 * a proposal, a read or a tick is due, drains everything available, and handles the core's ready
 * batch: send, persist, send what needed persisting, apply, answer. Every public method is
 * thread-safe and returns at once; answers come back through a {@link Reply}.
 */
public final class RaftNode implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(RaftNode.class.getName());

    private final int id;
    private final Set<Integer> voters;
    private final RaftCore core;
    private final Storage storage;
    private final Transport transport;
    private final StateMachine stateMachine;
    private final long tickNanos;
    private final int spinsBeforePark;
    private final Runnable onLeadershipChange;
    private final MpscUnboundedAtomicArrayQueue<Object> inbox = new MpscUnboundedAtomicArrayQueue<>(1024);
    private final Thread thread;
    /**
     * Sets {@link #tickDue} every tick interval. The node itself parks without a timeout: a timed park
     * of a virtual thread arms and cancels a timer in the JDK's scheduler on every wait, which cost
     * more than the rest of a commit's wake-ups.
     */
    private final Thread ticker;

    private volatile boolean parked;
    private final AtomicBoolean tickDue = new AtomicBoolean();
    private volatile boolean stopping;
    /** Set once the thread has stopped taking from the inbox; later items are answered by whoever enqueues them. */
    private volatile boolean finished;
    private final Object lateDrain = new Object();
    private volatile NodeStatus status;
    private volatile Throwable failure;

    // Owned by the node's thread.
    private final ArrayDeque<PendingProposal> proposals = new ArrayDeque<>();
    private final Map<Long, PendingRead> reads = new HashMap<>();
    private long nextReadContext;
    private long applied;

    private record Proposal(byte[] command, Reply reply) {}

    private record Read(Object query, Reply reply) {}

    private record PendingProposal(long index, long term, Reply reply) {}

    private record PendingRead(Object query, Reply reply) {}

    private record Control(Consumer<RaftCore> action) {}

    /** An answer held back until the node has published the status it reflects. */
    private record Answer(Reply reply, Object result, boolean ok, int leaderHint) {}

    private final ArrayList<Answer> answers = new ArrayList<>();

    /**
     * Builds a node from what {@code storage} holds and connects it; call {@link #start()} to run it.
     *
     * @param connect            joins the network: given this node's sink, returns its transport
     * @param onLeadershipChange called on the node's thread whenever its role, term or leader changes
     */
    public RaftNode(RaftConfig config, Storage storage, Function<MessageSink, Transport> connect,
                    StateMachine stateMachine, Duration tickInterval, Runnable onLeadershipChange) {
        this(config, storage, connect, stateMachine, tickInterval, onLeadershipChange, 0);
    }

    /**
     * As the other constructor, and with nothing to do the node first spins up to
     * {@code spinsBeforePark} times (yielding its carrier now and then) before it parks: a message
     * arriving meanwhile is taken without the wake-up of a parked thread, at the cost of CPU.
     */
    public RaftNode(RaftConfig config, Storage storage, Function<MessageSink, Transport> connect,
                    StateMachine stateMachine, Duration tickInterval, Runnable onLeadershipChange, int spinsBeforePark) {
        this(config, storage, connect, stateMachine, tickInterval, onLeadershipChange, spinsBeforePark,
                Thread.ofVirtual().factory());
    }

    /**
     * As the other constructors, with the node's thread and its ticker made by {@code threads} instead of
     * as virtual threads: a node alone in its process (socket mode) loses less to hand-offs between
     * platform threads, which the OS wakes directly, than to the virtual-thread scheduler's.
     */
    public RaftNode(RaftConfig config, Storage storage, Function<MessageSink, Transport> connect,
                    StateMachine stateMachine, Duration tickInterval, Runnable onLeadershipChange, int spinsBeforePark,
                    ThreadFactory threads) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(threads, "threads");
        if (spinsBeforePark < 0) throw new IllegalArgumentException("spinsBeforePark must be >= 0, was " + spinsBeforePark);
        this.spinsBeforePark = spinsBeforePark;
        this.storage = Objects.requireNonNull(storage, "storage");
        this.stateMachine = Objects.requireNonNull(stateMachine, "stateMachine");
        this.onLeadershipChange = Objects.requireNonNull(onLeadershipChange, "onLeadershipChange");
        Objects.requireNonNull(tickInterval, "tickInterval");
        if (tickInterval.isNegative() || tickInterval.isZero()) {
            throw new IllegalArgumentException("tickInterval must be positive, was " + tickInterval);
        }
        this.id = config.id();
        this.voters = config.voters();
        this.tickNanos = tickInterval.toNanos();
        this.core = new RaftCore(config, storage.hardState(), storage.entries());
        this.status = new NodeStatus(id, true, core.role(), core.term(), core.leader(), core.log().lastIndex(),
                core.commitIndex(), 0);
        this.thread = named(threads.newThread(this::run), "raftkv-node-" + id);
        this.ticker = named(threads.newThread(this::tickUntilStopped), "raftkv-ticker-" + id);
        this.transport = Objects.requireNonNull(connect.apply(this::deliver), "transport");
    }

    private static Thread named(Thread t, String name) {
        if (t == null) throw new IllegalStateException("the thread factory made no thread for " + name);
        t.setName(name);
        return t;
    }

    public int id() {
        return id;
    }

    public void start() {
        thread.start();
        ticker.start();
    }

    /** Hands a message from another node to this one; a misaddressed one is refused here, not on the node's thread. */
    public void deliver(Message message) {
        Objects.requireNonNull(message, "message");
        if (message.to() != id || message.from() == id) {
            throw new IllegalArgumentException("node " + id + " cannot take a message from " + message.from()
                    + " to " + message.to() + ": " + message);
        }
        enqueue(message);
    }

    /**
     * Proposes a command; {@code reply} learns its result once it is committed and applied here, or
     * that this node cannot take it. The array must not change afterwards.
     */
    public void propose(byte[] command, Reply reply) {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(reply, "reply");
        if (!enqueue(new Proposal(command, reply))) reply.notLeader(RaftCore.NONE);
    }

    /** Runs a linearizable read: {@code query} is passed to the state machine once ReadIndex allows. */
    public void read(Object query, Reply reply) {
        Objects.requireNonNull(reply, "reply");
        if (!enqueue(new Read(query, reply))) reply.notLeader(RaftCore.NONE);
    }

    /** Starts an election at once instead of waiting for the election timeout. */
    public void campaign() {
        enqueue(new Control(RaftCore::campaign));
    }

    /** Asks this node, if it leads, to hand leadership to {@code target}. */
    public void transferLeadership(int target) {
        if (!voters.contains(target)) {
            throw new IllegalArgumentException("cannot transfer leadership to " + target + ": not a voter of " + voters);
        }
        enqueue(new Control(c -> c.transferLeadership(target)));
    }

    /** The state this node last published; cheap, and safe from any thread. */
    public NodeStatus status() {
        return status;
    }

    /** Whether the node's thread has ended (closed, or died on an error; see {@link #failure()}). */
    public boolean stopped() {
        return finished && !thread.isAlive();
    }

    /** Why the node's thread stopped on its own, or null. */
    public Throwable failure() {
        return failure;
    }

    private boolean enqueue(Object item) {
        if (stopping) return false;
        inbox.offer(item);
        if (parked) LockSupport.unpark(thread);
        // The thread may have made its last pass over the inbox between our check and our offer:
        // then nobody else will answer what we put there.
        if (finished) refuseLeftovers();
        return true;
    }

    /** Answers every item left in the inbox once the thread is gone; one caller at a time, as the queue requires. */
    private void refuseLeftovers() {
        synchronized (lateDrain) {
            Object item;
            while ((item = inbox.poll()) != null) {
                if (item instanceof Proposal p) p.reply.notLeader(RaftCore.NONE);
                else if (item instanceof Read r) r.reply.notLeader(RaftCore.NONE);
            }
        }
    }

    /** Stops the node's thread and waits for it; what was persisted stays in storage. */
    @Override
    public void close() {
        stopping = true;
        LockSupport.unpark(thread);
        LockSupport.unpark(ticker);
        if (thread.getState() == Thread.State.NEW) {
            finished = true;
            status = NodeStatus.down(id, status.term());
            refuseLeftovers();
        } else {
            try {
                // A close() racing start() may find the ticker not yet started: nothing to wait for.
                boolean tickerDone = ticker.getState() == Thread.State.NEW || ticker.join(Duration.ofSeconds(10));
                if (!thread.join(Duration.ofSeconds(10)) || !tickerDone) {
                    throw new IllegalStateException("node " + id + " did not stop within 10 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while stopping node " + id, e);
            }
        }
        transport.close();
    }

    // ---------------------------------------------------------------- the node's thread

    private void tickUntilStopped() {
        long next = System.nanoTime() + tickNanos;
        while (!stopping) {
            LockSupport.parkNanos(this, next - System.nanoTime());
            long now = System.nanoTime();
            if (now - next < 0) continue; // woken early: by close(), or spuriously
            // One flag, not a count: after a stall (GC, a loaded machine) the node sees one tick, not
            // a burst that would time out every election at once.
            tickDue.set(true);
            if (parked) LockSupport.unpark(thread);
            next += tickNanos;
            if (now - next >= 0) next = now + tickNanos;
        }
    }

    private void run() {
        try {
            while (!stopping) {
                drainInbox();
                if (tickDue.getAndSet(false)) core.tick();
                while (core.hasReady()) handle(core.ready());
                publishStatus();
                for (int i = 0; i < spinsBeforePark && inbox.isEmpty(); i++) {
                    // Mostly a CPU hint; every 16th turn lets other virtual threads on this carrier run.
                    if ((i & 15) == 15) Thread.yield(); else Thread.onSpinWait();
                }
                if (inbox.isEmpty()) {
                    parked = true;
                    if (inbox.isEmpty() && !tickDue.get() && !stopping) LockSupport.park(this);
                    parked = false;
                }
            }
        } catch (Throwable t) {
            failure = t;
            LOG.log(Level.SEVERE, "node " + id + " stopped on an error", t);
        } finally {
            stopping = true;
            failEverything();
            finished = true;
            refuseLeftovers();
            // Down, but still saying how far its log, commit and state machine had come.
            NodeStatus s = status;
            status = new NodeStatus(id, false, Role.FOLLOWER, s.term(), RaftCore.NONE, s.lastIndex(), s.commitIndex(),
                    s.appliedIndex());
            onLeadershipChange.run();
        }
    }

    private void drainInbox() {
        Object item;
        while ((item = inbox.poll()) != null) {
            switch (item) {
                case Message m -> core.step(m);
                case Proposal p -> {
                    long index = core.propose(p.command);
                    if (index == RaftCore.REJECTED) p.reply.notLeader(core.leader());
                    else proposals.add(new PendingProposal(index, core.term(), p.reply));
                }
                case Read r -> {
                    long ctx = ++nextReadContext;
                    if (core.readIndex(ctx)) reads.put(ctx, new PendingRead(r.query, r.reply));
                    else r.reply.notLeader(core.leader());
                }
                case Control c -> c.action.accept(core);
                default -> throw new IllegalStateException("unknown inbox item " + item);
            }
        }
    }

    private void handle(Ready r) {
        for (Message m : r.messages()) transport.send(m);
        if (r.mustPersist()) storage.persist(r.hardState(), r.entries());
        for (Message m : r.messagesAfterPersist()) transport.send(m);
        for (Entry e : r.committedEntries()) apply(e);
        for (ReadState rs : r.readStates()) {
            PendingRead pr = reads.remove(rs.context());
            if (pr != null) answers.add(new Answer(pr.reply, stateMachine.query(pr.query), true, 0));
        }
        for (long ctx : r.droppedReads()) {
            PendingRead pr = reads.remove(ctx);
            if (pr != null) answers.add(new Answer(pr.reply, null, false, r.leader()));
        }
        if (r.role() != Role.LEADER && !proposals.isEmpty()) {
            // Lost leadership: these may yet commit under the next leader, or not; the client retries.
            for (PendingProposal p : proposals) answers.add(new Answer(p.reply, null, false, r.leader()));
            proposals.clear();
        }
        core.advance(r);
        if (!answers.isEmpty()) {
            // Whoever hears of a commit must find it in this node's status.
            publishStatus();
            for (Answer a : answers) {
                if (a.ok) a.reply.ok(a.result); else a.reply.notLeader(a.leaderHint);
            }
            answers.clear();
        }
    }

    private void apply(Entry e) {
        Object result = e.kind() == Entry.Kind.COMMAND ? stateMachine.apply(e.index(), e.data()) : null;
        applied = e.index();
        PendingProposal p;
        while ((p = proposals.peek()) != null && p.index <= e.index()) {
            proposals.poll();
            if (p.index == e.index() && p.term == e.term()) answers.add(new Answer(p.reply, result, true, 0));
            else answers.add(new Answer(p.reply, null, false, core.leader())); // its slot went to another leader's entry
        }
    }

    private void publishStatus() {
        NodeStatus s = status;
        Role role = core.role();
        long term = core.term();
        int leader = core.leader();
        long last = core.log().lastIndex();
        long commit = core.commitIndex();
        if (s.role() == role && s.term() == term && s.leader() == leader && s.lastIndex() == last
                && s.commitIndex() == commit && s.appliedIndex() == applied) {
            return;
        }
        status = new NodeStatus(id, true, role, term, leader, last, commit, applied);
        if (role != s.role() || term != s.term() || leader != s.leader()) onLeadershipChange.run();
    }

    private void failEverything() {
        for (PendingProposal p : proposals) p.reply.notLeader(RaftCore.NONE);
        proposals.clear();
        for (PendingRead r : reads.values()) r.reply.notLeader(RaftCore.NONE);
        reads.clear();
    }
}
