package io.raftkv.transport.tcp;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.security.cert.Certificate;

/** A {@link Connection} in clear: the socket's streams, or its channel, as they are. */
public final class PlainConnection implements Connection {
    private final Socket socket;
    private final SocketChannel channel;

    public PlainConnection(Socket socket) {
        this.socket = socket;
        this.channel = socket.getChannel();
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
    public InputStream inputStream() throws IOException {
        return socket.getInputStream();
    }

    @Override
    public OutputStream outputStream() throws IOException {
        return socket.getOutputStream();
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return channel.read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        return channel.write(src);
    }

    @Override
    public boolean flush() {
        return true;
    }

    @Override
    public boolean hasBufferedInput() {
        return false;
    }

    @Override
    public Certificate[] peerCertificates() {
        return null;
    }

    @Override
    public boolean secure() {
        return false;
    }

    @Override
    public boolean isOpen() {
        return !socket.isClosed();
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    @Override
    public String toString() {
        return String.valueOf(socket.getRemoteSocketAddress());
    }
}
