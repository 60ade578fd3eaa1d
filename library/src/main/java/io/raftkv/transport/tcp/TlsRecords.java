package io.raftkv.transport.tcp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;

/**
 * A {@link TlsConnection}'s engine and the three buffers it unwraps from and wraps into, sized from the
 * session once and grown only if a record would not fit: what arrived encrypted ({@code netIn}), what it
 * decrypted and nobody read yet ({@code appIn}), and what it encrypted and the socket did not take yet
 * ({@code netOut}). The first two are the read side's, the third the write side's: the connection calls
 * each side's methods under that side's lock, so that a reader and a writer work at once.
 */
final class TlsRecords {
    /** A TLS record's header: type (1), version (2), length (2). */
    private static final int RECORD_HEADER_BYTES = 5;

    final SSLEngine engine;
    /** Read side: kept ready to fill (position = bytes held). */
    private ByteBuffer netIn;
    /** Read side: kept ready to drain (position..limit = bytes held). */
    private ByteBuffer appIn;
    /** Write side: kept ready to drain (position..limit = bytes held). */
    private ByteBuffer netOut;

    /** Buffers for {@code engine}, {@code netIn} holding a copy of what remains in {@code alreadyRead} (may be null). */
    TlsRecords(SSLEngine engine, ByteBuffer alreadyRead) {
        this.engine = engine;
        int packetSize = engine.getSession().getPacketBufferSize();
        int given = alreadyRead == null ? 0 : alreadyRead.remaining();
        this.netIn = ByteBuffer.allocate(Math.max(packetSize, given));
        if (given > 0) netIn.put(alreadyRead.duplicate());
        this.appIn = ByteBuffer.allocate(engine.getSession().getApplicationBufferSize()).flip();
        this.netOut = ByteBuffer.allocate(packetSize).flip();
    }

    // ---- read side ----

    /** Unwraps one record from what arrived into {@code dst}, or into the held bytes if {@code dst} is null. */
    SSLEngineResult unwrap(ByteBuffer dst) throws SSLException {
        netIn.flip();
        SSLEngineResult result;
        try {
            if (dst == null) {
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

    /** Reads what the stream has (blocking) after what arrived before: the count, or -1 at its end. */
    int receive(InputStream in) throws IOException {
        makeRoomToReceive();
        int n = in.read(netIn.array(), netIn.arrayOffset() + netIn.position(), netIn.remaining());
        if (n > 0) netIn.position(netIn.position() + n);
        return n;
    }

    /** Reads what the channel has now after what arrived before: the count, or -1 at its end. */
    int receive(ReadableByteChannel channel) throws IOException {
        makeRoomToReceive();
        return channel.read(netIn);
    }

    /** A full buffer that still holds no whole record grows to the session's packet size. */
    private void makeRoomToReceive() throws SSLException {
        if (netIn.hasRemaining()) return;
        int size = engine.getSession().getPacketBufferSize();
        if (size <= netIn.capacity()) {
            throw new SSLException("a TLS record larger than the session's " + size + "-byte packets");
        }
        netIn = ByteBuffer.allocate(size).put(netIn.flip());
    }

    /** Makes the held decrypted bytes' buffer big enough for the session's largest record. */
    void growHeld() {
        int size = Math.max(engine.getSession().getApplicationBufferSize(), appIn.remaining() + appIn.capacity());
        appIn = ByteBuffer.allocate(size).put(appIn).flip();
    }

    /** Moves held decrypted bytes into {@code dst}: the count. */
    int drainHeld(ByteBuffer dst) {
        int n = Math.min(appIn.remaining(), dst.remaining());
        int limit = appIn.limit();
        appIn.limit(appIn.position() + n);
        dst.put(appIn);
        appIn.limit(limit);
        return n;
    }

    /** How many decrypted bytes are held. */
    int held() {
        return appIn.remaining();
    }

    /** Whether a whole record arrived and waits to be unwrapped. */
    boolean wholeRecordArrived() {
        int arrived = netIn.position();
        if (arrived < RECORD_HEADER_BYTES) return false;
        int length = ((netIn.get(3) & 0xff) << 8) | (netIn.get(4) & 0xff);
        return arrived >= RECORD_HEADER_BYTES + length;
    }

    /** Reads and drops what the stream has without blocking (what arrived and will never be read). */
    void discard(InputStream in) throws IOException {
        netIn.clear();
        int n;
        while ((n = Math.min(in.available(), netIn.capacity())) > 0) {
            in.readNBytes(netIn.array(), netIn.arrayOffset(), n);
        }
    }

    /** Reads and drops what the channel has now, up to a bound: a sender that never stops is not waited for. */
    void discard(ReadableByteChannel channel) throws IOException {
        for (int i = 0; i < 64; i++) {
            netIn.clear();
            if (channel.read(netIn) <= 0) return;
        }
    }

    // ---- write side ----

    /** Wraps from {@code src} after what is held to send, growing that buffer if a record would not fit. */
    SSLEngineResult wrap(ByteBuffer src) throws SSLException {
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

    /** Writes all that is held to send, blocking. */
    void sendAll(OutputStream out) throws IOException {
        if (!netOut.hasRemaining()) return;
        out.write(netOut.array(), netOut.arrayOffset() + netOut.position(), netOut.remaining());
        netOut.position(netOut.limit());
    }

    /** Writes what the channel takes now of what is held to send: true if nothing is left. */
    boolean send(WritableByteChannel channel) throws IOException {
        while (netOut.hasRemaining()) {
            if (channel.write(netOut) == 0) return false;
        }
        return true;
    }

    // ---- either ----

    /** Runs the engine's delegated tasks on this thread: the handshake status after them. */
    HandshakeStatus runTasks() {
        Runnable task;
        while ((task = engine.getDelegatedTask()) != null) {
            task.run();
        }
        return engine.getHandshakeStatus();
    }
}
