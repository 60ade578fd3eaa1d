package io.raftkv.kv.net.internal;

import io.raftkv.kv.KvResponse;
import io.raftkv.kv.net.AdminAccess;
import io.raftkv.kv.net.MemberAddress;
import io.raftkv.kv.net.MemberList;
import io.raftkv.kv.net.MembershipOp;
import io.raftkv.kv.KvService;
import io.raftkv.node.NodeStatus;
import io.raftkv.node.NotLeaderException;
import io.raftkv.node.RaftNode;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Role;
import io.raftkv.transport.tcp.FrameBuffer;
import io.raftkv.transport.tcp.FrameException;
import io.raftkv.transport.tcp.FrameReader;
import io.raftkv.transport.tcp.HandshakeAnswer;
import io.raftkv.transport.tcp.InboundProtocol;
import io.raftkv.transport.tcp.Connection;
import io.raftkv.transport.tcp.TcpTransport;
import org.jctools.queues.atomic.MpscUnboundedAtomicArrayQueue;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;
import java.lang.System.Logger.Level;

/**
 * Serves key-value clients on a node's peer port ({@link TcpTransport#serveAlso}): each connection's
 * requests go to the node's {@link KvService}; a node that is not the leader answers with the leader's id,
 * and the client follows it.
 *
 * <p>A connection opens with the client magic, a version and the cluster id; the node answers accepted
 * (with its id) or refused (with the reason: a client of another protocol version is told both versions).
 * Requests may be pipelined: answers carry the request's correlation id and come in the order they are
 * ready. Answers are written by a thread of the connection's own, so a slow client never blocks the node
 * that answers it. At most
 * {@value #MAX_IN_FLIGHT} requests per connection are unanswered or unwritten at once: beyond that the
 * node stops reading from the connection (TCP then holds the client back), so a client that does not
 * read its answers cannot grow the node's memory. A client that closes its sending side still gets
 * every answer. At most {@value #MAX_CONNECTIONS} client connections per node; more are refused.
 *
 * <p>With {@link #servedBy(TcpTransport)} and a transport that polls ({@link TcpTransport#pollInbound()}),
 * an accepted connection is handed to the node's own thread instead: it reads the requests, hands them
 * to the service and writes the answers without blocking (whatever the socket does not take waits for
 * it to be writable), so a request and its answer wake no thread but the node's. The same bounds hold:
 * past {@value #MAX_IN_FLIGHT} unanswered requests, or {@value #MAX_UNWRITTEN_BYTES} bytes of answers
 * the client has not taken, the node stops reading the connection.
 */
public final class KvSocketServer implements InboundProtocol {
    private static final System.Logger LOG = System.getLogger(KvSocketServer.class.getName());
    static final int MAX_IN_FLIGHT = 4096;
    /** Bytes of answers a connection served by the node's thread may hold unwritten before the node stops reading it. */
    static final int MAX_UNWRITTEN_BYTES = 1 << 20;
    /** Client connections one node serves at once; more are refused with the reason. */
    static final int MAX_CONNECTIONS = 1024;
    private static final int HANDSHAKE_TIMEOUT_MILLIS = 2000;

    private final int nodeId;
    private final String clusterId;
    private final int maxFrameBytes;
    private final ThreadFactory threads;
    private final AtomicInteger connections = new AtomicInteger();
    private volatile KvService service;
    /** Why this server refuses key-value requests, if it serves a node that runs another application. */
    private volatile String refusal;
    private volatile Supplier<NodeStatus> status;
    private volatile RaftNode membership;
    private volatile Set<Integer> knownNodes = Set.of();
    private volatile AdminAccess adminAccess = AdminAccess.loopbackOnly();
    private final BackupServer backups;
    /** The addresses the node was started with: those of members whose configuration carries none. */
    private volatile Map<Integer, InetSocketAddress> knownAddresses = Map.of();
    /** The transport whose node's thread serves the connections, if it polls; else each has threads of its own. */
    private volatile TcpTransport servedBy;

    /** A server for node {@code nodeId} of {@code clusterId}; it answers "unavailable" until {@link #attach}. */
    public KvSocketServer(int nodeId, String clusterId, int maxFrameBytes) {
        this(nodeId, clusterId, maxFrameBytes, Thread.ofVirtual().factory());
    }

    /** As {@link #KvSocketServer(int, String, int)}, each connection's answer writer made by {@code threads}. */
    public KvSocketServer(int nodeId, String clusterId, int maxFrameBytes, ThreadFactory threads) {
        this.threads = Objects.requireNonNull(threads, "threads");
        this.nodeId = nodeId;
        this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
        this.maxFrameBytes = maxFrameBytes;
        this.backups = new BackupServer(nodeId, threads);
    }

    /** Starts answering with {@code service}, and status requests with {@code status}. */
    public void attach(KvService service, Supplier<NodeStatus> status) {
        this.status = Objects.requireNonNull(status, "status");
        this.service = Objects.requireNonNull(service, "service");
    }

    /**
     * Refuses every key-value request with {@code reason} (the node runs an application of its own), and
     * answers status requests with {@code status}.
     */
    public void refuseRequests(String reason, Supplier<NodeStatus> status) {
        this.refusal = Objects.requireNonNull(reason, "reason");
        this.status = Objects.requireNonNull(status, "status");
    }

    /**
     * Also serves membership requests (list, add a voter, remove, hand leadership over) through {@code node},
     * which must be the node this server answers for; only the nodes in {@code knownNodes} (those whose
     * addresses the node's transport has) can be added. Without it they are refused.
     */
    public void attachMembership(RaftNode node, Set<Integer> knownNodes) {
        this.knownNodes = Set.copyOf(knownNodes);
        this.membership = Objects.requireNonNull(node, "node");
    }

    /**
     * Who may make admin requests (every membership request but the list of members, and backups); until this is called,
     * clients on the node's own host only ({@link AdminAccess#loopbackOnly()}).
     */
    public void adminAccess(AdminAccess access) {
        this.adminAccess = Objects.requireNonNull(access, "access");
    }

    /**
     * As {@link #attachMembership(RaftNode, Set)}, the known nodes with their addresses: an
     * {@link MembershipOp#ADDRESSES} answer names them for members whose configuration entry carries none.
     * Nodes at other addresses are added with {@link MembershipOp#ADD_VOTER_AT}.
     */
    public void attachMembership(RaftNode node, Map<Integer, InetSocketAddress> known) {
        this.knownAddresses = Map.copyOf(known);
        attachMembership(node, known.keySet());
    }

    /**
     * Has the node's thread of {@code transport} (the one this server is served on, set to poll with
     * {@link TcpTransport#pollInbound()}) serve the accepted connections; a transport that does not poll
     * leaves them on threads of their own.
     *
     * @return this server
     */
    public KvSocketServer servedBy(TcpTransport transport) {
        this.servedBy = Objects.requireNonNull(transport, "transport");
        return this;
    }

    @Override
    public int magic() {
        return ClientFrames.MAGIC;
    }

    @Override
    public void serve(Connection conn, DataInputStream in) throws IOException {
        if (connections.incrementAndGet() > MAX_CONNECTIONS) {
            connections.decrementAndGet();
            refuseNow(conn, in, "it already serves " + MAX_CONNECTIONS + " client connections");
            return;
        }
        boolean handedOver = false;
        try {
            handedOver = serveConnection(conn, in);
        } finally {
            if (!handedOver) connections.decrementAndGet(); // else when the node's thread closes it
        }
    }

    private void refuseNow(Connection conn, DataInputStream in, String why) throws IOException {
        Socket socket = conn.socket();
        socket.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
        try {
            in.readUnsignedByte();
            in.readNBytes(in.readUnsignedByte()); // the rest of the client's handshake
        } catch (IOException e) {
            return;
        }
        refuse(new DataOutputStream(new BufferedOutputStream(conn.outputStream())), String.valueOf(socket.getRemoteSocketAddress()),
                why);
    }

    /** Serves the connection until it ends, or hands it to the node's thread: then returns true at once. */
    private boolean serveConnection(Connection conn, DataInputStream in) throws IOException {
        Socket socket = conn.socket();
        String remote = String.valueOf(socket.getRemoteSocketAddress());
        OutputStream buffered = new BufferedOutputStream(conn.outputStream(), 64 * 1024);
        if (!handshake(socket, in, new DataOutputStream(buffered), remote)) return false;
        TcpTransport t = servedBy;
        if (t != null && t.polling()) {
            t.adopt(conn, new PolledClient(conn, remote, t));
            return true;
        }
        Answers answers = new Answers(conn, buffered, remote);
        Thread writer = threads.newThread(answers::run);
        writer.setName("raftkv-kv-" + nodeId + "-out-" + remote);
        answers.writer = writer; // before it runs, so that no wake-up meant for it can miss it
        writer.start();
        try {
            FrameReader reader = new FrameReader(in, maxFrameBytes);
            while (true) {
                ByteBuffer raw;
                ClientFrames.ClientFrame frame;
                try {
                    raw = reader.readFrame();
                    if (raw == null) { // the client is done sending: answer what it asked, then close
                        answers.awaitAllAnswered();
                        return false;
                    }
                    frame = ClientFrames.decode(raw, maxFrameBytes);
                } catch (FrameException e) {
                    LOG.log(Level.WARNING, () -> "node " + nodeId + " closed a client connection from " + remote + ": "
                            + e.getMessage());
                    return false;
                } catch (EOFException e) {
                    return false;
                }
                // At most MAX_IN_FLIGHT requests of a connection are unanswered or unwritten at once: past
                // that the reader stops reading, and TCP holds the client back, so a client that never
                // reads its answers cannot fill the node's memory.
                try {
                    answers.room.acquire();
                } catch (InterruptedException e) { // the transport is closing: it interrupts its threads
                    return false;
                }
                if (!dispatch(frame, answers, remote, conn, false)) return false;
            }
        } finally {
            answers.stop();
            try {
                writer.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Hands one request to the service (or answers it), its answer to go to {@code answers}; false if the
     * connection must close. {@code adminOffThread}: run membership requests on a thread of their own, since
     * the caller is the node's thread and must not wait on the node. {@code from}: the client's connection
     * (its address, and the certificate it presented, if any), for {@link AdminAccess}.
     */
    private boolean dispatch(ClientFrames.ClientFrame frame, AnswerSink answers, String remote, Connection from,
                             boolean adminOffThread) {
        switch (frame) {
            case ClientFrames.Request r -> handle(r, answers);
            case ClientFrames.AdminRequest a -> {
                // Who the members are, and where, is anyone's to ask; changing them is an admin's.
                boolean open = a.op() == MembershipOp.MEMBERS || a.op() == MembershipOp.ADDRESSES;
                String refused = open ? null : refusal(a.token(), from);
                if (refused != null) {
                    LOG.log(Level.WARNING, () -> "node " + nodeId + " refused a " + a.op() + " request from " + remote
                            + ": " + refused);
                    answers.offer(new ClientFrames.Response(a.correlation(), new KvResponse.Refused(refused)));
                } else if (adminOffThread) {
                    threads.newThread(() -> admin(a, answers)).start();
                } else {
                    admin(a, answers);
                }
            }
            case ClientFrames.BackupRequest b -> {
                String refused = refusal(b.token(), from);
                if (refused != null) {
                    LOG.log(Level.WARNING, () -> "node " + nodeId + " refused a backup request from " + remote + ": " + refused);
                    answers.offer(new ClientFrames.Response(b.correlation(), new KvResponse.Refused(refused)));
                } else {
                    RaftNode node = membership;
                    if (node == null) {
                        answers.offer(new ClientFrames.Response(b.correlation(),
                                new KvResponse.Refused("node " + nodeId + " does not serve backups")));
                    } else if (adminOffThread) { // copying a chunk is no work for the node's thread
                        threads.newThread(() -> backups.serve(node, b, answers::offer)).start();
                    } else {
                        backups.serve(node, b, answers::offer);
                    }
                }
            }
            case ClientFrames.StatusRequest s -> {
                Supplier<NodeStatus> st = status;
                answers.offer(st == null
                        ? new ClientFrames.Response(s.correlation(), new KvResponse.Unavailable("node " + nodeId + " is starting"))
                        : new ClientFrames.StatusResponse(s.correlation(), st.get()));
            }
            default -> {
                LOG.log(Level.WARNING, () -> "node " + nodeId + " closed a client connection from " + remote
                        + ": a client sent a " + frame.getClass().getSimpleName() + ", which only nodes send");
                return false;
            }
        }
        return true;
    }

    /** Where a connection's answers go, from any thread. */
    private interface AnswerSink {
        void offer(ClientFrames.ClientFrame answer);
    }

    private void handle(ClientFrames.Request r, AnswerSink answers) {
        KvService s = service;
        String refused = refusal;
        if (refused != null) {
            answers.offer(new ClientFrames.Response(r.correlation(), new KvResponse.Refused(refused)));
            return;
        }
        if (s == null) {
            answers.offer(new ClientFrames.Response(r.correlation(), new KvResponse.Unavailable("node " + nodeId + " is starting")));
            return;
        }
        AtomicBoolean once = new AtomicBoolean();
        s.handle(r.request(), response -> {
            if (once.compareAndSet(false, true)) answers.offer(new ClientFrames.Response(r.correlation(), response));
        });
    }

    /** How long a learner may take to catch up before an addition gives up (it then stays a learner). */
    static final Duration CATCH_UP = Duration.ofSeconds(10);

    private void admin(ClientFrames.AdminRequest a, AnswerSink answers) {
        RaftNode node = membership;
        if (node == null) {
            answers.offer(new ClientFrames.Response(a.correlation(),
                    new KvResponse.Refused("node " + nodeId + " does not serve membership changes")));
            return;
        }
        if (a.op() == MembershipOp.ADDRESSES) {
            // Any node answers with what it has in force: enough to find the others, and the leader among them.
            answers.offer(new ClientFrames.Response(a.correlation(),
                    new KvResponse.Ok(MemberList.of(node.configuration(), knownAddresses).encode())));
            return;
        }
        if (a.op() == MembershipOp.ADD_VOTER_AT) {
            try {
                MemberAddress.parse(a.address());
            } catch (IllegalArgumentException e) {
                answers.offer(new ClientFrames.Response(a.correlation(), new KvResponse.Refused(e.getMessage())));
                return;
            }
        } else if (a.op() == MembershipOp.ADD_VOTER && !knownNodes.contains(a.node())) {
            // Removing or handing over to a member needs no address: the configuration has it.
            answers.offer(new ClientFrames.Response(a.correlation(), new KvResponse.Refused("node " + a.node()
                    + " is not among the nodes this cluster knows the addresses of " + new java.util.TreeSet<>(knownNodes))));
            return;
        }
        NodeStatus s = node.status();
        if (s.role() != Role.LEADER) {
            // Changes go through the leader, and so does the list, which is the leader's to know.
            answers.offer(new ClientFrames.Response(a.correlation(), new KvResponse.NotLeader(s.leader())));
            return;
        }
        CompletableFuture<Configuration> done = switch (a.op()) {
            case MEMBERS -> CompletableFuture.completedFuture(node.configuration());
            case ADD_VOTER -> node.addVoter(a.node(), CATCH_UP);
            case ADD_VOTER_AT -> node.addVoter(a.node(), a.address(), CATCH_UP);
            // Done once the committed configuration lacks it (a retry after a lost answer finds it so); while
            // only the configuration in force lacks it, the removal is not committed and the client asks again.
            case REMOVE -> node.removeMember(a.node());
            case TRANSFER -> {
                Configuration c = node.configuration();
                if (!c.isVoter(a.node())) {
                    yield CompletableFuture.failedFuture(new IllegalArgumentException("node " + a.node()
                            + " is not a voter of " + c + "; only a voter can lead"));
                }
                node.transferLeadership(a.node());
                yield CompletableFuture.completedFuture(c); // the client waits until the target leads
            }
            case ADDRESSES -> throw new AssertionError(); // answered above
        };
        done.whenComplete((c, e) -> {
            Throwable cause = e instanceof java.util.concurrent.CompletionException ce && ce.getCause() != null ? ce.getCause() : e;
            KvResponse r = switch (cause) {
                // Ids only, as before addresses were in the configuration: ADDRESSES gives those.
                case null -> new KvResponse.Ok(new Configuration(c.voters(), c.learners()).toString());
                case NotLeaderException nl -> new KvResponse.NotLeader(nl.leaderHint());
                case IllegalArgumentException iae -> new KvResponse.Refused(iae.getMessage());
                default -> new KvResponse.Unavailable(cause.getMessage() == null ? cause.toString() : cause.getMessage());
            };
            answers.offer(new ClientFrames.Response(a.correlation(), r));
        });
    }

    /** Why an admin request carrying {@code token} from {@code from} is refused, or null if it is taken. */
    private String refusal(String token, Connection from) {
        return adminAccess.refusal(nodeId, token, from.socket().getInetAddress(), from.peerCertificates() != null);
    }

    private boolean handshake(Socket socket, DataInputStream in, DataOutputStream out, String remote) throws IOException {
        socket.setSoTimeout(HANDSHAKE_TIMEOUT_MILLIS);
        String why;
        try {
            int version = in.readUnsignedByte();
            int n = in.readUnsignedByte();
            String theirs = new String(in.readNBytes(n), StandardCharsets.UTF_8);
            if (version != ClientFrames.PROTOCOL_VERSION) {
                why = versionMismatch(version);
            } else if (!theirs.equals(clusterId)) {
                why = "it is a client of cluster '" + theirs + "', and this node is in cluster '" + clusterId + "'";
            } else {
                why = null;
            }
        } catch (SocketTimeoutException | EOFException e) {
            LOG.log(Level.INFO, () -> "node " + nodeId + ": a client at " + remote + " sent no complete handshake");
            return false;
        }
        if (why != null) {
            refuse(out, remote, why);
            return false;
        }
        out.writeByte(HandshakeAnswer.ACCEPTED);
        out.writeInt(nodeId);
        out.flush();
        socket.setSoTimeout(0);
        return true;
    }

    /**
     * Why a client of another protocol version is refused, naming both versions and which side to upgrade:
     * a node serves one version, so that an older client never has a request it cannot express (a DELETE,
     * a CAS) misread, and learns at once what is wrong rather than at its first request.
     */
    static String versionMismatch(int clientVersion) {
        int ours = ClientFrames.PROTOCOL_VERSION;
        return "it speaks client protocol version " + clientVersion + ", and this node speaks only version " + ours
                + (clientVersion < ours ? ": the client is older than the node; upgrade the client (version 3 added the"
                        + " admin token, membership by address and backups, version 2 DELETE and CAS)"
                        : ": the client is newer than the node; upgrade the node, or use a client of the node's release");
    }

    private void refuse(DataOutputStream out, String remote, String why) throws IOException {
        LOG.log(Level.WARNING, () -> "node " + nodeId + " refused a client at " + remote + ": " + why);
        HandshakeAnswer.refuse(out, why);
    }

    /** The answers of one connection, written by its own thread in batches. */
    private final class Answers implements AnswerSink {
        final MpscUnboundedAtomicArrayQueue<ClientFrames.ClientFrame> queue = new MpscUnboundedAtomicArrayQueue<>(256);
        /** A permit per request read and not yet answered on the wire: given back once its answer is flushed. */
        final Semaphore room = new Semaphore(MAX_IN_FLIGHT);
        final AtomicBoolean idle = new AtomicBoolean();
        final Connection conn;
        final OutputStream out;
        final String remote;
        volatile Thread writer;
        volatile boolean stopped;

        Answers(Connection conn, OutputStream out, String remote) {
            this.conn = conn;
            this.out = out;
            this.remote = remote;
        }

        @Override
        public void offer(ClientFrames.ClientFrame f) {
            if (stopped) return;
            queue.offer(f);
            if (idle.get() && idle.compareAndSet(true, false)) {
                Thread w = writer;
                if (w != null) LockSupport.unpark(w);
            }
        }

        /** Waits (at most 5 s) until every request read so far has its answer flushed. */
        void awaitAllAnswered() {
            try {
                if (room.tryAcquire(MAX_IN_FLIGHT, 5, TimeUnit.SECONDS)) room.release(MAX_IN_FLIGHT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void stop() {
            stopped = true;
            Thread w = writer;
            if (w != null) LockSupport.unpark(w);
        }

        void run() {
            int unflushed = 0;
            try {
                while (!stopped) {
                    ClientFrames.ClientFrame f = queue.relaxedPoll();
                    if (f == null) {
                        out.flush();
                        room.release(unflushed);
                        unflushed = 0;
                        idle.set(true);
                        f = queue.relaxedPoll();
                        if (f == null) {
                            if (!stopped) LockSupport.park(this);
                            idle.set(false);
                            continue;
                        }
                        idle.set(false);
                    }
                    byte[] frame;
                    try {
                        frame = ClientFrames.encode(f, maxFrameBytes);
                    } catch (IllegalArgumentException e) {
                        // A value too large for one frame: say so instead of leaving the client waiting.
                        frame = ClientFrames.encode(new ClientFrames.Response(f.correlation(),
                                new KvResponse.Refused(e.getMessage())), maxFrameBytes);
                    }
                    out.write(frame);
                    unflushed++;
                }
            } catch (IOException e) {
                LOG.log(Level.DEBUG, () -> "node " + nodeId + ": writing to client " + remote + " failed", e);
                try {
                    conn.close(); // ends the reading side too
                } catch (IOException ignored) {
                    // It is unusable either way.
                }
            } finally {
                queue.clear();
                room.release(MAX_IN_FLIGHT); // a reader waiting for room must not wait on a writer that is gone
            }
        }
    }

    /** The frame of an answer, or of a refusal when the answer is too large for one frame. */
    private byte[] encodeAnswer(ClientFrames.ClientFrame f) {
        try {
            return ClientFrames.encode(f, maxFrameBytes);
        } catch (IllegalArgumentException e) {
            // A value too large for one frame: say so instead of leaving the client waiting.
            return ClientFrames.encode(new ClientFrames.Response(f.correlation(), new KvResponse.Refused(e.getMessage())),
                    maxFrameBytes);
        }
    }

    /**
     * A connection served by the node's thread ({@link TcpTransport.PolledConnection}): requests are read
     * when the socket is readable, answers queued from any thread and written by the node's thread, which
     * stops reading while too much is unanswered or unwritten.
     */
    private final class PolledClient implements TcpTransport.PolledConnection, AnswerSink {
        final Connection conn;
        final String remote;
        final TcpTransport transport;
        final MpscUnboundedAtomicArrayQueue<ClientFrames.ClientFrame> answers = new MpscUnboundedAtomicArrayQueue<>(256);
        /** Whether the transport has been asked to call {@link #flush()}. */
        final AtomicBoolean flushAsked = new AtomicBoolean();
        final AtomicBoolean closed = new AtomicBoolean();
        SelectionKey key;
        final FrameBuffer in = new FrameBuffer(maxFrameBytes, 16 * 1024);
        /** Answers encoded and not yet taken by the socket, between 0 and its position. */
        ByteBuffer out = ByteBuffer.allocate(16 * 1024);
        /** Requests read whose answers are not yet in {@code out}. */
        int unanswered;
        /** The client has closed its sending side: answer what it asked, then close. */
        boolean inputEnded;
        /** Whether the connection holds nothing of what was written to it (TLS may hold a record the socket did not take). */
        boolean flushed = true;

        PolledClient(Connection conn, String remote, TcpTransport transport) {
            this.conn = conn;
            this.remote = remote;
            this.transport = transport;
        }

        @Override
        public void registered(SelectionKey key) {
            this.key = key;
        }

        @Override
        public void offer(ClientFrames.ClientFrame answer) {
            if (closed.get()) return;
            answers.offer(answer);
            if (flushAsked.compareAndSet(false, true)) transport.flushSoon(this);
        }

        @Override
        public void ready(SelectionKey k) {
            try {
                if (k.isWritable()) write();
                if (!closed.get() && k.isValid() && (k.isReadable() || mayRead() && conn.hasBufferedInput())) read();
            } catch (RuntimeException e) {
                // This runs on the node's thread: the connection goes, the node carries on.
                LOG.log(Level.WARNING, "node " + nodeId + " closed a client connection from " + remote + " on an error", e);
                close();
            }
        }

        private void read() {
            int n;
            do { // again while the connection holds what the selector no longer reports (TLS), and there is room
                try {
                    n = in.readFrom(conn);
                } catch (IOException e) {
                    LOG.log(Level.DEBUG, () -> "node " + nodeId + ": reading from client " + remote + " failed", e);
                    close();
                    return;
                }
                try {
                    for (ByteBuffer raw; (raw = in.next()) != null; ) {
                        ClientFrames.ClientFrame frame = ClientFrames.decode(raw, maxFrameBytes);
                        unanswered++;
                        if (!dispatch(frame, this, remote, conn, true)) {
                            close();
                            return;
                        }
                    }
                } catch (FrameException e) {
                    LOG.log(Level.WARNING, () -> "node " + nodeId + " closed a client connection from " + remote + ": " + e.getMessage());
                    close();
                    return;
                }
            } while (n > 0 && mayRead() && conn.hasBufferedInput());
            if (n < 0) inputEnded = true; // a request cut short by the end is dropped, as the blocking reader drops it
            interest();
        }

        @Override
        public void flush() {
            flushAsked.set(false);
            if (closed.get()) return;
            for (ClientFrames.ClientFrame f; (f = answers.relaxedPoll()) != null; ) {
                byte[] frame = encodeAnswer(f);
                if (out.remaining() < frame.length) {
                    out = ByteBuffer.allocate((int) Math.max(out.position() + (long) frame.length, 2L * out.capacity()))
                            .put(out.flip());
                }
                out.put(frame);
                unanswered--;
            }
            write();
            // Reading stopped at the in-flight bound may go on now; what the connection holds already (TLS
            // records read with earlier ones) will never make the selector report the socket readable.
            if (!closed.get() && mayRead() && conn.hasBufferedInput()) read();
        }

        private void write() {
            if (closed.get()) return;
            out.flip();
            try {
                if (out.hasRemaining()) conn.write(out);
                flushed = conn.flush();
            } catch (IOException e) {
                LOG.log(Level.DEBUG, () -> "node " + nodeId + ": writing to client " + remote + " failed", e);
                close();
                return;
            } finally {
                out.compact();
            }
            interest();
        }

        /** Whether requests may be read: the client still sends, and neither the unanswered nor the unwritten is at its bound. */
        private boolean mayRead() {
            return !inputEnded && unanswered < MAX_IN_FLIGHT && out.position() < MAX_UNWRITTEN_BYTES;
        }

        /** Reads while there is room, writes while answers wait; closes once a client that stopped sending has them all. */
        private void interest() {
            if (closed.get() || key == null || !key.isValid()) return;
            if (inputEnded && unanswered == 0 && out.position() == 0 && flushed) {
                close();
                return;
            }
            int ops = 0;
            if (mayRead()) ops |= SelectionKey.OP_READ;
            if (out.position() > 0 || !flushed) ops |= SelectionKey.OP_WRITE;
            if (key.interestOps() != ops) key.interestOps(ops);
        }

        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) return;
            connections.decrementAndGet();
            SelectionKey k = key;
            if (k != null) k.cancel();
            try {
                conn.close();
            } catch (IOException ignored) {
                // It is unusable either way.
            }
            answers.clear();
        }
    }
}
