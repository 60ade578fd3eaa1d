package io.raftkv.node;

import io.raftkv.raft.ConfigChange;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.FeatureLevel;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.LogSource;
import io.raftkv.raft.Message;
import io.raftkv.raft.Message.InstallSnapshot;
import io.raftkv.raft.Message.SnapshotChunk;
import io.raftkv.raft.Message.SnapshotChunkAck;
import io.raftkv.raft.Progress;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.RaftCore;
import io.raftkv.raft.ReadPolicy;
import io.raftkv.raft.ReadState;
import io.raftkv.raft.Ready;
import io.raftkv.raft.Role;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.SnapshotReader;
import io.raftkv.storage.SnapshotWriter;
import io.raftkv.storage.Storage;
import io.raftkv.transport.MessageSink;
import io.raftkv.transport.PolledTransport;
import io.raftkv.transport.Transport;
import org.jctools.queues.atomic.MpscUnboundedAtomicArrayQueue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.lang.System.Logger.Level;

/**
 * One Raft node at run time: a virtual thread that owns a {@link RaftCore}, parks until a message,
 * a proposal, a read or a tick is due, drains everything available, and handles the core's ready
 * batch: send, persist, send what needed persisting, apply, answer. Every public method is
 * thread-safe and returns at once; answers come back through a {@link Reply} or a future.
 *
 * <p>Snapshots are the runtime's: the node snapshots its state machine into storage once the log
 * applied since the last snapshot passes {@link SnapshotPolicy#logBytes()}, and compacts its log; it
 * starts from its stored snapshot plus the log after it; as leader it streams its snapshot in CRC-checked
 * chunks to a follower that needs compacted entries, and as follower it reassembles one and restores
 * from it when its core says so. Membership changes go through the leader, one server at a time.
 */
public final class RaftNode implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RaftNode.class.getName());

    private final int id;
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
    /** The transport, when the node's thread reads its inbound messages itself (waits on it rather than parking); else null. */
    private final PolledTransport polled;

    private volatile boolean parked;
    private final AtomicBoolean tickDue = new AtomicBoolean();
    private volatile boolean stopping;
    /** Set once the thread has stopped taking from the inbox; later items are answered by whoever enqueues them. */
    private volatile boolean finished;
    private final Object lateDrain = new Object();
    private final StatusBoard status;
    private volatile Throwable failure;
    private volatile Configuration configuration;
    private volatile Configuration committedConfiguration;
    /** The cluster's feature level, as this node learns and raises it. */
    private final FeatureLevels featureLevels;
    // Snapshot figures, written by the node's thread only when they change (not once per commit), and put
    // together by snapshotStats().
    private volatile long snapshotsInstalled;
    private volatile long publishedSnapshotIndex;
    private volatile long publishedFirstIndex = 1;
    private volatile long publishedLogBytes;
    private volatile SnapshotPolicy snapshotPolicy = SnapshotPolicy.defaults();
    /** Told of role, term, leader and configuration changes; null for none. Set before the node starts. */
    private NodeListener listener;
    /** Told of each pass's stage times; null for none (then passes are timed only while JFR records them). */
    private PassObserver passObserver;
    /** Told of each configuration before anything is sent under it; null for none. Set before the node starts. */
    private java.util.function.Consumer<Configuration> onConfiguration;
    /** The configuration {@link #onConfiguration} was last told of; owned by the node's thread. */
    private Configuration routedConfiguration;

    // Owned by the node's thread.
    private final ArrayDeque<Proposal> proposals = new ArrayDeque<>();
    private final PendingReads reads;
    private long applied;
    private final SnapshotSenders snapshotSenders;
    private final SnapshotReceiver snapshotReceiver;
    private final MembershipChanges membership;
    private final LeadershipHandOver handOver;
    private final SnapshotTaker snapshots;
    /** The time, on {@link System#nanoTime}'s scale (a simulation's own clock when it drives the node). */
    private final LongSupplier clock;
    /** Whether the core reads by lease ({@link ReadPolicy#LEASE}): then a leader's ticks follow {@link #clock} closely. */
    private final boolean leaseReads;
    /** Under lease reads, the tick interval of {@link #clock} the core's clock was last brought up to. */
    private long tickedInterval;

    private record Read(Object query, Reply reply) {}


    /**
     * A copy of the state machine's state ({@code state}, written once, on any thread) as of {@code meta}'s
     * index: the whole state after applying every entry up to it, and nothing after.
     */
    public record Backup(SnapshotMeta meta, StateMachine.Frozen state) {}

    /** Work for the node's thread; {@code refused} runs instead if the node stops before taking it. */
    private record Control(Consumer<RaftCore> action, Runnable refused) {
        Control(Consumer<RaftCore> action) {
            this(action, () -> { });
        }
    }

    private final HeldAnswers answers = new HeldAnswers();

    /** Whether a recording takes {@link NodePassEvent}s (then passes are timed, and proposals stamped). */
    private static final jdk.jfr.EventType PASS_EVENTS = jdk.jfr.EventType.getEventType(NodePassEvent.class);
    /** The event of the pass under way while a recording takes them; else null. Node thread only. */
    private NodePassEvent timing;

    /**
     * A builder of a node that runs {@code stateMachine} on {@code storage} with {@code config}; set how it
     * joins the network with {@link Builder#transport}, then {@link Builder#build()} and {@link #start()}.
     */
    public static Builder builder(RaftConfig config, Storage storage, StateMachine stateMachine) {
        return new Builder(config, storage, stateMachine);
    }

    /**
     * Builds a node from what {@code storage} holds and connects it (the {@link Builder}'s settings; see there).
     * With {@code clock} and {@code snapshotWriters} of its own, a simulation that never starts the node and
     * drives it by {@link #step} instead runs this very code on its own clock and schedule.
     */
    private RaftNode(RaftConfig config, Storage storage, Function<MessageSink, Transport> connect,
             StateMachine stateMachine, Duration tickInterval, Runnable onLeadershipChange, int spinsBeforePark,
             ThreadFactory threads, LongSupplier clock, Executor snapshotWriters) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(threads, "threads");
        this.clock = Objects.requireNonNull(clock, "clock");
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
        this.tickNanos = tickInterval.toNanos();
        this.leaseReads = config.readPolicy() == ReadPolicy.LEASE;
        this.tickedInterval = Math.floorDiv(clock.getAsLong(), tickNanos);
        this.membership = new MembershipChanges(id, clock, tickNanos);
        this.handOver = new LeadershipHandOver(id, clock, config.electionTicks() * tickNanos);
        this.reads = new PendingReads(id);
        this.snapshots = new SnapshotTaker(id, storage, stateMachine, snapshotWriters,
                (action, ifStopped) -> enqueue(new Control(c -> action.run(), ifStopped)));
        Optional<SnapshotMeta> snapshot = storage.snapshot();
        if (snapshot.isPresent()) {
            // The state as of the snapshot; the log after it is applied again as it commits.
            try (SnapshotReader r = storage.openSnapshot(); InputStream in = r.stream()) {
                snapshots.restored(r.size());
                stateMachine.restore(in);
            } catch (IOException e) {
                throw new UncheckedIOException("node " + id + " cannot restore its state from its stored "
                        + snapshot.get() + ": " + e.getMessage(), e);
            }
            applied = snapshot.get().index();
        }
        this.core = new RaftCore(config, storage.hardState(), snapshot.orElse(null), storage.entries());
        // A store that reads its log back by index (a file store) lets the heap keep only a bounded tail of it.
        if (storage instanceof LogSource source) core.readFrom(source);
        this.configuration = core.configuration();
        this.committedConfiguration = core.committedConfiguration();
        this.status = new StatusBoard(id);
        status.publish(true, core.role(), core.term(), core.leader(), core.log().lastIndex(), core.commitIndex(), applied);
        this.snapshotReceiver = new SnapshotReceiver(id, storage, this::send);
        this.snapshotSenders = new SnapshotSenders(id, storage, this::send);
        this.thread = named(threads.newThread(this::run), "raftkv-node-" + id);
        this.ticker = named(threads.newThread(this::tickUntilStopped), "raftkv-ticker-" + id);
        this.transport = Objects.requireNonNull(connect.apply(this::deliver), "transport");
        this.polled = transport instanceof PolledTransport p && p.polling() ? p : null;
        this.featureLevels = new FeatureLevels(id, transport);
        try {
            featureLevels.start(committedConfiguration.featureLevel());
        } catch (IllegalStateException e) {
            // Its store says the cluster has gone past what this build can read: never lower it, and never run.
            transport.close();
            throw e;
        }
    }

    /** Each snapshot write on a thread of its own, made by {@code threads}. */
    private static Executor writerThreads(ThreadFactory threads, int id) {
        return task -> named(threads.newThread(task), "raftkv-snapshot-" + id).start();
    }

    private static Thread named(Thread t, String name) {
        if (t == null) throw new IllegalStateException("the thread factory made no thread for " + name);
        t.setName(name);
        return t;
    }

    public int id() {
        return id;
    }

    /**
     * Sets when this node snapshots and how it streams snapshots; call it before {@link #start()}. The
     * default is {@link SnapshotPolicy#defaults()}.
     */
    public RaftNode snapshotPolicy(SnapshotPolicy policy) {
        Objects.requireNonNull(policy, "policy");
        if (thread.getState() != Thread.State.NEW) throw new IllegalStateException("node " + id + " has started");
        this.snapshotPolicy = policy;
        return this;
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
        propose(new Proposal.Of(command, reply));
    }

    /**
     * Proposes {@code proposal}'s command; the proposal itself learns its result once it is committed and
     * applied here, or that this node cannot take it.
     *
     * @throws IllegalStateException if this proposal was proposed before (here or to another node)
     */
    public void propose(Proposal proposal) {
        Objects.requireNonNull(proposal, "proposal");
        proposal.claim();
        if (PASS_EVENTS.isEnabled()) proposal.term = System.nanoTime(); // when it was enqueued, until it is appended
        if (!enqueue(proposal)) proposal.notLeader(RaftCore.NONE);
    }

    /**
     * Runs a linearizable read: {@code query} is passed to the state machine once the read is confirmed (by
     * ReadIndex, or the leader's lease under {@link ReadPolicy#LEASE}) and applied here. A follower serves it
     * too, with the read index it asks the leader for; {@code reply} hears {@link Reply#notLeader} if this node
     * knows no leader, or the leader refused or did not answer (ask again, here or elsewhere).
     */
    public void read(Object query, Reply reply) {
        Objects.requireNonNull(reply, "reply");
        if (!enqueue(new Read(query, reply))) reply.notLeader(RaftCore.NONE);
    }

    /**
     * A consistent copy of the whole state: confirmed as a linearizable read is (so it holds every write
     * acknowledged before the call, on a follower too), then frozen as of the index applied here
     * ({@link StateMachine#freeze()}, or {@link StateMachine#snapshot} into memory if it cannot freeze). Write
     * the {@link Backup#state()} off the node's thread. Fails with {@link NotLeaderException} if no leader
     * confirmed the read (ask again), with {@link UnsupportedOperationException} if the state machine cannot
     * be snapshotted, and with {@link IllegalStateException} if its snapshot failed.
     */
    public CompletableFuture<Backup> backup() {
        CompletableFuture<Backup> done = new CompletableFuture<>();
        if (!stateMachine.canSnapshot()) {
            done.completeExceptionally(new UnsupportedOperationException("node " + id + "'s state machine ("
                    + stateMachine.getClass().getName() + ") cannot be snapshotted, so it cannot be backed up"));
            return done;
        }
        read(PendingReads.BACKUP, PendingReads.completing(done, id));
        return done;
    }

    /** Starts an election at once instead of waiting for the election timeout. */
    public void campaign() {
        enqueue(new Control(RaftCore::campaign));
    }

    /** Asks this node, if it leads, to hand leadership to {@code target}; nothing happens if that is not a voter. */
    public void transferLeadership(int target) {
        if (target < 1) throw new IllegalArgumentException("node ids start at 1, not " + target);
        enqueue(new Control(c -> c.transferLeadership(target)));
    }

    /**
     * Asks this node, as leader, to make one membership change. The future completes with the new
     * configuration once the change is committed and applied here; it fails with
     * {@link NotLeaderException} if this node does not lead or loses leadership first (the change may
     * still commit: read the configuration before trying again), with {@link IllegalArgumentException}
     * if the change does not apply to the configuration, and with {@link IllegalStateException} if
     * another change is still under way.
     */
    public CompletableFuture<Configuration> changeMembership(ConfigChange change) {
        Objects.requireNonNull(change, "change");
        CompletableFuture<Configuration> done = new CompletableFuture<>();
        Runnable refuse = () -> done.completeExceptionally(new NotLeaderException(id, 0));
        Control propose = new Control(c -> {
            if (change.context() == null || !featureLevels.refuseWhileRising(c, done)) membership.propose(c, change, done);
        }, refuse);
        if (!enqueue(propose)) refuse.run();
        return done;
    }

    /**
     * Asks this node, as leader, to make {@code node} a voter the safe way (thesis §4.2.1): it joins as a
     * learner, and is promoted once it keeps up (it reaches the leader's last index within an election
     * timeout of a round's start). The future completes with the configuration once the promotion is
     * committed; it fails as {@link #changeMembership} does, or with a {@link java.util.concurrent.TimeoutException}
     * if the learner has not caught up within {@code catchUp} (it then stays a learner).
     */
    public CompletableFuture<Configuration> addVoter(int node, Duration catchUp) {
        return addVoter(node, null, catchUp);
    }

    /**
     * As {@link #addVoter(int, Duration)}, the node joining as a learner with {@code context} (null: none) in the
     * configuration: in socket mode, the address it listens on, from which every member learns where it is.
     */
    public CompletableFuture<Configuration> addVoter(int node, String context, Duration catchUp) {
        Objects.requireNonNull(catchUp, "catchUp");
        if (node < 1) throw new IllegalArgumentException("node id must be >= 1, was " + node);
        if (context != null) ConfigChange.addLearner(node, context); // checked here, not on the node's thread
        CompletableFuture<Configuration> done = new CompletableFuture<>();
        long deadline = clock.getAsLong() + catchUp.toNanos();
        Control start = new Control(c -> {
                    if (context == null || !featureLevels.refuseWhileRising(c, done)) {
                        membership.startPromotion(c, node, context, done, deadline);
                    }
                },
                () -> done.completeExceptionally(new NotLeaderException(id, 0)));
        if (!enqueue(start)) start.refused().run();
        return done;
    }

    /**
     * Asks this node, if it leads, to hand leadership over before it stops: to the voter whose log is most up
     * to date (the leader brings it up to date if need be and tells it to campaign at once, thesis §3.10), so
     * that the cluster need not wait an election timeout for a new leader. Proposals are refused meanwhile.
     * The future completes with the new leader's id once this node knows it; at once with
     * {@link RaftCore#NONE} if this node does not lead or is the only voter; or fails with a
     * {@link java.util.concurrent.TimeoutException} if no other node leads within {@code timeout} (the transfer
     * is then given up, and this node leads on if it still does).
     */
    public CompletableFuture<Integer> handOverLeadership(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        CompletableFuture<Integer> done = new CompletableFuture<>();
        long deadline = clock.getAsLong() + timeout.toNanos();
        Control start = new Control(c -> handOver.start(c, done, deadline), () -> done.complete(RaftCore.NONE));
        if (!enqueue(start)) start.refused().run();
        return done;
    }

    /**
     * Stops the node gracefully: a leader first hands leadership over ({@link #handOverLeadership}), waiting at
     * most {@code handOverTimeout} for another node to lead; a follower just stops. Then as {@link #close()}.
     * Returns the node it handed leadership to, or {@link RaftCore#NONE} if it did not lead or the hand-over
     * did not finish in time (then the others elect a leader once their election timeout passes).
     */
    public int stopGracefully(Duration handOverTimeout) {
        long start = System.nanoTime();
        int to = RaftCore.NONE;
        try {
            // The node's thread gives up at the deadline; the margin is for a thread that is stuck.
            to = handOverLeadership(handOverTimeout).get(handOverTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
            if (to != RaftCore.NONE) {
                int leader = to;
                LOG.log(Level.INFO, () -> "node " + id + " handed leadership to node " + leader + " in "
                        + Duration.ofNanos(System.nanoTime() - start).toMillis() + " ms, and stops");
            }
        } catch (ExecutionException | TimeoutException e) {
            String why = e instanceof ExecutionException ? e.getCause().getMessage() : "its thread did not answer";
            LOG.log(Level.WARNING, () -> "node " + id + " stops without handing leadership over (" + why
                    + "): the others elect a leader after their election timeout");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt(); // close() at once, as asked
        }
        close();
        return to;
    }

    /** The configuration in force at this node: the last one in its log, committed or not. */
    public Configuration configuration() {
        return configuration;
    }

    /**
     * Removes member {@code id}, as {@link #changeMembership} with {@link ConfigChange#remove}, but done only
     * once the removal is committed, and safe to repeat: if the committed configuration lacks {@code id}
     * already (a retry after a lost answer), the future completes with it at once; if only the configuration
     * in force lacks it, the removal is in the log but not committed and may still be rolled back, so the
     * future fails with {@link IllegalStateException} (ask again shortly) rather than report it done.
     */
    public CompletableFuture<Configuration> removeMember(int id) {
        Configuration committed = committedConfiguration;
        if (!committed.contains(id)) return CompletableFuture.completedFuture(committed);
        if (!configuration.contains(id)) {
            return CompletableFuture.failedFuture(new IllegalStateException("the removal of node " + id
                    + " is in node " + this.id + "'s log but not committed yet"));
        }
        return changeMembership(ConfigChange.remove(id));
    }

    /**
     * The configuration of this node's committed log, as last published: a membership change is done once
     * it shows here (the one in force may still be rolled back with an uncommitted suffix of the log).
     */
    public Configuration committedConfiguration() {
        return committedConfiguration;
    }

    /**
     * The cluster's {@link FeatureLevel feature level} as this node's committed log has it (last published): what
     * every member supports, so what the leader may write. Cheap, and safe from any thread.
     */
    public int featureLevel() {
        return committedConfiguration.featureLevel();
    }

    /**
     * Whether this node, leading, is raising the cluster's feature level: every member supports more than the
     * committed level, and the entry that raises it is proposed or about to be. A request refused for the level
     * may then be retried shortly rather than failed. Safe from any thread.
     */
    public boolean featureLevelRising() {
        return featureLevels.rising();
    }

    /** Its snapshots and the size of its log, as last published; cheap, and safe from any thread. */
    public SnapshotStats snapshotStats() {
        long entries = Math.max(0, status.read().lastIndex() - publishedFirstIndex + 1);
        return new SnapshotStats(snapshots.taken(), snapshotsInstalled, publishedSnapshotIndex, entries, publishedLogBytes);
    }

    /** The state this node last published; cheap, and safe from any thread. */
    public NodeStatus status() {
        return status.read();
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
        if (parked) wake();
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
                if (item instanceof Proposal p) p.notLeader(RaftCore.NONE);
                else if (item instanceof Read r) r.reply.notLeader(RaftCore.NONE);
                else if (item instanceof Control c) c.refused.run();
            }
        }
    }

    /** Stops the node's thread and waits for it; what was persisted stays in storage. */
    @Override
    public void close() {
        stopping = true;
        wake();
        LockSupport.unpark(ticker);
        if (thread.getState() == Thread.State.NEW) {
            failEverything(); // nothing, unless a simulation drove the node by step()
            finished = true;
            NodeStatus s = status.read();
            status.publish(false, Role.FOLLOWER, s.term(), RaftCore.NONE, 0, 0, 0);
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
        long next = onGrid(System.nanoTime() + tickNanos);
        while (!stopping) {
            LockSupport.parkNanos(this, next - System.nanoTime());
            long now = System.nanoTime();
            if (now - next < 0) continue; // woken early: by close(), or spuriously
            // One flag, not a count: after a stall (GC, a loaded machine) the node sees one tick, not
            // a burst that would time out every election at once.
            tickDue.set(true);
            if (parked) wake();
            next += tickNanos;
            if (now - next >= 0) next = onGrid(now + tickNanos);
        }
    }

    /**
     * The first multiple of the tick interval at or after {@code t} (on {@link System#nanoTime}'s scale): the
     * nodes of a process that share an interval tick together, so one wake-up of the scheduler's carrier
     * threads serves all of them and the heartbeats they exchange, rather than one wake-up per node at
     * scattered instants. That is most of what an idle cluster costs.
     */
    private long onGrid(long t) {
        return Math.floorDiv(t + tickNanos - 1, tickNanos) * tickNanos;
    }

    /** Gets the node's thread going: unparks it, or wakes the transport it waits on. */
    private void wake() {
        PolledTransport p = polled;
        if (p != null) p.wakeup();
        else LockSupport.unpark(thread);
    }

    private void run() {
        PolledTransport p = polled;
        try {
            while (!stopping) {
                if (p != null) p.poll();
                pass();
                for (int i = 0; i < spinsBeforePark && inbox.isEmpty(); i++) {
                    // A node that reads its own sockets looks at them on every turn (a frame that lands now is
                    // read without a wake-up); otherwise mostly a CPU hint, and every 16th turn lets other
                    // virtual threads on this carrier run.
                    if (p != null) p.poll();
                    else if ((i & 15) == 15) Thread.yield();
                    else Thread.onSpinWait();
                }
                if (inbox.isEmpty()) {
                    parked = true;
                    if (inbox.isEmpty() && !tickDue.get() && !stopping) {
                        if (p != null) p.await();
                        else LockSupport.park(this);
                    }
                    parked = false;
                }
            }
        } catch (Throwable t) {
            failure = t;
            LOG.log(Level.ERROR, "node " + id + " stopped on an error", t);
        } finally {
            finishRun();
        }
    }

    /**
     * Drives a node that was never started, as a simulation does on its own schedule: notes a tick if
     * {@code tick}, then makes one pass of the node's loop on the caller's thread. Returns false once the node
     * has stopped: closed, or on an error (then {@link #failure()} says which), as its own thread would.
     */
    boolean step(boolean tick) {
        if (thread.getState() != Thread.State.NEW) throw new IllegalStateException("node " + id + " runs on its own thread");
        if (finished) return false;
        if (tick) tickDue.set(true);
        try {
            pass();
            return true;
        } catch (Throwable t) {
            failure = t;
            LOG.log(Level.ERROR, "node " + id + " stopped on an error", t);
            finishRun();
            return false;
        }
    }

    /** Whether a pass would find something to do: items in the inbox, a tick, or a ready batch. */
    boolean hasWork() {
        return !inbox.isEmpty() || tickDue.get() || core.hasReady();
    }

    /** The node's thread ends (or a driven node stops): fails what it held, answers what is left, publishes that it is down. */
    private void finishRun() {
        stopping = true;
        failEverything();
        finished = true;
        refuseLeftovers();
        // Down, but still saying how far its log, commit and state machine had come.
        NodeStatus s = status.read();
        status.publish(false, Role.FOLLOWER, s.term(), RaftCore.NONE, s.lastIndex(), s.commitIndex(), s.appliedIndex());
        onLeadershipChange.run();
        if (listener != null) tell(buildReport(false));
    }

    /** One pass of the node's loop: take what arrived, tick if due, handle the core's ready batches, then the rest. */
    private void pass() {
        // An event object only while a recording takes them or an observer is bound: the loop allocates nothing otherwise.
        NodePassEvent event = passObserver != null || PASS_EVENTS.isEnabled() ? new NodePassEvent() : null;
        timing = event;
        if (event != null) event.begin();
        drainInbox();
        tickAsDue(tickDue.getAndSet(false));
        if (event != null) {
            long t = System.nanoTime();
            while (core.hasReady()) {
                Ready r = core.ready();
                long now = System.nanoTime();
                event.readyNanos += now - t;
                handle(r);
                t = System.nanoTime();
            }
            commitIfUseful(event);
            timing = null;
        } else {
            while (core.hasReady()) handle(core.ready());
        }
        snapshotReceiver.discardIfComplete();
        if (membership.promoting()) membership.advance(core);
        if (handOver.pending()) handOver.advance(core);
        if (reads.backupsDue()) reads.takeBackups(core, applied, stateMachine);
        snapshots.maybeSnapshot(core, applied, snapshotPolicy);
        publishStatus();
    }

    /**
     * Ticks the core if the ticker said a tick is due ({@code flagged}): once, however many intervals passed, so
     * that a stalled node does not time out every election at once. A lease-reading leader is the exception:
     * its lease must not outlast, in real time, the voters' wait it rests on, so it is ticked once for every
     * interval of {@link #clock} that passed (up to an election timeout, which ends any lease) before it checks
     * a read, and whenever the ticker calls. A slow clock on any other node only makes it wait longer.
     */
    private void tickAsDue(boolean flagged) {
        if (!leaseReads) {
            if (flagged) tickOnce();
            return;
        }
        long interval = Math.floorDiv(clock.getAsLong(), tickNanos);
        long passed = interval - tickedInterval;
        if (passed > 0) tickedInterval = interval;
        if (core.role() == Role.LEADER) {
            for (long n = Math.min(passed, core.config().electionTicks()); n > 0; n--) tickOnce();
        } else if (flagged) {
            tickOnce();
        }
    }

    private void tickOnce() {
        core.tick();
        snapshotSenders.tick(core);
        featureLevels.tick(core);
    }

    private void drainInbox() {
        NodePassEvent event = timing;
        long start = event == null ? 0 : System.nanoTime();
        Object item;
        while ((item = inbox.poll()) != null) {
            if (event != null) {
                event.inboxItems++;
                if (item instanceof Proposal p) {
                    event.proposals++;
                    if (p.term != 0) event.longestInboxWait = Math.max(event.longestInboxWait, start - p.term); // enqueued at
                }
            }
            switch (item) {
                case Proposal p -> {
                    long index = core.propose(p.command);
                    if (index == RaftCore.REJECTED) {
                        p.notLeader(core.leader());
                    } else if (index == RaftCore.BUSY) {
                        p.unavailable(busy());
                    } else {
                        p.index = index;
                        p.term = core.term();
                        proposals.add(p);
                    }
                }
                case Read r -> {
                    if (leaseReads) tickAsDue(false); // a lease is checked on a clock up to date
                    long ctx = reads.nextContext();
                    if (core.readIndex(ctx)) reads.waiting(ctx, r.query, r.reply);
                    else r.reply.notLeader(core.leader());
                }
                case Control c -> c.action.accept(core);
                case SnapshotChunkAck a -> {
                    snapshotSenders.onAck(a, core);
                }
                case SnapshotChunk c -> {
                    InstallSnapshot whole = snapshotReceiver.onChunk(c, core.term());
                    if (whole != null) {
                        core.step(whole);
                        return; // the core's decision on this snapshot is handled before anything else arrives
                    }
                }
                case InstallSnapshot is -> {
                    // Only this node's receiver makes one, once it holds the bytes: one off the wire has none.
                    LOG.log(Level.DEBUG, () -> "node " + id + " drops an InstallSnapshot that came without its chunks: " + is);
                }
                case Message m -> {
                    if (leaseReads && m instanceof Message.ReadIndexRequest) tickAsDue(false); // as for a read of our own
                    core.step(m);
                }
                default -> throw new IllegalStateException("unknown inbox item " + item);
            }
        }
        if (event != null) event.inboxNanos += System.nanoTime() - start;
    }

    private String busy() {
        return "node " + id + " leads but holds " + core.config().maxUncommittedBytes()
                + " bytes of uncommitted entries (maxUncommittedBytes) until its followers catch up; try again shortly";
    }

    /** Records the pass, if the event is on and the pass did something. */
    private void commitIfUseful(NodePassEvent event) {
        if (event.inboxItems == 0 && event.entriesApplied == 0 && event.entriesPersisted == 0 && event.sendNanos == 0) return;
        event.node = id;
        event.leader = core.role() == Role.LEADER;
        event.commit();
        if (passObserver != null) {
            try {
                passObserver.onPass(event.times());
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "node " + id + ": its pass observer threw; the node goes on", e);
            }
        }
    }

    private void handle(Ready r) {
        routeConfiguration();
        NodePassEvent event = timing;
        long t0 = event == null ? 0 : System.nanoTime();
        // Indexed loops over the ready's lists (all random access): an iterator per list per pass is what
        // a pass would otherwise allocate, the lists' classes being too many for the JIT to remove it.
        List<Message> now = r.messages();
        for (int i = 0, n = now.size(); i < n; i++) {
            Message m = now.get(i);
            if (m instanceof InstallSnapshot is) snapshotSenders.start(is, snapshotPolicy, core.config().electionTicks()); else transport.send(m);
        }
        long t1 = event == null ? 0 : System.nanoTime();
        if (r.snapshot() != null) {
            // The term goes to disk before the snapshot: a store must never hold a snapshot (or log) of a
            // term newer than its current term, or a crash in between would leave a node that cannot start.
            // Only term and vote: the new commit index lies beyond the log until the snapshot is in.
            HardState hs = r.hardState();
            HardState stored = storage.hardState();
            if (hs != null && (hs.term() != stored.term() || hs.votedFor() != stored.votedFor())) {
                storage.persist(new HardState(hs.term(), hs.votedFor(), Math.min(stored.commit(), hs.commit())), List.of());
            }
            installReceived(r.snapshot());
            storage.persist(hs, r.entries());
        } else if (r.mustPersist()) {
            storage.persist(r.hardState(), r.entries());
        }
        long t2 = event == null ? 0 : System.nanoTime();
        if (r.snapshot() != null) routeConfiguration(); // an installed snapshot may name other members
        List<Message> later = r.messagesAfterPersist();
        for (int i = 0, n = later.size(); i < n; i++) transport.send(later.get(i));
        long t3 = event == null ? 0 : System.nanoTime();
        List<Entry> committed = r.committedEntries();
        for (int i = 0, n = committed.size(); i < n; i++) apply(committed.get(i));
        List<ReadState> readStates = r.readStates();
        for (int i = 0, n = readStates.size(); i < n; i++) {
            PendingReads.Read pr = reads.confirmed(readStates.get(i).context()); // a backup waits for the pass's end
            if (pr != null) answer(pr.reply(), stateMachine.query(pr.query()));
        }
        for (long ctx : r.droppedReads()) {
            PendingReads.Read pr = reads.dropped(ctx);
            if (pr != null) refuse(pr.reply(), r.leader());
        }
        if (r.role() != Role.LEADER && !proposals.isEmpty()) {
            // Lost leadership: these may yet commit under the next leader, or not; the client retries.
            for (Proposal p : proposals) refuse(p, r.leader());
            proposals.clear();
        }
        if (r.role() != Role.LEADER) loseLeadership(r.leader());
        else snapshotReceiver.close(); // a leader takes no snapshot from anyone: drop a transfer left half done
        core.advance(r);
        long t4 = event == null ? 0 : System.nanoTime();
        int answered = answers.size();
        if (answered > 0) {
            // Whoever hears of a commit must find it in this node's status.
            publishStatus();
            answers.deliver();
        }
        if (event != null) {
            event.sendNanos += (t1 - t0) + (t3 - t2);
            event.persistNanos += t2 - t1;
            event.entriesPersisted += r.entries().size();
            List<Entry> entries = r.entries();
            for (int i = 0, n = entries.size(); i < n; i++) event.bytesPersisted += entries.get(i).size();
            event.applyNanos += t4 - t3;
            event.entriesApplied += r.committedEntries().size();
            event.answerNanos += System.nanoTime() - t4;
            event.answers += answered;
        }
    }

    private void apply(Entry e) {
        Object result = e.kind() == Entry.Kind.COMMAND ? applyCommand(e) : null;
        applied = e.index();
        snapshots.applied(e.size());
        if (e.kind() == Entry.Kind.CONFIG) membership.applied(core, e);
        Proposal p;
        while ((p = proposals.peek()) != null && p.index <= e.index()) {
            proposals.poll();
            if (p.index == e.index() && p.term == e.term()) answer(p, result);
            else refuse(p, core.leader()); // its slot went to another leader's entry
        }
    }

    /**
     * Applies a committed command. A RuntimeException is the command's output (see {@link StateMachine#apply}):
     * every replica meets it at the same entry, so stopping here would stop them all in turn. An Error
     * stops the node.
     */
    private Object applyCommand(Entry e) {
        try {
            return stateMachine.apply(e.index(), e.data());
        } catch (RuntimeException failure) {
            LOG.log(Level.WARNING, "node " + id + ": the state machine threw applying the command at index " + e.index()
                    + "; that is the command's result, and the node goes on", failure);
            return new CommandFailure(e.index(), failure);
        }
    }

    private void answer(Reply reply, Object result) {
        answers.ok(reply, result);
    }

    private void refuse(Reply reply, int leaderHint) {
        answers.notLeader(reply, leaderHint);
    }

    /**
     * Tells {@link #onConfiguration} of the core's configuration if it changed: before any message goes out under
     * it, so that a transport that follows the configuration knows a new member's address first. One reference
     * comparison a ready batch otherwise.
     */
    private void routeConfiguration() {
        Configuration c = core.configuration();
        if (c == routedConfiguration || onConfiguration == null) return;
        routedConfiguration = c;
        onConfiguration.accept(c);
    }

    private void publishStatus() {
        Configuration c = core.configuration();
        boolean configChanged = c != configuration;
        if (configChanged) configuration = c;
        Configuration committed = core.committedConfiguration();
        if (committed != committedConfiguration) {
            int before = committedConfiguration.featureLevel();
            committedConfiguration = committed;
            if (committed.featureLevel() != before) featureLevels.rose(before, committed.featureLevel());
        }
        SnapshotMeta latest = core.latestSnapshot();
        long snapIndex = latest == null ? 0 : latest.index();
        if (snapIndex != publishedSnapshotIndex) publishedSnapshotIndex = snapIndex;
        long first = core.log().firstIndex();
        if (first != publishedFirstIndex) publishedFirstIndex = first;
        long logBytes = core.log().bytes();
        if (logBytes != publishedLogBytes) publishedLogBytes = logBytes;
        Role role = core.role();
        long term = core.term();
        int leader = core.leader();
        long last = core.log().lastIndex();
        long commit = core.commitIndex();
        if (status.shows(role, term, leader, last, commit, applied) && !configChanged) return;
        boolean leadershipChanged = !status.showsLeadership(role, term, leader);
        status.publish(true, role, term, leader, last, commit, applied);
        if (leadershipChanged) onLeadershipChange.run();
        if (listener != null && (leadershipChanged || configChanged)) tell(buildReport(true));
    }

    /** This node as it is now; on its own thread only. */
    private NodeReport buildReport(boolean alive) {
        Map<Integer, NodeReport.PeerReport> peers = Map.of();
        if (alive && core.role() == Role.LEADER) {
            peers = new java.util.TreeMap<>();
            for (int m : core.configuration().members()) {
                Progress pr = m == id ? null : core.progress(m);
                if (pr != null) peers.put(m, new NodeReport.PeerReport(m, pr.match(), pr.next(), pr.state()));
            }
        }
        NodeStatus s = status.read(); // published by this thread: what it shows is the node as it is
        // A node that is not alive leads nobody and knows no leader, even before its stop is published.
        return new NodeReport(id, alive, alive ? s.role() : Role.FOLLOWER, s.term(), alive ? s.leader() : RaftCore.NONE,
                s.lastIndex(), s.commitIndex(), s.appliedIndex(), configuration, committedConfiguration, snapshotStats(), peers);
    }

    private void tell(NodeReport report) {
        try {
            listener.onChange(report);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "node " + id + ": its listener threw on " + report + "; the node goes on", e);
        }
    }

    /**
     * A report of this node taken on its thread between two passes (reading it there: cheap, but not for
     * every commit): its role, indexes, configurations,
     * snapshots and, on a leader, each peer's replication. A node that has stopped answers with the last
     * it published (not alive, no peers).
     */
    public CompletableFuture<NodeReport> report() {
        CompletableFuture<NodeReport> done = new CompletableFuture<>();
        // Stopped: what it last published, read once; buildReport reads only what is published (the core
        // only for a live leader's peers), so any thread may call it for a node that is not alive.
        Runnable stopped = () -> done.complete(buildReport(false));
        // Between two passes the published status is the node as it is: the last pass published it.
        if (!enqueue(new Control(c -> done.complete(buildReport(true)), stopped))) {
            stopped.run();
        }
        return done;
    }

    private void failEverything() {
        for (Proposal p : proposals) p.notLeader(RaftCore.NONE);
        proposals.clear();
        reads.refuseAll();
        loseLeadership(RaftCore.NONE);
        handOver.stopped();
        snapshotReceiver.close();
    }

    private void send(Message m) {
        transport.send(m);
    }

    // ---------------------------------------------------------------- snapshots

    /** Restores the state machine from the snapshot the leader sent, as the core decided, and stores it. */
    private void installReceived(SnapshotMeta meta) {
        try (SnapshotWriter w = snapshotReceiver.take(meta)) {
            try (InputStream in = w.readBack()) {
                stateMachine.restore(in);
            } catch (IOException e) {
                throw new UncheckedIOException("node " + id + " cannot restore " + meta + " received from the leader: "
                        + e.getMessage(), e);
            }
            snapshots.restored(w.size());
            w.install();
        }
        applied = meta.index();
        snapshotsInstalled++;
    }

    // ---------------------------------------------------------------- membership

    /** Fails what only a leader can finish, and stops streaming snapshots. */
    private void loseLeadership(int leaderHint) {
        membership.leadershipLost(leaderHint);
        snapshotSenders.closeAll();
    }

    /**
     * Sets a node up. Required: the Raft settings, the storage and the state machine (given to
     * {@link RaftNode#builder}) and the transport; the rest have defaults. Every value is checked as it is set.
     */
    public static final class Builder {
        private final RaftConfig config;
        private final Storage storage;
        private final StateMachine stateMachine;
        private Function<MessageSink, Transport> connect;
        private Duration tickInterval = Duration.ofMillis(5);
        private Runnable onLeadershipChange = () -> { };
        private NodeListener listener;
        private PassObserver passObserver;
        private java.util.function.Consumer<Configuration> onConfiguration;
        private LongSupplier clock = System::nanoTime;
        private Executor snapshotWriters;
        private int spinsBeforePark;
        private ThreadFactory threads = Thread.ofVirtual().factory();
        private SnapshotPolicy snapshotPolicy = SnapshotPolicy.defaults();

        private Builder(RaftConfig config, Storage storage, StateMachine stateMachine) {
            this.config = Objects.requireNonNull(config, "config");
            this.storage = Objects.requireNonNull(storage, "storage");
            this.stateMachine = Objects.requireNonNull(stateMachine, "stateMachine");
        }

        /**
         * How the node joins the network (required): given the sink that takes the messages sent to it,
         * returns its transport, as {@code sink -> network.connect(id, sink)} does for the in-memory network.
         */
        public Builder transport(Function<MessageSink, Transport> connect) {
            this.connect = Objects.requireNonNull(connect, "transport");
            return this;
        }

        /** The length of one tick of the node's logical clock (default 5 ms). */
        public Builder tickInterval(Duration d) {
            Objects.requireNonNull(d, "tickInterval");
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("tickInterval must be positive, was " + d);
            this.tickInterval = d;
            return this;
        }

        /** Called on the node's thread whenever its role, term or leader changes (default: nothing); it must not block. */
        public Builder onLeadershipChange(Runnable r) {
            this.onLeadershipChange = Objects.requireNonNull(r, "onLeadershipChange");
            return this;
        }

        /**
         * Told, on the node's thread, whenever its role, term, leader or configuration changes, and when it
         * stops (default: nobody); see {@link NodeListener}.
         */
        public Builder listener(NodeListener l) {
            this.listener = Objects.requireNonNull(l, "listener");
            return this;
        }

        /**
         * Told, on the node's thread, of the configuration in force (the last in its log, committed or not)
         * whenever it changes, and first when the node handles its first ready batch: before any message is
         * sent under it. A transport that follows the members (their addresses being in the configuration's
         * contexts) is kept up to date this way. It must not block.
         */
        public Builder onConfiguration(java.util.function.Consumer<Configuration> c) {
            this.onConfiguration = Objects.requireNonNull(c, "onConfiguration");
            return this;
        }

        /**
         * Told, on the node's thread, where each pass of its loop spent its time (default: nobody, and passes
         * are not timed); see {@link PassObserver}.
         */
        public Builder passObserver(PassObserver o) {
            this.passObserver = Objects.requireNonNull(o, "passObserver");
            return this;
        }

        /**
         * How many times an idle node spins (yielding now and then) before it parks (default 0): a message that
         * comes meanwhile is taken without a wake-up, at the cost of CPU.
         */
        public Builder spinsBeforePark(int n) {
            if (n < 0) throw new IllegalArgumentException("spinsBeforePark must be >= 0, was " + n);
            this.spinsBeforePark = n;
            return this;
        }

        /**
         * Makes the node's thread, its ticker and its snapshot writers (default: virtual threads). Platform
         * threads suit a node alone in its process, which the OS wakes directly.
         */
        public Builder threads(ThreadFactory factory) {
            this.threads = Objects.requireNonNull(factory, "threads");
            return this;
        }

        /** When the node snapshots and how it streams snapshots (default {@link SnapshotPolicy#defaults()}). */
        public Builder snapshotPolicy(SnapshotPolicy policy) {
            this.snapshotPolicy = Objects.requireNonNull(policy, "snapshotPolicy");
            return this;
        }

        /** A simulation's clock instead of {@link System#nanoTime}. */
        Builder clock(LongSupplier c) {
            this.clock = Objects.requireNonNull(c, "clock");
            return this;
        }

        /** Where snapshots of a frozen state are written (default: a thread of {@link #threads}' each); a simulation's own. */
        Builder snapshotWriters(Executor e) {
            this.snapshotWriters = Objects.requireNonNull(e, "snapshotWriters");
            return this;
        }

        /**
         * Builds the node from what its storage holds (restoring the state machine from a stored snapshot) and
         * connects it; call {@link RaftNode#start()} to run it.
         *
         * @throws IllegalStateException if no transport was set
         */
        public RaftNode build() {
            if (connect == null) throw new IllegalStateException("a node needs a transport: call transport(...) before build()");
            RaftNode node = new RaftNode(config, storage, connect, stateMachine, tickInterval, onLeadershipChange,
                    spinsBeforePark, threads, clock, snapshotWriters != null ? snapshotWriters : writerThreads(threads, config.id()))
                    .snapshotPolicy(snapshotPolicy);
            node.listener = listener; // before the node's thread starts, which then sees it
            node.passObserver = passObserver;
            node.onConfiguration = onConfiguration;
            return node;
        }
    }
}
