package io.raftkv.transport.tcp;

import io.raftkv.raft.Entry;
import io.raftkv.raft.Message;
import io.raftkv.transport.MessageSink;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The peer link's two ways of writing (the node's own thread into an idle socket, the writer thread for
 * the rest) keep every connection's frames whole and in order, through partial writes of 400 KB frames, a
 * receiver that stalls now and then, and receiver restarts; and the link comes back after each restart.
 * (A review's hammer test, made a regression test.) Replay with -Dlink.seed=N.
 */
class PeerLinkOrderTest {
    @ParameterizedTest(name = "sender on {0} threads")
    @ValueSource(strings = {"virtual", "platform"})
    void framesStayWholeAndInOrderThroughPartialWritesAndRestarts(String kind) {
        String given = System.getProperty("link.seed");
        long seed = given == null || given.isBlank() ? System.nanoTime() : Long.parseLong(given);
        System.out.println("PeerLinkOrderTest " + kind + " seed " + seed + " (replay with -Dlink.seed=" + seed + ")");
        Map<Integer, InetSocketAddress> peers = LoopbackPorts.reserve(2);
        AtomicLong last = new AtomicLong();
        AtomicLong received = new AtomicLong();
        AtomicLong outOfOrder = new AtomicLong();
        MessageSink sink = m -> {
            long seq = m instanceof Message.Heartbeat h ? h.commit() : ((Message.AppendRequest) m).leaderCommit();
            if (seq <= last.getAndSet(seq)) outOfOrder.incrementAndGet();
            received.incrementAndGet();
            if ((seq & 1023) == 0) LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(2)); // a slow receiver now and then
        };
        TcpTransport sender = new TcpTransport(1, peers, "c", m -> { })
                .threadFactory(kind.equals("platform") ? Thread.ofPlatform().daemon().factory() : Thread.ofVirtual().factory())
                .start();
        TcpTransport receiver = new TcpTransport(2, peers, "c", sink).start();
        long badFrames = 0;
        try {
            SplittableRandom random = new SplittableRandom(seed);
            byte[] big = new byte[400_000]; // far more than a socket takes at once: partial direct writes
            long seq = 0;
            int restarts = 0;
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
            long lastRestart = System.nanoTime();
            while (System.nanoTime() < end) {
                seq++;
                sender.send(random.nextInt(200) == 0
                        ? new Message.AppendRequest(1, 2, 1, 0, 0, List.of(new Entry(1, 1, Entry.Kind.COMMAND, big)), seq)
                        : new Message.Heartbeat(1, 2, 1, seq, 0));
                if ((seq & 63) == 0) LockSupport.parkNanos(50_000); // pacing the sender, so the queue rarely overflows
                if (System.nanoTime() - lastRestart > TimeUnit.MILLISECONDS.toNanos(700)) {
                    badFrames += receiver.badFrameCount();
                    receiver.close();
                    receiver = new TcpTransport(2, peers, "c", sink).start();
                    restarts++;
                    lastRestart = System.nanoTime();
                }
            }
            // The link must come back: keep sending until the receiver has seen everything sent before.
            long sentBefore = seq;
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (last.get() < sentBefore && System.nanoTime() < deadline) {
                sender.send(new Message.Heartbeat(1, 2, 1, ++seq, 0));
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // one heartbeat per 5 ms, as a leader would
            }
            badFrames += receiver.badFrameCount();
            System.out.println("PeerLinkOrderTest " + kind + ": sent " + seq + ", received " + received.get() + ", "
                    + restarts + " receiver restarts, " + sender.droppedCount() + " dropped by the sender");
            assertEquals(0, outOfOrder.get(), "frames out of order (seed " + seed + ")");
            assertEquals(0, badFrames, "bad frames (seed " + seed + ")");
            assertTrue(restarts >= 3, "restarts: " + restarts);
            assertTrue(last.get() >= sentBefore, "the link did not come back within 10 s after the last restart (seed "
                    + seed + ")");
        } finally {
            sender.close();
            receiver.close();
        }
    }
}
