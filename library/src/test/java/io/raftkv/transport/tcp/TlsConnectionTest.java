package io.raftkv.transport.tcp;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.Security;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * {@link TlsConnection} over loopback sockets, with the certificates of {@code src/test/resources/tls}: the
 * handshake and its failures, blocking and selector-driven I/O, back-pressure, full duplex, close.
 *
 * <p>The data sent and the sizes of the writes come from a seed, printed; {@code -Dtls.seed=S} replays S.
 * The JDK's TLS 1.3 key limit is lowered to 512 KiB (in {@code @BeforeAll}, so only where this class
 * runs) so that the megabytes sent make both sides update their keys, and the cases that send them check
 * that keys were updated.
 * The JDK reads the limit once per JVM, at its first TLS use, and the change holds for every later TLS
 * test: so this class runs alone, in a JVM of its own, the {@code tls-key-limits} execution in
 * library/pom.xml, which runs only the classes tagged so (this one), and which the other tests' JVM leaves
 * out.
 */
@Tag("tls-key-limits")
class TlsConnectionTest {
    private static final char[] PASSWORD = "changeit".toCharArray();
    private static final int TIMEOUT_MILLIS = 10_000;
    private static final int MEGABYTES = 1 << 20;
    private static final long SEED = seed();

    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final Random random = new Random(SEED);

    private static long seed() {
        String given = System.getProperty("tls.seed", "").trim();
        return given.isEmpty() ? System.nanoTime() : Long.parseLong(given);
    }

    @BeforeAll
    static void lowerTheKeyLimit() {
        Security.setProperty("jdk.tls.keyLimits",
                "AES/GCM/NoPadding KeyUpdate 2^19, ChaCha20-Poly1305 KeyUpdate 2^19");
        System.out.println("TlsConnectionTest: seed " + SEED + "; replay with -Dtls.seed=" + SEED);
    }

    @AfterEach
    void stopThreads() {
        threads.shutdownNow();
    }

    // ---- the handshake ----

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void mutualAuthenticationThenDataBothWays(String protocol) throws Exception {
        try (Pair pair = connect(context("node", "ca"), context("client", "ca"), protocol, false)) {
            assertEquals(protocol, pair.serverEngine.getSession().getProtocol());
            assertEquals("CN=operator", subject(pair.server.peerCertificates()));
            assertEquals("CN=raftkv node", subject(pair.client.peerCertificates()));
            assertTrue(pair.server.secure());
            assertNull(pair.server.channel(), "accepted by a plain server socket");
            assertEquals(String.valueOf(pair.client.socket().getRemoteSocketAddress()), pair.client.toString());

            pair.client.outputStream().write("hello from the client".getBytes(StandardCharsets.UTF_8));
            assertEquals("hello from the client", text(pair.server.inputStream(), 21));
            pair.server.outputStream().write("and from the node".getBytes(StandardCharsets.UTF_8));
            assertEquals("and from the node", text(pair.client.inputStream(), 17));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void aClientWhoseCertificateTheNodeDoesNotTrustIsRefused(String protocol) throws Exception {
        ServerSocket listener = listen();
        CountDownLatch clientSawIt = new CountDownLatch(1);
        Future<IOException> server = threads.submit(() -> {
            try (TlsConnection connection = accept(listener, context("node", "ca"), protocol)) {
                IOException failure = assertThrows(IOException.class, connection::handshake);
                clientSawIt.await(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS); // it reads the alert before we close
                return failure;
            } finally {
                listener.close();
            }
        });
        try (TlsConnection client = dial(listener, context("stranger", "ca", true), protocol)) {
            // In TLS 1.3 the client's part of the handshake ends before the node has checked its certificate:
            // then the refusal comes with the first read.
            IOException failure = assertThrows(IOException.class, () -> {
                client.handshake();
                client.inputStream().read();
            });
            clientSawIt.countDown();
            System.out.println("TlsConnectionTest: " + protocol + " stranger refused; the client hears: " + failure.getMessage());
            assertMentionsCertificate(failure);
        }
        IOException serverFailure = server.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        System.out.println("TlsConnectionTest: " + protocol + " stranger refused; the node says: " + serverFailure.getMessage());
        assertTrue(serverFailure instanceof SSLHandshakeException, String.valueOf(serverFailure));
        assertMentionsCertificate(serverFailure);
    }

    @Test
    void aClientInClearTextIsToldApart() throws Exception {
        try (ServerSocket listener = listen()) {
            Future<IOException> server = threads.submit(() -> {
                try (TlsConnection connection = accept(listener, context("node", "ca"), "TLSv1.3")) {
                    return assertThrows(IOException.class, connection::handshake);
                }
            });
            try (Socket client = new Socket(listener.getInetAddress(), listener.getLocalPort())) {
                OutputStream out = client.getOutputStream();
                out.write(new byte[] {0x52, 0x4B, 0x56, 0x31});
                out.write("this is not TLS, just some clear text".getBytes(StandardCharsets.US_ASCII));
                IOException failure = server.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
                assertTrue(failure.getMessage().contains("does not speak TLS"), failure.getMessage());
            }
        }
    }

    @Test
    void aSilentClientTimesOut() throws Exception {
        try (ServerSocket listener = listen();
             Socket client = new Socket(listener.getInetAddress(), listener.getLocalPort());
             Socket accepted = listener.accept()) {
            accepted.setSoTimeout(200);
            TlsConnection connection = new TlsConnection(accepted, serverEngine(context("node", "ca"), "TLSv1.3"), null);
            SocketTimeoutException failure = assertThrows(SocketTimeoutException.class, connection::handshake);
            assertTrue(failure.getMessage().startsWith("no complete TLS handshake within 200 ms"), failure.getMessage());
            assertEquals(200, accepted.getSoTimeout(), "the socket's timeout is left as it was");
            assertTrue(client.isConnected());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"TLSv1.3", "TLSv1.2"})
    void aClientWithNoCertificateTheNodeAsksForIsRefused(String protocol) throws Exception {
        // The JDK's key manager presents no certificate when none comes from a CA the node names.
        ServerSocket listener = listen();
        CountDownLatch clientSawIt = new CountDownLatch(1);
        Future<IOException> server = threads.submit(() -> {
            try (TlsConnection connection = accept(listener, context("node", "ca"), protocol)) {
                IOException failure = assertThrows(IOException.class, connection::handshake);
                clientSawIt.await(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
                return failure;
            } finally {
                listener.close();
            }
        });
        try (TlsConnection client = dial(listener, context("stranger", "ca"), protocol)) {
            IOException failure = assertThrows(IOException.class, () -> {
                client.handshake();
                client.inputStream().read();
            });
            clientSawIt.countDown();
            System.out.println("TlsConnectionTest: " + protocol + " no certificate; the client hears: " + failure.getMessage());
        }
        IOException serverFailure = server.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        System.out.println("TlsConnectionTest: " + protocol + " no certificate; the node says: " + serverFailure.getMessage());
        assertMentionsCertificate(serverFailure);
    }

    @Test
    void theWholeHandshakeMustEndWithinTheTimeoutNotEachRead() throws Exception {
        // A client that sends a byte every 50 ms never lets one read wait 300 ms: only a deadline stops it.
        try (ServerSocket listener = listen();
             Socket client = new Socket(listener.getInetAddress(), listener.getLocalPort());
             Socket accepted = listener.accept()) {
            ScheduledExecutorService drip = Executors.newSingleThreadScheduledExecutor();
            try {
                OutputStream out = client.getOutputStream();
                out.write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00}); // a handshake record of 512 bytes, to come
                drip.scheduleAtFixedRate(() -> {
                    try {
                        out.write(1);
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }, 50, 50, TimeUnit.MILLISECONDS);
                accepted.setSoTimeout(300);
                TlsConnection connection = new TlsConnection(accepted, serverEngine(context("node", "ca"), "TLSv1.3"), null);
                long start = System.nanoTime();
                SocketTimeoutException failure = assertThrows(SocketTimeoutException.class, connection::handshake);
                long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                assertTrue(failure.getMessage().startsWith("no complete TLS handshake within 300 ms"), failure.getMessage());
                assertTrue(tookMillis < 5_000, "gave up after " + tookMillis + " ms, not at the deadline");
            } finally {
                drip.shutdownNow();
            }
        }
    }

    // ---- non-blocking ----

    @ParameterizedTest
    @ValueSource(ints = {64 * 1024, 7})
    void aSelectorDrivenReaderReceivesEverything(int dstSize) throws Exception {
        byte[] data = randomBytes(dstSize > 1000 ? 6 * MEGABYTES : 2 * MEGABYTES);
        try (Pair pair = connect(context("node", "ca"), context("client", "ca"), "TLSv1.3", true)) {
            Future<?> writer = threads.submit(() -> {
                writeInRandomChunks(pair.client.outputStream(), data, new Random(SEED + 1));
                return null;
            });
            pair.server.channel().configureBlocking(false);
            try (Selector selector = Selector.open()) {
                pair.server.channel().register(selector, SelectionKey.OP_READ);
                ByteBuffer dst = ByteBuffer.allocate(dstSize);
                byte[] received = readWithSelector(pair.server, selector, dst, data.length);
                writer.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
                assertArrayEquals(data, received, "seed " + SEED);
                assertKeyUpdates(pair.client, data.length, "the client, writing");
                assertKeyUpdates(pair.server, 1, "the node, answering");

                pair.client.close();
                assertEquals(0, readWithSelector(pair.server, selector, dst, Integer.MAX_VALUE).length, "the end");
                assertEquals(-1, pair.server.read(dst));
            }
        }
    }

    @Test
    void aNonBlockingWriterHoldsWhatTheSocketDoesNotTakeUntilTheReaderResumes() throws Exception {
        byte[] data = randomBytes(4 * MEGABYTES);
        try (Pair pair = connect(context("node", "ca"), context("client", "ca"), "TLSv1.3", true)) {
            CountDownLatch resume = new CountDownLatch(1);
            Future<byte[]> reader = threads.submit(() -> {
                assertTrue(resume.await(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS), "the writer never felt back-pressure");
                return pair.client.inputStream().readNBytes(data.length);
            });
            TlsConnection writer = pair.server;
            writer.channel().configureBlocking(false);
            int tookLess = 0;
            int flushFalse = 0;
            try (Selector selector = Selector.open()) {
                SelectionKey key = writer.channel().register(selector, 0);
                ByteBuffer src = ByteBuffer.wrap(data);
                boolean resumed = false;
                while (true) {
                    if (src.hasRemaining()) {
                        int offered = Math.min(src.remaining(), 1 + random.nextInt(100_000));
                        ByteBuffer chunk = src.slice(src.position(), offered);
                        int took = writer.write(chunk);
                        assertEquals(took, chunk.position());
                        src.position(src.position() + took);
                        if (took < offered) tookLess++;
                    }
                    boolean flushed = writer.flush();
                    if (flushed && !src.hasRemaining()) break;
                    if (!flushed) flushFalse++;
                    if (!resumed) {
                        // Until the reader resumes nothing drains the socket: writing on, a write must take less.
                        assertTrue(src.hasRemaining(), "4 MB fit in the sockets' buffers");
                        if (tookLess == 0 || flushFalse == 0) continue;
                        resumed = true;
                        resume.countDown();
                    }
                    if (!flushed) {
                        key.interestOps(SelectionKey.OP_WRITE);
                        awaitSelected(selector, "writable");
                        key.interestOps(0);
                    }
                }
            }
            assertTrue(tookLess > 0 && flushFalse > 0, "took less " + tookLess + " times, flush false " + flushFalse);
            assertArrayEquals(data, reader.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS), "seed " + SEED);
            assertKeyUpdates(writer, data.length, "the node, writing");
        }
    }

    @Test
    void theDiallersProbeSeesNothingUntilTheNodeCloses() throws Exception {
        try (Pair pair = connect(context("node", "ca"), context("client", "ca"), "TLSv1.3", true)) {
            TlsConnection probe = pair.client;
            probe.channel().configureBlocking(false);
            ByteBuffer one = ByteBuffer.allocate(1);
            try (Selector selector = Selector.open()) {
                probe.channel().register(selector, SelectionKey.OP_READ);
                awaitSelected(selector, "the node's session tickets"); // TLS 1.3 sends them after the handshake
                assertEquals(0, probe.read(one), "session tickets are not data");
                assertFalse(probe.hasBufferedInput());
                assertEquals(0, one.position());

                pair.server.close();
                int n;
                while ((n = probe.read(one)) == 0) {
                    assertFalse(probe.hasBufferedInput());
                    awaitSelected(selector, "the node's close");
                }
                assertEquals(-1, n);
                assertEquals(-1, probe.read(one), "the end stays the end");
            }
        }
    }

    // ---- both ways at once, and close ----

    @ParameterizedTest(name = "non-blocking: {0}")
    @ValueSource(booleans = {false, true})
    void fullDuplexWithAReaderAndAWriterOnEachSide(boolean nonBlocking) throws Exception {
        byte[] toServer = randomBytes(5 * MEGABYTES);
        byte[] toClient = randomBytes(5 * MEGABYTES);
        try (Pair pair = connect(context("node", "ca"), context("client", "ca"), "TLSv1.3", nonBlocking)) {
            if (nonBlocking) {
                pair.client.channel().configureBlocking(false);
                pair.server.channel().configureBlocking(false);
            }
            Future<?> clientWriter = threads.submit(writer(pair.client, toServer, SEED + 2));
            Future<?> serverWriter = threads.submit(writer(pair.server, toClient, SEED + 3));
            Future<byte[]> serverReader = threads.submit(reader(pair.server, toServer.length));
            Future<byte[]> clientReader = threads.submit(reader(pair.client, toClient.length));
            clientWriter.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            serverWriter.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            assertArrayEquals(toServer, serverReader.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS), "seed " + SEED);
            assertArrayEquals(toClient, clientReader.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS), "seed " + SEED);
            assertKeyUpdates(pair.client, toServer.length, "the client");
            assertKeyUpdates(pair.server, toClient.length, "the node");
        }
    }

    /**
     * A blocking reader that meets a key update asking for an answer must not wait for the socket to take the
     * answer. Here the node's socket is full of what it wrote and the client has not read, and no writer of
     * the node is at work (it wrote without blocking, then the channel turned blocking: as a blocking writer
     * whose last write just filled the socket leaves it). The client sends megabytes, its key updates among
     * them, and reads only once the node has read them all, as a client that sends its requests before it
     * reads the answers. A reader that sent the answer itself would wait for the client to read, and the
     * client, in its write, for the node to read: neither would. The answer goes out first in the node's next
     * write instead, as TLS 1.3 asks (before any more data).
     */
    @Test
    void aBlockingReaderDueToAnswerAKeyUpdateNeverWaitsForThePeerToRead() throws Exception {
        byte[] toServer = randomBytes(4 * MEGABYTES);
        try (Pair pair = connect(context("node", "ca"), context("client", "ca"), "TLSv1.3", true)) {
            TlsConnection node = pair.server;
            node.channel().configureBlocking(false);
            ByteArrayOutputStream nodeWrote = new ByteArrayOutputStream();
            byte[] chunk = new byte[16 * 1024];
            // Until the socket takes nothing for half a second: as the client's kernel packs what it holds, it
            // takes more for a while after the first refusal.
            for (int refused = 0; refused < 10; ) {
                random.nextBytes(chunk);
                int took = node.write(ByteBuffer.wrap(chunk));
                nodeWrote.write(chunk, 0, took);
                if (took == chunk.length) continue;
                refused = took == 0 ? refused + 1 : 0;
                assertTrue(nodeWrote.size() < 64 * MEGABYTES, "the socket never filled");
                Thread.sleep(50);
            }
            assertFalse(node.flush(), "the node's socket is full");
            node.channel().configureBlocking(true);

            Future<byte[]> nodeReader = threads.submit(() -> node.inputStream().readNBytes(toServer.length));
            Future<?> clientWriter = threads.submit(() -> {
                writeInRandomChunks(pair.client.outputStream(), toServer, new Random(SEED + 4));
                return null;
            });
            try {
                assertArrayEquals(toServer, nodeReader.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS), "seed " + SEED);
                clientWriter.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                fail("the node's reader and the client's writer wait for each other: the reader, due to answer "
                        + "a key update, waits for the client to read (" + nodeWrote.size() + " bytes unread)");
            }
            assertKeyUpdates(pair.client, toServer.length, "the client, writing");

            // The client reads at last: all the node wrote, and then what its next write sends, the answer first.
            byte[] last = "and the answer".getBytes(StandardCharsets.UTF_8);
            Future<byte[]> clientReader = threads.submit(
                    () -> pair.client.inputStream().readNBytes(nodeWrote.size() + last.length));
            node.outputStream().write(last);
            node.outputStream().flush();
            nodeWrote.write(last);
            assertArrayEquals(nodeWrote.toByteArray(), clientReader.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS),
                    "seed " + SEED);
            assertKeyUpdates(node, 1, "the node, answering");
        }
    }

    @Test
    void closeEndsTheOtherSidesStreamAndMayBeRepeated() throws Exception {
        try (Pair pair = connect(context("node", "ca"), context("client", "ca"), "TLSv1.3", true)) {
            pair.server.outputStream().write(7); // a request and its answer, as a client's session goes
            assertEquals(7, pair.client.inputStream().read());
            pair.client.outputStream().write(42);
            pair.client.close();
            pair.client.close();
            assertFalse(pair.client.isOpen());
            assertThrows(ClosedChannelException.class, () -> pair.client.read(ByteBuffer.allocate(1)));

            InputStream in = pair.server.inputStream();
            assertEquals(42, in.read());
            assertEquals(-1, in.read());
            assertEquals(-1, pair.server.read(ByteBuffer.allocate(1)));
        }
    }

    // ---- fixtures ----

    /** Two connections over loopback, handshaken; the node's accepted by a server socket with a channel or not. */
    private record Pair(TlsConnection client, TlsConnection server, SSLEngine serverEngine) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            try {
                client.close();
            } finally {
                server.close();
            }
        }
    }

    private Pair connect(SSLContext serverContext, SSLContext clientContext, String protocol, boolean channels)
            throws Exception {
        SSLEngine serverEngine = serverEngine(serverContext, protocol);
        Future<TlsConnection> server;
        TlsConnection client;
        if (channels) {
            try (ServerSocketChannel listener = ServerSocketChannel.open()) {
                listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                server = threads.submit(acceptAndHandshake(() -> listener.accept().socket(), serverEngine));
                SocketChannel channel = SocketChannel.open();
                channel.setOption(StandardSocketOptions.SO_RCVBUF, 32 * 1024); // back-pressure comes soon
                channel.connect(listener.getLocalAddress());
                client = handshaken(channel.socket(), clientContext, protocol);
            }
        } else {
            try (ServerSocket listener = listen()) {
                server = threads.submit(acceptAndHandshake(listener::accept, serverEngine));
                client = handshaken(new Socket(listener.getInetAddress(), listener.getLocalPort()), clientContext, protocol);
            }
        }
        return new Pair(client, server.get(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS), serverEngine);
    }

    private static TlsConnection handshaken(Socket socket, SSLContext context, String protocol) throws IOException {
        TlsConnection client = new TlsConnection(socket, clientEngine(context, protocol), null);
        socket.setSoTimeout(TIMEOUT_MILLIS);
        client.handshake();
        return client;
    }

    /** Accepts as the node does: reads the first four bytes in clear, then hands them to the connection. */
    private static Callable<TlsConnection> acceptAndHandshake(Callable<Socket> accept, SSLEngine engine) {
        return () -> {
            Socket socket = accept.call();
            socket.setSendBufferSize(32 * 1024);
            socket.setSoTimeout(TIMEOUT_MILLIS);
            byte[] first = socket.getInputStream().readNBytes(4);
            TlsConnection connection = new TlsConnection(socket, engine, ByteBuffer.wrap(first));
            connection.handshake();
            return connection;
        };
    }

    private static TlsConnection accept(ServerSocket listener, SSLContext context, String protocol) throws IOException {
        Socket socket = listener.accept();
        socket.setSoTimeout(TIMEOUT_MILLIS);
        byte[] first = socket.getInputStream().readNBytes(4);
        return new TlsConnection(socket, serverEngine(context, protocol), ByteBuffer.wrap(first));
    }

    private static TlsConnection dial(ServerSocket listener, SSLContext context, String protocol) throws IOException {
        Socket socket = new Socket(listener.getInetAddress(), listener.getLocalPort());
        socket.setSoTimeout(TIMEOUT_MILLIS);
        return new TlsConnection(socket, clientEngine(context, protocol), null);
    }

    private static ServerSocket listen() throws IOException {
        return new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    }

    private static SSLEngine serverEngine(SSLContext context, String protocol) {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        engine.setNeedClientAuth(true);
        engine.setEnabledProtocols(new String[] {protocol});
        return engine;
    }

    private static SSLEngine clientEngine(SSLContext context, String protocol) {
        SSLEngine engine = context.createSSLEngine("127.0.0.1", 0);
        engine.setUseClientMode(true);
        engine.setEnabledProtocols(new String[] {protocol});
        return engine;
    }

    /** A context with {@code keys}.p12's key and certificate, trusting what {@code trust}.p12 holds. */
    private static SSLContext context(String keys, String trust) throws Exception {
        return context(keys, trust, false);
    }

    /**
     * As above; {@code anyIssuer}: the client presents its certificate even if the node asks for another CA's
     * (the JDK's key manager would present none, and the node would only say that none came).
     */
    private static SSLContext context(String keys, String trust, boolean anyIssuer) throws Exception {
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keyStore(keys), PASSWORD);
        KeyManager[] managers = keyManagers.getKeyManagers();
        if (anyIssuer) managers = new KeyManager[] {new AnyIssuer((X509ExtendedKeyManager) managers[0])};
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance("PKIX");
        trustManagers.init(keyStore(trust));
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(managers, trustManagers.getTrustManagers(), null);
        return context;
    }

    /** A client's key manager that ignores which CAs the server asks for. */
    private static final class AnyIssuer extends X509ExtendedKeyManager {
        private final X509ExtendedKeyManager keys;

        AnyIssuer(X509ExtendedKeyManager keys) {
            this.keys = keys;
        }

        @Override
        public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
            return keys.chooseEngineClientAlias(keyType, null, engine);
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return keys.getClientAliases(keyType, null);
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return keys.chooseClientAlias(keyType, null, socket);
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return keys.getServerAliases(keyType, issuers);
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return keys.chooseServerAlias(keyType, issuers, socket);
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return keys.getCertificateChain(alias);
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return keys.getPrivateKey(alias);
        }
    }

    private static KeyStore keyStore(String name) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (InputStream in = TlsConnectionTest.class.getResourceAsStream("/tls/" + name + ".p12")) {
            if (in == null) throw new IllegalStateException("no test key store tls/" + name + ".p12");
            store.load(in, PASSWORD);
        }
        return store;
    }

    private static String subject(Certificate[] chain) {
        assertTrue(chain != null && chain.length > 0, "a verified peer chain");
        return ((X509Certificate) chain[0]).getSubjectX500Principal().getName();
    }

    private static void assertMentionsCertificate(IOException failure) {
        String messages = "";
        for (Throwable t = failure; t != null; t = t.getCause()) messages += t.getMessage() + " / ";
        assertTrue(messages.toLowerCase().contains("certificate"), messages);
    }

    /**
     * Asserts that {@code connection} sent key updates after the handshake: at least one per 512 KiB of the
     * {@code written} bytes it encrypted, less one (or at least one, for an answer). None means the lowered
     * key limit did not hold in this JVM, and the case did not test what it is for.
     */
    private static void assertKeyUpdates(TlsConnection connection, int written, String who) {
        int expected = Math.max(1, (written >> 19) - 1);
        int sent = connection.postHandshakeWraps();
        System.out.println("TlsConnectionTest: " + who + " sent " + sent + " key updates after the handshake");
        assertTrue(sent >= expected, who + " sent " + sent + " key updates after the handshake, not at least "
                + expected + ": was the JDK's key limit (jdk.tls.keyLimits) lowered before its first TLS use?");
    }

    private static String text(InputStream in, int length) throws IOException {
        return new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    private byte[] randomBytes(int length) {
        byte[] bytes = new byte[length];
        random.nextBytes(bytes);
        return bytes;
    }

    /** Writes {@code data} in chunks of random sizes: through the stream, or as a selector-driven writer does. */
    private static Callable<Void> writer(TlsConnection connection, byte[] data, long seed) {
        return () -> {
            Random sizes = new Random(seed);
            if (connection.blockingMode()) {
                writeInRandomChunks(connection.outputStream(), data, sizes);
                return null;
            }
            try (Selector selector = Selector.open()) {
                SelectionKey key = connection.channel().register(selector, 0);
                ByteBuffer src = ByteBuffer.wrap(data);
                while (true) {
                    if (src.hasRemaining()) {
                        int offered = Math.min(src.remaining(), 1 + sizes.nextInt(70_000));
                        ByteBuffer chunk = src.slice(src.position(), offered);
                        src.position(src.position() + connection.write(chunk));
                    }
                    boolean flushed = connection.flush();
                    if (flushed && !src.hasRemaining()) return null;
                    if (!flushed) {
                        key.interestOps(SelectionKey.OP_WRITE);
                        awaitSelected(selector, "writable");
                        key.interestOps(0);
                    }
                }
            }
        };
    }

    /** Reads {@code length} bytes: through the stream, or as a selector-driven reader does. */
    private static Callable<byte[]> reader(TlsConnection connection, int length) {
        return () -> {
            if (connection.blockingMode()) return connection.inputStream().readNBytes(length);
            try (Selector selector = Selector.open()) {
                connection.channel().register(selector, SelectionKey.OP_READ);
                return readWithSelector(connection, selector, ByteBuffer.allocate(16 * 1024), length);
            }
        };
    }

    private static void writeInRandomChunks(OutputStream out, byte[] data, Random sizes) throws IOException {
        for (int at = 0; at < data.length; ) {
            int n = Math.min(data.length - at, 1 + sizes.nextInt(sizes.nextBoolean() ? 100 : 70_000));
            out.write(data, at, n);
            at += n;
        }
        out.flush();
    }

    /** Reads as a selector-driven thread does, into {@code dst}, until {@code length} bytes or the end. */
    private static byte[] readWithSelector(TlsConnection connection, Selector selector, ByteBuffer dst, int length)
            throws IOException {
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        while (received.size() < length) {
            dst.clear().limit(Math.min(dst.capacity(), length - received.size()));
            int n = connection.read(dst);
            if (n > 0) {
                assertEquals(n, dst.position());
                received.write(dst.array(), 0, n);
            } else if (n < 0) {
                break;
            } else {
                assertFalse(connection.hasBufferedInput(), "read 0 though it says input is held");
                awaitSelected(selector, "readable");
            }
        }
        return received.toByteArray();
    }

    private static void awaitSelected(Selector selector, String what) throws IOException {
        selector.selectedKeys().clear();
        if (selector.select(TIMEOUT_MILLIS) == 0 && selector.selectedKeys().isEmpty()) {
            fail("not " + what + " within " + TIMEOUT_MILLIS + " ms");
        }
        selector.selectedKeys().clear();
    }
}
