package io.raftkv.bench.microraft;

import io.microraft.Ordered;
import io.microraft.QueryPolicy;
import io.microraft.RaftConfig;
import io.microraft.RaftEndpoint;
import io.microraft.RaftNode;
import io.microraft.exception.CannotReplicateException;
import io.microraft.exception.NotLeaderException;
import io.microraft.exception.RaftException;
import io.microraft.executor.impl.DefaultRaftNodeExecutor;
import io.raftkv.bench.CommitTarget;
import io.raftkv.bench.microraft.KvStateMachine.Get;
import io.raftkv.bench.microraft.KvStateMachine.Put;
import io.raftkv.bench.microraft.KvStateMachine.ReadAll;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;

/**
 * A MicroRaft group of N nodes in this JVM, over an in-memory transport, as a {@link CommitTarget}
 * to compare raftkv's commit latency and throughput with.
 */
public final class MicroRaftTarget implements CommitTarget {
    /**
     * MicroRaft's defaults but for a 100 ms election timeout (default 1 s). Every node starts a
     * pre-vote the moment it starts, so the first round often splits the vote and the retry waits
     * the election timeout plus up to 100 ms of noise. A running leader is no less stable for it:
     * followers suspect a leader only after the heartbeat timeout, which stays at 10 s.
     */
    static final RaftConfig FAST_ELECTION = RaftConfig.newBuilder().setLeaderElectionTimeoutMillis(100).build();

    private static final Duration LEADER_WAIT = Duration.ofSeconds(10);
    private static final Duration STOP_WAIT = Duration.ofSeconds(10);
    private static final long RETRY_PAUSE_NANOS = TimeUnit.MICROSECONDS.toNanos(100);

    /** One node with the executor that runs it and that executor's only thread. */
    private record Member(RaftNode node, DefaultRaftNodeExecutor executor, Thread thread) {}

    private final List<Member> members;
    private final Map<RaftEndpoint, RaftNode> nodes;
    private final LeaderTracker leaders = new LeaderTracker();
    private final AtomicBoolean closed = new AtomicBoolean();
    /** How {@link #newReader()}'s reads are served: LINEARIZABLE (a heartbeat round) or LEADER_LEASE. */
    private volatile QueryPolicy queryPolicy = QueryPolicy.LINEARIZABLE;

    /** Starts {@code nodes} MicroRaft nodes with a short election timeout (see FAST_ELECTION). */
    public MicroRaftTarget(int nodes) {
        this(nodes, FAST_ELECTION);
    }

    /** Starts {@code nodes} MicroRaft nodes with the given configuration, such as RaftConfig.DEFAULT_RAFT_CONFIG. */
    public MicroRaftTarget(int nodes, RaftConfig config) {
        if (nodes < 1) {
            throw new IllegalArgumentException("a MicroRaft group needs at least 1 node, got " + nodes);
        }
        List<RaftEndpoint> endpoints = new ArrayList<>();
        for (int id = 1; id <= nodes; id++) {
            endpoints.add(new NodeEndpoint(id));
        }
        InMemoryTransport transport = new InMemoryTransport();
        List<Member> started = new ArrayList<>();
        try {
            for (RaftEndpoint endpoint : endpoints) {
                // MicroRaft's default executor, made here only so that stop() can end its thread.
                DefaultRaftNodeExecutor executor = new DefaultRaftNodeExecutor();
                RaftNode node = RaftNode.newBuilder()
                        .setGroupId("microraft-bench")
                        .setLocalEndpoint(endpoint)
                        .setInitialGroupMembers(endpoints)
                        .setConfig(config)
                        .setExecutor(executor)
                        .setTransport(transport)
                        .setStateMachine(new KvStateMachine())
                        .setRaftNodeReportListener(leaders)
                        .build();
                transport.register(node);
                started.add(new Member(node, executor, workerOf(executor)));
            }
            // Start only once every node is registered, so the first votes reach everyone.
            CompletableFuture.allOf(started.stream().map(m -> m.node().start()).toArray(CompletableFuture[]::new))
                    .join();
        } catch (RuntimeException e) {
            stop(started);
            throw e;
        }
        this.members = List.copyOf(started);
        this.nodes = members.stream().collect(Collectors.toUnmodifiableMap(
                m -> m.node().getLocalEndpoint(), Member::node));
    }

    @Override
    public String name() {
        return "microraft";
    }

    @Override
    public Writer newWriter() {
        if (closed.get()) {
            throw new IllegalStateException("this MicroRaft group is closed");
        }
        leaders.await(LeaderTracker.deadline(LEADER_WAIT));
        return this::put;
    }

    /**
     * Reads with {@code policy} from now on: {@link QueryPolicy#LINEARIZABLE} (the leader confirms its
     * leadership with a majority first) or {@link QueryPolicy#LEADER_LEASE} (the leader answers while its
     * lease lasts). EVENTUAL_CONSISTENCY reads any node's state and is not linearizable: refused.
     */
    public MicroRaftTarget queryPolicy(QueryPolicy policy) {
        if (policy == QueryPolicy.EVENTUAL_CONSISTENCY) {
            throw new IllegalArgumentException("EVENTUAL_CONSISTENCY is not linearizable; the benchmarks compare"
                    + " LINEARIZABLE and LEADER_LEASE only");
        }
        this.queryPolicy = policy;
        return this;
    }

    @Override
    public Reader newReader() {
        if (closed.get()) {
            throw new IllegalStateException("this MicroRaft group is closed");
        }
        leaders.await(LeaderTracker.deadline(LEADER_WAIT));
        QueryPolicy policy = queryPolicy;
        return key -> get(key, policy);
    }

    private String get(String key, QueryPolicy policy) {
        Get get = new Get(key);
        long deadline = LeaderTracker.deadline(LEADER_WAIT);
        RaftEndpoint target = leaders.await(deadline);
        while (true) {
            try {
                return nodes.get(target).<String>query(get, policy, Optional.empty(), Optional.empty()).join().getResult();
            } catch (CompletionException e) {
                Throwable cause = e.getCause();
                if (!(cause instanceof NotLeaderException) && !(cause instanceof CannotReplicateException)) {
                    throw new IllegalStateException("MicroRaft node " + target + " failed a read of " + key, cause);
                }
                RaftEndpoint known = ((RaftException) cause).getLeader();
                RaftEndpoint next = known != null ? known : leaders.await(deadline);
                if (next.equals(target)) {
                    if (System.nanoTime() - deadline > 0) {
                        throw new IllegalStateException(
                                "MicroRaft did not serve a read of " + key + " within " + LEADER_WAIT, cause);
                    }
                    LockSupport.parkNanos(RETRY_PAUSE_NANOS);
                }
                target = next;
            }
        }
    }

    private void put(String key, String value) {
        Put put = new Put(key, value);
        long deadline = LeaderTracker.deadline(LEADER_WAIT);
        RaftEndpoint target = leaders.await(deadline);
        while (true) {
            try {
                nodes.get(target).replicate(put).join();
                return;
            } catch (CompletionException e) {
                Throwable cause = e.getCause();
                if (!(cause instanceof NotLeaderException) && !(cause instanceof CannotReplicateException)) {
                    throw new IllegalStateException("MicroRaft node " + target + " failed a put of " + key, cause);
                }
                // Both refusals name the leader the node knows of, if any; without one, an election is on.
                RaftEndpoint known = ((RaftException) cause).getLeader();
                RaftEndpoint next = known != null ? known : leaders.await(deadline);
                if (next.equals(target)) {
                    // The leader itself refused (too many uncommitted entries, or a leadership
                    // transfer): give it a moment rather than spin on it.
                    if (System.nanoTime() - deadline > 0) {
                        throw new IllegalStateException(
                                "MicroRaft did not accept a put of " + key + " within " + LEADER_WAIT, cause);
                    }
                    LockSupport.parkNanos(RETRY_PAUSE_NANOS);
                }
                target = next;
            }
        }
    }

    /**
     * Every node's map, in node order, each read on that node's thread once it has applied all that
     * the leader had committed when this was called; fails if a node takes longer than {@code timeout}.
     */
    List<Map<String, String>> contents(Duration timeout) {
        RaftNode leader = nodes.get(leaders.await(LeaderTracker.deadline(timeout)));
        long committed = leader.getReport().join().getResult().getLog().getCommitIndex();
        // A query with a minimum commit index waits on the node itself, so nothing here polls; all are
        // sent before any is awaited, so the nodes wait in parallel.
        List<CompletableFuture<Ordered<Map<String, String>>>> reads = members.stream()
                .map(m -> m.node().<Map<String, String>>query(ReadAll.INSTANCE, QueryPolicy.EVENTUAL_CONSISTENCY,
                        Optional.of(committed), Optional.of(timeout)))
                .toList();
        return reads.stream().map(read -> read.join().getResult()).toList();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            stop(members);
        }
    }

    private static void stop(List<Member> members) {
        CompletableFuture.allOf(members.stream().map(m -> m.node().terminate()).toArray(CompletableFuture[]::new))
                .join();
        // terminate() only shuts the executor down, and a ScheduledThreadPoolExecutor still runs its
        // delayed tasks after shutdown: the node's thread would live on for up to the 10 s report
        // period. shutdownNow drops them, so the thread ends now.
        members.forEach(m -> m.executor().getExecutor().shutdownNow());
        for (Member member : members) {
            try {
                member.thread().join(STOP_WAIT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while stopping MicroRaft's node threads", e);
            }
            if (member.thread().isAlive()) {
                throw new IllegalStateException(
                        "MicroRaft thread " + member.thread().getName() + " did not stop within " + STOP_WAIT);
            }
        }
    }

    /** The one thread of a MicroRaft default executor, which it starts on its first task. */
    private static Thread workerOf(DefaultRaftNodeExecutor executor) {
        Callable<Thread> current = Thread::currentThread;
        try {
            return executor.getExecutor().submit(current).get();
        } catch (ExecutionException e) {
            throw new IllegalStateException("MicroRaft's executor could not run a task", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting a MicroRaft node", e);
        }
    }
}
