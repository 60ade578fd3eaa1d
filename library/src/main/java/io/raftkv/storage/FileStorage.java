package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.LogSource;
import io.raftkv.raft.SnapshotMeta;

import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Storage in a directory of its own: a segmented, append-only log in which every record carries a
 * CRC32C, forced to disk once per {@link #persist} (group commit), recovered at {@link #open} by
 * cutting a write torn by a crash and refusing any other damage.
 *
 * <p>Each {@code persist} appends its entries and then a hard-state record (the new hard state, or the
 * current one again), and forces the file once. That closing record makes the write atomic: on
 * recovery, entries not followed by a hard-state record belong to a write that never returned and are
 * dropped with it, so the store comes back exactly as some {@code persist} left it. Entries that
 * overwrite a conflicting suffix are appended like any others; replay drops the entries they replace
 * (as etcd's WAL does), so no record is rewritten in place but one: a write of the commit index alone
 * is not forced (commit is volatile in Raft), and the next write goes in its place. The log is kept in
 * segments of about {@link Options#segmentBytes()}; each starts with the current hard state. See
 * {@link LogFormat} for the bytes.
 *
 * <p>A snapshot is a file of its own, {@code snapshot-<index>.snap}: a header with its {@link SnapshotMeta},
 * the data, and a trailer with the data's length and a CRC32C over the whole file. A {@link SnapshotWriter}
 * streams the data to a temporary file; {@link SnapshotWriter#install() install} forces it, renames it into
 * place and forces the directory, and only then deletes the previous snapshot and the segments the new one
 * covers (those whose every entry lies at or below its index; never the current one; oldest first, so the
 * segments left stay numbered without gaps). If the log does not hold the snapshot's last entry, the
 * install first rolls over to a new segment that opens with a reset record, so that the log's drop is on
 * disk before the snapshot is; a reset whose snapshot never made it into place (a crash in between) is the
 * last record of the log, and recovery cuts it. A crash at any step thus leaves either the previous
 * snapshot and log or the new snapshot with the log after it, plus files that the next open deletes
 * (temporary files, older snapshots, covered segments). At open, the newest snapshot must pass its CRC: a
 * renamed snapshot was whole on disk, so damage to it is corruption, not a crash's doing.
 *
 * <p>The store keeps in memory, of the entries after the snapshot, only each one's term and where its record
 * lies (segment and byte offset, packed in one long), and each segment's highest index; that is enough to read
 * any stored entry back by index ({@link #read}), which is how a core that keeps only a bounded tail of its log
 * on the heap gets older entries back (this store is its {@link LogSource}). Those positions are found at
 * {@link #open} by the replay that recovers the log, and at each {@link #persist} from where its write went; a
 * write that replaces a conflicting suffix replaces their positions, and a snapshot's install drops those it
 * covers. A read checks each record's CRCs and that it holds the entry asked for.
 */
public final class FileStorage implements Storage, LogSource {

    /**
     * How a store is written.
     *
     * @param segmentBytes the size past which the log moves on to a new segment file (a write is never
     *                     split, so a segment may exceed it by one write); 1 byte to 1 GiB
     * @param sync         whether each write is forced to disk before {@code persist} returns. Turn it off
     *                     only where losing the last writes to a machine crash or power loss is acceptable
     *                     (tests, benchmarks): a process that dies, even by SIGKILL, loses nothing either
     *                     way, since what it wrote is in the operating system's cache.
     * @param clusterId    the cluster whose data this store holds, or null. A new store records it; a store
     *                     that recorded another one is refused, so that a node pointed at another cluster's
     *                     data does not join this one with it; one that recorded none adopts it. Null checks
     *                     nothing. At most 255 bytes in UTF-8.
     */
    public record Options(long segmentBytes, boolean sync, String clusterId) {
        public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;
        public static final long MAX_SEGMENT_BYTES = 1L << 30;

        public Options {
            if (segmentBytes < 1 || segmentBytes > MAX_SEGMENT_BYTES) {
                throw new IllegalArgumentException("segmentBytes must be 1.." + MAX_SEGMENT_BYTES + ", was "
                        + segmentBytes);
            }
            if (clusterId != null) {
                int bytes = clusterId.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
                if (bytes < 1 || bytes > LogFormat.MAX_CLUSTER_ID_BYTES) {
                    throw new IllegalArgumentException("clusterId must be 1.." + LogFormat.MAX_CLUSTER_ID_BYTES
                            + " bytes in UTF-8, was " + bytes);
                }
            }
        }

        public Options(long segmentBytes, boolean sync) {
            this(segmentBytes, sync, null);
        }

        /** Segments of {@value #DEFAULT_SEGMENT_BYTES} bytes, every write forced to disk, no cluster id. */
        public static Options defaults() {
            return new Options(DEFAULT_SEGMENT_BYTES, true, null);
        }

        public Options withSegmentBytes(long segmentBytes) {
            return new Options(segmentBytes, sync, clusterId);
        }

        public Options withSync(boolean sync) {
            return new Options(segmentBytes, sync, clusterId);
        }

        public Options withClusterId(String clusterId) {
            return new Options(segmentBytes, sync, clusterId);
        }
    }

    /*
     * This class checks each call against the store and Raft's rules; its parts do the rest. StoreRecovery opens a
     * store. StoreDirectory is the directory: its marker and its lock. SegmentSet is the log's segment files: the
     * current one, roll-over, compaction. LogWriter writes the log: each persist in one write, forced once, and says
     * where each entry's record went. LogIndex is what memory holds of the log after the snapshot: each entry's term
     * and where its record lies. LogReader reads entries back by index where LogIndex says, for read().
     * StoreSnapshot is the snapshot and the installation of the next. All of them change files through StoreFiles;
     * the bytes are LogFormat's, read back by LogReplay (at open, and for entries()), LogReader and SnapshotFile.
     */
    private final Path dir;
    private final StoreFiles files;
    private final StoreDirectory directory;
    private final StoreSnapshot snapshot;
    private final SegmentSet segments;
    private final LogWriter writer;
    private final LogReader reader;
    /** The log after the snapshot as last read from disk; null once a write has changed it. */
    private List<Entry> entries;
    /** The terms and record positions of the entries after the snapshot: index {@code snapshotIndex() + 1 + i} at i. */
    private final LogIndex index;
    private boolean closed;

    static final String LAST_SEGMENT_NAME = SegmentSet.LAST_SEGMENT_NAME;
    /*
     * What the tests of this package read of the store's insides (the benchmarks too, of forces): copies of what
     * its parts hold, brought up to date at the end of open, persist and install. How many times a log file was
     * forced to disk, for tests of group commit; the current segment's number, channel and size.
     */
    long forces;
    long segment;
    FileChannel channel;
    long segmentSize;

    private FileStorage(StoreFiles files, StoreRecovery.Recovered recovered) {
        this.dir = files.dir();
        this.files = files;
        this.directory = recovered.directory();
        this.snapshot = recovered.snapshot();
        this.segments = recovered.segments();
        this.writer = recovered.writer();
        this.entries = recovered.entries();
        this.index = recovered.index();
        this.reader = new LogReader(dir, segments);
        refreshTestView();
    }

    /** Opens the store in {@code dir} with {@link Options#defaults()}; see {@link #open(Path, Options)}. */
    public static FileStorage open(Path dir) {
        return open(dir, Options.defaults());
    }

    /**
     * Opens the store in {@code dir}, creating it if the directory is missing or empty, and recovers
     * its contents.
     *
     * @throws NotAStoreException     if {@code dir} is not empty and holds no store
     * @throws CorruptStoreException  if the store is damaged beyond a write torn by a crash
     * @throws StorageException       on an I/O error
     */
    public static FileStorage open(Path dir, Options options) {
        return open(dir, options, StoreIo.REAL);
    }

    /** Opens the store in {@code dir}, making every change to it through {@code io}. */
    static FileStorage open(Path dir, Options options, StoreIo io) {
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(options, "options");
        StoreFiles files = new StoreFiles(dir.toAbsolutePath().normalize(), options.sync(), Objects.requireNonNull(io, "io"));
        return new FileStorage(files, StoreRecovery.recover(files, options));
    }

    @Override
    public synchronized HardState hardState() {
        checkOpen();
        return writer.hardState();
    }

    /**
     * The persisted log after the snapshot. It is read from disk: the list recovered at {@link #open}
     * until a write changes the log, after which the next call reads the segments again (the Raft core
     * asks only once, when it starts, and keeps its own copy).
     */
    @Override
    public synchronized List<Entry> entries() {
        checkOpen();
        if (entries == null) {
            LogReplay.Result r = LogReplay.replay(dir, segments.first(), segments.current(), snapshot.meta());
            long base = r.base();
            long from = snapshotIndex() - base; // the position of the first entry after the snapshot
            entries = base < 0 ? List.of() : from <= 0 ? r.entries()
                    : List.copyOf(r.entries().subList((int) Math.min(from, r.entries().size()), r.entries().size()));
        }
        return entries;
    }

    /** The index of the last stored entry: the snapshot's if the log after it is empty, 0 if there is neither. */
    public synchronized long lastIndex() {
        checkOpen();
        return last();
    }

    private long last() {
        return snapshotIndex() + index.count();
    }

    private long snapshotIndex() {
        return snapshot.index();
    }

    @Override
    public synchronized Optional<SnapshotMeta> snapshot() {
        checkOpen();
        return Optional.ofNullable(snapshot.meta());
    }

    /**
     * {@inheritDoc} The reader has a channel of its own on the file: it stays readable after a newer
     * snapshot replaces this one and its file is deleted.
     */
    @Override
    public synchronized SnapshotReader openSnapshot() {
        checkOpen();
        return snapshot.reader();
    }

    /** {@inheritDoc} The bytes go to a temporary file in the store's directory, deleted if not installed. */
    @Override
    public synchronized SnapshotWriter createSnapshot(SnapshotMeta meta) {
        Objects.requireNonNull(meta, "meta");
        checkOpen();
        return snapshot.newWriter(this, meta);
    }

    /** Installs a finished snapshot (see {@link SnapshotWriter#install()} and {@link StoreSnapshot#install}). */
    synchronized void install(SnapshotFile.Writer w) {
        try {
            installNow(w);
        } finally {
            refreshTestView();
        }
    }

    private void installNow(SnapshotFile.Writer w) {
        checkOpen();
        SnapshotMeta meta = w.meta();
        SnapshotMeta held = snapshot.meta();
        if (held != null && meta.index() <= held.index()) {
            throw new IllegalStateException("cannot install " + meta + ": the store already holds " + held);
        }
        writer.checkWritable();
        long at = meta.index() - snapshotIndex(); // the position + 1 of the snapshot's last entry among terms
        boolean holds = meta.index() <= last() && index.term((int) (at - 1)) == meta.term();
        long commit = writer.hardState().commit();
        if (!holds && commit > meta.index()) {
            throw new IllegalStateException("cannot install " + meta + ": the log diverges from it at or before its"
                    + " last entry, yet the hard state commits " + commit + ", beyond it");
        }
        reader.closeOlder(); // the install may delete the segment it has open
        snapshot.install(w, holds, writer, segments);
        if (holds) {
            index.dropFirst((int) at);
            if (entries != null) entries = List.copyOf(entries.subList((int) at, entries.size()));
        } else {
            index.clear();
            entries = List.of();
        }
    }

    /** How this store changes its files. */
    StoreIo io() {
        return files.io();
    }

    /** The directory this store lives in. */
    public Path directory() {
        return dir;
    }

    /**
     * {@inheritDoc} One force for the whole call (a call that rolls over to a new segment also syncs
     * the directory), and none for a call that only moves the commit index. Besides refusing entries that leave a gap or skip an index, it refuses what Raft
     * never writes and recovery would reject: a hard state whose term goes back, an entry whose term
     * is beyond the hard state's, and a commit index beyond the last entry. A refused call writes nothing.
     *
     * @throws StorageException on an I/O error; the store then refuses further writes (reopen it)
     */
    @Override
    public synchronized void persist(HardState hs, List<Entry> batch) {
        try {
            append(hs, batch);
        } finally {
            refreshTestView();
        }
    }

    private void append(HardState hs, List<Entry> batch) {
        Objects.requireNonNull(batch, "entries");
        checkOpen();
        writer.checkWritable();
        HardState after = hs != null ? hs : writer.hardState();
        validate(after, batch);
        if (hs == null && batch.isEmpty()) return;
        long[] offsets = writer.append(after, batch);
        if (!batch.isEmpty()) {
            entries = null;
            // The write replaces whatever the log held from its first index on; its records all went to the
            // current segment.
            index.truncate((int) (batch.get(0).index() - snapshotIndex() - 1));
            long segment = segments.current();
            for (int i = 0; i < offsets.length; i++) index.add(batch.get(i).term(), segment, offsets[i]);
        }
    }

    /**
     * {@inheritDoc} The entries are read from the segment files (positional reads, one per run of records that
     * lie together), including those written but not yet forced to disk; each record must pass its CRCs and hold
     * the entry asked for. {@code maxBytes} bounds the sum of {@link Entry#size()} of the entries returned: an entry
     * that would take the sum past it ends the list, unless it is the first.
     *
     * @throws IllegalArgumentException if {@code maxBytes < 1}, {@code from >= to}, or {@code from..to - 1} is not
     *                                  all stored after the snapshot
     * @throws IllegalStateException    if the store is closed
     * @throws CorruptStoreException    if a record read is damaged, or does not hold the entry its place says
     * @throws StorageException         on an I/O error
     */
    @Override
    public synchronized List<Entry> read(long from, long to, long maxBytes) {
        checkOpen();
        if (maxBytes < 1) throw new IllegalArgumentException("maxBytes must be at least 1, was " + maxBytes);
        if (from >= to) {
            throw new IllegalArgumentException("cannot read entries from " + from + " to before " + to
                    + ": the range is empty");
        }
        long base = snapshotIndex();
        if (from <= base || to - 1 > last()) {
            throw new IllegalArgumentException("cannot read entries " + from + ".." + (to - 1) + ": the store holds "
                    + (last() > base ? "entries " + (base + 1) + ".." + last() : "no entries")
                    + (base > 0 ? " after its snapshot at " + base : ""));
        }
        return reader.read(index, base, from, to, maxBytes);
    }

    /** Checks a write against the store. */
    private void validate(HardState after, List<Entry> batch) {
        long newLast = last();
        if (!batch.isEmpty()) {
            Entry firstEntry = Objects.requireNonNull(batch.get(0), "entry");
            long first = firstEntry.index();
            long base = snapshotIndex();
            if (first <= base || first > newLast + 1) {
                throw new IllegalArgumentException("entries start at " + first + " but the log holds " + (base + 1) + ".."
                        + newLast + ": a write may not leave a gap"
                        + (base > 0 ? " or reach into the snapshot at " + base : ""));
            }
            for (int i = 0; i < batch.size(); i++) {
                Entry e = Objects.requireNonNull(batch.get(i), "entry");
                if (i > 0 && e.index() != first + i) {
                    throw new IllegalArgumentException("entries must have consecutive indexes: " + batch.get(i - 1)
                            + " is followed by " + e);
                }
                if (e.term() > after.term()) {
                    throw new IllegalArgumentException("entry " + e + " has a term beyond the hard state's, "
                            + after.term() + ": persist the hard state of that term with it or before it");
                }
            }
            newLast = first + batch.size() - 1;
        }
        HardState before = writer.hardState();
        if (after.term() < before.term()) {
            throw new IllegalArgumentException("the hard state's term may not go back, from " + before.term()
                    + " to " + after.term());
        }
        if (after.commit() > newLast) {
            throw new IllegalArgumentException("commit index " + after.commit() + " is beyond the last entry, "
                    + newLast + ", the log would hold after this write");
        }
    }

    /** Closes the files; the store stays on disk for the next {@link #open}. Closing twice does nothing. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            reader.closeOlder();
            segments.close();
        } finally {
            directory.release();
        }
    }

    /** Brings up to date the copies that tests read of what the store's parts hold. */
    private void refreshTestView() {
        forces = files.forces;
        segment = segments.current();
        channel = segments.channel();
        segmentSize = segments.size();
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the store in " + dir + " is closed");
    }
}
