package io.raftkv.transport.tcp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SocketChannel;
import java.security.cert.Certificate;

/**
 * One TCP connection, accepted or dialled, in clear ({@link PlainConnection}) or under TLS
 * ({@link TlsConnection}): what the transport's parts, and the protocols served beside the peers', read
 * and write through, so that none of them needs to know which.
 *
 * <p>Two ways to use it, as its socket's channel is blocking or not:
 * <ul>
 * <li>blocking: {@link #inputStream()} and {@link #outputStream()}, which honour the socket's
 *     {@code SO_TIMEOUT} when reading;</li>
 * <li>non-blocking (the channel configured so): {@link #read} returns 0 when nothing can be read now and
 *     -1 at the end; {@link #write} takes what it can. What a write took may still be held by the
 *     connection (a TLS record the socket did not take): it is written first by the next write or by
 *     {@link #flush()}, and the writer is done only when {@code flush()} says so. A read may leave bytes
 *     inside the connection that the selector will not report ({@link #hasBufferedInput()}): a reader
 *     reads again while it says so.</li>
 * </ul>
 * One thread may read while another writes; two may not read (or write) at once.
 */
public interface Connection extends ByteChannel {
    /** The socket underneath: its address, options and timeouts. */
    Socket socket();

    /** The channel a selector registers, or null if the socket has none (one accepted by a plain server socket). */
    SocketChannel channel();

    /** The blocking stream of what the other side sent (its channel, if any, must be blocking). */
    InputStream inputStream() throws IOException;

    /** The blocking stream to the other side (its channel, if any, must be blocking). */
    OutputStream outputStream() throws IOException;

    /** Reads what can be read now into {@code dst}: the count, 0 if nothing (non-blocking), or -1 at the end. */
    @Override
    int read(ByteBuffer dst) throws IOException;

    /** Takes what it can of {@code src} (all of it when blocking): the count taken. */
    @Override
    int write(ByteBuffer src) throws IOException;

    /** Writes what earlier writes left held, as far as the socket takes it: true when nothing is left. */
    boolean flush() throws IOException;

    /** Whether a read could return bytes that the socket no longer reports as readable. */
    boolean hasBufferedInput();

    /** The certificate chain the other side presented and this side verified, or null (in clear, or none presented). */
    Certificate[] peerCertificates();

    /** Whether this connection runs under TLS. */
    boolean secure();
}
