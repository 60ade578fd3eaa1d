package io.raftkv.transport.tcp;

import io.raftkv.raft.Message;
import org.jctools.queues.atomic.MpscAtomicArrayQueue;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

import static io.raftkv.transport.tcp.TcpTransport.closeQuietly;

/**
 * The sending end towards one peer: its queue, its writer thread and its current connection.
 *
 * <p>The writer thread dials, handshakes ({@link PeerDialer}) and reconnects, after a {@link Backoff}. Once
 * connected and with nothing queued, the link is idle, and the node's thread (the only caller of
 * {@link TcpTransport#send}) writes a message straight into the socket, non-blocking, instead of waking
 * the writer: a commit crosses two such links, and each wake-up of another thread costs more than the
 * write. Whatever does not fit the socket's buffer, and every
 * message that arrives while the writer is busy, goes through the queue and the writer, so a slow peer
 * never blocks the node. {@code owner} says who may touch the connection: IDLE (nobody: the node may
 * take it), DIRECT (the node, writing) or WRITER (the writer thread).
 */
final class PeerLink {
    /** The transport's parts log under its name, the one the docs give. */
    private static final System.Logger LOG = System.getLogger(TcpTransport.class.getName());

    private static final int IDLE = 0;
    private static final int DIRECT = 1;
    private static final int WRITER = 2;

    private final TransportState state;
    private final TransportThreads threads;
    private final int selfId;
    private final FrameCodec codec;
    private final int queueCapacity;
    private final int peer;
    private final InetSocketAddress address;
    private final PeerDialer dialer;
    private final MpscAtomicArrayQueue<Message> queue;
    private final AtomicInteger owner = new AtomicInteger(WRITER);
    private volatile Thread writer;
    /** The socket being dialled or connected, for {@link #stop()} to close. */
    private volatile SocketChannel channel;
    /** The connection once dialled and handshaken, to write through; null otherwise. */
    private volatile Connection connection;
    /** Set by the node when a direct write failed: the writer must reconnect. */
    private volatile boolean broken;
    /** Set when the peer dialled this node: it is up (perhaps restarted), so backoff ends and a stale connection is checked now. */
    private volatile boolean peerCameUp;
    /** What a direct write left unwritten, for the writer to finish before anything else; node thread writes it only in DIRECT. */
    private ByteBuffer leftover;
    /** The node thread's encoding buffer for direct writes. */
    private final ByteBuffer direct = ByteBuffer.allocate(64 * 1024);
    private final Backoff backoff = new Backoff();
    /** What ends a backoff early: the transport closes, or the peer dialled this node. */
    private final BooleanSupplier backoffCutShort;
    /** Set once, when the peer leaves the transport while it goes on: the writer ends as on close. */
    private volatile boolean retired;

    /** The link to {@code peer} at {@code address}, queueing at most {@code queueCapacity} messages. */
    PeerLink(TransportState state, TransportThreads threads, int peer, InetSocketAddress address, int queueCapacity) {
        this.state = state;
        this.threads = threads;
        this.selfId = state.selfId;
        this.codec = state.codec;
        this.queueCapacity = queueCapacity;
        this.peer = peer;
        this.address = address;
        this.dialer = new PeerDialer(state, peer, address);
        this.queue = new MpscAtomicArrayQueue<>(queueCapacity);
        this.backoffCutShort = () -> done() || peerCameUp;
    }

    /** Starts the writer, which dials the peer from {@code from} (null: an ephemeral port). */
    void start(InetSocketAddress from) {
        dialer.start(from);
        // Known before it runs: a peer dialling in may hand it the link (peerCameUp) as soon as it has
        // connected, and a wake-up sent to a writer not yet recorded here would be lost for good.
        Thread t = threads.unstarted("out-" + peer, this::run);
        writer = t;
        t.start();
    }

    /** Called by the node's thread only. */
    void offer(Message m) {
        if (owner.get() == IDLE && queue.isEmpty() && owner.compareAndSet(IDLE, DIRECT)) {
            writeDirect(m);
            return;
        }
        if (!queue.offer(m)) {
            long n = state.dropped.incrementAndGet();
            if (Long.bitCount(n) == 1) { // 1, 2, 4, 8...: a full queue is noticed without flooding the log
                LOG.log(Level.INFO, () -> "node " + selfId + ": the queue to node " + peer + " is full ("
                        + queueCapacity + " messages); dropped " + n + " messages in all so far");
            }
            return;
        }
        // Wake the writer whenever it owns the link or takes it now. An unpark of a writer that is busy only
        // leaves it a permit; being generous here is what keeps a queued message from waiting on a wake-up
        // that never comes.
        if (owner.get() == WRITER || owner.compareAndSet(IDLE, WRITER)) wakeWriter();
    }

    private void writeDirect(Message m) {
        ByteBuffer buf;
        try {
            int size = codec.encodedSize(m);
            buf = size <= direct.capacity() ? direct.clear() : ByteBuffer.allocate(size);
            codec.encode(m, buf);
            buf.flip();
        } catch (RuntimeException e) { // too large for a frame (IllegalArgumentException), or a codec fault
            owner.set(IDLE);
            state.dropped.incrementAndGet();
            LOG.log(Level.WARNING, "node " + selfId + " dropped a message to node " + peer + ": " + e);
            return;
        }
        try {
            Connection c = connection;
            if (c == null) throw new IOException("no connection");
            c.write(buf);
            if (!buf.hasRemaining() && c.flush()) {
                owner.set(IDLE);
                return;
            }
            // The socket's buffer is full: the writer finishes this frame (or what TLS holds of it), waiting if it must.
            leftover = ByteBuffer.allocate(buf.remaining()).put(buf).flip();
        } catch (IOException | RuntimeException e) {
            broken = true; // the writer reconnects; the message is lost, and Raft resends
        }
        owner.set(WRITER);
        wakeWriter();
    }

    /** The peer dialled this node: end a backoff, and have an idle connection checked (it may be the peer's old one). */
    void peerCameUp() {
        peerCameUp = true;
        owner.compareAndSet(IDLE, WRITER);
        wakeWriter();
    }

    private void wakeWriter() {
        Thread w = writer;
        if (w != null) LockSupport.unpark(w);
    }

    void stop() {
        closeQuietly(channel);
        wakeWriter();
    }

    /** Stops this link for good, the transport going on: its peer left the configuration, or moved. */
    void retire() {
        retired = true;
        stop();
    }

    /** Whether the writer should end: the transport is closed or this link retired. */
    private boolean done() {
        return state.closed || retired;
    }

    private void run() {
        while (!done()) {
            Connection ch = dial();
            if (ch == null) {
                backoff.pause(this, backoffCutShort);
                continue;
            }
            backoff.reset();
            try {
                serve(ch);
            } catch (IOException | RuntimeException e) { // whatever it was, the link must come back
                if (!done()) {
                    LOG.log(Level.INFO, () -> "node " + selfId + ": the connection to node " + peer + " at " + address
                            + " failed, reconnecting: " + e);
                }
            } finally {
                owner.set(WRITER); // the node must not take a link whose connection is gone
                connection = null;
                closeQuietly(ch);
                channel = null;
                leftover = null;
                broken = false;
            }
        }
        queue.clear();
    }

    /** Connects and handshakes, in blocking mode; null (after logging a change of failure) if that failed. */
    private Connection dial() {
        peerCameUp = false;
        SocketChannel ch = dialer.open();
        if (ch == null) return null;
        channel = ch;
        if (done()) { // close() or retire() may have missed this socket
            closeQuietly(ch);
            return null;
        }
        try {
            Connection c = dialer.connect(ch);
            connection = c;
            return c;
        } catch (IOException e) {
            closeQuietly(ch);
            channel = null;
            dialer.failed(e);
            return null;
        }
    }

    /** Writes for as long as the connection lasts: the queue when the writer owns the link, else parks. */
    private void serve(Connection ch) throws IOException {
        ByteBuffer out = ByteBuffer.allocate(64 * 1024);
        ByteBuffer probe = ByteBuffer.allocate(1);
        // owner is WRITER here (from the start, or set so before a failed connection was left).
        while (!done()) {
            if (owner.get() != WRITER) {
                LockSupport.park(this);
                continue;
            }
            if (broken) throw new IOException("a write to node " + peer + " failed");
            if (leftover != null) {
                writeFully(ch, leftover);
                leftover = null;
            }
            out.clear();
            for (Message m; (m = queue.relaxedPoll()) != null; ) {
                int size;
                try {
                    size = codec.encodedSize(m);
                } catch (IllegalArgumentException e) {
                    state.dropped.incrementAndGet();
                    LOG.log(Level.WARNING, "node " + selfId + " dropped a message to node " + peer + ": " + e.getMessage());
                    continue;
                }
                if (size > out.remaining()) {
                    writeFully(ch, out.flip());
                    out.clear();
                }
                if (size > out.capacity()) {
                    ByteBuffer big = ByteBuffer.allocate(size);
                    codec.encode(m, big);
                    writeFully(ch, big.flip());
                } else {
                    codec.encode(m, out);
                }
            }
            writeFully(ch, out.flip());
            // The acceptor never writes after the handshake: readable bytes or EOF mean it is gone. (Under TLS,
            // records of the protocol's own, such as session tickets, read as nothing.)
            probe.clear();
            if (ch.read(probe) != 0) throw new IOException("node " + peer + " closed the connection or sent unexpected bytes");
            owner.set(IDLE);
            // A message queued after the drain and before IDLE would wait for the next one: take it now.
            if (!queue.isEmpty() && owner.compareAndSet(IDLE, WRITER)) continue;
            // Untimed: the node takes idle links itself; a dead peer is found by the next write.
            LockSupport.park(this);
        }
    }

    /**
     * Writes all of {@code b} (and what the connection held of earlier writes), waiting with a growing pause (50 µs to 5 ms) while the socket's buffer is
     * full. The channel stays non-blocking throughout: the node's thread may write to it as soon as the
     * link is idle again, and switching a channel's blocking mode under virtual-thread I/O is a hazard
     * not worth its saving.
     */
    private void writeFully(Connection ch, ByteBuffer b) throws IOException {
        long pause = TimeUnit.MICROSECONDS.toNanos(50);
        while (true) {
            if (b.hasRemaining()) ch.write(b);
            if (!b.hasRemaining() && ch.flush()) return;
            if (done()) throw new IOException("the transport is closed or the link retired");
            LockSupport.parkNanos(this, pause);
            pause = Math.min(pause * 2, TimeUnit.MILLISECONDS.toNanos(5));
        }
    }

    /** Appends this link's state, as {@link TcpTransport#describe()} gives it. */
    void describe(StringBuilder b) {
        Thread w = writer;
        String lastFailure = dialer.lastFailure();
        b.append(" [to ").append(peer).append(": ")
                .append(switch (owner.get()) {
                    case IDLE -> "idle";
                    case DIRECT -> "node writing";
                    default -> "writer";
                })
                .append(channel != null ? ", connected" : ", not connected")
                .append(", queued ").append(queue.size())
                .append(broken ? ", broken" : "")
                .append(lastFailure != null ? ", last failure " + lastFailure : "")
                .append(w == null ? ", no writer" : ", writer " + w.getState() + waitingIn(w))
                .append(']');
    }

    /** Where a writer that has a backlog is stuck, as the top of its stack; empty when it has none. */
    private String waitingIn(Thread writer) {
        if (queue.isEmpty()) return "";
        StringBuilder b = new StringBuilder(" in");
        StackTraceElement[] stack = writer.getStackTrace();
        for (int i = 0; i < Math.min(8, stack.length); i++) b.append(' ').append(stack[i]);
        return b.toString();
    }
}
