package io.raftkv.transport.tcp;

import io.raftkv.raft.Message;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The transport's parts are classes of their own, but they all log under the one logger name the docs give
 * for the TCP transport ({@code io.raftkv.transport.tcp.TcpTransport}), so an operator's logging set-up
 * for it still sees everything: the facade's, the acceptor's, a peer link's and its dialler's records.
 */
class TcpTransportLoggingTest {
    @Test
    void everyPartLogsUnderTheTransportsName() throws IOException {
        Logger parent = Logger.getLogger("io.raftkv.transport.tcp");
        Level before = parent.getLevel();
        boolean useParentHandlers = parent.getUseParentHandlers();
        List<LogRecord> seen = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override public void publish(LogRecord r) {
                r.getSourceClassName(); // inferred from the stack of the thread that logs, so now
                seen.add(r);
            }
            @Override public void flush() { }
            @Override public void close() { }
        };
        capture.setLevel(Level.ALL);
        parent.addHandler(capture);
        parent.setUseParentHandlers(false); // the console stays quiet
        parent.setLevel(Level.ALL);
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(2);
        // Node 2 never starts: node 1 cannot reach it (the dialler logs), and its queue of 2 fills (the link logs).
        TcpTransport node1 = new TcpTransport(1, peers, "c", m -> { }, new FrameCodec(), 2);
        try {
            node1.start();
            for (int i = 0; i < 8; i++) node1.send(new Message.Heartbeat(1, 2, 1, i, 0));
            node1.send(new Message.Heartbeat(1, 7, 1, 0, 0)); // not a peer: the facade logs
            try (Socket s = new Socket()) { // not a raftkv peer: the acceptor refuses it, and logs
                s.connect(node1.localAddress());
                s.getOutputStream().write("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                s.getOutputStream().flush();
                s.getInputStream().read();
            }
            Set<String> parts = Set.of(TcpTransport.class.getName(), Acceptor.class.getName(), PeerLink.class.getName(),
                    PeerDialer.class.getName());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!sources(seen).containsAll(parts) && System.nanoTime() < deadline) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
            }
            assertTrue(sources(seen).containsAll(parts), "records from " + parts + ", got them from " + sources(seen));
            assertEquals(Set.of(TcpTransport.class.getName()),
                    new TreeSet<>(seen.stream().map(LogRecord::getLoggerName).toList()));
        } finally {
            node1.close();
            parent.removeHandler(capture);
            parent.setUseParentHandlers(useParentHandlers);
            parent.setLevel(before);
        }
    }

    private static Set<String> sources(List<LogRecord> records) {
        return new TreeSet<>(records.stream().map(LogRecord::getSourceClassName).filter(n -> n != null).toList());
    }
}
