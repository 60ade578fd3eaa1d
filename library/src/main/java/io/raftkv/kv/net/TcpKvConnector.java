package io.raftkv.kv.net;

import io.raftkv.kv.KvConnector;
import io.raftkv.kv.KvException;
import io.raftkv.client.OutcomeUnknownException;
import io.raftkv.kv.KvRequest;
import io.raftkv.kv.KvResponse;
import io.raftkv.kv.net.internal.ClientFrames;
import io.raftkv.node.NodeStatus;
import io.raftkv.transport.TlsConfig;
import io.raftkv.transport.tcp.FrameCodec;
import io.raftkv.transport.tcp.FrameException;
import io.raftkv.transport.tcp.FrameReader;
import io.raftkv.transport.tcp.HandshakeAnswer;
import org.jctools.queues.atomic.MpscUnboundedAtomicArrayQueue;

import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import java.lang.System.Logger.Level;

/**
 * Reaches the nodes of a cluster over TCP, on the same addresses the nodes use between themselves: what
 * a {@link io.raftkv.kv.KvClient} in another process (or on another host) uses.
 *
 * <p>One connection per node, dialled when first needed and again after it fails, on a thread of its own
 * (a caller never waits on a connect; its request goes out once the connection is up); requests from any
 * number of clients share it, told apart by correlation ids. A node that cannot be reached answers
 * {@link KvResponse.Unavailable} with the reason, so the client moves on to the next node; a node that
 * failed is dialled again at most every {@value #REDIAL_MILLIS} ms. A node that refuses the handshake
 * (another cluster) answers {@link KvResponse.Refused}: that is final. One reader thread per connection.
 *
 * <p>A connector made by {@link #discover}, or told to {@link #followMembership()}, keeps its node list on the
 * cluster's membership: when a client finds no leader among the nodes it knows, or
 * a node names a leader it does not know, the connector asks a node for the members and their addresses
 * ({@link MembershipOp#ADDRESSES}, in the background, at most every {@value #REFRESH_MILLIS} ms) and takes them
 * as its nodes. So a connector made from one seed address ({@link #discover}) keeps working as members come and go.
 */
public final class TcpKvConnector implements KvConnector, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(TcpKvConnector.class.getName());
    static final long REDIAL_MILLIS = 50;
    private static final int CONNECT_TIMEOUT_MILLIS = 1000;
    /** Beyond this many unanswered requests on one connection it is reset, failing them: nothing piles up forever. */
    static final int MAX_PENDING = 65536;

    /** How often, at most, the node list is asked for again. */
    static final long REFRESH_MILLIS = 200;

    /** The nodes, in id order, and their connections; both replaced together (under {@link #refreshLock}) by a refresh. */
    private volatile List<Integer> ids;
    private volatile Map<Integer, Channel> channels;
    private final Object refreshLock = new Object();
    private final AtomicBoolean refreshing = new AtomicBoolean();
    /** Whether the node list follows the members; off for a connector given fixed addresses until told otherwise. */
    private volatile boolean following;
    private volatile long lastRefreshNanos = System.nanoTime() - TimeUnit.MILLISECONDS.toNanos(REFRESH_MILLIS);
    private final String clusterId;
    private final int maxFrameBytes;
    private final ThreadFactory threads;
    private final AtomicLong correlations = new AtomicLong();
    private volatile boolean closed;
    /** What admin requests present: the cluster's admin token, or null for none. */
    private volatile String adminToken;
    /** TLS for every connection, or null: in clear. */
    private volatile TlsConfig tls;

    /** A connector to the nodes at {@code addresses} (node id to its address) of cluster {@code clusterId}. */
    public TcpKvConnector(Map<Integer, InetSocketAddress> addresses, String clusterId) {
        this(addresses, clusterId, Thread.ofVirtual().factory());
    }

    /** As {@link #TcpKvConnector(Map, String)}, each connection's reader made by {@code threads}. */
    public TcpKvConnector(Map<Integer, InetSocketAddress> addresses, String clusterId, ThreadFactory threads) {
        Objects.requireNonNull(addresses, "addresses");
        this.threads = Objects.requireNonNull(threads, "threads");
        if (addresses.isEmpty()) throw new IllegalArgumentException("name at least one node's address");
        this.clusterId = Objects.requireNonNull(clusterId, "clusterId");
        this.maxFrameBytes = FrameCodec.DEFAULT_MAX_FRAME_BYTES;
        TreeMap<Integer, Channel> cs = new TreeMap<>();
        for (var e : new TreeMap<>(addresses).entrySet()) cs.put(e.getKey(), new Channel(e.getKey(), e.getValue()));
        this.channels = Collections.unmodifiableMap(cs);
        this.ids = List.copyOf(cs.keySet());
    }

    /**
     * A connector to the cluster that one of {@code seeds} belongs to: it asks them in turn for the members and
     * their addresses, and connects to those.
     *
     * @throws KvException if no seed answered within {@code timeout}, with what each said
     */
    public static TcpKvConnector discover(List<InetSocketAddress> seeds, String clusterId, Duration timeout) {
        return discover(seeds, clusterId, timeout, null);
    }

    /**
     * As {@link #discover(List, String, Duration)}, over TLS ({@link #tls}) if {@code tls} is not null.
     *
     * @throws KvException if no seed answered within {@code timeout}, with what each said
     */
    public static TcpKvConnector discover(List<InetSocketAddress> seeds, String clusterId, Duration timeout, TlsConfig tls) {
        MemberList members = members(seeds, clusterId, timeout, tls);
        if (members.addresses().isEmpty()) throw new KvException("the seeds " + seeds + " know no member's address");
        return new TcpKvConnector(members.addresses(), clusterId).tls(tls).followMembership();
    }

    /**
     * Has the node list follow the cluster's members from now on (see the class comment): for nodes whose
     * addresses, as the members know them, are the ones this connector should dial.
     *
     * @return this connector
     */
    public TcpKvConnector followMembership() {
        following = true;
        return this;
    }

    /**
     * The members, with their addresses, that one of {@code seeds} (any node of the cluster) has in force, asking
     * them in turn until one answers.
     *
     * @throws KvException if none answered within {@code timeout}, with what each said
     */
    public static MemberList members(List<InetSocketAddress> seeds, String clusterId, Duration timeout) {
        return members(seeds, clusterId, timeout, null);
    }

    /**
     * As {@link #members(List, String, Duration)}, over TLS ({@link #tls}) if {@code tls} is not null.
     *
     * @throws KvException if none answered within {@code timeout}, with what each said
     */
    public static MemberList members(List<InetSocketAddress> seeds, String clusterId, Duration timeout, TlsConfig tls) {
        if (seeds.isEmpty()) throw new IllegalArgumentException("name at least one seed address");
        long deadline = System.nanoTime() + timeout.toNanos();
        StringBuilder failures = new StringBuilder();
        do {
            for (InetSocketAddress seed : seeds) {
                // Node id 0: whichever node listens there.
                try (TcpKvConnector probe = new TcpKvConnector(Map.of(0, seed), clusterId).tls(tls)) {
                    Object a = probe.ask(0, MembershipOp.ADDRESSES, Duration.ofNanos(Math.max(1, Math.min(
                            deadline - System.nanoTime(), TimeUnit.SECONDS.toNanos(1)))));
                    if (a instanceof KvResponse.Ok ok && ok.value() instanceof String text) return MemberList.parse(text);
                    if (a instanceof KvResponse.Refused r) throw new KvException(seed + " refused: " + r.reason());
                    failures.append(failures.isEmpty() ? "" : "; ").append(seed).append(": ").append(a);
                }
            }
            pause(deadline);
        } while (System.nanoTime() - deadline < 0);
        throw new KvException("no seed told the members within " + timeout.toMillis() + " ms (" + failures + ")");
    }

    /** Sends one admin request for {@code op} to {@code node} and waits for its answer, or a description of why none came. */
    private Object ask(int node, MembershipOp op, Duration timeout) {
        Channel c = channels.get(node);
        if (c == null) return new KvResponse.Unavailable("no node " + node + " among " + ids);
        CompletableFuture<Object> answer = new CompletableFuture<>();
        c.send(new ClientFrames.AdminRequest(correlations.incrementAndGet(), op, 0), answer::complete);
        try {
            return answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return "no answer within " + timeout.toMillis() + " ms";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } catch (ExecutionException e) {
            return String.valueOf(e.getCause());
        }
    }

    /**
     * Has every admin request ({@link #membership}) present {@code token}, the cluster's admin token (see
     * {@link AdminAccess}); null presents none.
     *
     * @return this connector
     */
    public TcpKvConnector adminToken(String token) {
        this.adminToken = token;
        return this;
    }

    /**
     * Runs every connection from now on under TLS with {@code tls}: the nodes' certificates are checked
     * against its trusted ones, and its certificate, if it has one, is presented (one the nodes trust makes
     * this client an administrator, see {@link AdminAccess}). Null: in clear. Set it before the first request.
     *
     * @return this connector
     */
    public TcpKvConnector tls(TlsConfig tls) {
        this.tls = tls;
        return this;
    }

    @Override
    public List<Integer> nodes() {
        // A client asks again after a round that found no leader: the members may have changed meanwhile.
        refreshSoon();
        return ids;
    }

    /** Asks for the members again, in the background, unless a refresh is under way or one was done just now. */
    private void refreshSoon() {
        if (!following || closed || System.nanoTime() - lastRefreshNanos < TimeUnit.MILLISECONDS.toNanos(REFRESH_MILLIS)) return;
        if (!refreshing.compareAndSet(false, true)) return;
        lastRefreshNanos = System.nanoTime();
        threads.newThread(() -> {
            try {
                refresh();
            } finally {
                lastRefreshNanos = System.nanoTime();
                refreshing.set(false);
            }
        }).start();
    }

    /** Asks the known nodes in turn for the members, and takes the first answer as the node list. */
    private void refresh() {
        for (int node : ids) {
            if (closed) return;
            Object a = ask(node, MembershipOp.ADDRESSES, Duration.ofSeconds(1));
            if (!(a instanceof KvResponse.Ok ok && ok.value() instanceof String text)) continue;
            MemberList members;
            try {
                members = MemberList.parse(text);
            } catch (IllegalArgumentException e) {
                LOG.log(Level.WARNING, () -> "node " + node + " answered the members with " + text + ": " + e.getMessage());
                continue;
            }
            if (!members.addresses().isEmpty()) follow(members.addresses());
            return;
        }
    }

    /**
     * Adds node {@code id} at {@code address} to the node list, or moves it there: for whoever starts a node and
     * knows its address before the members say so.
     */
    public void setNode(int id, InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        synchronized (refreshLock) {
            Map<Integer, InetSocketAddress> next = new TreeMap<>();
            for (Channel c : channels.values()) next.put(c.node, c.address);
            next.put(id, address);
            follow(next);
        }
    }

    /** Makes {@code addresses} the node list: connections to new nodes (or new addresses) made, to departed ones closed. */
    private void follow(Map<Integer, InetSocketAddress> addresses) {
        List<Channel> gone = new ArrayList<>();
        synchronized (refreshLock) {
            if (closed) return;
            TreeMap<Integer, Channel> next = new TreeMap<>();
            for (var e : addresses.entrySet()) {
                Channel c = channels.get(e.getKey());
                next.put(e.getKey(), c != null && c.address.equals(e.getValue()) ? c : new Channel(e.getKey(), e.getValue()));
            }
            for (Channel c : channels.values()) if (next.get(c.node) != c) gone.add(c);
            if (gone.isEmpty() && next.keySet().equals(channels.keySet())) return;
            channels = Collections.unmodifiableMap(next);
            ids = List.copyOf(next.keySet());
        }
        LOG.log(Level.DEBUG, () -> "the cluster's nodes are now " + addresses);
        for (Channel c : gone) {
            c.lock.lock();
            try {
                c.reset(null, "node " + c.node + " at " + c.address + " is no longer a member");
            } finally {
                c.lock.unlock();
            }
        }
    }

    @Override
    public void send(int node, KvRequest request, Consumer<KvResponse> reply) {
        Channel c = channels.get(node);
        if (c == null) {
            refreshSoon(); // a leader this connector does not know yet
            reply.accept(new KvResponse.Unavailable("no node " + node + " among " + ids));
            return;
        }
        c.send(new ClientFrames.Request(correlations.incrementAndGet(), request),
                answer -> reply.accept(answer instanceof KvResponse r ? r
                        : new KvResponse.Unavailable("node " + node + " answered a request with " + answer)));
    }

    /**
     * What node {@code node} says about itself: role, term, leader, indexes.
     *
     * @throws KvException if it cannot be reached or does not answer within {@code timeout}
     */
    public NodeStatus status(int node, Duration timeout) {
        Channel c = channels.get(node);
        if (c == null) throw new IllegalArgumentException("no node " + node + " among " + ids);
        CompletableFuture<Object> answer = new CompletableFuture<>();
        c.send(new ClientFrames.StatusRequest(correlations.incrementAndGet()), answer::complete);
        Object a;
        try {
            a = answer.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new KvException("node " + node + " at " + c.address + " did not answer within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KvException("interrupted while asking node " + node + " for its status");
        } catch (ExecutionException e) {
            throw new KvException("asking node " + node + " for its status failed: " + e.getCause());
        }
        return switch (a) {
            case NodeStatus s -> s;
            case KvResponse.Unavailable u -> throw new KvException(u.reason());
            case KvResponse.Refused r -> throw new KvException(r.reason());
            default -> throw new KvException("node " + node + " answered a status request with " + a);
        };
    }

    /**
     * Asks the leader for a membership operation on {@code node} (ignored for {@link MembershipOp#MEMBERS}),
     * following redirects, and returns the configuration afterwards as text. {@link MembershipOp#TRANSFER}
     * returns once {@code node} leads.
     *
     * @throws OutcomeUnknownException if no leader confirmed it within {@code timeout} (a change may still
     *                                 happen: read the members before trying again)
     * @throws KvException             if the leader refused it (not a member, the last voter, ...), or a node did:
     *                                 it needs the admin token ({@link #adminToken}) and got none or another
     */
    public String membership(MembershipOp op, int node, Duration timeout) {
        if (op == MembershipOp.ADD_VOTER_AT) throw new IllegalArgumentException("ADD_VOTER_AT needs an address: addVoterAt");
        return membership(op, node, null, timeout);
    }

    /**
     * Asks the leader to make node {@code node} a voter at {@code address} (a learner first, promoted once it has
     * caught up), as {@link #membership}: every member learns the address from the configuration entry.
     */
    public String addVoterAt(int node, InetSocketAddress address, Duration timeout) {
        return membership(MembershipOp.ADD_VOTER_AT, node, MemberAddress.format(address), timeout);
    }

    private String membership(MembershipOp op, int node, String address, Duration timeout) {
        Objects.requireNonNull(op, "op");
        long deadline = System.nanoTime() + timeout.toNanos();
        String configuration = fromLeader(corr -> new ClientFrames.AdminRequest(corr, op, node, address, adminToken), deadline,
                (from, a) -> a instanceof KvResponse.Ok ok ? (String) ok.value() : null,
                op + " was not confirmed within " + timeout.toMillis() + " ms");
        if (op == MembershipOp.TRANSFER) awaitLeader(node, deadline);
        return configuration;
    }

    /**
     * Sends the frame {@code request} makes (from a fresh correlation id) to the node this connector takes for
     * the leader, following redirects and trying the next node when one cannot answer, until {@code accept}
     * takes an answer (it returns null for one it does not: that node is asked again) or {@code deadline}
     * passes. A refusal is thrown as a {@link KvException}; no accepted answer in time, as an
     * {@link OutcomeUnknownException} that says {@code failure} and the last problem.
     */
    private <R> R fromLeader(LongFunction<ClientFrames.ClientFrame> request, long deadline,
                             BiFunction<Integer, Object, R> accept, String failure) {
        int next = ids.get(0);
        String last = "no node answered";
        while (System.nanoTime() - deadline < 0) {
            if (!channels.containsKey(next)) { // it left the node list meanwhile
                next = ids.get(0);
                continue;
            }
            Object a = ask(next, request.apply(correlations.incrementAndGet()), deadline);
            switch (a) {
                case null -> last = "node " + next + " did not answer in time";
                case KvResponse.Refused r -> throw new KvException(r.reason());
                case KvResponse.NotLeader nl -> {
                    last = "node " + next + " is not the leader";
                    // It names a leader this connector does not know, or none (a removed node never learns of
                    // another): the members may have changed.
                    if (!channels.containsKey(nl.leaderHint())) refreshSoon();
                    next = nl.leaderHint() > 0 && channels.containsKey(nl.leaderHint()) ? nl.leaderHint()
                            : ids.get((ids.indexOf(next) + 1) % ids.size());
                    if (nl.leaderHint() == 0) pause(deadline); // an election is under way
                }
                case KvResponse.Unavailable u -> {
                    last = u.reason();
                    refreshSoon();
                    next = ids.get((ids.indexOf(next) + 1) % ids.size());
                    pause(deadline);
                }
                default -> {
                    R accepted = accept.apply(next, a);
                    if (accepted != null) return accepted;
                    last = "node " + next + " answered " + a;
                }
            }
        }
        throw new OutcomeUnknownException(failure + " (" + last + ")");
    }

    /**
     * Takes a backup of the cluster's state from the leader (redirects followed), presenting the admin token
     * ({@link #adminToken}): the leader confirms it as a linearizable read, so it holds every write acknowledged
     * before the call, and freezes its state as of the index it has applied; the state comes in chunks and is
     * checked against the leader's CRC. Write it with {@link BackupFile#write}.
     *
     * @throws OutcomeUnknownException if no leader answered within {@code timeout}, or the connection failed on the way
     * @throws KvException             if the leader refused it (no admin token, say), or the state came damaged
     */
    public BackupFile backup(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        return fromLeader(corr -> new ClientFrames.BackupRequest(corr, adminToken, 0, 0), deadline,
                (from, a) -> a instanceof ClientFrames.BackupChunk first ? readBackup(from, first, deadline) : null,
                "no backup was taken within " + timeout.toMillis() + " ms");
    }

    /** The rest of the backup whose first chunk node {@code node} sent, chunk by chunk from the same node. */
    private BackupFile readBackup(int node, ClientFrames.BackupChunk first, long deadline) {
        if (first.size() > Integer.MAX_VALUE - 64) {
            throw new KvException("node " + node + "'s state is " + first.size() + " bytes, more than a backup file holds");
        }
        byte[] state = new byte[(int) first.size()];
        ClientFrames.BackupChunk c = first;
        int at = 0;
        while (true) {
            if (c.backup() != first.backup() || c.offset() != at || c.size() != first.size() || c.index() != first.index()) {
                throw new KvException("node " + node + " sent " + c + " where the chunk of backup " + first.backup()
                        + " at offset " + at + " was due");
            }
            System.arraycopy(c.bytes(), 0, state, at, c.bytes().length);
            at += c.bytes().length;
            if (at == state.length) break;
            if (c.bytes().length == 0) throw new KvException("node " + node + " sent an empty chunk of backup " + first.backup());
            Object a = ask(node, new ClientFrames.BackupRequest(correlations.incrementAndGet(), adminToken, first.backup(), at),
                    deadline);
            switch (a) {
                case ClientFrames.BackupChunk next -> c = next;
                case null -> throw new OutcomeUnknownException("node " + node + " did not send the rest of backup "
                        + first.backup() + " in time (" + at + " of " + state.length + " bytes came)");
                case KvResponse.Refused r -> throw new KvException(r.reason());
                case KvResponse.Unavailable u -> throw new OutcomeUnknownException("reading backup " + first.backup()
                        + " from node " + node + " failed after " + at + " of " + state.length + " bytes: " + u.reason());
                default -> throw new KvException("node " + node + " answered a backup request with " + a);
            }
        }
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(state);
        if ((int) crc.getValue() != first.crc()) {
            throw new KvException("backup " + first.backup() + " from node " + node + " arrived damaged: its CRC does not"
                    + " match; take it again");
        }
        return new BackupFile(clusterId, first.index(), first.term(), state);
    }

    /** Sends {@code frame} to {@code node} and waits for its answer until {@code deadline}; null if none came. */
    private Object ask(int node, ClientFrames.ClientFrame frame, long deadline) {
        CompletableFuture<Object> answer = new CompletableFuture<>();
        channels.get(node).send(frame, answer::complete);
        try {
            return answer.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OutcomeUnknownException("interrupted while waiting for node " + node);
        } catch (ExecutionException e) {
            return new KvResponse.Unavailable(String.valueOf(e.getCause()));
        }
    }

    private void awaitLeader(int node, long deadline) {
        while (System.nanoTime() - deadline < 0) {
            try {
                if (status(node, Duration.ofMillis(500)).role() == io.raftkv.raft.Role.LEADER) return;
            } catch (KvException e) {
                // not reachable yet: ask again
            }
            pause(deadline);
        }
        throw new OutcomeUnknownException("node " + node + " did not take over leadership in time");
    }

    /** A short wait before asking again: 20 ms, or what is left of the deadline. */
    private static void pause(long deadline) {
        long left = deadline - System.nanoTime();
        if (left > 0) java.util.concurrent.locks.LockSupport.parkNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(20)));
    }

    /** Closes every connection; requests waiting for an answer get {@link KvResponse.Unavailable}. */
    @Override
    public void close() {
        synchronized (refreshLock) {
            closed = true;
        }
        for (Channel c : channels.values()) {
            Thread reader;
            Thread dialler;
            c.lock.lock();
            try {
                c.reset(null, "the connector was closed");
                reader = c.reader;
                dialler = c.dialler;
            } finally {
                c.lock.unlock();
            }
            for (Thread t : new Thread[] {dialler, reader}) {
                if (t == null) continue;
                try {
                    t.join(TimeUnit.SECONDS.toMillis(5));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * The connection to one node. Dialling happens on a thread of its own, never on a caller's: requests
     * made meanwhile wait in {@code waiting} and go out once it is up (or fail with the reason), so a node
     * that does not answer costs a caller its attempt timeout and nothing more.
     */
    private final class Channel {
        final int node;
        final InetSocketAddress address;
        final ReentrantLock lock = new ReentrantLock();
        final ConcurrentHashMap<Long, Consumer<Object>> pending = new ConcurrentHashMap<>();
        final List<Waiting> waiting = new ArrayList<>();
        /** Frames handed to {@link #send} and not yet taken by the flusher. */
        final MpscUnboundedAtomicArrayQueue<Waiting> outbox = new MpscUnboundedAtomicArrayQueue<>(256);
        /** Whether a caller holds the flusher's role: takes the outbox and flushes. */
        final AtomicBoolean flushing = new AtomicBoolean();
        /** Under the lock: {@link #write} put bytes in {@code out} that no flush has pushed yet. */
        boolean unflushed;
        Socket socket;
        DataOutputStream out;
        Thread reader;
        Thread dialler;
        long lastFailureNanos;
        String lastFailure;

        Channel(int node, InetSocketAddress address) {
            this.node = node;
            this.address = address;
        }

        /**
         * Sends {@code frame}, or has it sent: the caller queues it, and whoever holds the flusher's role
         * writes everything queued, then flushes once. Under load the clients sharing a connection thus
         * go out in one system call per batch instead of one each, and none of them waits on the lock
         * behind another's write; alone, a caller finds the role free and writes its own frame at once.
         */
        void send(ClientFrames.ClientFrame frame, Consumer<Object> answer) {
            outbox.offer(new Waiting(frame, answer));
            // A frame queued while another caller flushes is taken by that caller: it looks at the queue
            // again after giving up the role, and takes the role back if anything is left.
            while (flushing.compareAndSet(false, true)) {
                lock.lock();
                try {
                    for (Waiting w; (w = outbox.poll()) != null; ) sendLocked(w.frame, w.answer);
                    flushLocked();
                } finally {
                    lock.unlock();
                    flushing.set(false);
                }
                if (outbox.isEmpty()) return;
            }
        }

        /** Under the lock: writes {@code frame} into the connection's buffer, or has it wait for a dial, or fails it. */
        private void sendLocked(ClientFrames.ClientFrame frame, Consumer<Object> answer) {
            if (closed) {
                deliver(answer, new KvResponse.Unavailable("the connector is closed"));
                return;
            }
            if (socket != null) {
                write(frame, answer);
                return;
            }
            if (dialler == null && lastFailure != null
                    && System.nanoTime() - lastFailureNanos < TimeUnit.MILLISECONDS.toNanos(REDIAL_MILLIS)) {
                deliver(answer, new KvResponse.Unavailable(unreachable()));
                return;
            }
            if (waiting.size() >= MAX_PENDING) {
                deliver(answer, new KvResponse.Unavailable("node " + node + " at " + address + " is still being dialled, and "
                        + MAX_PENDING + " requests wait for it"));
                return;
            }
            waiting.add(new Waiting(frame, answer));
            if (dialler == null) {
                dialler = threads.newThread(this::dial);
                dialler.setName("raftkv-client-dial-" + node);
                dialler.start();
            }
        }

        /** Under the lock: pushes what {@link #write} buffered into the socket. */
        private void flushLocked() {
            if (socket == null || !unflushed) return;
            unflushed = false;
            try {
                out.flush();
            } catch (IOException e) {
                reset(socket, "sending to node " + node + " at " + address + " failed: " + e.getMessage());
            }
        }

        /** Under the lock, with a connection; the caller flushes. */
        private void write(ClientFrames.ClientFrame frame, Consumer<Object> answer) {
            if (pending.size() >= MAX_PENDING) {
                reset(socket, MAX_PENDING + " requests to node " + node + " went unanswered");
                answer.accept(new KvResponse.Unavailable("node " + node + " left " + MAX_PENDING + " requests unanswered"));
                return;
            }
            pending.put(frame.correlation(), answer);
            try {
                out.write(ClientFrames.encode(frame, maxFrameBytes));
                unflushed = true;
            } catch (IllegalArgumentException e) {
                pending.remove(frame.correlation());
                answer.accept(new KvResponse.Refused(e.getMessage()));
            } catch (IOException e) {
                reset(socket, "sending to node " + node + " at " + address + " failed: " + e.getMessage());
            }
        }

        private String unreachable() {
            return "cannot reach node " + node + " at " + address + ": " + lastFailure;
        }

        /** The dialling thread: connects and handshakes without the lock, then sends or fails what waits. */
        private void dial() {
            Socket plain = new Socket();
            Socket s = plain; // or TLS over it
            Object failure = null; // an Unavailable or a Refused for whatever waits, if the dial failed
            String why = null;
            DataInputStream in = null;
            DataOutputStream o = null;
            try {
                plain.setTcpNoDelay(true);
                // Resolved at every dial: a host name may not resolve yet when the client starts, or may move.
                plain.connect(new InetSocketAddress(address.getHostString(), address.getPort()), CONNECT_TIMEOUT_MILLIS);
                plain.setSoTimeout(CONNECT_TIMEOUT_MILLIS);
                TlsConfig t = tls;
                if (t != null) {
                    try {
                        s = t.dial(plain, address.getHostString(), address.getPort());
                    } catch (IOException e) {
                        throw new IOException("the TLS handshake failed: " + e.getMessage()
                                + (e.getMessage() != null && e.getMessage().contains("Remote host terminated")
                                ? " (does the node run TLS?)" : ""), e);
                    }
                }
                o = new DataOutputStream(new BufferedOutputStream(s.getOutputStream(), 64 * 1024));
                byte[] cluster = clusterId.getBytes(StandardCharsets.UTF_8);
                o.writeInt(ClientFrames.MAGIC);
                o.writeByte(ClientFrames.PROTOCOL_VERSION);
                o.writeByte(cluster.length);
                o.write(cluster);
                o.flush();
                in = new DataInputStream(s.getInputStream());
                String reason = HandshakeAnswer.read(in);
                if (reason != null) {
                    // Final, not worth retrying: another cluster, or a protocol version it does not speak.
                    why = "it refused this client: " + reason;
                    failure = new KvResponse.Refused("node " + node + " at " + address + " refused this client: " + reason);
                } else {
                    int id = in.readInt();
                    // Node 0: a seed, whichever node it is.
                    if (node != 0 && id != node) throw new IOException("it says it is node " + id + ", not node " + node);
                    s.setSoTimeout(0);
                }
            } catch (IOException | RuntimeException e) {
                why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                failure = new KvResponse.Unavailable("cannot reach node " + node + " at " + address + ": " + why);
            }
            List<Waiting> ready;
            lock.lock();
            try {
                dialler = null;
                ready = List.copyOf(waiting);
                waiting.clear();
                if (failure == null && closed) failure = new KvResponse.Unavailable("the connector is closed");
                if (failure == null) {
                    Socket connected = s;
                    socket = connected;
                    out = o;
                    lastFailure = null;
                    DataInputStream answers = in;
                    reader = threads.newThread(() -> readAnswers(connected, answers));
                    reader.setName("raftkv-client-in-" + node);
                    reader.start();
                    for (Waiting w : ready) {
                        if (socket == null) { // a write failed and reset the connection: the rest fail alike
                            deliver(w.answer, new KvResponse.Unavailable("the connection to node " + node + " at "
                                    + address + " failed as it opened"));
                        } else {
                            write(w.frame, w.answer);
                        }
                    }
                    flushLocked();
                    return;
                }
                lastFailure = why;
                lastFailureNanos = System.nanoTime();
            } finally {
                lock.unlock();
            }
            closeQuietly(s);
            for (Waiting w : ready) deliver(w.answer, failure);
        }

        private void readAnswers(Socket s, DataInputStream in) {
            FrameReader frames = new FrameReader(in, maxFrameBytes);
            String why = "node " + node + " closed the connection";
            try {
                while (true) {
                    ByteBuffer raw = frames.readFrame();
                    if (raw == null) break;
                    ClientFrames.ClientFrame frame = ClientFrames.decode(raw, maxFrameBytes);
                    Object answer = switch (frame) {
                        case ClientFrames.Response r -> r.response();
                        case ClientFrames.StatusResponse st -> st.status();
                        case ClientFrames.BackupChunk c -> c;
                        default -> throw new FrameException(0, "node " + node + " sent a "
                                + frame.getClass().getSimpleName() + ", which only clients send");
                    };
                    Consumer<Object> waiter = pending.remove(frame.correlation());
                    if (waiter != null) deliver(waiter, answer);
                }
            } catch (EOFException e) {
                why = "node " + node + " closed the connection inside a frame";
            } catch (IOException e) {
                why = "the connection to node " + node + " failed: " + e.getMessage();
            } finally {
                lock.lock();
                try {
                    reset(s, why);
                } finally {
                    lock.unlock();
                }
            }
        }

        /** Closes {@code s} if it is still the channel's connection (any, if null), failing whatever waits on it. */
        void reset(Socket s, String why) {
            Socket current = socket;
            if (s != null && s != current) return;
            socket = null;
            out = null;
            unflushed = false;
            closeQuietly(current);
            KvResponse.Unavailable failed = new KvResponse.Unavailable(why);
            for (Long corr : List.copyOf(pending.keySet())) {
                Consumer<Object> waiter = pending.remove(corr);
                if (waiter != null) deliver(waiter, failed);
            }
            if (s == null) { // closing the connector: what waits for a dial fails too
                for (Waiting w : waiting) deliver(w.answer, failed);
                waiting.clear();
            }
        }
    }

    /** A request made while its node was being dialled. */
    private record Waiting(ClientFrames.ClientFrame frame, Consumer<Object> answer) {}

    /** Hands {@code answer} to a caller's consumer; one that throws must not take the connection down with it. */
    private static void deliver(Consumer<Object> consumer, Object answer) {
        try {
            consumer.accept(answer);
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "a reply consumer failed on " + answer, e);
        }
    }

    private static void closeQuietly(Socket s) {
        if (s == null) return;
        try {
            s.close();
        } catch (IOException ignored) {
            // Unusable either way.
        }
    }
}
