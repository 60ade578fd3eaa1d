package io.raftkv.frontend;

import io.raftkv.transport.tcp.Connection;
import io.raftkv.transport.tcp.InboundProtocol;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Serves gRPC on a node's peer port: a connection that opens with the HTTP/2 preface ("PRI * HTTP/2.0")
 * is spliced, byte for byte, to the node's gRPC server on a loopback port of its own.
 *
 * <p>Why a splice: gRPC's servers own their listening sockets and take no connection accepted elsewhere,
 * and the peer port must stay the transport's (peers and the client protocol are told apart there by their
 * first bytes). The splice costs one loopback hop on gRPC calls to a server only; peer traffic and the front
 * end's own requests (the raftkv client protocol) do not pass through it.
 */
final class GrpcSplice implements InboundProtocol {
    /** "PRI ", the first four bytes of every HTTP/2 connection. */
    static final int HTTP2_PREFACE_MAGIC = 0x50524920;
    private static final byte[] MAGIC_BYTES = "PRI ".getBytes(StandardCharsets.US_ASCII);
    private static final int CONNECT_TIMEOUT_MILLIS = 1000;

    private final CompletableFuture<InetSocketAddress> target = new CompletableFuture<>();

    /** Where the gRPC server listens, once it does; connections that come earlier wait for it (up to 5 s). */
    void target(InetSocketAddress address) {
        target.complete(address);
    }

    @Override
    public int magic() {
        return HTTP2_PREFACE_MAGIC;
    }

    @Override
    public void serve(Connection connection, DataInputStream in) throws IOException {
        Socket socket = connection.socket();
        InetSocketAddress to;
        try {
            to = target.get(5, TimeUnit.SECONDS);
        } catch (TimeoutException | ExecutionException e) {
            throw new IOException("the gRPC server is not up", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while waiting for the gRPC server", e);
        }
        try (Socket inner = new Socket()) {
            inner.setTcpNoDelay(true);
            inner.connect(to, CONNECT_TIMEOUT_MILLIS);
            OutputStream toServer = inner.getOutputStream();
            toServer.write(MAGIC_BYTES); // the transport read them to tell the protocol
            toServer.flush();
            Thread back = Thread.ofVirtual().name("grpc-splice-back").start(() -> {
                try {
                    copy(inner.getInputStream(), connection.outputStream());
                    if (!connection.secure()) socket.shutdownOutput(); // under TLS, the connection's close ends it
                } catch (IOException ignored) {
                    // Either side went away; the forward copy ends too.
                }
            });
            try {
                copy(in, toServer);
                inner.shutdownOutput();
                back.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                back.interrupt();
            }
        }
    }

    /** Copies until end of stream, flushing each read at once: gRPC is request and answer, not a bulk stream. */
    private static void copy(InputStream from, OutputStream to) throws IOException {
        byte[] buf = new byte[16 * 1024];
        for (int n; (n = from.read(buf)) >= 0; ) {
            to.write(buf, 0, n);
            to.flush();
        }
    }
}
