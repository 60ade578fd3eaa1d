package io.raftkv.transport.tcp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.IllegalBlockingModeException;
import java.util.Objects;

/**
 * A {@link TlsConnection}'s blocking streams: its reads and writes over the caller's arrays, wrapped in a
 * buffer kept while the caller passes the same array again, so that a steady reader or writer allocates
 * nothing. Like the connection, each stream serves one thread at a time. Closing either closes the
 * connection, as a socket's streams close their socket.
 */
final class TlsStreams {
    final InputStream in;
    final OutputStream out;

    TlsStreams(TlsConnection connection) {
        this.in = new In(connection);
        this.out = new Out(connection);
    }

    /** A buffer over {@code array}'s {@code [off, off + len)}: {@code last} again if it wraps the same array. */
    private static ByteBuffer window(ByteBuffer last, byte[] array, int off, int len) {
        Objects.checkFromIndexSize(off, len, array.length);
        ByteBuffer buffer = last != null && last.hasArray() && last.array() == array ? last : ByteBuffer.wrap(array);
        buffer.clear().limit(off + len).position(off);
        return buffer;
    }

    private static void checkBlocking(TlsConnection connection) {
        if (!connection.blockingMode()) throw new IllegalBlockingModeException();
    }

    /** The stream of what the other side sent: -1 at its close_notify or the socket's end. */
    private static final class In extends InputStream {
        private final TlsConnection connection;
        private final ByteBuffer one = ByteBuffer.allocate(1);
        private ByteBuffer last;

        In(TlsConnection connection) {
            this.connection = connection;
        }

        @Override
        public int read() throws IOException {
            one.clear();
            int n = read(one);
            return n < 0 ? -1 : one.get(0) & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                Objects.checkFromIndexSize(off, len, b.length);
                return 0;
            }
            ByteBuffer buffer = last = window(last, b, off, len);
            return read(buffer);
        }

        private int read(ByteBuffer buffer) throws IOException {
            checkBlocking(connection);
            int n;
            do {
                n = connection.read(buffer); // blocks: 0 only if a record for TLS itself came, so read on
            } while (n == 0);
            return n;
        }

        @Override
        public int available() {
            return connection.available();
        }

        @Override
        public void close() throws IOException {
            connection.close();
        }
    }

    /** The stream to the other side: each write goes out whole before it returns. */
    private static final class Out extends OutputStream {
        private final TlsConnection connection;
        private final ByteBuffer one = ByteBuffer.allocate(1);
        private ByteBuffer last;

        Out(TlsConnection connection) {
            this.connection = connection;
        }

        @Override
        public void write(int b) throws IOException {
            one.clear();
            one.put(0, (byte) b);
            write(one);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            ByteBuffer buffer = last = window(last, b, off, len);
            write(buffer);
        }

        private void write(ByteBuffer buffer) throws IOException {
            checkBlocking(connection);
            while (buffer.hasRemaining()) {
                connection.write(buffer);
            }
        }

        @Override
        public void flush() throws IOException {
            connection.flush();
        }

        @Override
        public void close() throws IOException {
            connection.close();
        }
    }
}
