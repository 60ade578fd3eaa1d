package io.raftkv.sim;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.LogSource;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.SnapshotReader;
import io.raftkv.storage.SnapshotWriter;
import io.raftkv.storage.Storage;

import java.io.InputStream;
import java.io.OutputStream;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A node's storage, with a note of what it has made durable: the index and term of every entry a
 * {@link #persist} that returned wrote (the store forces before it returns), and the newest snapshot
 * installed. The simulation asks it whether an entry a leader counts as committed is on this node's disk.
 */
final class DurableLog implements Storage, LogSource {
    private final Storage inner;
    /** Index to term of the durable entries after the snapshot. */
    private final TreeMap<Long, Long> terms = new TreeMap<>();
    private long snapshotIndex;
    private long snapshotTerm;

    /** Called before each {@link #persist} begins and after it returns (the simulation makes some of them slow). */
    private final Runnable beforePersist;
    private final Runnable afterPersist;

    /** Wraps a store just opened: what it holds is durable. */
    DurableLog(Storage inner) {
        this(inner, () -> {}, () -> {});
    }

    /** As {@link #DurableLog(Storage)}, calling {@code beforePersist} and {@code afterPersist} around each persist. */
    DurableLog(Storage inner, Runnable beforePersist, Runnable afterPersist) {
        this.inner = inner;
        this.beforePersist = beforePersist;
        this.afterPersist = afterPersist;
        inner.snapshot().ifPresent(s -> {
            snapshotIndex = s.index();
            snapshotTerm = s.term();
        });
        for (Entry e : inner.entries()) terms.put(e.index(), e.term());
    }

    /** Whether the snapshot covers {@code index} (a snapshot holds only committed entries). */
    boolean covers(long index) {
        return index <= snapshotIndex;
    }

    /** The term of the durable entry at {@code index}, or 0 if none (or under the snapshot). */
    long termAt(long index) {
        if (index == snapshotIndex) return snapshotTerm;
        Long t = terms.get(index);
        return t == null ? 0 : t;
    }

    @Override
    public HardState hardState() {
        return inner.hardState();
    }

    @Override
    public List<Entry> entries() {
        return inner.entries();
    }

    /** Reads back through the store (a file store): the node keeps little of its applied log on the heap. */
    @Override
    public List<Entry> read(long from, long to, long maxBytes) {
        if (!(inner instanceof LogSource source)) throw new UnsupportedOperationException(inner + " cannot read its log back");
        return source.read(from, to, maxBytes);
    }

    @Override
    public void persist(HardState hardState, List<Entry> entries) {
        beforePersist.run();
        inner.persist(hardState, entries);
        if (!entries.isEmpty()) {
            terms.tailMap(entries.get(0).index(), true).clear();
            for (Entry e : entries) terms.put(e.index(), e.term());
        }
        afterPersist.run();
    }

    @Override
    public Optional<SnapshotMeta> snapshot() {
        return inner.snapshot();
    }

    @Override
    public SnapshotReader openSnapshot() {
        return inner.openSnapshot();
    }

    @Override
    public SnapshotWriter createSnapshot(SnapshotMeta meta) {
        SnapshotWriter w = inner.createSnapshot(meta);
        return new SnapshotWriter() {
            @Override
            public SnapshotMeta meta() {
                return w.meta();
            }

            @Override
            public OutputStream output() {
                return w.output();
            }

            @Override
            public long size() {
                return w.size();
            }

            @Override
            public InputStream readBack() {
                return w.readBack();
            }

            @Override
            public void install() {
                w.install();
                Long t = terms.get(meta.index());
                if (t != null && t == meta.term()) terms.headMap(meta.index(), true).clear(); else terms.clear();
                snapshotIndex = meta.index();
                snapshotTerm = meta.term();
            }

            @Override
            public void close() {
                w.close();
            }
        };
    }

    @Override
    public void close() {
        inner.close();
    }
}
