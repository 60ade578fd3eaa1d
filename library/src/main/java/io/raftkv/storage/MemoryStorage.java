package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Storage in memory, for tests and benchmarks: it survives a node's crash (a {@code kill} and
 * {@code restart} in one JVM) but not the JVM's.
 */
public final class MemoryStorage implements Storage {
    private HardState hardState = HardState.INITIAL;
    /** The entries after the snapshot: index {@code snapshotIndex() + 1 + i} lives at position i. */
    private final ArrayList<Entry> log = new ArrayList<>();
    private SnapshotMeta snapshot;
    private byte[] snapshotBytes;
    private int snapshotLength;
    /** How many open readers hold {@link #snapshotBytes}. */
    private int snapshotReaders;
    /**
     * A buffer that held a snapshot this store has since replaced, and that no reader holds: the next
     * writer writes into it. A node snapshots every few MiB of log, and a new buffer of the state's size
     * each time was most of what the commit path allocated for snapshots.
     */
    private byte[] spare;
    /** Open readers of replaced snapshots, by buffer; rarely more than one (a transfer under way when a snapshot is taken). */
    private final IdentityHashMap<byte[], Integer> oldReaders = new IdentityHashMap<>();

    @Override
    public synchronized HardState hardState() {
        return hardState;
    }

    @Override
    public synchronized List<Entry> entries() {
        return List.copyOf(log);
    }

    @Override
    public synchronized void persist(HardState hs, List<Entry> entries) {
        Objects.requireNonNull(entries, "entries");
        if (!entries.isEmpty()) {
            long first = entries.get(0).index();
            long base = snapshotIndex();
            long next = base + log.size() + 1;
            if (first <= base || first > next) {
                throw new IllegalArgumentException("entries start at " + first + " but the log holds " + (base + 1) + ".."
                        + (next - 1) + ": a write may not leave a gap"
                        + (base > 0 ? " or reach into the snapshot at " + base : ""));
            }
            for (int i = 1; i < entries.size(); i++) {
                if (entries.get(i).index() != first + i) {
                    throw new IllegalArgumentException("entries must have consecutive indexes: " + entries.get(i - 1)
                            + " is followed by " + entries.get(i));
                }
            }
            int keep = (int) (first - base - 1);
            if (keep < log.size()) log.subList(keep, log.size()).clear();
            // One by one: addAll would copy them into a temporary array first.
            for (int i = 0, n = entries.size(); i < n; i++) log.add(entries.get(i));
        }
        if (hs != null) hardState = hs;
    }

    /** The index of the last stored entry (the snapshot's if the log after it is empty). */
    public synchronized long lastIndex() {
        return snapshotIndex() + log.size();
    }

    private long snapshotIndex() {
        return snapshot == null ? 0 : snapshot.index();
    }

    @Override
    public synchronized Optional<SnapshotMeta> snapshot() {
        return Optional.ofNullable(snapshot);
    }

    @Override
    public synchronized SnapshotReader openSnapshot() {
        if (snapshot == null) throw new IllegalStateException("this store holds no snapshot");
        snapshotReaders++;
        return new BytesReader(snapshot, snapshotBytes, snapshotLength);
    }

    /** A reader of {@code bytes} was closed: once the store has replaced them and nobody reads them, they are spare. */
    private synchronized void readerClosed(byte[] bytes) {
        if (bytes == snapshotBytes) {
            snapshotReaders--;
            return;
        }
        Integer n = oldReaders.get(bytes);
        if (n == null) return; // not counted (should not happen): never reuse it
        if (n > 1) {
            oldReaders.put(bytes, n - 1);
        } else {
            oldReaders.remove(bytes);
            keepSpare(bytes);
        }
    }

    private void keepSpare(byte[] bytes) {
        if (spare == null || bytes.length > spare.length) spare = bytes;
    }

    @Override
    public SnapshotWriter createSnapshot(SnapshotMeta meta) {
        Objects.requireNonNull(meta, "meta");
        return new BytesWriter(meta, takeBuffer());
    }

    /** A buffer for the next snapshot: the spare one if it has room for about the last snapshot's size, else a new one. */
    private synchronized Buffer takeBuffer() {
        // About the last snapshot's size: the next is usually close to it, and the buffer then grows once at most.
        int expected = snapshotBytes == null ? 0 : snapshotLength;
        int size = Math.max(256, expected + expected / 8);
        byte[] reuse = spare;
        if (reuse != null && reuse.length >= size) {
            spare = null;
            return new Buffer(reuse);
        }
        return new Buffer(size);
    }

    private synchronized void install(SnapshotMeta meta, byte[] bytes, int length) {
        if (snapshot != null && meta.index() <= snapshot.index()) {
            throw new IllegalStateException("cannot install " + meta + ": the store already holds " + snapshot);
        }
        long base = snapshotIndex();
        long at = meta.index() - base - 1; // the position of the snapshot's last entry in the log
        boolean holdsIt = at < log.size() && log.get((int) at).term() == meta.term();
        if (holdsIt) log.subList(0, (int) at + 1).clear(); else log.clear();
        byte[] replaced = snapshotBytes;
        if (replaced != null && replaced != bytes) {
            if (snapshotReaders == 0) keepSpare(replaced); else oldReaders.merge(replaced, snapshotReaders, Integer::sum);
        }
        snapshot = meta;
        snapshotBytes = bytes;
        snapshotLength = length;
        snapshotReaders = 0;
    }

    @Override
    public void close() {
        // Nothing to release; the contents stay for a restart.
    }

    /**
     * The first {@code length} bytes of {@code bytes} (a writer's buffer, kept as it was rather than copied).
     * Once closed, the store may write a later snapshot into the same buffer: neither it nor its stream may
     * be read after {@link #close}.
     */
    private final class BytesReader implements SnapshotReader {
        private final SnapshotMeta meta;
        private final byte[] bytes;
        private final int length;
        private volatile boolean closed;

        BytesReader(SnapshotMeta meta, byte[] bytes, int length) {
            this.meta = meta;
            this.bytes = bytes;
            this.length = length;
        }

        @Override
        public SnapshotMeta meta() {
            return meta;
        }

        @Override
        public long size() {
            return length;
        }

        @Override
        public int read(long position, ByteBuffer dst) {
            if (closed) throw new IllegalStateException("this snapshot reader is closed");
            if (position < 0) throw new IllegalArgumentException("position must be >= 0, was " + position);
            if (position >= length) return -1;
            int n = (int) Math.min(dst.remaining(), length - position);
            dst.put(bytes, (int) position, n);
            return n;
        }

        @Override
        public InputStream stream() {
            if (closed) throw new IllegalStateException("this snapshot reader is closed");
            return new ByteArrayInputStream(bytes, 0, length);
        }

        @Override
        public void close() {
            synchronized (MemoryStorage.this) {
                if (closed) return; // a second close must not count this reader off twice
                closed = true;
                readerClosed(bytes);
            }
        }
    }

    /** A byte array output whose buffer can be kept without a copy, and that can start from a spare buffer. */
    private static final class Buffer extends ByteArrayOutputStream {
        Buffer(int size) {
            super(size);
        }

        Buffer(byte[] reuse) {
            super(0);
            buf = reuse;
        }

        synchronized byte[] array() {
            return buf;
        }
    }

    private final class BytesWriter implements SnapshotWriter {
        private final SnapshotMeta meta;
        private final Buffer bytes;
        private boolean done;

        BytesWriter(SnapshotMeta meta, Buffer bytes) {
            this.meta = meta;
            this.bytes = bytes;
        }

        @Override
        public SnapshotMeta meta() {
            return meta;
        }

        @Override
        public OutputStream output() {
            return bytes;
        }

        @Override
        public long size() {
            return bytes.size();
        }

        @Override
        public InputStream readBack() {
            return new ByteArrayInputStream(bytes.array(), 0, bytes.size());
        }

        @Override
        public void install() {
            if (done) throw new IllegalStateException("this snapshot writer was already installed or closed");
            // Kept as written: nothing writes to this buffer once installed (done refuses a second install,
            // and output() must not be used after it).
            MemoryStorage.this.install(meta, bytes.array(), bytes.size());
            done = true;
        }

        @Override
        public void close() {
            done = true;
        }
    }
}
