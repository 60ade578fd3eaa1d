package io.raftkv.transport.tcp;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;

/**
 * One TLS handshake over a socket's blocking streams, within one deadline (the socket's
 * {@code SO_TIMEOUT}, if set, for the whole handshake, not for each read), whose failures say what
 * happened: a timeout, the other side closing, the engine's reason, or bytes that are not TLS at all.
 */
final class TlsHandshake {
    private static final System.Logger LOG = System.getLogger(TlsConnection.class.getName());
    private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);

    private final Socket socket;
    private final TlsRecords records;
    private final SSLEngine engine;
    private final InputStream in;
    private final OutputStream out;
    private final String peer;

    TlsHandshake(Socket socket, TlsRecords records, InputStream in, OutputStream out) {
        this.socket = socket;
        this.records = records;
        this.engine = records.engine;
        this.in = in;
        this.out = out;
        this.peer = String.valueOf(socket.getRemoteSocketAddress());
    }

    /**
     * Runs the handshake to its end; the socket's timeout is as it was afterwards.
     *
     * @throws SocketTimeoutException if no complete handshake came within the socket's timeout
     * @throws EOFException           if the other side closed inside the handshake
     * @throws SSLHandshakeException  if the engine failed it (after sending the other side its alert)
     */
    void run() throws IOException {
        int timeoutMillis = socket.getSoTimeout();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        try {
            loop(timeoutMillis, deadline);
        } catch (SocketTimeoutException e) {
            throw (IOException) new SocketTimeoutException(
                    "no complete TLS handshake within " + timeoutMillis + " ms from " + peer).initCause(e);
        } catch (SSLException e) {
            sendAlertQuietly();
            throw failure(e);
        } finally {
            restoreTimeout(timeoutMillis);
        }
    }

    private void loop(int timeoutMillis, long deadline) throws IOException {
        engine.beginHandshake();
        HandshakeStatus status = engine.getHandshakeStatus();
        while (status != HandshakeStatus.FINISHED && status != HandshakeStatus.NOT_HANDSHAKING) {
            switch (status) {
                case NEED_WRAP -> {
                    // Consecutive wraps pile up and leave together, before the next read.
                    SSLEngineResult result = records.wrap(EMPTY);
                    if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
                        records.sendAll(out);
                        throw new SSLHandshakeException("the TLS engine closed inside the handshake");
                    }
                    status = result.getHandshakeStatus() == HandshakeStatus.NEED_TASK
                            ? engine.getHandshakeStatus() : result.getHandshakeStatus();
                }
                case NEED_UNWRAP, NEED_UNWRAP_AGAIN -> status = unwrapOrReceive(timeoutMillis, deadline);
                case NEED_TASK -> status = records.runTasks();
                default -> throw new IllegalStateException("unexpected TLS handshake status " + status);
            }
        }
        records.sendAll(out);
    }

    /** Unwraps a handshake record, or, when no whole one arrived, sends what is held and receives more. */
    private HandshakeStatus unwrapOrReceive(int timeoutMillis, long deadline) throws IOException {
        SSLEngineResult result = records.unwrap(null); // data sent early (TLS 1.3 allows it) is held for reads
        switch (result.getStatus()) {
            case BUFFER_UNDERFLOW -> {
                records.sendAll(out); // this side's flight first: the other side waits for it
                if (timeoutMillis > 0) {
                    long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                    if (left <= 0) throw new SocketTimeoutException("the handshake's deadline passed");
                    socket.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
                }
                if (records.receive(in) < 0) {
                    throw new EOFException(peer + " closed the connection inside the TLS handshake");
                }
            }
            case BUFFER_OVERFLOW -> records.growHeld();
            case CLOSED -> throw new EOFException(peer + " closed the TLS session inside the handshake");
            case OK -> { }
        }
        return result.getStatus() == SSLEngineResult.Status.OK && result.getHandshakeStatus() != HandshakeStatus.NEED_TASK
                ? result.getHandshakeStatus() : engine.getHandshakeStatus();
    }

    /** The exception a handshake's {@code SSLException} becomes: the engine's reason, and with whom. */
    private SSLHandshakeException failure(SSLException e) {
        String reason = e.getMessage();
        for (Throwable t = e; t != null; t = t.getCause()) {
            String m = t.getMessage();
            if (m != null && (m.contains("nrecognized SSL message") || m.contains("plaintext connection"))) {
                reason = "it does not speak TLS (" + m + ")";
                break;
            }
        }
        SSLHandshakeException failure = new SSLHandshakeException("TLS handshake with " + peer + " failed: " + reason);
        failure.initCause(e);
        return failure;
    }

    /** After a failure, sends the alert the engine has for the other side, if it can: it learns why. */
    private void sendAlertQuietly() {
        try {
            for (int i = 0; i < 4 && !engine.isOutboundDone(); i++) {
                records.wrap(EMPTY);
            }
            records.sendAll(out);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not send a TLS alert to {0}: {1}", peer, e);
        }
    }

    /** Gives the socket back the timeout the deadline changed, unless it is closed by now. */
    private void restoreTimeout(int timeoutMillis) {
        try {
            socket.setSoTimeout(timeoutMillis);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not restore the timeout of {0}: {1}", peer, e);
        }
    }
}
