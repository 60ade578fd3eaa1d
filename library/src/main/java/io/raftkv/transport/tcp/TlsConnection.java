package io.raftkv.transport.tcp;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.IllegalBlockingModeException;
import java.nio.channels.SocketChannel;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;

/**
 * A {@link Connection} under TLS, over the JDK's {@link SSLEngine}, which its caller configures (client or
 * server mode, client authentication, protocols) before handing it over.
 *
 * <p>{@link #handshake()} comes first, blocking, through the socket's streams so that its
 * {@code SO_TIMEOUT} bounds it. Then, as the socket's channel is blocking (or absent) or not, {@link #read}
 * and {@link #write} block or never do. A reader and a writer may work at once: each side has its own
 * lock and its own buffers ({@link TlsRecords}), sized from the session once and reused. What TLS 1.3
 * sends after the handshake (session tickets, key updates) is handled here, unseen by the caller: a read
 * that only met such records returns 0, and the answer a key update asks for goes out through the write
 * side: when the channel does not block, at once if no writer is at work and the socket takes it; else,
 * and always in blocking mode, first in the next write or flush (a reader never waits for the socket to
 * take a write).
 */
public final class TlsConnection implements Connection {
    private static final System.Logger LOG = System.getLogger(TlsConnection.class.getName());
    /** How long {@link #close()} gives close_notify to leave (and waits for a writer to step aside). */
    private static final long CLOSE_NOTIFY_WAIT_MILLIS = 100;
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final Socket socket;
    private final SocketChannel channel;
    private final SSLEngine engine;
    private final TlsRecords records;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final TlsStreams streams = new TlsStreams(this);
    /** The socket's streams, taken at the handshake while the channel blocks. */
    private InputStream socketIn;
    private OutputStream socketOut;
    private volatile boolean handshaken;
    /** Read side: close_notify or the end of the stream was met; reads return -1 from now on. */
    private boolean inboundDone;
    /** Write side: handshake messages wrapped after the handshake (key updates), for tests. */
    private int postHandshakeWraps;

    /**
     * A connection over {@code socket}, not yet handshaken.
     *
     * @param socket      connected; its channel, if any, blocking until {@link #handshake()} returns
     * @param engine      configured by the caller: client or server mode, client authentication, protocols
     * @param alreadyRead the first bytes of the TLS stream, read by the caller to learn the protocol (null or
     *                    empty if none); its remaining bytes are copied
     */
    public TlsConnection(Socket socket, SSLEngine engine, ByteBuffer alreadyRead) {
        if (socket == null || engine == null) {
            throw new NullPointerException("a TLS connection needs a socket and an engine");
        }
        this.socket = socket;
        this.channel = socket.getChannel();
        this.engine = engine;
        this.records = new TlsRecords(engine, alreadyRead);
    }

    /**
     * Runs the TLS handshake, blocking (its channel, if any, must be blocking); a second call does nothing.
     * Its network I/O goes through the socket's streams, and the whole handshake must end within the
     * socket's {@code SO_TIMEOUT}, if set. After a failure the connection is of no use: close it.
     *
     * @throws SocketTimeoutException if no complete handshake came within that time
     * @throws EOFException           if the other side closed inside the handshake
     * @throws SSLHandshakeException  if the handshake failed, with the engine's reason (a certificate not
     *                                trusted, say), or because the other side does not speak TLS at all
     * @throws IOException            if the socket failed
     */
    public void handshake() throws IOException {
        if (!blockingMode()) throw new IllegalBlockingModeException();
        readLock.lock();
        writeLock.lock();
        try {
            if (handshaken) return;
            if (closed.get()) throw new ClosedChannelException();
            socketIn = socket.getInputStream();
            socketOut = socket.getOutputStream();
            new TlsHandshake(socket, records, socketIn, socketOut).run();
            handshaken = true;
        } finally {
            writeLock.unlock();
            readLock.unlock();
        }
    }

    /** Whether reads and writes block: the socket has no channel, or a blocking one. */
    boolean blockingMode() {
        return channel == null || channel.isBlocking();
    }

    private void checkReady() throws IOException {
        if (closed.get()) throw new ClosedChannelException();
        if (!handshaken) throw new IllegalStateException("TLS connection to " + peer() + ": handshake() first");
    }

    /** An engine's failure after the handshake, with whom it happened. */
    private SSLException failure(SSLException e) {
        return new SSLException("TLS connection to " + peer() + ": " + e.getMessage(), e);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        readLock.lock();
        try {
            checkReady();
            return unwrapForReader(dst);
        } catch (SSLException e) {
            throw failure(e);
        } finally {
            readLock.unlock();
        }
    }

    /** Reads for {@link #read}, under the read lock: held bytes first, then whole records, then the socket. */
    private int unwrapForReader(ByteBuffer dst) throws IOException {
        if (records.held() > 0) return records.drainHeld(dst);
        if (!dst.hasRemaining()) return 0;
        if (inboundDone) return -1;
        boolean blocking = blockingMode();
        boolean intoDst = true; // straight into dst, unless a record would not fit there
        while (true) {
            SSLEngineResult result = records.unwrap(intoDst ? dst : null);
            if (result.getHandshakeStatus() == HandshakeStatus.NEED_WRAP) answerHandshake();
            switch (result.getStatus()) {
                case OK -> {
                    if (result.bytesProduced() > 0) return intoDst ? result.bytesProduced() : records.drainHeld(dst);
                    if (result.bytesConsumed() == 0) {
                        throw new SSLException("the TLS engine unwraps nothing: " + result); // rather than spin
                    }
                    // a record for TLS itself (a session ticket, a key update): on to the next one
                }
                case CLOSED -> {
                    inboundDone = true;
                    if (result.bytesProduced() > 0) return intoDst ? result.bytesProduced() : records.drainHeld(dst);
                    return -1;
                }
                case BUFFER_OVERFLOW -> {
                    if (intoDst) intoDst = false;
                    else records.growHeld();
                }
                case BUFFER_UNDERFLOW -> {
                    int n = blocking ? records.receive(socketIn) : records.receive(channel);
                    if (n < 0) return endOfStream();
                    if (n == 0) return 0;
                }
            }
        }
    }

    /** The socket's stream ended without close_notify: the end all the same. */
    private int endOfStream() {
        inboundDone = true;
        try {
            engine.closeInbound();
        } catch (SSLException e) {
            LOG.log(System.Logger.Level.DEBUG, "{0} closed without a TLS close_notify", peer());
        }
        return -1;
    }

    /**
     * The engine, reading, has handshake messages to send (a key update's answer, or close_notify's in TLS
     * 1.2). A reader never waits for the socket to take them: the other side may be one that reads only once
     * we have read what it sends (its writes fill our socket as ours fill its), and a reader waiting on its
     * own write would then wait forever, and the other side with it. So in blocking mode the reader leaves
     * them: the engine holds NEED_WRAP, and the next write or flush wraps and sends them before any data, as
     * TLS 1.3 asks of a key update's answer (and close() sends close_notify). When the channel does not block,
     * the reader wraps them if no writer is at work and sends what the socket takes now; the rest goes first
     * in the next write or flush. A failure to send is left for the writer to meet: the reader still has what
     * arrived to give.
     */
    private void answerHandshake() throws SSLException {
        if (blockingMode() || !writeLock.tryLock()) return;
        try {
            if (engine.getHandshakeStatus() != HandshakeStatus.NEED_WRAP || engine.isOutboundDone()) return;
            records.wrap(EMPTY);
            postHandshakeWraps++;
            try {
                records.send(channel); // never blocks: the channel does not
            } catch (IOException e) {
                LOG.log(System.Logger.Level.DEBUG, "could not answer {0}''s TLS handshake message: {1}", peer(), e);
            }
        } finally {
            writeLock.unlock();
        }
    }

    /** Writes what the socket takes of the held records (all of them when blocking): true if none is left. */
    private boolean sendHeld(boolean blocking) throws IOException {
        if (!blocking) return records.send(channel);
        records.sendAll(socketOut);
        return true;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        writeLock.lock();
        try {
            checkReady();
            boolean blocking = blockingMode();
            if (!sendHeld(blocking)) return 0;
            int taken = 0;
            while (src.hasRemaining()) {
                SSLEngineResult result = records.wrap(src);
                if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
                    throw new ClosedChannelException(); // closed here, or the other side's close_notify in TLS 1.2
                }
                if (result.bytesConsumed() == 0) {
                    if (result.bytesProduced() == 0) throw new SSLException("the TLS engine wraps nothing: " + result);
                    postHandshakeWraps++; // the engine sent a handshake message (a key update) first
                }
                taken += result.bytesConsumed();
                if (!sendHeld(blocking)) break;
            }
            return taken;
        } catch (SSLException e) {
            throw failure(e);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public boolean flush() throws IOException {
        writeLock.lock();
        try {
            if (closed.get()) throw new ClosedChannelException();
            if (handshaken && engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP && !engine.isOutboundDone()) {
                records.wrap(EMPTY); // a key update's answer a reader left to the writer
                postHandshakeWraps++;
            }
            return sendHeld(blockingMode());
        } catch (SSLException e) {
            throw failure(e);
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public boolean hasBufferedInput() {
        readLock.lock();
        try {
            return records.held() > 0 || !inboundDone && records.wholeRecordArrived();
        } finally {
            readLock.unlock();
        }
    }

    /** Decrypted bytes held, readable at once (0 while a reader is at work: this never waits). */
    int available() {
        if (!readLock.tryLock()) return 0;
        try {
            return records.held();
        } finally {
            readLock.unlock();
        }
    }

    /** How many handshake messages went out after the handshake (key updates), for tests. */
    int postHandshakeWraps() {
        writeLock.lock();
        try {
            return postHandshakeWraps;
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public InputStream inputStream() {
        return streams.in;
    }

    @Override
    public OutputStream outputStream() {
        return streams.out;
    }

    @Override
    public Socket socket() {
        return socket;
    }

    @Override
    public SocketChannel channel() {
        return channel;
    }

    @Override
    public Certificate[] peerCertificates() {
        if (!handshaken) return null;
        try {
            return engine.getSession().getPeerCertificates();
        } catch (SSLPeerUnverifiedException e) {
            return null;
        }
    }

    @Override
    public boolean secure() {
        return true;
    }

    @Override
    public boolean isOpen() {
        return !socket.isClosed();
    }

    /**
     * Sends close_notify if it can at once (one attempt when the channel does not block; a tenth of a
     * second at most when it does), drops what arrived unread if no reader is at
     * work (a socket closed with unread bytes resets the connection, and the other side would lose what
     * it had not read yet), then closes the socket. A second call does nothing.
     */
    @Override
    public void close() throws IOException {
        if (!closed.compareAndSet(false, true)) return;
        try {
            if (handshaken) {
                sendCloseNotify();
                discardUnread();
            }
        } finally {
            socket.close();
        }
    }

    private void sendCloseNotify() {
        if (!blockingMode()) {
            closeNotifyOnce();
            return;
        }
        // A blocking write may never return if the other side stopped reading: it runs aside, for a while.
        Thread sender = Thread.ofVirtual().name("tls-close-notify").start(this::closeNotifyOnce);
        try {
            if (!sender.join(Duration.ofMillis(CLOSE_NOTIFY_WAIT_MILLIS))) {
                LOG.log(System.Logger.Level.DEBUG, "close_notify to {0} did not leave in time", peer());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeNotifyOnce() {
        try {
            if (!writeLock.tryLock(CLOSE_NOTIFY_WAIT_MILLIS, TimeUnit.MILLISECONDS)) return;
            try {
                engine.closeOutbound();
                records.wrap(EMPTY);
                sendHeld(blockingMode());
            } finally {
                writeLock.unlock();
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not send close_notify to {0}: {1}", peer(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void discardUnread() {
        if (!readLock.tryLock()) return;
        try {
            if (blockingMode()) records.discard(socketIn);
            else records.discard(channel);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not drain {0}''s unread bytes: {1}", peer(), e);
        } finally {
            readLock.unlock();
        }
    }

    private String peer() {
        return String.valueOf(socket.getRemoteSocketAddress());
    }

    @Override
    public String toString() {
        return peer();
    }
}
