package io.raftkv.node;

import io.raftkv.raft.ConfigChange;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Message;
import io.raftkv.raft.Message.AppendResponse;
import io.raftkv.raft.Message.SnapshotChunk;
import io.raftkv.raft.Message.SnapshotChunkAck;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.Role;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.storage.SnapshotReader;
import io.raftkv.storage.SnapshotWriter;
import io.raftkv.storage.Storage;
import io.raftkv.transport.Transport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The node's snapshot paths driven pass by pass: when a snapshot is taken and how much log it keeps, a write
 * that ends late, fails or outlives the node, and the leader's and follower's ends of a transfer that loses
 * messages, each with every snapshot reader and writer closed once done with.
 */
class DrivenSnapshotPathsTest {
    private static final Set<Integer> THREE = Set.of(1, 2, 3);

    // ---------------------------------------------------------------- one node alone

    /** A state machine that adds up the first byte of each command; its snapshot is that sum, 8 bytes. */
    private static final class Sum implements StateMachine {
        long sum;
        /** Whether the state is frozen and written off the node's thread. */
        boolean freezes;
        /** Thrown by the next snapshot written, if set. */
        IOException failWrite;
        /** Runs once during the next apply, if set: what happens meanwhile on another thread. */
        Runnable duringNextApply;

        @Override public Object apply(long index, byte[] command) {
            sum += command[0];
            Runnable r = duringNextApply;
            duringNextApply = null;
            if (r != null) r.run();
            return sum;
        }

        @Override public Object query(Object query) { return sum; }

        @Override public boolean canSnapshot() { return true; }

        @Override public void snapshot(OutputStream out) throws IOException { write(out, sum); }

        @Override public Frozen freeze() {
            if (!freezes) return null;
            long s = sum;
            return out -> write(out, s);
        }

        private void write(OutputStream out, long s) throws IOException {
            if (failWrite != null) throw failWrite;
            new DataOutputStream(out).writeLong(s);
        }

        @Override public void restore(InputStream in) throws IOException {
            sum = new DataInputStream(in).readLong();
        }
    }

    /**
     * One voter alone, driven on the test's thread, its store noting in {@link #events} each snapshot writer's
     * creation, install and close ("create I", "install I", "close I"), and its snapshot writes handed to
     * {@link #writers} (by default they wait in {@link #writes} until the test runs them).
     */
    private static final class Solo {
        final MemoryStorage memory = new MemoryStorage();
        final List<String> events = new ArrayList<>();
        final Sum machine = new Sum();
        final ArrayDeque<Runnable> writes = new ArrayDeque<>();
        Executor writers = writes::add;
        final RaftNode node;

        Solo(SnapshotPolicy policy) {
            RaftConfig config = RaftConfig.builder(1, Set.of(1), new SplittableRandom(1)).build();
            Transport none = new Transport() {
                @Override public void send(Message m) { throw new AssertionError("a node alone sends nothing: " + m); }
                @Override public void close() { }
            };
            node = RaftNode.builder(config, noting(), machine).transport(sink -> none).tickInterval(DrivenCluster.TICK).threads(Thread.ofPlatform()::unstarted).clock(() -> 0L).snapshotWriters(task -> writers.execute(task)).build().snapshotPolicy(policy);
            node.campaign();
            settle();
            assertEquals(Role.LEADER, node.status().role());
            assertEquals(1, node.status().commitIndex(), "the leader's empty entry, 24 bytes");
        }

        private Storage noting() {
            return (Storage) Proxy.newProxyInstance(Storage.class.getClassLoader(), new Class<?>[] {Storage.class},
                    (proxy, method, args) -> {
                        Object result = invoke(memory, method, args);
                        if (!method.getName().equals("createSnapshot")) return result;
                        SnapshotWriter w = (SnapshotWriter) result;
                        long index = w.meta().index();
                        events.add("create " + index);
                        return Proxy.newProxyInstance(SnapshotWriter.class.getClassLoader(), new Class<?>[] {SnapshotWriter.class},
                                (p, m, a) -> {
                                    if (m.getName().equals("install") || m.getName().equals("close")) {
                                        events.add(m.getName() + " " + index);
                                    }
                                    return invoke(w, m, a);
                                });
                    });
        }

        void settle() {
            for (int i = 0; i < 1000 && node.hasWork(); i++) {
                if (!node.step(false)) return;
            }
        }

        /** Proposes a one-byte command and settles; returns the answer, or "no answer". */
        Object put(int value) {
            CompletableFuture<Object> answer = new CompletableFuture<>();
            node.propose(new byte[] {(byte) value}, new Reply() {
                @Override public void ok(Object result) { answer.complete(result); }
                @Override public void notLeader(int leaderHint) { answer.complete("notLeader " + leaderHint); }
            });
            settle();
            return answer.getNow("no answer");
        }

        SnapshotStats stats() {
            return node.snapshotStats();
        }
    }

    private static Object invoke(Object target, java.lang.reflect.Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    /** A node snapshots as soon as what it applied reaches the policy's bytes, not one entry later. */
    @Test
    void aSnapshotIsTakenOnceTheAppliedLogReachesThePolicysBytesExactly() {
        Solo s = new Solo(new SnapshotPolicy(49, 0, 8, 2));
        assertEquals(0, s.stats().taken(), "24 bytes applied");
        assertEquals(1L, s.put(1));
        assertEquals(new SnapshotStats(1, 0, 2, 0, 0), s.stats(), "24 + 25 bytes: the budget exactly");
        assertEquals(2, s.memory.snapshot().orElseThrow().index());
    }

    /** With the smallest budget every entry is snapshotted, the one right after the log's start included. */
    @Test
    void aSnapshotOneEntryPastTheLastIsTakenToo() {
        Solo s = new Solo(new SnapshotPolicy(1, 0, 8, 2));
        assertEquals(new SnapshotStats(1, 0, 1, 0, 0), s.stats(), "the first entry of the log");
        for (int i = 1; i <= 3; i++) {
            s.put(i);
            assertEquals(new SnapshotStats(1 + i, 0, 1 + i, 0, 0), s.stats());
        }
        assertEquals(List.of("create 1", "install 1", "close 1", "create 2", "install 2", "close 2",
                "create 3", "install 3", "close 3", "create 4", "install 4", "close 4"), s.events);
    }

    /** Compaction keeps the policy's trailing entries before the snapshot, no more and no fewer. */
    @Test
    void compactionKeepsExactlyTheTrailingEntriesBeforeEachSnapshot() {
        Solo s = new Solo(new SnapshotPolicy(74, 2, 8, 2));
        s.put(1);
        s.put(2);
        assertEquals(new SnapshotStats(1, 0, 3, 2, 50), s.stats(), "entries 2 and 3 kept");
        for (int i = 3; i <= 5; i++) s.put(i);
        assertEquals(new SnapshotStats(2, 0, 6, 2, 50), s.stats(), "entries 5 and 6 kept");
        assertEquals(15L, s.machine.sum);
    }

    /**
     * A write off the node's thread that ends while the node is applying the next threshold's worth is
     * installed before the next write starts, once: the store never falls two snapshots behind, and the
     * node's own later notice of that write changes nothing.
     */
    @Test
    void aWriteThatEndsJustAsTheNextIsDueIsInstalledBeforeTheNextStartsAndOnlyOnce() {
        Solo s = new Solo(new SnapshotPolicy(49, 0, 8, 2));
        s.machine.freezes = true;
        s.put(1);
        assertEquals(List.of("create 2"), s.events, "written off the node's thread");
        assertEquals(1, s.writes.size());
        s.put(2);
        s.machine.duringNextApply = () -> s.writes.poll().run(); // the write ends while entry 4 is applied
        s.put(3);
        assertEquals(List.of("create 2", "install 2", "close 2", "create 4"), s.events);
        assertEquals(1, s.writes.size());
        s.writes.poll().run();
        s.settle();
        assertEquals(List.of("create 2", "install 2", "close 2", "create 4", "install 4", "close 4"), s.events);
        assertEquals(new SnapshotStats(2, 0, 4, 0, 0), s.stats());
        assertTrue(s.node.failure() == null, String.valueOf(s.node.failure()));
    }

    /**
     * A snapshot the state machine fails to write stops the node, and its writer is closed, not installed; the
     * same for a write off the node's thread, where the node stops when it hears of the failure.
     */
    @ParameterizedTest(name = "off the node''s thread: {0}")
    @ValueSource(booleans = {false, true})
    void aSnapshotTheStateMachineFailsToWriteStopsTheNodeAndIsDiscarded(boolean offThread) {
        Solo s = new Solo(new SnapshotPolicy(49, 0, 8, 2));
        s.machine.failWrite = new IOException("disk full");
        if (offThread) {
            s.machine.freezes = true;
            s.writers = Runnable::run;
        }
        s.put(1);
        assertTrue(s.node.stopped());
        UncheckedIOException e = assertInstanceOf(UncheckedIOException.class, s.node.failure());
        assertTrue(e.getMessage().startsWith("node 1 cannot write ") && e.getMessage().endsWith(": disk full"), e.getMessage());
        assertEquals(List.of("create 2", "close 2"), s.events);
        assertTrue(s.memory.snapshot().isEmpty());
    }

    /** Writers that refuse the write stop the node with their refusal; the writer created for it is closed. */
    @Test
    void aWriteTheWritersRefuseStopsTheNodeAndClosesItsWriter() {
        Solo s = new Solo(new SnapshotPolicy(49, 0, 8, 2));
        s.machine.freezes = true;
        s.writers = task -> { throw new RejectedExecutionException("the writers were shut down"); };
        s.put(1);
        assertTrue(s.node.stopped());
        assertEquals("the writers were shut down", assertInstanceOf(RejectedExecutionException.class, s.node.failure()).getMessage());
        assertEquals(List.of("create 2", "close 2"), s.events);
    }

    /** A write that ends after the node stopped, or before but unheard of, is discarded: its writer closed, nothing installed. */
    @Test
    void aWriteThatOutlivesTheNodeIsDiscarded() {
        Solo endsAfter = new Solo(new SnapshotPolicy(49, 0, 8, 2));
        endsAfter.machine.freezes = true;
        endsAfter.put(1);
        endsAfter.node.close();
        endsAfter.writes.poll().run();
        assertEquals(List.of("create 2", "close 2"), endsAfter.events);
        assertTrue(endsAfter.memory.snapshot().isEmpty());

        Solo endsBefore = new Solo(new SnapshotPolicy(49, 0, 8, 2));
        endsBefore.machine.freezes = true;
        endsBefore.put(1);
        endsBefore.writes.poll().run(); // the node has not taken its notice when it is closed
        endsBefore.node.close();
        assertEquals(List.of("create 2", "close 2"), endsBefore.events);
        assertTrue(endsBefore.memory.snapshot().isEmpty());
    }

    // ---------------------------------------------------------------- a transfer between nodes

    /** Node 1 leads; node 3 misses 12 writes, which node 1 snapshots (at 3, 6, 9, 12) and compacts away. */
    private static DrivenCluster behindASnapshot(SnapshotPolicy policy, int writes) {
        DrivenCluster c = new DrivenCluster(THREE).policy(policy);
        c.elect(1);
        c.isolated.add(3);
        for (int i = 1; i <= writes; i++) c.put(1, i);
        assertTrue(c.node(1).snapshotStats().snapshotIndex() > c.node(3).status().lastIndex());
        c.isolated.clear();
        return c;
    }

    /**
     * A snapshot larger than the window goes out as the follower acknowledges it; once the follower holds it all
     * the leader lets go of it and moves on, even if the follower's answer to the snapshot itself is lost.
     */
    @Test
    void aFollowerWhoseAnswerToTheSnapshotIsLostStillGetsTheEntriesAfterIt() {
        DrivenCluster c = behindASnapshot(new SnapshotPolicy(64, 0, 4, 2), 12); // 16 bytes in chunks of 4, 8 in flight
        long snapshot = c.node(1).snapshotStats().snapshotIndex();
        boolean[] lost = {false};
        c.drop = m -> !lost[0] && m instanceof AppendResponse r && r.from() == 3 && r.success() && r.index() >= snapshot
                && (lost[0] = true);
        c.ticks(2);
        assertTrue(lost[0]);
        assertEquals(1, c.node(3).snapshotStats().installed());
        assertEquals(78L, c.machines.get(3).sum, "the snapshot and the entry after it");
        assertEquals(0, c.openReaders.get(1).get(), "the leader closed the snapshot it sent");
        assertEquals(0, c.openWriters.get(3).get());
        assertEquals(91L, c.put(1, 13));
        c.tick(); // the commit reaches node 3 with a heartbeat
        assertEquals(91L, c.machines.get(3).sum);
    }

    /** A leader that hears nothing of its snapshot sends its window again after two election timeouts, not before. */
    @Test
    void anUnansweredWindowIsSentAgainAfterTwoElectionTimeouts() {
        DrivenCluster c = behindASnapshot(new SnapshotPolicy(64, 0, 8, 2), 12);
        List<SnapshotChunk> chunks = new ArrayList<>();
        c.drop = m -> m instanceof SnapshotChunk k && chunks.add(k);
        c.tick();
        assertEquals(List.of(0L, 8L), chunks.stream().map(SnapshotChunk::offset).toList(), "the whole window");
        for (int i = 1; i < 2 * DrivenCluster.ELECTION_TICKS; i++) c.tick();
        assertEquals(2, chunks.size(), "quiet for two election timeouts");
        c.tick();
        assertEquals(List.of(0L, 8L, 0L, 8L), chunks.stream().map(SnapshotChunk::offset).toList());
    }

    /**
     * A follower that took a snapshot whose acknowledgements were lost, then fell behind the next one, is sent
     * the next: the leader closes the first transfer as it starts the second.
     */
    @Test
    void aNewTransferToTheSameFollowerClosesTheOneItReplaces() {
        DrivenCluster c = behindASnapshot(new SnapshotPolicy(64, 0, 8, 2), 6);
        c.drop = m -> m instanceof SnapshotChunkAck;
        c.tick();
        assertEquals(1, c.node(3).snapshotStats().installed(), "the whole window was the whole snapshot");
        assertEquals(1, c.openReaders.get(1).get(), "the leader never heard that node 3 holds it");
        c.isolated.add(3);
        for (int i = 7; i <= 12; i++) c.put(1, i);
        c.isolated.clear();
        c.drop = m -> false;
        c.ticks(2);
        assertEquals(2, c.node(3).snapshotStats().installed());
        assertEquals(78L, c.machines.get(3).sum);
        assertEquals(0, c.openReaders.get(1).get(), "both transfers' readers closed, each once");
    }

    /** A transfer given up on is closed and forgotten; the one started when the follower answers again completes. */
    @Test
    void aTransferGivenUpOnIsClosedOnceAndForgotten() {
        DrivenCluster c = behindASnapshot(new SnapshotPolicy(64, 0, 8, 2), 12);
        c.drop = m -> m instanceof SnapshotChunk;
        int quiet = 2 * DrivenCluster.ELECTION_TICKS;
        c.ticks(1 + quiet * (SnapshotSender.MAX_RESENDS + 1)); // given up on, and started again at once
        assertEquals(1, c.openReaders.get(1).get(), "only the new transfer's reader is open");
        c.drop = m -> false;
        for (int i = 0; i < quiet && c.node(3).snapshotStats().installed() == 0; i++) c.tick();
        assertEquals(1, c.node(3).snapshotStats().installed());
        assertEquals(0, c.openReaders.get(1).get());
        assertEquals(78L, c.machines.get(3).sum);
    }

    /**
     * The leader does not hear that the follower holds the whole snapshot; it sends the rest again, the follower,
     * done with that transfer, asks for the start, and the leader starts over. The follower's log needs no second
     * copy, so it drops it; the leader closes its reader once that copy is acknowledged.
     */
    @Test
    void aFollowerThatAsksForTheStartAgainGetsTheSnapshotAgainAndDropsTheCopyItDoesNotNeed() {
        DrivenCluster c = behindASnapshot(new SnapshotPolicy(64, 0, 8, 2), 12);
        boolean[] lost = {false};
        c.drop = m -> !lost[0] && m instanceof SnapshotChunkAck a && a.received() == 16 && (lost[0] = true);
        List<Long> acks = new ArrayList<>();
        java.util.function.Predicate<Message> dropLastAck = c.drop;
        c.drop = m -> {
            if (m instanceof SnapshotChunkAck a) acks.add(a.received());
            return dropLastAck.test(m);
        };
        c.tick();
        assertEquals(List.of(8L, 16L), acks);
        assertEquals(1, c.node(3).snapshotStats().installed());
        assertEquals(1, c.openReaders.get(1).get(), "the leader waits to hear of the end");
        c.ticks(2 * DrivenCluster.ELECTION_TICKS);
        assertEquals(List.of(8L, 16L, 0L, 8L, 16L), acks, "the rest resent, the start asked for, the whole sent again");
        assertEquals(0, c.openReaders.get(1).get(), "the transfer is over");
        assertEquals(0, c.openWriters.get(3).get(), "node 3 dropped the copy it did not need");
        assertEquals(1, c.node(3).snapshotStats().installed());
        assertEquals(78L, c.machines.get(3).sum);
    }

    /**
     * A follower holding half of a transfer that becomes leader drops it (a leader takes no snapshot), and the
     * leader it replaces closes the snapshot it was sending.
     */
    @Test
    void aNewLeaderDropsTheTransferItWasTakingAndTheOldOneClosesTheOneItWasSending() {
        DrivenCluster c = behindASnapshot(new SnapshotPolicy(64, 0, 8, 2), 12);
        int[] secondChunks = {0};
        boolean[] lost = {false};
        c.drop = m -> {
            if (!lost[0] && m instanceof SnapshotChunkAck a && a.received() == 16) return lost[0] = true;
            return m instanceof SnapshotChunk k && k.offset() == 8 && ++secondChunks[0] == 3; // the third copy of the second half
        };
        c.tick();
        c.ticks(2 * DrivenCluster.ELECTION_TICKS);
        assertEquals(3, secondChunks[0]);
        assertEquals(1, c.openWriters.get(3).get(), "node 3 holds the first half of a second copy");
        assertEquals(1, c.openReaders.get(1).get());
        c.node(1).transferLeadership(3);
        c.settle();
        assertEquals(Role.LEADER, c.node(3).status().role());
        assertEquals(0, c.openWriters.get(3).get(), "the new leader dropped it");
        assertEquals(0, c.openReaders.get(1).get(), "the old leader stopped sending");
    }

    /**
     * A follower installing a snapshot of its own term stores it, then its hard state with the snapshot's commit:
     * the term needs no write of its own first.
     */
    @Test
    void aSnapshotOfTheFollowersOwnTermIsStoredThenTheHardStateWithItsCommit() {
        DrivenCluster c = behindASnapshot(new SnapshotPolicy(64, 0, 8, 2), 11);
        long term = c.node(1).status().term();
        assertEquals(term, c.storages.get(3).hardState().term());
        assertEquals(12, c.node(1).snapshotStats().snapshotIndex(), "the leader's last entry");
        // What node 3 asks of its store from the delivery of the snapshot's last chunk on.
        c.drop = m -> {
            if (m instanceof SnapshotChunk k && k.to() == 3 && k.last()) c.storageCalls.get(3).clear();
            return false;
        };
        c.ticks(3);
        assertEquals(List.of("install snapshot 12", "persist term " + term), c.storageCalls.get(3));
        assertEquals(12, c.storages.get(3).hardState().commit());
        assertEquals(66L, c.machines.get(3).sum);
    }

    /**
     * A follower whose disk is replaced in the middle of a transfer learns the leader's term from the snapshot
     * itself: it stores the term before the snapshot, as a store must never hold a snapshot of a newer term than its own.
     */
    @Test
    void aFollowerWithANewDiskThatLearnsTheTermFromTheSnapshotStoresTheTermFirst() {
        DrivenCluster c = behindASnapshot(new SnapshotPolicy(64, 0, 8, 2), 12);
        long term = c.node(1).status().term();
        c.drop = m -> m instanceof SnapshotChunkAck; // the leader does not hear that node 3 holds the snapshot
        c.tick();
        assertEquals(1, c.node(3).snapshotStats().installed());
        c.add(3); // node 3's disk is lost and replaced: it starts empty, at term 0
        c.drop = m -> (m.to() == 3 || m.from() == 3) && !(m instanceof SnapshotChunk); // it hears only the resent window
        for (int i = 0; i <= 2 * DrivenCluster.ELECTION_TICKS && c.node(3).snapshotStats().installed() == 0; i++) c.tick();
        assertEquals(1, c.node(3).snapshotStats().installed());
        assertEquals(List.of("persist term " + term, "install snapshot 12", "persist term " + term), c.storageCalls.get(3));
        assertEquals(term, c.storages.get(3).hardState().term());
        assertEquals(66L, c.machines.get(3).sum);
    }

    // ---------------------------------------------------------------- the leader's end on its own

    /** A reader of 16 counting bytes that answers its first read with no bytes at all. */
    private static final class SlowStart implements SnapshotReader {
        static final SnapshotMeta META = new SnapshotMeta(42, 3, Configuration.ofVoters(THREE));
        boolean started;

        @Override public SnapshotMeta meta() { return META; }
        @Override public long size() { return 16; }
        @Override public int read(long position, ByteBuffer dst) {
            if (position >= 16) return -1;
            if (!started) {
                started = true;
                return 0;
            }
            int n = (int) Math.min(dst.remaining(), 16 - position);
            for (int i = 0; i < n; i++) dst.put((byte) (position + i));
            return n;
        }
        @Override public InputStream stream() { throw new UnsupportedOperationException(); }
        @Override public void close() { }
    }

    /** A read that yields no bytes is tried again, not taken for the end of the snapshot. */
    @Test
    void aReadThatYieldsNoBytesIsTriedAgain() {
        List<Message> sent = new ArrayList<>();
        SnapshotSender sender = new SnapshotSender(1, 2, 7, new SlowStart(), new SnapshotPolicy(64, 0, 4, 2), 3, sent::add);
        assertEquals(7, sender.term());
        SnapshotChunk first = (SnapshotChunk) sent.get(0);
        assertArrayEquals(new byte[] {0, 1, 2, 3}, first.data());
        assertEquals(7, first.term());
        assertEquals(2, sent.size());
    }

    /**
     * Acknowledgements lost on the way, the leader hears of bytes past what it has sent since it started over:
     * it goes on from there, without sending again what the follower holds.
     */
    @Test
    void anAcknowledgementPastWhatWasSentMovesTheStreamOnFromThere() {
        List<SnapshotChunk> sent = new ArrayList<>();
        SnapshotSender sender = new SnapshotSender(1, 2, 7, new SlowStart(), new SnapshotPolicy(64, 0, 4, 2), 3,
                m -> sent.add((SnapshotChunk) m));
        assertFalse(sender.onAck(new SnapshotChunkAck(2, 1, 7, 42, 4)));
        assertFalse(sender.onAck(new SnapshotChunkAck(2, 1, 7, 42, 0)), "the follower lost what it had: start over");
        assertEquals(List.of(0L, 4L, 8L, 0L, 4L), sent.stream().map(SnapshotChunk::offset).toList());
        sent.clear();
        // The chunks sent before it started over reached the follower; only the last of their acknowledgements arrives.
        assertFalse(sender.onAck(new SnapshotChunkAck(2, 1, 7, 42, 12)));
        assertEquals(List.of(12L), sent.stream().map(SnapshotChunk::offset).toList());
        assertTrue(sender.onAck(new SnapshotChunkAck(2, 1, 7, 42, 16)));
    }
}
