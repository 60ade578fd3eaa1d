package io.raftkv.cluster;

import io.raftkv.app.AppClient;
import io.raftkv.app.AppConnector;
import io.raftkv.app.AppSpec;
import io.raftkv.kv.KvClient;
import io.raftkv.kv.KvConnector;
import io.raftkv.kv.KvLimits;
import io.raftkv.kv.net.MemberAddress;
import io.raftkv.kv.KvRequest;
import io.raftkv.kv.KvResponse;
import io.raftkv.kv.KvService;
import io.raftkv.kv.KvStateMachine;
import io.raftkv.node.NodeListener;
import io.raftkv.node.PassObserver;
import io.raftkv.node.NodeReport;
import io.raftkv.node.NodeStatus;
import io.raftkv.node.NotLeaderException;
import io.raftkv.node.RaftNode;
import io.raftkv.node.Reply;
import io.raftkv.node.SnapshotPolicy;
import io.raftkv.node.SnapshotStats;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.ReadPolicy;
import io.raftkv.raft.Role;
import io.raftkv.storage.FileStorage;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.storage.Storage;
import io.raftkv.transport.InMemoryNetwork;
import io.raftkv.transport.TlsConfig;

import java.net.InetSocketAddress;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiFunction;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * A whole Raft cluster inside one JVM, running the key-value store or your own {@link AppSpec application}
 * ({@link Builder#app}): N nodes, each on its own virtual thread, joined
 * by an in-memory network that can partition, cut, drop and delay, or by TCP on loopback ports
 * ({@link Builder#transport}). Nodes can be killed (volatile state lost, storage kept) or stopped gracefully
 * ({@link #stop}), and restarted; in memory, nodes can be added and removed while the cluster runs (one at a time, through the log:
 * {@link #addNode()}, {@link #removeNode(int)}), and leadership handed over ({@link #transferLeadership(int)}).
 * Clients reach every live node; partitions cut the nodes off from each other, not from clients.
 */
public final class Cluster implements AutoCloseable {
    private final ClusterSettings config;
    /** Delivers the messages in memory mode; in TCP mode it only keeps the table of cut links, which the transports ask. */
    private final InMemoryNetwork network;
    private final ClusterWiring wiring;
    /** Node ids are never reused: a removed node's id stays retired. */
    static final int MAX_NODE_ID = 255;
    /** The nodes the cluster started with: the configuration every node assumes until its log says otherwise. */
    private final Set<Integer> initialVoters;
    /** The nodes that belong to the cluster now (running or killed), in id order; removed ones leave it. */
    private final Set<Integer> members = new ConcurrentSkipListSet<>();
    private int nextId;
    private final NodeTable nodes;
    private final LeaderWatch leadership = new LeaderWatch();
    private final List<AutoCloseable> clients = new ArrayList<>();
    private volatile boolean closed;

    private Cluster(ClusterSettings settings) {
        this.config = settings;
        this.network = new InMemoryNetwork(settings.seed());
        SplittableRandom seeds = new SplittableRandom(settings.seed());
        TreeSet<Integer> ids = new TreeSet<>();
        for (int i = 1; i <= settings.nodes(); i++) ids.add(i);
        this.initialVoters = Set.copyOf(ids);
        this.members.addAll(ids);
        this.nextId = settings.nodes() + 1;
        this.wiring = settings.transport() == ClusterTransport.TCP
                ? new TcpWiring(settings.nodes(), network, seeds, settings.platformThreads(), settings.tls())
                : new MemoryWiring(network);
        this.nodes = new NodeTable(settings, wiring, initialVoters, seeds, leadership::signal);
    }

    public static Builder builder() {
        return new Builder();
    }

    private void startAll() {
        for (int id : members) nodes.start(id);
        // Ask one node to campaign at once rather than wait an election timeout: a cluster is usable
        // within a few message round trips of start.
        nodes.node(members.iterator().next()).campaign();
    }

    // ---------------------------------------------------------------- observing

    /** The ids of the nodes in the cluster (running or killed), in order: 1 to N, then those added and not removed. */
    public List<Integer> nodeIds() {
        return List.copyOf(members);
    }

    /** The number of nodes in the cluster, voters and learners. */
    public int size() {
        return members.size();
    }

    /**
     * The configuration in force: the leader's, or with no leader, that of the live node whose log is
     * longest; voters and learners.
     */
    public Configuration configuration() {
        checkOpen();
        OptionalInt l = leader();
        if (l.isPresent()) {
            RaftNode n = nodes.node(l.getAsInt());
            if (n != null) return n.configuration();
        }
        Configuration best = Configuration.ofVoters(initialVoters);
        long longest = -1;
        for (int id : members) {
            RaftNode n = nodes.node(id);
            if (n != null && n.status().lastIndex() > longest) {
                longest = n.status().lastIndex();
                best = n.configuration();
            }
        }
        return best;
    }

    /** What node {@code id} last published: role, term, leader, commit and applied index, alive. */
    public NodeStatus status(int id) {
        checkNode(id);
        return statusOf(id);
    }

    private NodeStatus statusOf(int id) {
        return nodes.status(id);
    }

    /**
     * A report of node {@code id} taken on its thread (role, indexes, configurations, snapshots, and on a
     * leader each peer's replication); a node that is down gives the last it had, not alive.
     *
     * @throws IllegalStateException if a running node does not answer within the clients' deadline
     */
    public NodeReport report(int id) {
        checkNode(id);
        RaftNode n = nodes.node(id);
        if (n == null) {
            NodeStatus s = statusOf(id);
            return new NodeReport(id, false, Role.FOLLOWER, s.term(), 0, s.lastIndex(), s.commitIndex(), s.appliedIndex(),
                    configuration(), configuration(), new SnapshotStats(0, 0, 0, 0, 0), Map.of());
        }
        try {
            return n.report().get(config.clientDeadline().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("node " + id + " did not report within " + config.clientDeadline().toMillis() + " ms", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("node " + id + " could not report", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for node " + id + "'s report", e);
        }
    }

    /** Node {@code id}'s snapshots and log size as it last published them; empty while it is down. */
    public Optional<SnapshotStats> snapshotStats(int id) {
        checkNode(id);
        RaftNode n = nodes.node(id);
        return n == null ? Optional.empty() : Optional.of(n.snapshotStats());
    }

    /** Every member's status, in id order; a node removed while this runs may be in it, as it was listed. */
    public List<NodeStatus> statuses() {
        checkOpen();
        List<NodeStatus> out = new ArrayList<>();
        // Not status(id): it refuses a node that is no longer a member, and a removal may land between
        // listing the members and asking each (a nemesis test's sampler once failed so).
        for (int id : members) out.add(statusOf(id));
        return out;
    }

    /**
     * The current leader, if there is one that a majority of its configuration's voters recognises in
     * its term (a deposed leader that has not noticed yet does not count).
     */
    public OptionalInt leader() {
        checkOpen();
        for (int id : members) {
            NodeStatus s = statusOf(id); // as statuses(): a node removed meanwhile must not make this throw
            RaftNode n = nodes.node(id);
            if (!s.alive() || s.role() != Role.LEADER || n == null) continue;
            Set<Integer> voters = n.configuration().voters();
            int agree = 0;
            for (int other : voters) {
                if (!members.contains(other)) continue;
                NodeStatus o = statusOf(other);
                if (o.alive() && o.term() == s.term() && o.leader() == id) agree++;
            }
            if (agree > voters.size() / 2) return OptionalInt.of(id);
        }
        return OptionalInt.empty();
    }

    /** Waits until a leader recognised by a majority exists, and returns its id. */
    public int awaitLeader(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        return leadership.awaitLeader(timeout, this::leader, this::statuses);
    }

    /**
     * The in-memory network, for finer faults: drop, duplicate, delay, reorder, one-way cuts.
     *
     * @throws IllegalStateException if this cluster runs over TCP, where only partitions, isolation and heal apply
     */
    public InMemoryNetwork network() {
        checkOpen();
        if (wiring instanceof TcpWiring) {
            throw new IllegalStateException("this cluster runs over TCP: drop, delay, duplicate and reorder need the "
                    + "in-memory network (ClusterTransport.IN_MEMORY); partition, isolate and heal work in both");
        }
        return network;
    }

    /**
     * What the network looks like now, for a failure message: in TCP mode each node's links (connected,
     * queued messages, last failure) and counters; in memory, the network's counts.
     */
    public String describeNetwork() {
        return wiring.describe(members);
    }

    /** How the nodes talk to each other. */
    public ClusterTransport transport() {
        return config.transport();
    }

    /** Whether a message from node {@code from} to node {@code to} would pass: no partition, isolation or cut stops it. */
    public boolean linked(int from, int to) {
        checkNode(from);
        checkNode(to);
        return network.linked(from, to);
    }

    /**
     * Node {@code id}'s address in TCP mode, where a client in another process can reach it (with
     * {@link #clusterId()}); empty in memory.
     */
    public Optional<InetSocketAddress> address(int id) {
        checkNode(id);
        return wiring.address(id);
    }

    /** The cluster id the nodes' TCP handshakes carry; empty in memory. */
    public Optional<String> clusterId() {
        checkOpen();
        return wiring.clusterId();
    }

    // ---------------------------------------------------------------- clients

    /**
     * A new key-value client with the cluster's default deadline.
     *
     * @throws IllegalStateException if this cluster runs an application of its own: use {@link #newClient(AppSpec)}
     */
    public KvClient newClient() {
        return newClient(config.clientDeadline());
    }

    /** A new key-value client whose calls give up (with {@link io.raftkv.client.OutcomeUnknownException}) after {@code deadline}. */
    public KvClient newClient(Duration deadline) {
        checkOpen();
        Objects.requireNonNull(deadline, "deadline");
        if (config.app() != null) {
            throw new IllegalStateException("this cluster runs " + config.app() + ", not the key-value store: "
                    + "make its clients with newClient(spec)");
        }
        return track(new KvClient(wiring.clients(connector), config.limits(), deadline, config.attemptTimeout(deadline)));
    }

    /**
     * A new client of the application this cluster runs, with the cluster's default deadline. Clients reach
     * the nodes in this JVM directly, in both transports; the nodes talk to each other over the cluster's.
     *
     * @param spec the spec the cluster was built with ({@link Builder#app}), one equal to it, or another
     *             instance of the same named class
     * @throws IllegalArgumentException if this cluster runs another application, or the key-value store
     */
    public <C, Q, R> AppClient<C, Q, R> newClient(AppSpec<C, Q, R> spec) {
        return newClient(spec, config.clientDeadline());
    }

    /** As {@link #newClient(AppSpec)}, whose calls give up (with {@link io.raftkv.client.OutcomeUnknownException}) after {@code deadline}. */
    public <C, Q, R> AppClient<C, Q, R> newClient(AppSpec<C, Q, R> spec, Duration deadline) {
        checkOpen();
        Objects.requireNonNull(spec, "spec");
        Objects.requireNonNull(deadline, "deadline");
        AppSpec<?, ?, ?> app = config.app();
        boolean same = spec.equals(app) || (app != null && spec.getClass() == app.getClass()
                && !spec.getClass().isAnonymousClass() && !spec.getClass().isSynthetic());
        if (!same) {
            throw new IllegalArgumentException("this cluster runs " + config.runs() + ", not " + spec);
        }
        return track(new AppClient<>(spec, appConnector, deadline, config.attemptTimeout(deadline)));
    }

    /**
     * A new client of the application this cluster runs, named by its spec's class (as
     * {@code @RaftCluster(app = ...)} names it), with the cluster's default deadline.
     *
     * @throws IllegalArgumentException if this cluster's spec is not of that class
     */
    public <C, Q, R> AppClient<C, Q, R> newClient(Class<? extends AppSpec<C, Q, R>> specClass) {
        checkOpen();
        Objects.requireNonNull(specClass, "specClass");
        if (!specClass.isInstance(config.app())) {
            throw new IllegalArgumentException("this cluster runs " + config.runs() + ", not an application of "
                    + specClass.getName());
        }
        return newClient(specClass.cast(config.app()));
    }

    /** The application this cluster runs, if it runs one of its own rather than the key-value store. */
    public Optional<AppSpec<?, ?, ?>> app() {
        return Optional.ofNullable(config.app());
    }

    private <T extends AutoCloseable> T track(T client) {
        synchronized (clients) {
            clients.add(client);
        }
        return client;
    }

    /** An application's clients reach the nodes of this JVM as they are now; a node that is down says so. */
    private final AppConnector appConnector = new AppConnector() {
        @Override
        public List<Integer> nodes() {
            return nodeIds();
        }

        @Override
        public void propose(int node, byte[] entry, Reply reply) {
            RaftNode n = closed ? null : nodes.node(node);
            if (n == null) reply.unavailable("node " + node + " is down");
            else n.propose(entry, reply);
        }

        @Override
        public void read(int node, Object query, Reply reply) {
            RaftNode n = closed ? null : nodes.node(node);
            if (n == null) reply.unavailable("node " + node + " is down");
            else n.read(query, reply);
        }
    };

    private final KvConnector connector = new KvConnector() {
        @Override
        public List<Integer> nodes() {
            return nodeIds();
        }

        @Override
        public void send(int node, KvRequest request, Consumer<KvResponse> reply) {
            send(node, request, null, reply);
        }

        @Override
        public void send(int node, KvRequest request, byte[] command, Consumer<KvResponse> reply) {
            KvService s = nodes.service(node);
            if (closed || s == null) reply.accept(new KvResponse.Unavailable("node " + node + " is down"));
            else s.handle(request, command, reply);
        }

        @Override
        public boolean propose(int node, byte[] command, Consumer<KvResponse> reply) {
            KvService s = nodes.service(node);
            if (closed || s == null) reply.accept(new KvResponse.Unavailable("node " + node + " is down"));
            else s.propose(command, reply);
            return true;
        }
    };

    // ---------------------------------------------------------------- membership

    /** {@link #addNode(Duration)} with twice the clients' deadline as the time allowed. */
    public int addNode() {
        return addNode(config.clientDeadline().multipliedBy(2));
    }

    /**
     * Starts a new node (the next unused id) and makes it a voter the safe way: it joins as a learner,
     * catches up from the leader (by snapshot if the leader has compacted its log), and is promoted once
     * it keeps up. Returns its id once the promotion is committed.
     *
     * @throws IllegalStateException if it is not a voter within {@code timeout}; it then stays in the
     *                               cluster, as a learner or outside the configuration: remove it or retry
     */
    public int addNode(Duration timeout) {
        Objects.requireNonNull(timeout, "timeout");
        int id;
        synchronized (this) {
            checkOpen();
            if (nextId > MAX_NODE_ID) throw new IllegalStateException("node ids are used up (at most " + MAX_NODE_ID + ")");
            id = nextId++;
            members.add(id);
            nodes.start(id);
        }
        // Over TCP the configuration keeps where it listens, as a socket-mode node's does; in memory it has no address.
        String context = wiring.address(id).map(MemberAddress::format).orElse(null);
        retryAtLeader("add node " + id, timeout, (leader, left) -> leader.addVoter(id, context, left));
        return id;
    }

    /** {@link #removeNode(int, Duration)} with twice the clients' deadline as the time allowed. */
    public void removeNode(int id) {
        removeNode(id, config.clientDeadline().multipliedBy(2));
    }

    /**
     * Takes node {@code id} out of the configuration through the leader (a leader that removes itself
     * steps down once the change commits), then stops it and retires its id; its storage is closed.
     *
     * @throws IllegalArgumentException if it is the last voter
     * @throws IllegalStateException    if the removal is not committed within {@code timeout}; it may still
     *                                  commit later, and the node is left running: read {@link #configuration()}
     *                                  and call again, which finishes the job either way
     */
    public void removeNode(int id, Duration timeout) {
        checkNode(id);
        Objects.requireNonNull(timeout, "timeout");
        retryAtLeader("remove node " + id, timeout, (leader, left) -> leader.removeMember(id));
        synchronized (this) {
            if (nodes.node(id) != null) kill(id);
            members.remove(id);
            leadership.signal();
        }
    }

    /** {@link #transferLeadership(int, Duration)} with the clients' deadline as the time allowed. */
    public void transferLeadership(int id) {
        transferLeadership(id, config.clientDeadline());
    }

    /**
     * Hands leadership to voter {@code id} (thesis §3.10: the leader brings it up to date and tells it to
     * campaign at once) and waits until it leads.
     *
     * @throws IllegalArgumentException if {@code id} is not a voter
     * @throws IllegalStateException    if it does not lead within {@code timeout}
     */
    public void transferLeadership(int id, Duration timeout) {
        checkNode(id);
        Objects.requireNonNull(timeout, "timeout");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            int leader;
            try {
                leader = awaitLeader(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            } catch (NoLeaderException e) {
                throw new IllegalStateException("cannot hand leadership to node " + id + ": " + e.getMessage(), e);
            }
            if (leader == id) return;
            RaftNode n = nodes.node(leader);
            if (n != null && !n.configuration().isVoter(id)) {
                throw new IllegalArgumentException("node " + id + " is not a voter of " + n.configuration()
                        + "; only a voter can lead");
            }
            if (n != null) n.transferLeadership(id);
            // A transfer the target cannot take (it is down or cut off) is abandoned after an election timeout.
            long wait = Math.min(deadline - System.nanoTime(), config.tickInterval().toNanos() * config.electionTicks() * 2L);
            if (!awaitCondition(Duration.ofNanos(Math.max(1, wait)), () -> leader().orElse(0) == id)
                    && System.nanoTime() - deadline >= 0) {
                throw new IllegalStateException("node " + id + " did not take over leadership within "
                        + timeout.toMillis() + " ms; nodes: " + statuses());
            }
        }
    }

    /** Runs {@code change} at the leader until it completes, following leader changes, until {@code timeout}. */
    private void retryAtLeader(String what, Duration timeout,
                               BiFunction<RaftNode, Duration, CompletableFuture<Configuration>> change) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Throwable last = null;
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new IllegalStateException("could not " + what + " within " + timeout.toMillis() + " ms"
                        + (last == null ? "" : " (last: " + last + ")") + "; configuration " + configuration()
                        + ", nodes: " + statuses(), last);
            }
            RaftNode leader;
            try {
                leader = nodes.node(awaitLeader(Duration.ofNanos(left)));
            } catch (NoLeaderException e) {
                last = e;
                continue;
            }
            if (leader == null) continue;
            try {
                change.apply(leader, Duration.ofNanos(left)).get(left, TimeUnit.NANOSECONDS);
                return;
            } catch (ExecutionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof IllegalArgumentException iae) throw iae;
                // Not the leader any more, another change still under way, or a slow learner: try again,
                // after a tick if the same leader would only say the same.
                last = cause;
                if (!(cause instanceof NotLeaderException)) awaitCondition(config.tickInterval(), () -> false);
            } catch (TimeoutException e) {
                last = e;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while trying to " + what, e);
            }
        }
    }

    /** Waits until {@code condition} holds, checking on every leadership change and every tick; false on timeout. */
    private boolean awaitCondition(Duration timeout, BooleanSupplier condition) {
        return leadership.await(timeout, config.tickInterval(), condition);
    }

    // ---------------------------------------------------------------- faults

    /** Crashes node {@code id}: its thread stops and its volatile state is lost; its storage stays. */
    public synchronized void kill(int id) {
        checkNode(id);
        nodes.kill(id);
    }

    /**
     * Stops node {@code id} gracefully, as a node should be stopped for maintenance: if it leads, it first hands
     * leadership to the voter whose log is most up to date and waits, at most a few election timeouts, until
     * that one leads (so the others need not wait an election timeout for a leader); then it stops as
     * {@link #kill} does, its storage kept, and {@link #restart} starts it again.
     *
     * @throws IllegalStateException if it is down already
     */
    public void stop(int id) {
        RaftNode n;
        synchronized (this) {
            checkNode(id);
            n = nodes.node(id);
            if (n == null) throw new IllegalStateException("node " + id + " is already down");
        }
        // Not under the cluster's lock: the hand-over takes some round trips, and the cluster serves meanwhile.
        Duration handOver = config.tickInterval().multipliedBy(config.electionTicks() * 4L);
        try {
            n.handOverLeadership(handOver).get(handOver.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException | TimeoutException e) {
            // Not handed over in time: it stops all the same, and the others elect a leader as after a crash.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (nodes.node(id) == n) kill(id);
        }
    }

    /** Starts a killed (or failed) node again, reopening its storage. */
    public synchronized void restart(int id) {
        checkNode(id);
        nodes.restart(id);
    }

    /** Whether node {@code id} is running: started, not killed, and its thread has not died on an error. */
    public boolean isAlive(int id) {
        checkNode(id);
        RaftNode n = nodes.node(id);
        return n != null && !n.stopped();
    }

    /** Why node {@code id}'s thread died on its own, if it did. */
    public Optional<Throwable> failure(int id) {
        checkNode(id);
        RaftNode n = nodes.node(id);
        return n == null ? Optional.empty() : Optional.ofNullable(n.failure());
    }

    /** Splits the nodes into groups that cannot reach each other; nodes in no group form one more group. */
    @SafeVarargs
    public final void partition(Set<Integer>... groups) {
        checkOpen();
        List<Set<Integer>> all = new ArrayList<>(Arrays.asList(groups));
        for (Set<Integer> g : groups) for (int id : Objects.requireNonNull(g, "group")) checkNode(id);
        network.partition(all);
    }

    /** Cuts every link to and from node {@code id}. */
    public void isolate(int id) {
        checkNode(id);
        network.isolate(id);
    }

    /** Removes every partition, isolation and cut, and every drop, duplicate and delay setting. */
    public void heal() {
        checkOpen();
        network.heal();
    }

    // ---------------------------------------------------------------- lifecycle

    /** Stops every node and client; no thread is left behind. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        synchronized (clients) {
            for (AutoCloseable c : clients) {
                try {
                    c.close();
                } catch (Exception e) {
                    throw new IllegalStateException("could not close a client", e);
                }
            }
        }
        wiring.close();
        RuntimeException first = nodes.closeAll();
        network.close();
        leadership.signal();
        if (first != null) throw first;
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("this cluster is closed");
    }

    private void checkNode(int id) {
        checkOpen();
        if (!members.contains(id)) {
            throw new IllegalArgumentException("no node " + id + ": this cluster has nodes " + members);
        }
    }

    /** Sets a cluster up; every value is checked as it is set. */
    public static final class Builder {
        private int nodes = 3;
        private Duration tickInterval = Duration.ofMillis(5);
        private int electionTicks = 10;
        private int heartbeatTicks = 1;
        private ReadPolicy readPolicy = ReadPolicy.READ_INDEX;
        private int clockDriftTicks = RaftConfig.DEFAULT_CLOCK_DRIFT_TICKS;
        private long maxUncommittedBytes = RaftConfig.DEFAULT_MAX_UNCOMMITTED_BYTES;
        private long logCacheBytes = RaftConfig.DEFAULT_LOG_CACHE_BYTES;
        private long seed = System.nanoTime();
        private StorageFactory storage;
        private KvLimits limits = KvLimits.DEFAULT;
        private int maxSessions = KvStateMachine.DEFAULT_MAX_SESSIONS;
        private Duration clientDeadline = Duration.ofSeconds(5);
        private Duration clientAttemptTimeout = Duration.ofMillis(300);
        private int spinsBeforePark;
        private boolean platformThreads;
        private TlsConfig tls;
        private ClusterTransport transport = ClusterTransport.IN_MEMORY;
        private SnapshotPolicy snapshots = SnapshotPolicy.defaults();
        private AppSpec<?, ?, ?> app;
        private NodeListener listener;
        private PassObserver passObserver;

        private Builder() {}

        /**
         * Told where each pass of every node's loop spent its time, on that node's thread (default: nobody,
         * and passes are not timed): see {@link PassObserver}.
         */
        public Builder passObserver(PassObserver o) {
            this.passObserver = Objects.requireNonNull(o, "passObserver");
            return this;
        }

        /**
         * Told of every node's changes (role, term, leader, configuration; and its stop) as they happen, on
         * that node's thread: see {@link NodeListener}. Nodes added later and restarted ones tell it too.
         */
        public Builder listener(NodeListener l) {
            this.listener = Objects.requireNonNull(l, "listener");
            return this;
        }

        /**
         * Runs {@code spec}'s application on every node instead of the key-value store: each node makes its
         * own with {@link AppSpec#newApplication()} when it starts (and again when it restarts, rebuilding the
         * state from its snapshot and log). Its clients come from {@link Cluster#newClient(AppSpec)}.
         * {@link #maxSessions} bounds its client sessions; {@link #limits} does not apply.
         */
        public Builder app(AppSpec<?, ?, ?> spec) {
            this.app = Objects.requireNonNull(spec, "app");
            return this;
        }

        /**
         * When nodes snapshot their state and compact their logs, and how snapshots are streamed to
         * followers that need them (default {@link SnapshotPolicy#defaults()}: every 1 MiB of log, or the last snapshot's size if larger).
         */
        public Builder snapshots(SnapshotPolicy policy) {
            this.snapshots = Objects.requireNonNull(policy, "snapshots");
            return this;
        }

        /** How the nodes talk: in memory (default) or TCP on loopback ports, with clients over TCP too. */
        public Builder transport(ClusterTransport t) {
            this.transport = Objects.requireNonNull(t, "transport");
            return this;
        }

        /** How many nodes, 1 to 99 (default 3). */
        public Builder nodes(int n) {
            if (n < 1 || n > 99) throw new IllegalArgumentException("nodes must be between 1 and 99, was " + n);
            this.nodes = n;
            return this;
        }

        /** The length of one tick of the nodes' logical clock (default 5 ms). */
        public Builder tickInterval(Duration d) {
            Objects.requireNonNull(d, "tickInterval");
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("tickInterval must be positive, was " + d);
            this.tickInterval = d;
            return this;
        }

        /** Election timeout in ticks; each election waits a random [t, 2t) ticks (default 10). */
        public Builder electionTicks(int t) {
            if (t < 2) throw new IllegalArgumentException("electionTicks must be >= 2, was " + t);
            this.electionTicks = t;
            return this;
        }

        /** Ticks between a leader's heartbeats (default 1); must be below electionTicks. */
        public Builder heartbeatTicks(int t) {
            if (t < 1) throw new IllegalArgumentException("heartbeatTicks must be >= 1, was " + t);
            this.heartbeatTicks = t;
            return this;
        }

        /**
         * How the leader confirms a linearizable read (default {@link ReadPolicy#READ_INDEX}: a heartbeat round to
         * a majority per batch of reads). {@link ReadPolicy#LEASE} answers from the leader's lease, with no round,
         * and assumes the nodes' clocks drift apart by at most {@link #clockDriftTicks} ticks over an election
         * timeout. Reads go to whichever node the client asks: a follower serves one with the leader's read index.
         */
        public Builder readPolicy(ReadPolicy policy) {
            this.readPolicy = Objects.requireNonNull(policy, "readPolicy");
            return this;
        }

        /**
         * Under {@link ReadPolicy#LEASE}, the ticks a lease leaves out of the election timeout for the nodes'
         * clocks to drift apart (default {@value RaftConfig#DEFAULT_CLOCK_DRIFT_TICKS}, which the nodes of one
         * process, on one clock, need); must be below {@link #electionTicks}. Unused with ReadIndex.
         */
        public Builder clockDriftTicks(int t) {
            if (t < 1) throw new IllegalArgumentException("clockDriftTicks must be >= 1, was " + t);
            this.clockDriftTicks = t;
            return this;
        }

        /**
         * Bytes of entries a leader may hold uncommitted before it turns writes away until its followers catch up
         * (default 8 MiB): a client then gets "unavailable" with the reason, and {@code KvClient} backs off and retries.
         */
        public Builder maxUncommittedBytes(long n) {
            if (n < 1) throw new IllegalArgumentException("maxUncommittedBytes must be >= 1, was " + n);
            this.maxUncommittedBytes = n;
            return this;
        }

        /**
         * Bytes of applied, durable entries a node keeps on its heap when its store reads its log back by index, as
         * {@linkplain #storage(Path) file storage} does (default 4 MiB): older entries are read from the store when a
         * follower behind needs them, so the heap holds this much of the log whatever the snapshot interval. In-memory
         * stores hold the log on the heap anyway; there the snapshot policy bounds it.
         */
        public Builder logCacheBytes(long n) {
            if (n < 1) throw new IllegalArgumentException("logCacheBytes must be >= 1, was " + n);
            this.logCacheBytes = n;
            return this;
        }

        /** The seed of the election timeouts and the network's faults (default: from the clock). */
        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        /** Where each node keeps its hard state and log (default: in memory, kept across kill and restart). */
        public Builder storage(StorageFactory f) {
            this.storage = Objects.requireNonNull(f, "storage");
            return this;
        }

        /**
         * Keeps each node's log on disk, in {@code directory/node-<id>} ({@link FileStorage}, synced
         * before anything is acknowledged): kill and restart go through the disk, and a cluster closed
         * and started again on the same directory has its data.
         */
        public Builder storage(Path directory) {
            return storage(directory, FileStorage.Options.defaults());
        }

        /** As {@link #storage(Path)}, with the file store's options (segment size, whether to sync). */
        public Builder storage(Path directory, FileStorage.Options options) {
            Objects.requireNonNull(directory, "directory");
            Objects.requireNonNull(options, "options");
            if (Files.exists(directory) && !Files.isDirectory(directory)) {
                throw new IllegalArgumentException("storage directory " + directory + " exists and is not a directory");
            }
            this.storage = id -> FileStorage.open(directory.resolve("node-" + id), options);
            return this;
        }

        /** Key and value size limits (default {@link KvLimits#DEFAULT}). */
        public Builder limits(KvLimits l) {
            this.limits = Objects.requireNonNull(l, "limits");
            return this;
        }

        /** How many client sessions the state machine keeps before evicting the least recently used. */
        public Builder maxSessions(int n) {
            if (n < 1) throw new IllegalArgumentException("maxSessions must be >= 1, was " + n);
            this.maxSessions = n;
            return this;
        }

        /** How long a client call may take, retries included, before it throws (default 5 s). */
        public Builder clientDeadline(Duration d) {
            Objects.requireNonNull(d, "clientDeadline");
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("clientDeadline must be positive, was " + d);
            this.clientDeadline = d;
            return this;
        }

        /** How long a client waits on one node before trying another (default 300 ms). */
        public Builder clientAttemptTimeout(Duration d) {
            Objects.requireNonNull(d, "clientAttemptTimeout");
            if (d.isNegative() || d.isZero()) throw new IllegalArgumentException("clientAttemptTimeout must be positive, was " + d);
            this.clientAttemptTimeout = d;
            return this;
        }

        /**
         * How many times an idle node spins before it parks (default 0: park at once). Spinning
         * saves the wake-up of a parked thread on each message, lowering commit latency, at the cost
         * of CPU: worth it when the cluster has cores to itself, as in a latency benchmark.
         */
        public Builder spinsBeforePark(int n) {
            if (n < 0) throw new IllegalArgumentException("spinsBeforePark must be >= 0, was " + n);
            this.spinsBeforePark = n;
            return this;
        }

        /**
         * Runs each node (its loop, its ticker and, over TCP, its sockets and the clients' connection
         * readers) on platform threads instead of virtual ones (default false). Over TCP the node's own
         * thread then reads its peers' and clients' connections and writes its answers, waiting on a
         * selector, so a message wakes one thread, the node's: that is how {@code raftkv node} runs by
         * default. Each node then holds a few platform threads of its own.
         */
        public Builder platformThreads(boolean platform) {
            this.platformThreads = platform;
            return this;
        }

        /**
         * In TCP mode, runs every connection, the nodes' and the clients', under TLS with {@code config}
         * (its certificate serves every node and the clients, so it must have one); null (the default) runs
         * in clear. In memory there is nothing to protect, and it is refused.
         */
        public Builder tls(TlsConfig config) {
            if (config != null && !config.hasIdentity()) {
                throw new IllegalArgumentException("the cluster's TLS needs a certificate and key for its nodes; " + config
                        + " has none");
            }
            this.tls = config;
            return this;
        }

        /** Starts the nodes; one campaigns at once, so a leader follows within a few round trips. */
        public Cluster start() {
            if (heartbeatTicks >= electionTicks) {
                throw new IllegalArgumentException("heartbeatTicks (" + heartbeatTicks + ") must be below electionTicks ("
                        + electionTicks + ")");
            }
            if (readPolicy == ReadPolicy.LEASE && clockDriftTicks >= electionTicks) {
                throw new IllegalArgumentException("ReadPolicy.LEASE needs clockDriftTicks (" + clockDriftTicks
                        + ") below electionTicks (" + electionTicks + "): a lease lasts electionTicks - clockDriftTicks ticks");
            }
            if (tls != null && transport != ClusterTransport.TCP) {
                throw new IllegalArgumentException("TLS is for TCP mode (transport(ClusterTransport.TCP)); the nodes of an"
                        + " in-memory cluster exchange no bytes to protect");
            }
            StorageFactory stores = storage;
            if (stores == null) {
                // In memory, one store per node, kept across kill and restart (closing it empties nothing).
                Map<Integer, Storage> memory = new HashMap<>();
                stores = id -> memory.computeIfAbsent(id, k -> new MemoryStorage());
            }
            Cluster c = new Cluster(new ClusterSettings(nodes, tickInterval, electionTicks, heartbeatTicks, readPolicy, clockDriftTicks,
                    maxUncommittedBytes, logCacheBytes, seed, stores, limits, maxSessions, clientDeadline, clientAttemptTimeout,
                    spinsBeforePark, platformThreads, transport, snapshots, app, listener, passObserver, tls));
            try {
                c.startAll();
            } catch (RuntimeException e) {
                c.close();
                throw e;
            }
            return c;
        }
    }
}
