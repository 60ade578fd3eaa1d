package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

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
 * (as etcd's WAL does), so no record is ever rewritten in place. The log is kept in segments of about
 * {@link Options#segmentBytes()}; each starts with the current hard state. See {@link LogFormat} for
 * the bytes.
 */
public final class FileStorage implements Storage {

    /**
     * How a store is written.
     *
     * @param segmentBytes the size past which the log moves on to a new segment file (a write is never
     *                     split, so a segment may exceed it by one write); 1 byte to 1 GiB
     * @param sync         whether each write is forced to disk before {@code persist} returns. Turn it off
     *                     only where losing the last writes to a machine crash or power loss is acceptable
     *                     (tests, benchmarks): a process that dies, even by SIGKILL, loses nothing either
     *                     way, since what it wrote is in the operating system's cache.
     */
    public record Options(long segmentBytes, boolean sync) {
        public static final long DEFAULT_SEGMENT_BYTES = 64L << 20;
        public static final long MAX_SEGMENT_BYTES = 1L << 30;

        public Options {
            if (segmentBytes < 1 || segmentBytes > MAX_SEGMENT_BYTES) {
                throw new IllegalArgumentException("segmentBytes must be 1.." + MAX_SEGMENT_BYTES + ", was "
                        + segmentBytes);
            }
        }

        /** Segments of {@value #DEFAULT_SEGMENT_BYTES} bytes, every write forced to disk. */
        public static Options defaults() {
            return new Options(DEFAULT_SEGMENT_BYTES, true);
        }

        public Options withSegmentBytes(long segmentBytes) {
            return new Options(segmentBytes, sync);
        }

        public Options withSync(boolean sync) {
            return new Options(segmentBytes, sync);
        }
    }

    private static final int INITIAL_BUFFER_BYTES = 64 << 10;
    private static final int KEPT_BUFFER_BYTES = 16 << 20;
    private static final System.Logger LOG = System.getLogger(FileStorage.class.getName());
    private static final boolean WINDOWS = System.getProperty("os.name", "").toLowerCase(Locale.ROOT)
            .startsWith("windows");

    private final Path dir;
    private final Options options;
    private final CRC32C crc = new CRC32C();
    private ByteBuffer buffer = ByteBuffer.allocateDirect(INITIAL_BUFFER_BYTES);

    private HardState hardState;
    private long lastIndex;
    /** The log as last read from disk; null once a write has changed it. */
    private List<Entry> entries;

    long segment;
    private Path segmentFile;
    FileChannel channel;
    long segmentSize;

    private boolean closed;
    static final String LAST_SEGMENT_NAME = "raftkv.segments";
    /** The current segment holds a commit-only write that was not forced. */
    private boolean unforced;
    /** Held on the marker while the store is open: one open store per directory, in any process. */
    private FileChannel lockChannel;
    private StorageException failure;
    /** How many times a log file was forced to disk; for tests of group commit. */
    long forces;

    private FileStorage(Path dir, Options options) {
        this.dir = dir;
        this.options = options;
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
        Objects.requireNonNull(dir, "dir");
        Objects.requireNonNull(options, "options");
        FileStorage s = new FileStorage(dir.toAbsolutePath().normalize(), options);
        try {
            s.recover();
        } catch (RuntimeException e) {
            s.releaseLock();
            throw e;
        }
        return s;
    }

    private void recover() {
        List<Long> segments = prepareDirectory();
        lock();
        long recorded = readLastSegment();
        long found = segments.isEmpty() ? 0 : segments.get(segments.size() - 1);
        // A new segment is renamed into place before it is recorded, so the last one found may be
        // one past the record (a crash in between), never short of it.
        if (found < recorded) {
            Path missing = dir.resolve(LogFormat.segmentName(recorded));
            throw new CorruptStoreException(missing, -1, "this log segment is missing: the store recorded "
                    + recorded + " segments but holds " + (segments.isEmpty() ? "none" : "only 1.." + found));
        }
        if (found > recorded + 1) {
            Path extra = dir.resolve(LogFormat.segmentName(found));
            throw new CorruptStoreException(extra, -1, "the store recorded " + recorded
                    + " segments, but this one is numbered " + found);
        }
        if (segments.isEmpty()) {
            hardState = HardState.INITIAL;
            entries = List.of();
            segment = 1;
            segmentFile = dir.resolve(LogFormat.segmentName(1));
            buffer.clear();
            LogFormat.putSegmentHeader(buffer, 1, crc);
            LogFormat.putHardState(buffer, hardState, crc);
            channel = createSegment(segmentFile, buffer.flip());
            recordLastSegment(1);
            segmentSize = LogFormat.SEGMENT_HEADER_BYTES + LogFormat.HARD_STATE_RECORD_BYTES;
            return;
        }
        for (int i = 0; i < segments.size(); i++) {
            if (segments.get(i) != i + 1) {
                Path missing = dir.resolve(LogFormat.segmentName(i + 1));
                throw new CorruptStoreException(missing, -1, "this log segment is missing; the store has "
                        + segments.size() + " segments numbered " + segments.get(0) + ".."
                        + segments.get(segments.size() - 1));
            }
        }
        segment = segments.size();
        if (segment != recorded) recordLastSegment(segment);
        segmentFile = dir.resolve(LogFormat.segmentName(segment));
        LogReplay.Result r = LogReplay.replay(dir, segment);
        hardState = r.hardState();
        entries = r.entries();
        lastIndex = entries.size();
        channel = openChannel(segmentFile);
        try {
            if (r.cut() != null) {
                LogReplay.Cut cut = r.cut();
                LOG.log(Level.WARNING, () -> cut.file() + ": cutting a torn tail at byte offset " + cut.offset() + " ("
                        + (cut.fileBytes() - cut.offset()) + " bytes dropped): " + cut.why());
                channel.truncate(cut.offset());
                // Appending over a cut that is not yet on disk could, after another crash, leave new
                // records followed by the rest of the old tail: make the cut durable first.
                if (options.sync()) channel.force(true);
            }
            segmentSize = channel.size();
        } catch (IOException e) {
            closeQuietly(channel);
            throw ioFailure("cannot cut the torn tail of", segmentFile, e);
        }
    }

    /** Makes {@link #dir} a store if it is new or empty; returns the numbers of its segments, sorted. */
    private List<Long> prepareDirectory() {
        List<String> names = new ArrayList<>();
        try {
            if (!Files.exists(dir)) {
                Files.createDirectories(dir);
                if (dir.getParent() != null) syncDirectory(dir.getParent());
            } else if (!Files.isDirectory(dir)) {
                throw new NotAStoreException(dir, "it is a file, not a directory");
            }
            try (Stream<Path> list = Files.list(dir)) {
                list.forEach(p -> names.add(p.getFileName().toString()));
            }
        } catch (IOException e) {
            throw ioFailure("cannot list", dir, e);
        }
        names.sort(null);
        Path marker = dir.resolve(LogFormat.MARKER_NAME);
        Path markerTemp = tempOf(marker);
        if (names.contains(LogFormat.MARKER_NAME)) {
            try {
                LogFormat.checkMarker(marker, ByteBuffer.wrap(Files.readAllBytes(marker)));
            } catch (IOException e) {
                throw ioFailure("cannot read", marker, e);
            }
        } else {
            List<String> others = names.stream().filter(n -> !n.equals(markerTemp.getFileName().toString())).toList();
            if (!others.isEmpty()) {
                throw new NotAStoreException(dir, "it has no " + LogFormat.MARKER_NAME + " marker and is not empty: "
                        + "it holds " + others.size() + (others.size() == 1 ? " entry (" : " entries (")
                        + String.join(", ", others.subList(0, Math.min(5, others.size())))
                        + (others.size() > 5 ? ", ..." : "") + ")");
            }
            // A marker written in full, forced and then renamed into place: it is there whole or not at all.
            FileChannel ch = openChannel(markerTemp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
            try {
                write(markerTemp, ch, 0, LogFormat.marker());
                force(markerTemp, ch);
            } finally {
                closeQuietly(ch);
            }
            move(markerTemp, marker);
            syncDirectory(dir);
        }
        List<Long> segments = new ArrayList<>();
        for (String name : names) {
            long n = LogFormat.segmentNumber(name);
            if (n > 0) {
                segments.add(n);
            } else if (LogFormat.isSegmentTemp(name)) {
                // A segment that was never renamed into place held only a write that never returned.
                Path temp = dir.resolve(name);
                try {
                    Files.delete(temp);
                } catch (IOException e) {
                    throw ioFailure("cannot delete", temp, e);
                }
            }
        }
        return segments;
    }

    @Override
    public synchronized HardState hardState() {
        checkOpen();
        return hardState;
    }

    /**
     * The persisted log. It is read from disk: the list recovered at {@link #open} until a write
     * changes the log, after which the next call reads the segments again (the Raft core asks only
     * once, when it starts, and keeps its own copy).
     */
    @Override
    public synchronized List<Entry> entries() {
        checkOpen();
        if (entries == null) entries = LogReplay.replay(dir, segment).entries();
        return entries;
    }

    /** The index of the last stored entry, 0 if there is none. */
    public synchronized long lastIndex() {
        checkOpen();
        return lastIndex;
    }

    @Override
    public Optional<SnapshotMeta> snapshot() {
        return Optional.empty();
    }

    @Override
    public SnapshotReader openSnapshot() {
        throw new IllegalStateException("this store holds no snapshot");
    }

    @Override
    public SnapshotWriter createSnapshot(SnapshotMeta meta) {
        throw new UnsupportedOperationException("FileStorage does not store snapshots yet");
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
        Objects.requireNonNull(batch, "entries");
        checkOpen();
        if (failure != null) {
            throw new StorageException("an earlier write to " + segmentFile + " failed; reopen the store", failure);
        }
        HardState after = hs != null ? hs : hardState;
        long newLast = validate(after, batch);
        if (hs == null && batch.isEmpty()) return;

        long bytes = LogFormat.HARD_STATE_RECORD_BYTES;
        for (Entry e : batch) bytes += LogFormat.entryRecordBytes(e);
        long rollBytes = LogFormat.SEGMENT_HEADER_BYTES + LogFormat.HARD_STATE_RECORD_BYTES;
        if (bytes + rollBytes > LogFormat.MAX_SEGMENT_FILE_BYTES) {
            throw new IllegalArgumentException("a write of " + bytes + " bytes is more than one segment file can hold ("
                    + (LogFormat.MAX_SEGMENT_FILE_BYTES - rollBytes) + ")");
        }
        boolean roll = segmentSize >= options.segmentBytes()
                || segmentSize + bytes > LogFormat.MAX_SEGMENT_FILE_BYTES;
        ensureCapacity((int) (bytes + (roll ? rollBytes : 0)));
        buffer.clear();
        if (roll) {
            // The new segment opens with the current (durable) hard state, so older ones are never needed for it.
            LogFormat.putSegmentHeader(buffer, segment + 1, crc);
            LogFormat.putHardState(buffer, hardState, crc);
        }
        for (Entry e : batch) LogFormat.putEntry(buffer, e, crc);
        LogFormat.putHardState(buffer, after, crc);
        buffer.flip();
        try {
            if (roll) {
                rollOver(buffer);
            } else {
                segmentSize += write(segmentFile, channel, segmentSize, buffer);
                // A change of the commit index alone promises nothing (commit is volatile state in
                // Raft; etcd's MustSync skips it too): it rides on the next forced write. Forcing it
                // would cost every node a second sync per commit, on the client's path.
                boolean mustSync = !batch.isEmpty() || after.term() != hardState.term()
                        || after.votedFor() != hardState.votedFor();
                if (mustSync) force(segmentFile, channel);
                unforced = !mustSync;
            }
        } catch (StorageException e) {
            failure = e;
            throw e;
        }
        hardState = after;
        lastIndex = newLast;
        if (!batch.isEmpty()) entries = null;
        // One huge write should not pin its buffer for the life of the store.
        if (buffer.capacity() > KEPT_BUFFER_BYTES) buffer = ByteBuffer.allocateDirect(INITIAL_BUFFER_BYTES);
    }

    /** Checks a write against the store; returns the last index after it. */
    private long validate(HardState after, List<Entry> batch) {
        long newLast = lastIndex;
        if (!batch.isEmpty()) {
            Entry firstEntry = Objects.requireNonNull(batch.get(0), "entry");
            long first = firstEntry.index();
            if (first > lastIndex + 1) {
                throw new IllegalArgumentException("entries start at " + first + " but the log holds 1.." + lastIndex
                        + ": a write may not leave a gap");
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
        if (after.term() < hardState.term()) {
            throw new IllegalArgumentException("the hard state's term may not go back, from " + hardState.term()
                    + " to " + after.term());
        }
        if (after.commit() > newLast) {
            throw new IllegalArgumentException("commit index " + after.commit() + " is beyond the last entry, "
                    + newLast + ", the log would hold after this write");
        }
        return newLast;
    }

    /** Moves on to the next segment, whose {@code contents} are its header, the current hard state and this write. */
    private void rollOver(ByteBuffer contents) {
        long next = segment + 1;
        Path file = dir.resolve(LogFormat.segmentName(next));
        long size = contents.remaining();
        // The new segment opens with the current hard state: whatever the old one holds must be on
        // disk before it, or a crash could leave a newer segment after a torn older one.
        if (unforced) force(segmentFile, channel);
        unforced = false;
        FileChannel ch = createSegment(file, contents);
        recordLastSegment(next);
        closeQuietly(channel);
        channel = ch;
        segment = next;
        segmentFile = file;
        segmentSize = size;
    }

    /**
     * Writes a segment as a temporary file, forces it and renames it into place, so that a segment
     * exists whole (header and first hard-state record) or not at all; returns it open.
     */
    private FileChannel createSegment(Path file, ByteBuffer contents) {
        Path temp = tempOf(file);
        FileChannel ch = openChannel(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
        try {
            write(temp, ch, 0, contents);
            force(temp, ch);
            move(temp, file);
            syncDirectory(dir);
            return ch;
        } catch (StorageException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    /** Closes the files; the store stays on disk for the next {@link #open}. Closing twice does nothing. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        try {
            channel.close();
        } catch (IOException e) {
            throw ioFailure("cannot close", segmentFile, e);
        } finally {
            releaseLock();
        }
    }

    /**
     * The number of the newest segment, kept in its own small file (written whole, then renamed) so
     * that a missing last segment, or a store stripped of all its segments, is noticed: without it
     * the store would open as if those writes, and the votes in them, had never happened.
     */
    private void recordLastSegment(long n) {
        Path file = dir.resolve(LAST_SEGMENT_NAME);
        Path temp = tempOf(file);
        ByteBuffer b = ByteBuffer.allocate(12);
        b.putLong(n);
        crc.reset();
        crc.update(b.array(), 0, 8);
        b.putInt((int) crc.getValue());
        b.flip();
        FileChannel ch = openChannel(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
        try {
            write(temp, ch, 0, b);
            force(temp, ch);
        } finally {
            closeQuietly(ch);
        }
        move(temp, file);
        syncDirectory(dir);
    }

    private long readLastSegment() {
        Path file = dir.resolve(LAST_SEGMENT_NAME);
        if (!Files.exists(file)) return 0;
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw ioFailure("cannot read", file, e);
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        crc.reset();
        crc.update(bytes, 0, Math.min(8, bytes.length));
        if (bytes.length != 12 || b.getInt(8) != (int) crc.getValue()) {
            throw new CorruptStoreException(file, 0, "the record of the newest segment is damaged");
        }
        return b.getLong(0);
    }

    /** Two open stores on one directory would each append to the log as if alone: refuse the second. */
    private void lock() {
        Path marker = dir.resolve(LogFormat.MARKER_NAME);
        lockChannel = openChannel(marker, StandardOpenOption.READ);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            throw ioFailure("cannot lock", marker, e);
        }
        if (lock == null) {
            releaseLock();
            throw new StorageException("the store in " + dir + " is already open, in this process or another; "
                    + "close it first");
        }
    }

    private void releaseLock() {
        if (lockChannel != null) {
            closeQuietly(lockChannel); // closing the channel releases its lock
            lockChannel = null;
        }
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("the store in " + dir + " is closed");
    }

    private void ensureCapacity(int bytes) {
        if (buffer.capacity() < bytes) {
            int doubled = (int) Math.min(Integer.MAX_VALUE, 2L * buffer.capacity());
            buffer = ByteBuffer.allocateDirect(Math.max(bytes, doubled));
        }
    }

    private static Path tempOf(Path file) {
        return file.resolveSibling(file.getFileName() + LogFormat.TEMP_SUFFIX);
    }

    private static FileChannel openChannel(Path file, StandardOpenOption... extra) {
        try {
            List<StandardOpenOption> opts = new ArrayList<>(List.of(StandardOpenOption.READ, StandardOpenOption.WRITE));
            opts.addAll(List.of(extra));
            return FileChannel.open(file, opts.toArray(StandardOpenOption[]::new));
        } catch (IOException e) {
            throw ioFailure("cannot open", file, e);
        }
    }

    /** Writes all of {@code b} at {@code position}; returns the number of bytes written. */
    private static int write(Path file, FileChannel ch, long position, ByteBuffer b) {
        int n = b.remaining();
        try {
            while (b.hasRemaining()) position += ch.write(b, position);
        } catch (IOException e) {
            throw ioFailure("cannot write", file, e);
        }
        return n;
    }

    private void force(Path file, FileChannel ch) {
        if (!options.sync()) return;
        try {
            ch.force(false);
            forces++;
        } catch (IOException e) {
            throw ioFailure("cannot force to disk", file, e);
        }
    }

    private static void move(Path from, Path to) {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw ioFailure("cannot rename " + from.getFileName() + " to", to, e);
        }
    }

    /** Makes the directory's entries (files created, renamed, deleted) durable. */
    private void syncDirectory(Path directory) {
        // Windows cannot open a directory as a file; its file system commits renames with their metadata.
        if (WINDOWS || !options.sync()) return;
        try (FileChannel ch = FileChannel.open(directory, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            throw ioFailure("cannot sync directory", directory, e);
        }
    }

    private static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // Already failing; the first error is the one to report.
        }
    }

    private static StorageException ioFailure(String what, Path file, IOException e) {
        return new StorageException(what + " " + file + ": " + e, e);
    }
}
