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
 * lock and its own buffers, sized from the session once and reused. What TLS 1.3 sends after the
 * handshake (session tickets, key updates) is handled here, unseen by the caller: a read that only met
 * such records returns 0, and the answer a key update asks for goes out through the write side.
 */
public final class TlsConnection implements Connection {
    private static final System.Logger LOG = System.getLogger(TlsConnection.class.getName());
    /** How long {@link #close()} gives the close_notify alert to leave (and waits for a writer to step aside). */
    static final long CLOSE_NOTIFY_WAIT_MILLIS = 100;
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
    /** A TLS record's header: type (1), version (2), length (2). */
    private static final int RECORD_HEADER_BYTES = 5;

    private final Socket socket;
    private final SocketChannel channel;
    private final SSLEngine engine;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final TlsStreams streams = new TlsStreams(this);

    /** Encrypted bytes received and not yet unwrapped, kept ready to fill (position = bytes held). Read side. */
    private ByteBuffer netIn;
    /** Decrypted bytes not yet read, kept ready to drain (position..limit). Read side. */
    private ByteBuffer appIn;
    /** Encrypted bytes not yet written, kept ready to drain (position..limit). Write side. */
    private ByteBuffer netOut;
    /** The socket's streams, taken at the handshake while the channel blocks. */
    private InputStream socketIn;
    private OutputStream socketOut;
    private volatile boolean handshaken;
    /** Read side: close_notify or the end of the stream was met; reads return -1 from now on. */
    private boolean inboundDone;
    /** Handshake messages wrapped after the handshake (key updates answered, say), for tests. */
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
        if (socket == null || engine == null) throw new NullPointerException("a TLS connection needs a socket and an engine");
        this.socket = socket;
        this.channel = socket.getChannel();
        this.engine = engine;
        int packetSize = engine.getSession().getPacketBufferSize();
        int given = alreadyRead == null ? 0 : alreadyRead.remaining();
        this.netIn = ByteBuffer.allocate(Math.max(packetSize, given));
        if (given > 0) netIn.put(alreadyRead.duplicate());
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize()).flip();
        this.netOut = ByteBuffer.allocate(packetSize).flip();
    }

    /**
     * Runs the TLS handshake, blocking (its channel, if any, must be blocking); a second call does nothing.
     * Its network I/O goes through the socket's streams, and the whole handshake must end within the
     * socket's {@code SO_TIMEOUT}, if set.
     *
     * @throws SocketTimeoutException if no complete handshake came within that time
     * @throws EOFException           if the other side closed inside the handshake
     * @throws SSLHandshakeException  if the handshake failed, with the engine's reason (a certificate not
     *                                trusted, say), or because the other side does not speak TLS at all
     * @throws IOException            if the socket failed
     */
    public void handshake() throws IOException {
        if (channel != null && !channel.isBlocking()) {
            throw new IllegalBlockingModeException();
        }
        readLock.lock();
        writeLock.lock();
        try {
            if (handshaken) return;
            if (closed.get()) throw new ClosedChannelException();
            int timeoutMillis = socket.getSoTimeout();
            socketIn = socket.getInputStream();
            socketOut = socket.getOutputStream();
            try {
                new TlsHandshake(timeoutMillis).run();
            } catch (SocketTimeoutException e) {
                throw (IOException) new SocketTimeoutException(
                        "no complete TLS handshake within " + timeoutMillis + " ms from " + peer()).initCause(e);
            } catch (SSLException e) {
                sendAlertQuietly();
                throw handshakeFailure(e);
            } finally {
                restoreTimeout(timeoutMillis);
            }
            handshaken = true;
        } finally {
            writeLock.unlock();
            readLock.unlock();
        }
    }

    /** Gives the socket back the timeout the handshake's deadline changed, unless it is closed by now. */
    private void restoreTimeout(int timeoutMillis) {
        try {
            socket.setSoTimeout(timeoutMillis);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not restore the timeout of {0}: {1}", peer(), e);
        }
    }

    /** The exception a handshake's {@code SSLException} becomes: the engine's reason, and who failed. */
    private SSLHandshakeException handshakeFailure(SSLException e) {
        String reason = e.getMessage();
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && (m.contains("nrecognized SSL message") || m.contains("plaintext connection"))) {
                reason = "it does not speak TLS (" + m + ")";
                break;
            }
        }
        SSLHandshakeException failure = new SSLHandshakeException("TLS handshake with " + peer() + " failed: " + reason);
        failure.initCause(e);
        return failure;
    }

    /** After a failed handshake, sends the alert the engine has for the other side, if it can. */
    private void sendAlertQuietly() {
        try {
            for (int i = 0; i < 4 && !engine.isOutboundDone(); i++) {
                wrapInto(EMPTY);
            }
            writeAllHeld();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not send a TLS alert to {0}: {1}", peer(), e);
        }
    }

    /** The handshake's loop, over the socket's blocking streams, within one deadline. */
    private final class TlsHandshake {
        private final int timeoutMillis;
        private final long deadline;

        TlsHandshake(int timeoutMillis) {
            this.timeoutMillis = timeoutMillis;
            this.deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        }

        void run() throws IOException {
            engine.beginHandshake();
            HandshakeStatus status = engine.getHandshakeStatus();
            while (status != HandshakeStatus.FINISHED && status != HandshakeStatus.NOT_HANDSHAKING) {
                switch (status) {
                    case NEED_WRAP -> {
                        SSLEngineResult result = wrapInto(EMPTY);
                        if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
                            writeAllHeld();
                            throw new SSLHandshakeException("the TLS engine closed inside the handshake");
                        }
                        status = result.getHandshakeStatus();
                    }
                    case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> status = unwrapOrReceive();
                    case NEED_TASK -> status = runTasks();
                    default -> throw new IllegalStateException("unexpected TLS handshake status " + status);
                }
            }
            writeAllHeld();
        }

        /** Unwraps a handshake record, or, when none is whole, sends what is held and receives more. */
        private HandshakeStatus unwrapOrReceive() throws IOException {
            SSLEngineResult result = unwrapInto(appIn);
            switch (result.getStatus()) {
                case BUFFER_UNDERFLOW -> {
                    writeAllHeld(); // this side's flight first: the other side waits for it
                    if (receive() < 0) {
                        throw new EOFException(peer() + " closed the connection inside the TLS handshake");
                    }
                }
                case BUFFER_OVERFLOW -> appIn = grownForApp(appIn);
                case CLOSED -> throw new EOFException(peer() + " closed the TLS session inside the handshake");
                case OK -> { }
            }
            return result.getHandshakeStatus() == HandshakeStatus.NEED_TASK || result.getStatus() != SSLEngineResult.Status.OK
                    ? engine.getHandshakeStatus() : result.getHandshakeStatus();
        }

        /** Reads from the socket's stream into {@link #netIn}, within what is left of the deadline. */
        private int receive() throws IOException {
            if (timeoutMillis > 0) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0) throw new SocketTimeoutException("handshake deadline passed");
                socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
            }
            return readFromStream();
        }
    }

    /** Runs the engine's delegated tasks on this thread: the status after them. */
    private HandshakeStatus runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
        return engine.getHandshakeStatus();
    }

    /** Reads what the socket's stream has (blocking) into {@link #netIn}, grown first if full. */
    private int readFromStream() throws IOException {
        if (!netIn.hasRemaining()) netIn = grownForPacket(netIn);
        int n = socketIn.read(netIn.array(), netIn.arrayOffset() + netIn.position(), netIn.remaining());
        if (n > 0) netIn.position(netIn.position() + n);
        return n;
    }

    /** Unwraps what {@link #netIn} holds into {@code dst} (ready to fill), runs the tasks it asks for. */
    private SSLEngineResult unwrapInto(ByteBuffer dst) throws SSLException {
        netIn.flip();
        SSLEngineResult result;
        try {
            if (dst == appIn) {
                appIn.compact();
                try {
                    result = engine.unwrap(netIn, appIn);
                } finally {
                    appIn.flip();
                }
            } else {
                result = engine.unwrap(netIn, dst);
            }
        } finally {
            netIn.compact();
        }
        if (result.getHandshakeStatus() == HandshakeStatus.NEED_TASK) runTasks();
        return result;
    }

    /** Wraps {@code src} after what {@link #netOut} holds, growing it if a record would not fit. */
    private SSLEngineResult wrapInto(ByteBuffer src) throws SSLException {
        while (true) {
            netOut.compact();
            SSLEngineResult result;
            try {
                result = engine.wrap(src, netOut);
            } finally {
                netOut.flip();
            }
            if (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
                ByteBuffer bigger = ByteBuffer.allocate(netOut.remaining() + engine.getSession().getPacketBufferSize());
                netOut = bigger.put(netOut).flip();
                continue;
            }
            if (result.getHandshakeStatus() == HandshakeStatus.NEED_TASK) runTasks();
            return result;
        }
    }

    /** Writes all of {@link #netOut} through the socket's blocking stream. */
    private void writeAllHeld() throws IOException {
        if (!netOut.hasRemaining()) return;
        socketOut.write(netOut.array(), netOut.arrayOffset() + netOut.position(), netOut.remaining());
        netOut.position(netOut.limit());
    }

    /** Writes what the socket takes of {@link #netOut} (all of it when blocking): true if nothing is left. */
    private boolean sendHeld(boolean blocking) throws IOException {
        if (blocking) {
            writeAllHeld();
            return true;
        }
        while (netOut.hasRemaining()) {
            if (channel.write(netOut) == 0) return false;
        }
        return true;
    }

    private ByteBuffer grownForPacket(ByteBuffer held) throws SSLException {
        int size = engine.getSession().getPacketBufferSize();
        if (size <= held.capacity()) {
            throw new SSLException("a TLS record from " + peer() + " is larger than the session's "
                    + size + "-byte packets");
        }
        return ByteBuffer.allocate(size).put(held.flip());
    }

    /** {@code held}, ready to drain, in a buffer big enough for the session's largest record. */
    private ByteBuffer grownForApp(ByteBuffer held) {
        int size = Math.max(engine.getSession().getApplicationBufferSize(), held.remaining() + held.capacity());
        return ByteBuffer.allocate(size).put(held).flip();
    }

    /** Whether reads and writes block: the socket has no channel, or a blocking one. */
    boolean blockingMode() {
        return channel == null || channel.isBlocking();
    }

    private void checkReady() throws IOException {
        if (closed.get()) throw new ClosedChannelException();
        if (!handshaken) throw new IllegalStateException("TLS connection to " + peer() + ": handshake() first");
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

    /** An engine's failure after the handshake, with whom it happened. */
    private SSLException failure(SSLException e) {
        return new SSLException("TLS connection to " + peer() + ": " + e.getMessage(), e);
    }

    /** Reads for {@link #read}, under the read lock: held bytes first, then whole records, then the socket. */
    private int unwrapForReader(ByteBuffer dst) throws IOException {
        if (appIn.hasRemaining()) return drainAppIn(dst);
        if (!dst.hasRemaining()) return 0;
        if (inboundDone) return -1;
        boolean blocking = blockingMode();
        boolean intoDst = true; // straight into dst, unless a record would not fit there
        while (true) {
            SSLEngineResult result = unwrapInto(intoDst ? dst : appIn);
            HandshakeStatus hs = result.getHandshakeStatus();
            if (hs == HandshakeStatus.NEED_WRAP) answerHandshake();
            switch (result.getStatus()) {
                case OK -> {
                    if (result.bytesProduced() > 0) return intoDst ? result.bytesProduced() : drainAppIn(dst);
                    // a record for TLS itself (a session ticket, a key update): look for the next one
                }
                case CLOSED -> {
                    inboundDone = true;
                    if (result.bytesProduced() > 0) return intoDst ? result.bytesProduced() : drainAppIn(dst);
                    return -1;
                }
                case BUFFER_OVERFLOW -> {
                    if (intoDst) intoDst = false;
                    else appIn = grownForApp(appIn);
                }
                case BUFFER_UNDERFLOW -> {
                    int n = blocking ? readFromStream() : readFromChannel();
                    if (n < 0) return endOfStream();
                    if (n == 0) return 0;
                }
            }
            if (result.getStatus() == SSLEngineResult.Status.OK && result.bytesConsumed() == 0) {
                throw new SSLException("the TLS engine unwraps nothing: " + result); // rather than spin
            }
        }
    }

    private int readFromChannel() throws IOException {
        if (!netIn.hasRemaining()) netIn = grownForPacket(netIn);
        return channel.read(netIn);
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

    private int drainAppIn(ByteBuffer dst) {
        int n = Math.min(appIn.remaining(), dst.remaining());
        int limit = appIn.limit();
        appIn.limit(appIn.position() + n);
        dst.put(appIn);
        appIn.limit(limit);
        return n;
    }

    /**
     * The engine, reading, has handshake messages to send (a key update's answer, or close_notify's in TLS
     * 1.2): sends them if no writer is at work; if one is, its next wrap sends them first.
     */
    private void answerHandshake() throws SSLException {
        if (!writeLock.tryLock()) return;
        try {
            if (engine.getHandshakeStatus() == HandshakeStatus.NEED_WRAP && !engine.isOutboundDone()) {
                wrapInto(EMPTY);
                postHandshakeWraps++;
                try {
                    sendHeld(blockingMode());
                } catch (IOException e) {
                    // The reader still has what arrived to give; the writer meets this failure at its next write.
                    LOG.log(System.Logger.Level.DEBUG, "could not answer {0}''s TLS handshake message: {1}", peer(), e);
                }
            }
        } finally {
            writeLock.unlock();
        }
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
                SSLEngineResult result = wrapInto(src);
                if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
                    throw new SSLException("TLS connection to " + peer() + " is closed for writing");
                }
                if (result.bytesConsumed() == 0 && result.bytesProduced() == 0) {
                    throw new SSLException("the TLS engine wraps nothing: " + result);
                }
                taken += result.bytesConsumed();
                if (result.bytesProduced() > 0 && result.bytesConsumed() == 0) postHandshakeWraps++;
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
                wrapInto(EMPTY); // a key update's answer a reader left to the writer
                postHandshakeWraps++;
            }
            return sendHeld(blockingMode());
        } finally {
            writeLock.unlock();
        }
    }

    @Override
    public boolean hasBufferedInput() {
        readLock.lock();
        try {
            if (appIn.hasRemaining()) return true;
            int held = netIn.position();
            if (inboundDone || held < RECORD_HEADER_BYTES) return false;
            int length = ((netIn.get(3) & 0xff) << 8) | (netIn.get(4) & 0xff);
            return held >= RECORD_HEADER_BYTES + length;
        } finally {
            readLock.unlock();
        }
    }

    /** Decrypted bytes held, readable at once (0 while a reader is at work: this never waits). */
    int available() {
        if (!readLock.tryLock()) return 0;
        try {
            return appIn.remaining();
        } finally {
            readLock.unlock();
        }
    }

    /** How many handshake messages went out after the handshake: key updates, for tests. */
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
     * Sends close_notify if it can at once (one attempt when the channel does not block; at most
     * {@value #CLOSE_NOTIFY_WAIT_MILLIS} ms when it does), then closes the socket. A second call does nothing.
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

    /**
     * Reads and drops what already arrived and will not be read (a session ticket, a key update, data), if
     * no reader is at work: a socket closed with unread bytes resets the connection, and the other side
     * would lose what it had not read yet.
     */
    private void discardUnread() {
        if (!readLock.tryLock()) return;
        try {
            netIn.clear();
            if (blockingMode()) {
                int n;
                while ((n = Math.min(socketIn.available(), netIn.capacity())) > 0) {
                    socketIn.readNBytes(netIn.array(), netIn.arrayOffset(), n);
                }
            } else {
                for (int i = 0; i < 64 && channel.read(netIn) > 0; i++) { // a sender that never stops is not waited for
                    netIn.clear();
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not drain {0}''s unread bytes: {1}", peer(), e);
        } finally {
            readLock.unlock();
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
                wrapInto(EMPTY);
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

    private String peer() {
        return String.valueOf(socket.getRemoteSocketAddress());
    }

    @Override
    public String toString() {
        return peer();
    }
}
