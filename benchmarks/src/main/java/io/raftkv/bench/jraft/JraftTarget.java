package io.raftkv.bench.jraft;

import com.alipay.sofa.jraft.Node;
import com.alipay.sofa.jraft.RaftGroupService;
import com.alipay.sofa.jraft.Status;
import com.alipay.sofa.jraft.conf.Configuration;
import com.alipay.sofa.jraft.entity.PeerId;
import com.alipay.sofa.jraft.entity.Task;
import com.alipay.sofa.jraft.error.RaftError;
import com.alipay.sofa.jraft.error.RaftException;
import com.alipay.sofa.jraft.option.NodeOptions;
import com.alipay.sofa.jraft.option.RaftOptions;
import com.alipay.sofa.jraft.rpc.RaftRpcServerFactory;
import com.alipay.sofa.jraft.rpc.RpcServer;
import com.alipay.sofa.jraft.rpc.impl.BoltRpcServer;
import com.alipay.sofa.jraft.util.Endpoint;
import io.raftkv.bench.CommitTarget;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * A SOFAJRaft 1.4.1 group of N nodes in this JVM, each with its own RPC server on a loopback port, as a
 * {@link CommitTarget} to compare raftkv's commit latency and throughput with.
 *
 * <p>What is jraft's default and what is set here:
 * <ul>
 * <li>RPC: jraft's default, Bolt ({@code BoltRaftRpcFactory}), with the request processors and the
 *     Bolt options jraft's own {@code RaftRpcServerFactory.createRaftRpcServer} sets. The one difference:
 *     each server listens on 127.0.0.1 (Bolt's {@code RpcServer(ip, port, manageConnection)}) where the
 *     factory would listen on every interface. The ports are free ones the OS hands out (a probe bind to
 *     port 0); a server whose port was taken in between is retried on another.</li>
 * <li>Log: jraft's default, {@code RocksDBLogStorage}, in a temporary directory, with
 *     {@link RaftOptions#setSync} false: a log write goes to RocksDB (and its write-ahead log) in the
 *     page cache with no fsync, as raftkv's memory storage and MicroRaft keep nothing on disk at all.
 *     Raft meta (term, vote): jraft's {@code LocalRaftMetaStorage} in the same directory,
 *     {@link RaftOptions#setSyncMeta} false (already jraft's default, set here to say so).</li>
 * <li>Snapshots: off. No snapshot URI is given, and jraft then keeps no snapshot storage (its default
 *     would be one every 3,600 s, which no run of the benchmarks reaches). The log grows for the whole
 *     run: about 170 bytes an entry per node for a 128-byte value (64,000 entries made 10.7 MB of RocksDB
 *     write-ahead log per node), so some 1.4 GB in all for 60 s at 45,000 commits/s, deleted at close.</li>
 * <li>Election timeout: {@value #ELECTION_TIMEOUT_MS} ms (jraft's default 1,000 ms). A node waits a
 *     random time in [timeout, timeout + {@code maxElectionDelayMs}) before its first pre-vote, and
 *     {@code maxElectionDelayMs} is 1,000 ms by default (kept), so a group has a leader 0.5 to 1.5 s after
 *     it starts (0.65 to 0.95 s measured here once the classes are loaded) instead of 1 to 2 s (1.2 to
 *     2.2 s measured). The timeout also sets the leader's heartbeat interval (a tenth of it: 50 ms
 *     instead of 100) and how long it stays leader without hearing from a majority (90% of it). 300 ms
 *     elected sooner still, but in one of five one-client smoke runs on the shared 2-core machine a stall
 *     cost an election inside the measured window (a 614 ms commit); 500 ms doubles that margin. raftkv's
 *     own embedded clusters time out after 50 to 100 ms.</li>
 * <li>Everything else is jraft's default: pipelined replication ({@code replicatorPipeline}, 256
 *     requests in flight), batches of up to 32 tasks ({@code applyBatch}), 16,384-slot Disruptor
 *     queues, the non-blocking apply mode (a full queue answers EBUSY), {@code ReadOnlySafe} reads,
 *     no metrics, one timer pool per node.</li>
 * <li>JVM: no flags needed (JDK 25). Two system properties are set unless already set, before any of
 *     jraft's classes load: {@code com.google.protobuf.use_unsafe_pre22_gencode} and
 *     {@code sofa.middleware.log.internal.level=ERROR}, to keep two warnings off stderr (see the static
 *     initializer). JDK 24+ still warns once that Netty (Bolt's) uses {@code sun.misc.Unsafe} and loads a
 *     native library; {@code --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow}
 *     silences that.</li>
 * </ul>
 *
 * <p>A put is one entry: the key's length, the key and the value ({@link KvStateMachine#encode}),
 * applied with {@link Node#apply} on the leader's node in this JVM; the writer waits until the leader's
 * state machine has applied it. A put the leader refuses or drops (EPERM: not the leader, or it stepped
 * down with the put pending; EBUSY: a full queue or a leadership transfer) is retried on the leader
 * known then; a put that was dropped at a step-down may still have committed, and the retry puts the
 * same value again.
 *
 * <p>{@link #close} shuts every node down (the leader last) and waits for it, closes the RPC servers,
 * which frees their ports at once, and deletes the directory. Each Bolt server's boss thread ends about
 * 2 s later (Netty's graceful shutdown). What stays: the JVM-wide pools of Bolt and jraft, as they are
 * made to (Bolt's Netty server and client event loops and default executor, jraft's closure, group and
 * append-entries executors; daemon threads, reused by the next group), and one idle daemon thread per
 * node, Bolt's connection-event executor, which Bolt's shutdown never ends: a JVM that opens many groups
 * gathers them.
 */
public final class JraftTarget implements CommitTarget {
    /** The election timeout set here; jraft's default is 1,000 ms (see the class comment). */
    static final int ELECTION_TIMEOUT_MS = 500;

    private static final String GROUP = "raftkv-bench";
    private static final Duration LEADER_WAIT = Duration.ofSeconds(10);
    private static final Duration PUT_WAIT = Duration.ofSeconds(30);
    private static final long RETRY_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final int BIND_ATTEMPTS = 5;

    static {
        // jraft 1.4.1's message classes were generated by a protoc older than 3.21.7, and the protobuf runtime
        // here is raftkv's (4.x, for the gRPC front end), which warns once per message type that such code is
        // open to a denial of service by crafted input. Only these nodes talk to each other, on loopback.
        quietUnlessSet("com.google.protobuf.use_unsafe_pre22_gencode", "true");
        // Bolt's logging library reports on stderr that it finds no logging back end of its own (Bolt then
        // logs through SLF4J, which the benchmarks bind to slf4j-nop).
        quietUnlessSet("sofa.middleware.log.internal.level", "ERROR");
    }

    private static void quietUnlessSet(String property, String value) {
        if (System.getProperty(property) == null) {
            System.setProperty(property, value);
        }
    }

    /** One node: its RPC server, the service that runs it, the node and its state machine. */
    private record Member(PeerId peer, RpcServer server, RaftGroupService service, Node node, KvStateMachine fsm) {}

    private final Path dir;
    private final List<Member> members;
    private final Leaders leaders = new Leaders();
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Starts {@code nodes} jraft nodes with a {@value #ELECTION_TIMEOUT_MS} ms election timeout. */
    public JraftTarget(int nodes) {
        this(nodes, ELECTION_TIMEOUT_MS);
    }

    /** Starts {@code nodes} jraft nodes with the given election timeout, such as 1,000 ms (jraft's default). */
    public JraftTarget(int nodes, int electionTimeoutMs) {
        if (nodes < 1) {
            throw new IllegalArgumentException("a jraft group needs at least 1 node, got " + nodes);
        }
        try {
            dir = Files.createTempDirectory("raftkv-jraft-");
        } catch (IOException e) {
            throw new UncheckedIOException("could not make a directory for jraft's logs", e);
        }
        List<RpcServer> servers = new ArrayList<>();
        List<Member> started = new ArrayList<>();
        try {
            // Every server listens before any node starts, so the first votes reach everyone.
            for (int i = 0; i < nodes; i++) {
                servers.add(startServer());
            }
            Configuration conf = new Configuration();
            List<PeerId> peers = servers.stream()
                    .map(s -> new PeerId(new Endpoint("127.0.0.1", s.boundPort()), 0)).toList();
            peers.forEach(conf::addPeer);
            for (int i = 0; i < nodes; i++) {
                KvStateMachine fsm = new KvStateMachine(i, leaders);
                Path home = createDirectory(dir.resolve("node" + i)); // RocksDB makes only the last level
                RaftOptions raft = new RaftOptions();
                raft.setSync(false);
                raft.setSyncMeta(false);
                NodeOptions options = new NodeOptions();
                options.setElectionTimeoutMs(electionTimeoutMs);
                options.setRaftOptions(raft);
                options.setFsm(fsm);
                options.setLogUri(home.resolve("log").toString());
                options.setRaftMetaUri(home.resolve("meta").toString());
                options.setInitialConf(conf.copy());
                RaftGroupService service = new RaftGroupService(GROUP, peers.get(i), options, servers.get(i));
                // false: the server is already listening; shutdown() still closes it.
                Node node = service.start(false);
                started.add(new Member(peers.get(i), servers.get(i), service, node, fsm));
            }
        } catch (RuntimeException | Error e) {
            stop(started);
            servers.subList(started.size(), servers.size()).forEach(JraftTarget::closeQuietly);
            deleteQuietly(dir);
            throw e;
        }
        this.members = List.copyOf(started);
    }

    /** jraft's Bolt RPC server with jraft's request processors, listening on a free loopback port. */
    private static RpcServer startServer() {
        RuntimeException last = null;
        for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
            RpcServer server = new BoltRpcServer(
                    new com.alipay.remoting.rpc.RpcServer("127.0.0.1", freePort(), true));
            RaftRpcServerFactory.addRaftRequestProcessors(server);
            try {
                if (server.init(null)) {
                    return server;
                }
                last = new IllegalStateException("jraft's RPC server did not start on port " + server.boundPort());
            } catch (RuntimeException e) {
                last = e; // the port was taken between the probe and the bind: try another
            }
            closeQuietly(server);
        }
        throw new IllegalStateException("could not start a jraft RPC server on a free loopback port", last);
    }

    private static Path createDirectory(Path path) {
        try {
            return Files.createDirectories(path);
        } catch (IOException e) {
            throw new UncheckedIOException("could not make " + path, e);
        }
    }

    private static int freePort() {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }

    @Override
    public String name() {
        return "jraft";
    }

    @Override
    public Writer newWriter() {
        if (closed.get()) {
            throw new IllegalStateException("this jraft group is closed");
        }
        leaders.await(Leaders.deadline(LEADER_WAIT));
        return this::put;
    }

    private void put(String key, String value) {
        ByteBuffer data = KvStateMachine.encode(key, value);
        long deadline = Leaders.deadline(PUT_WAIT);
        int target = leaders.await(deadline);
        while (true) {
            Status status = apply(members.get(target), data.duplicate(), deadline, key);
            if (status.isOk()) {
                return;
            }
            RaftError error = status.getRaftError();
            if (error != RaftError.EPERM && error != RaftError.EBUSY) {
                throw new IllegalStateException("jraft node " + members.get(target).peer() + " failed a put of " + key
                        + ": " + status);
            }
            int next = leaders.await(deadline);
            if (next == target) {
                // This node still counts as the leader here (its step-down is not yet applied) or is
                // busy: give it a moment rather than spin on it.
                if (System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("jraft did not accept a put of " + key + " within " + PUT_WAIT
                            + ": " + status);
                }
                LockSupport.parkNanos(RETRY_PAUSE_NANOS);
            }
            target = next;
        }
    }

    /** Applies one put on {@code member}'s node and waits for its closure: OK once the state machine applied it. */
    private Status apply(Member member, ByteBuffer data, long deadline, String key) {
        CompletableFuture<Status> done = new CompletableFuture<>();
        try {
            member.node().apply(new Task(data, done::complete));
        } catch (IllegalStateException e) {
            throw new IllegalStateException("jraft node " + member.peer() + " is shutting down", e);
        }
        try {
            return done.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            RaftException fsmError = member.fsm().error();
            throw new IllegalStateException("jraft did not apply a put of " + key + " within " + PUT_WAIT
                    + (fsmError != null ? "; the node's state machine failed: " + fsmError : ""), e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("jraft's closure failed", e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for jraft to apply a put of " + key, e);
        }
    }

    /** The highest term any node has led or followed in, so a benchmark can count its elections. */
    public long term() {
        return leaders.highestTerm();
    }

    /** Every node's map as applied so far, in node order. */
    List<Map<String, String>> contents() {
        return members.stream().map(m -> m.fsm().contents()).toList();
    }

    /** The loopback ports the nodes' RPC servers listen on, in node order. */
    List<Integer> ports() {
        return members.stream().map(m -> m.peer().getPort()).toList();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                stop(members);
            } finally {
                deleteQuietly(dir);
            }
        }
    }

    /**
     * Shuts every node down (with its RPC server), the leader last, then waits for each to finish. A
     * leader that shuts down wakes its most up-to-date follower to elect itself at once (TimeoutNow);
     * a follower already shutting down fails that request, and Bolt serializes the failure with Hessian,
     * which on JDK 17+ logs that it cannot open java.lang's string builders. With the followers gone
     * first the request finds no one and nothing is logged.
     */
    private void stop(List<Member> members) {
        int leader = leaders.current();
        for (int i = 0; i < members.size(); i++) {
            if (i != leader) {
                members.get(i).service().shutdown();
            }
        }
        if (leader != Leaders.NONE && leader < members.size()) {
            members.get(leader).service().shutdown();
        }
        InterruptedException interrupted = null;
        for (Member member : members) {
            try {
                member.service().join();
            } catch (InterruptedException e) {
                interrupted = e;
            }
        }
        if (interrupted != null) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping jraft's nodes", interrupted);
        }
    }

    private static void closeQuietly(RpcServer server) {
        try {
            server.shutdown();
        } catch (RuntimeException ignored) {
            // it never started
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | UncheckedIOException ignored) {
            // a temporary directory; the OS cleans it up in the end
        }
    }
}
