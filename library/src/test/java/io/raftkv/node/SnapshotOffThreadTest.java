package io.raftkv.node;

import io.raftkv.raft.Message;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.Role;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.storage.SnapshotReader;
import io.raftkv.transport.Transport;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A state machine that can freeze its state is snapshotted off the node's thread: commits go on meanwhile. */
class SnapshotOffThreadTest {
    /** Counts commands; its frozen copy waits for {@link #release} before it writes. */
    private static final class SlowToWriteCounter implements StateMachine {
        final CountDownLatch writing = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        volatile boolean frozen;
        long count;

        @Override public Object apply(long index, byte[] command) { return ++count; }
        @Override public Object query(Object query) { return count; }
        @Override public boolean canSnapshot() { return true; }

        @Override
        public void snapshot(OutputStream out) {
            throw new AssertionError("a machine that freezes is not snapshotted on the node's thread");
        }

        @Override
        public Frozen freeze() {
            long at = count;
            frozen = true;
            return out -> {
                writing.countDown();
                try {
                    if (!release.await(10, TimeUnit.SECONDS)) throw new IOException("never released");
                } catch (InterruptedException e) {
                    throw new IOException(e);
                }
                new DataOutputStream(out).writeLong(at);
            };
        }

        @Override
        public void restore(InputStream in) throws IOException {
            count = new DataInputStream(in).readLong();
        }
    }

    /** Whether the node's thread is waiting for a snapshot's writer to finish. */
    private static boolean waitsForASnapshotWrite(Thread nodeThread) {
        for (StackTraceElement e : nodeThread.getStackTrace()) {
            if (e.getClassName().equals(CompletableFuture.class.getName()) && e.getMethodName().equals("join")) return true;
        }
        return false;
    }

    private static CompletableFuture<Object> propose(RaftNode node) {
        CompletableFuture<Object> done = new CompletableFuture<>();
        node.propose(new byte[8], new Reply() {
            @Override public void ok(Object result) { done.complete(result); }
            @Override public void notLeader(int leaderHint) { done.completeExceptionally(new NotLeaderException(1, leaderHint)); }
        });
        return done;
    }

    @Test
    void commitsGoOnWhileASnapshotIsWrittenAndTheSnapshotIsInstalledAfter() throws Exception {
        MemoryStorage storage = new MemoryStorage();
        SlowToWriteCounter machine = new SlowToWriteCounter();
        RaftConfig config = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).electionTicks(10).build();
        Transport nowhere = new Transport() {
            @Override public void send(Message message) {}
            @Override public void close() {}
        };
        // The node's own thread, to see where it waits.
        Thread[] nodeThread = new Thread[1];
        java.util.concurrent.ThreadFactory virtual = Thread.ofVirtual().factory();
        java.util.concurrent.ThreadFactory threads = r -> {
            Thread t = virtual.newThread(r);
            if (nodeThread[0] == null) nodeThread[0] = t; // the node makes its own thread first
            return t;
        };
        try (RaftNode node = RaftNode.builder(config, storage, machine).transport(sink -> nowhere).tickInterval(Duration.ofMillis(5)).threads(threads).build()) {
            node.snapshotPolicy(SnapshotPolicy.defaults().withLogBytes(1_000).withTrailingEntries(0));
            node.start();
            node.campaign();
            RaftNodeTest.await("the lone node leads", () -> node.status().role() == Role.LEADER, node::status);
            // 1,000 bytes of log is about 31 commands of 8 bytes (+24 each). The node freezes the state in the pass
            // after the one that crosses it: so at most two commands have been applied since.
            for (int i = 0; !machine.frozen; i++) {
                assertTrue(i < 100, "no snapshot was started after 100 commands");
                propose(node).get(5, TimeUnit.SECONDS);
            }
            assertTrue(machine.writing.await(5, TimeUnit.SECONDS), "the snapshot's writer did not start");
            long atFreeze = node.status().lastIndex();
            // The writer is held: the node's thread must not be, for less than another threshold's worth of log.
            for (int i = 0; i < 20; i++) propose(node).get(5, TimeUnit.SECONDS);
            assertEquals(0, node.snapshotStats().taken(), "installed before it was written");
            assertFalse(waitsForASnapshotWrite(nodeThread[0]));
            // Another threshold's worth while the writer is still held: the node waits for the write (in a join)
            // rather than let its log grow on. Propose one at a time until a proposal waits on a node that is
            // in that join.
            List<CompletableFuture<Object>> more = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (true) {
                assertTrue(System.nanoTime() < deadline, "the node never waited for the write; proposed " + more.size());
                CompletableFuture<Object> f = propose(node);
                more.add(f);
                while (!f.isDone() && !waitsForASnapshotWrite(nodeThread[0])) {
                    assertTrue(System.nanoTime() < deadline, "the node never waited for the write; proposed " + more.size());
                    LockSupport.parkNanos(100_000);
                }
                if (!f.isDone()) break;
            }
            // Up to the threshold (about 31 commands) and the two already applied when the state froze.
            assertTrue(more.size() <= 20 + 34, "the node applied " + more.size() + " more commands before waiting");
            assertEquals(0, node.snapshotStats().taken(), "installed before it was written");
            machine.release.countDown();
            for (CompletableFuture<Object> f : more) f.get(5, TimeUnit.SECONDS);
            deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (node.snapshotStats().taken() == 0) {
                assertTrue(System.nanoTime() < deadline, "the written snapshot was never installed");
                propose(node).get(5, TimeUnit.SECONDS); // each commit gives the node a pass
            }
            assertTrue(storage.snapshot().isPresent());
            // The snapshot holds the state as of its index: every command up to it (all but the leader's no-op at 1).
            // The index from the reader itself: the commands proposed since may have crossed the threshold again,
            // and a newer snapshot can be installed at any moment.
            long snapIndex;
            try (SnapshotReader r = storage.openSnapshot(); DataInputStream in = new DataInputStream(r.stream())) {
                snapIndex = r.meta().index();
                assertEquals(snapIndex - 1, in.readLong(), "the snapshot holds the state as of its index");
            }
            assertTrue(node.snapshotStats().snapshotIndex() >= snapIndex, "the node's stats show the snapshot or a newer one");
            assertTrue(node.status().lastIndex() >= atFreeze + 20 + more.size(), "commits made while writing were kept: " + node.status());
        }
    }
}
