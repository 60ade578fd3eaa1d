package io.raftkv.transport.tcp;

import io.raftkv.raft.Message;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every test of {@link TcpTransportTest} again, with the peers' connections read by the node's thread
 * ({@link TcpTransport#pollInbound()}): here a platform thread per transport that waits on it as a node
 * does, instead of reader threads.
 */
class PolledTcpTransportTest extends TcpTransportTest {
    private final List<Thread> drivers = new ArrayList<>();
    private volatile boolean stopping;

    @Override
    TcpTransport transport(int id, Map<Integer, InetSocketAddress> peers, String cluster, ConcurrentLinkedQueue<Message> inbox) {
        TcpTransport t = secured(new TcpTransport(id, peers, cluster, inbox::add).pollInbound());
        closedAfter(t);
        // As a node's loop: poll, then wait on the transport (a wake-up ends the wait).
        drivers.add(Thread.ofPlatform().daemon().name("node-" + id + "-loop").start(() -> {
            while (!stopping) {
                t.poll();
                t.await();
            }
        }));
        return t;
    }

    @Override
    boolean readersOnNodeThread() {
        return true;
    }

    /** The drivers stop before the transports close, as a node's thread does before it closes its transport. */
    @AfterEach
    void stopDrivers() throws InterruptedException {
        stopping = true;
        for (Thread d : drivers) {
            while (d.isAlive()) {
                for (TcpTransport t : transports()) t.wakeup();
                d.join(100);
            }
        }
    }

    @Test
    void aWakeUpBeforeTheWaitEndsTheWaitAtOnce() throws Exception {
        TcpTransport t = closedAfter(new TcpTransport(1, Map.of(1, new InetSocketAddress("127.0.0.1", 0)), "c", m -> {})
                .pollInbound().start());
        assertTrue(t.polling());
        t.wakeup();
        Thread waiter = Thread.ofPlatform().start(t::await);
        waiter.join(Duration.ofSeconds(10));
        assertFalse(waiter.isAlive(), "a wake-up given before the wait must not be lost");
    }
}
