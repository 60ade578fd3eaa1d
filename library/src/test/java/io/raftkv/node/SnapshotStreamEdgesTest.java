package io.raftkv.node;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.Message;
import io.raftkv.raft.Message.InstallSnapshot;
import io.raftkv.raft.Message.SnapshotChunk;
import io.raftkv.raft.Message.SnapshotChunkAck;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.MemoryStorage;
import io.raftkv.storage.SnapshotReader;
import io.raftkv.storage.SnapshotWriter;
import io.raftkv.storage.Storage;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The edges of a snapshot's stream that a faulty channel does not reach: answers that belong to no transfer,
 * a store that reads a few bytes at a time or ends early, and every writer and reader closed once done with.
 */
class SnapshotStreamEdgesTest {
    private static final SnapshotMeta META = new SnapshotMeta(42, 3, Configuration.ofVoters(Set.of(1, 2, 3)));
    private static final SnapshotMeta OTHER = new SnapshotMeta(50, 3, Configuration.ofVoters(Set.of(1, 2, 3)));
    private static final SnapshotPolicy POLICY = new SnapshotPolicy(1 << 20, 0, 10, 2);

    /** A reader of {@code bytes} that hands out at most three bytes a call, claims {@code size}, and notes its closing. */
    private static final class TrickleReader implements SnapshotReader {
        final byte[] bytes;
        final long size;
        boolean closed;

        TrickleReader(byte[] bytes, long size) {
            this.bytes = bytes;
            this.size = size;
        }

        @Override public SnapshotMeta meta() { return META; }
        @Override public long size() { return size; }
        @Override public int read(long position, ByteBuffer dst) {
            if (position >= bytes.length) return -1;
            int n = (int) Math.min(Math.min(3, dst.remaining()), bytes.length - position);
            dst.put(bytes, (int) position, n);
            return n;
        }
        @Override public InputStream stream() { throw new UnsupportedOperationException(); }
        @Override public void close() { closed = true; }
    }

    private static byte[] counting(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) b[i] = (byte) i;
        return b;
    }

    private static int crc(byte[] data) {
        CRC32C c = new CRC32C();
        c.update(data);
        return (int) c.getValue();
    }

    @Test
    void chunksAreReadWholeFromAStoreThatHandsOutAFewBytesAtATime() {
        byte[] bytes = counting(25);
        List<Message> sent = new ArrayList<>();
        TrickleReader reader = new TrickleReader(bytes, bytes.length);
        SnapshotSender sender = new SnapshotSender(1, 2, 7, reader, POLICY, 3, sent::add);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        for (int round = 0; round < 5 && got.size() < bytes.length; round++) {
            for (Message m : List.copyOf(sent)) got.writeBytes(((SnapshotChunk) m).data());
            sent.clear();
            sender.onAck(new SnapshotChunkAck(2, 1, 7, 42, got.size()));
        }
        assertArrayEquals(bytes, got.toByteArray());
        assertEquals(META, sender.meta());
        sender.close();
        assertTrue(reader.closed, "the sender closes its reader");
    }

    @Test
    void aStoreThatEndsBeforeTheSnapshotsSizeIsReportedWithWhereItEnded() {
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> new SnapshotSender(1, 2, 7, new TrickleReader(counting(7), 20), POLICY, 3, m -> { }));
        assertEquals("snapshot " + META + " ended at 7 bytes, before its size 20", e.getMessage());
    }

    /** Answers that belong to no part of this transfer change nothing and send nothing. */
    @Test
    void anAnswerForAnotherSnapshotALaterTermOrAPositionOutsideTheSnapshotIsIgnored() {
        List<Message> sent = new ArrayList<>();
        SnapshotSender sender = new SnapshotSender(1, 2, 7, new TrickleReader(counting(25), 25), POLICY, 3, sent::add);
        sent.clear();
        assertFalse(sender.onAck(new SnapshotChunkAck(2, 1, 7, 50, 25)), "another snapshot");
        assertFalse(sender.onAck(new SnapshotChunkAck(2, 1, 8, 42, 25)), "a later term");
        assertFalse(sender.onAck(new SnapshotChunkAck(2, 1, 7, 42, 26)), "past the end");
        assertFalse(sender.onAck(new SnapshotChunkAck(2, 1, 7, 42, -1)), "before the start");
        assertEquals(List.of(), sent);
        assertTrue(sender.onAck(new SnapshotChunkAck(2, 1, 7, 42, 25)), "the whole snapshot acknowledged");
    }

    /** A storage whose snapshot writers note how many are open. */
    private static final class CountingStore {
        final MemoryStorage memory = new MemoryStorage();
        int open;
        final Storage storage = (Storage) Proxy.newProxyInstance(Storage.class.getClassLoader(), new Class<?>[] {Storage.class},
                (proxy, method, args) -> {
                    Object result = invoke(memory, method, args);
                    if (method.getName().equals("createSnapshot")) {
                        open++;
                        SnapshotWriter w = (SnapshotWriter) result;
                        boolean[] closed = {false};
                        return Proxy.newProxyInstance(SnapshotWriter.class.getClassLoader(), new Class<?>[] {SnapshotWriter.class},
                                (p, m, a) -> {
                                    if (m.getName().equals("close") && !closed[0]) {
                                        closed[0] = true;
                                        open--;
                                    }
                                    return invoke(w, m, a);
                                });
                    }
                    return result;
                });

        private static Object invoke(Object target, java.lang.reflect.Method m, Object[] args) throws Throwable {
            try {
                return m.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }

    private static SnapshotChunk chunk(SnapshotMeta meta, int from, long term, long size, long offset, byte[] data) {
        return new SnapshotChunk(from, 2, term, meta, size, offset, data, crc(data));
    }

    /** A stray chunk from the middle of another transfer does not end the one under way. */
    @Test
    void aStrayChunkOfAnotherTransferLeavesTheOneUnderWay() {
        CountingStore store = new CountingStore();
        List<Message> acks = new ArrayList<>();
        SnapshotReceiver r = new SnapshotReceiver(2, store.storage, acks::add);
        byte[] ten = counting(10);
        assertNull(r.onChunk(chunk(META, 1, 7, 30, 0, ten), 7));
        assertNull(r.onChunk(chunk(OTHER, 1, 7, 30, 10, ten), 7));
        assertEquals(new SnapshotChunkAck(2, 1, 7, 50, 0), acks.get(acks.size() - 1), "asked for the start of that one");
        assertNull(r.onChunk(chunk(META, 1, 7, 30, 10, ten), 7));
        assertEquals(new SnapshotChunkAck(2, 1, 7, 42, 20), acks.get(acks.size() - 1), "this one goes on");
        assertEquals(1, store.open);
    }

    /** Each transfer's writer is closed: replaced by a new transfer, dropped when not needed, or closed with the receiver. */
    @Test
    void everyWriterIsClosedWhenItsTransferEnds() {
        CountingStore store = new CountingStore();
        SnapshotReceiver r = new SnapshotReceiver(2, store.storage, m -> { });
        byte[] ten = counting(10);
        r.onChunk(chunk(META, 1, 7, 30, 0, ten), 7);
        assertEquals(1, store.open);
        r.onChunk(chunk(OTHER, 3, 8, 10, 0, ten), 7); // a new leader's transfer replaces it
        assertEquals(1, store.open);
        r.discardIfComplete();
        assertEquals(0, store.open, "a whole snapshot the core did not need is dropped");
        r.onChunk(chunk(META, 1, 9, 30, 0, ten), 7);
        r.discardIfComplete();
        assertEquals(1, store.open, "a transfer under way is kept");
        r.close();
        assertEquals(0, store.open);
    }

    @Test
    void theCoreCanTakeOnlyTheWholeSnapshotItAsksFor() {
        SnapshotReceiver r = new SnapshotReceiver(2, new MemoryStorage(), m -> { });
        assertEquals("the core asked to install " + META + " but this node holds no snapshot",
                assertThrows(IllegalStateException.class, () -> r.take(META)).getMessage());
        byte[] ten = counting(10);
        r.onChunk(chunk(META, 1, 7, 20, 0, ten), 7);
        assertEquals("the core asked to install " + META + " but this node holds part of " + META,
                assertThrows(IllegalStateException.class, () -> r.take(META)).getMessage());
        InstallSnapshot whole = r.onChunk(chunk(META, 1, 7, 20, 10, ten), 7);
        assertEquals(new InstallSnapshot(1, 2, 7, META), whole);
        assertEquals("the core asked to install " + OTHER + " but this node holds " + META,
                assertThrows(IllegalStateException.class, () -> r.take(OTHER)).getMessage());
        try (SnapshotWriter w = r.take(META)) {
            assertEquals(20, w.size());
        }
    }
}
