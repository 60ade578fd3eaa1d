package io.raftkv.node;

import io.raftkv.kv.KvStateMachine;
import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.Message;
import io.raftkv.raft.RaftConfig;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.storage.SnapshotReader;
import io.raftkv.storage.SnapshotWriter;
import io.raftkv.storage.Storage;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A follower's runtime installing a snapshot streamed to it, driven message by message. */
class RaftNodeSnapshotTest {
    /** Memory storage that records a failure if a snapshot is installed with a term newer than the stored term. */
    private static final class TermCheckingStorage implements Storage {
        final MemoryStorage inner = new MemoryStorage();
        volatile String violation;

        @Override public HardState hardState() { return inner.hardState(); }
        @Override public List<Entry> entries() { return inner.entries(); }
        @Override public void persist(HardState hs, List<Entry> e) { inner.persist(hs, e); }
        @Override public Optional<SnapshotMeta> snapshot() { return inner.snapshot(); }
        @Override public SnapshotReader openSnapshot() { return inner.openSnapshot(); }
        @Override public void close() { }

        @Override
        public SnapshotWriter createSnapshot(SnapshotMeta meta) {
            SnapshotWriter w = inner.createSnapshot(meta);
            return new SnapshotWriter() {
                @Override public SnapshotMeta meta() { return w.meta(); }
                @Override public OutputStream output() { return w.output(); }
                @Override public long size() { return w.size(); }
                @Override public InputStream readBack() { return w.readBack(); }
                @Override public void close() { w.close(); }

                @Override
                public void install() {
                    if (meta.term() > inner.hardState().term()) {
                        violation = "installed " + meta + " while the stored term was " + inner.hardState().term();
                    }
                    w.install();
                }
            };
        }
    }

    /**
     * The first this node hears of term 5 is a leader's snapshot of that term: the term must be on disk
     * before the snapshot is, or a crash between the two leaves a store whose snapshot is newer than its
     * term, which the core refuses to start from.
     */
    @Test
    void aSnapshotOfANewerTermIsStoredAfterThatTerm() throws IOException {
        TermCheckingStorage storage = new TermCheckingStorage();
        RaftNodeTest.RecordingTransport transport = new RaftNodeTest.RecordingTransport();
        RaftConfig config = RaftConfig.builder(2, Set.of(1, 2, 3), new SplittableRandom(1)).electionTicks(1000).build();
        KvStateMachine machine = new KvStateMachine();
        RaftNode node = RaftNode.builder(config, storage, machine).transport(sink -> transport).tickInterval(Duration.ofMillis(5)).build();
        node.start();
        try {
            ByteArrayOutputStream state = new ByteArrayOutputStream();
            new KvStateMachine().snapshot(state);
            byte[] bytes = state.toByteArray();
            CRC32C crc = new CRC32C();
            crc.update(bytes);
            SnapshotMeta meta = new SnapshotMeta(40, 5, Configuration.ofVoters(Set.of(1, 2, 3)));
            node.deliver(new Message.SnapshotChunk(1, 2, 5, meta, bytes.length, 0, bytes, (int) crc.getValue()));

            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (node.status().appliedIndex() < 40 && System.nanoTime() - deadline < 0 && !node.stopped()) {
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
            }
            assertNull(node.failure(), () -> "the node failed: " + node.failure());
            assertEquals(40, node.status().appliedIndex(), "the node installed the snapshot: " + node.status());
            assertNull(storage.violation, storage.violation);
            assertEquals(5, storage.hardState().term());
            assertEquals(Optional.of(meta), storage.snapshot());
            assertTrue(transport.sent.stream().anyMatch(m -> m instanceof Message.AppendResponse r && r.success() && r.index() == 40),
                    "it told the leader it holds the log up to 40: " + transport.sent);
        } finally {
            node.close();
        }
    }
}
