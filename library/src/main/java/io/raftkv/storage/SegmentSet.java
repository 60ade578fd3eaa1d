package io.raftkv.storage;

import io.raftkv.raft.SnapshotMeta;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.CRC32C;

import static io.raftkv.storage.StoreFiles.closeQuietly;
import static io.raftkv.storage.StoreFiles.ioFailure;

/**
 * The segment files of a store's log: which are on disk and the highest index each holds, the current one (the
 * newest, open to append to), moving on to a new one, and deleting the oldest once a snapshot covers them (oldest
 * first, never the current one, so the segments left stay numbered without gaps). The number of the newest is
 * recorded in a file of its own, {@value #LAST_SEGMENT_NAME}, so that a missing last segment is noticed. What the
 * records in a segment say is {@link LogFormat}'s, {@link LogReplay}'s and {@link LogReader}'s; what goes into one,
 * {@link LogWriter}'s.
 */
final class SegmentSet {
    /** FileStorage's logger: the store's messages keep one name whichever part logs them. */
    private static final System.Logger LOG = System.getLogger(FileStorage.class.getName());
    static final String LAST_SEGMENT_NAME = "raftkv.segments";
    /** The bytes that open every segment: its header and a hard-state record. */
    static final long OPENING_BYTES = LogFormat.SEGMENT_HEADER_BYTES + LogFormat.HARD_STATE_RECORD_BYTES;

    private final StoreFiles files;
    private final Path dir;
    private final CRC32C crc = new CRC32C();
    /** For each segment on disk, oldest first, its highest entry (or reset) index; {@link Long#MIN_VALUE} if none. */
    private final TreeMap<Long, Long> segmentMax = new TreeMap<>();
    /** The current segment: its number (0 before the first is written), file, channel and size. */
    private long segment;
    private Path segmentFile;
    private FileChannel channel;
    private long segmentSize;

    SegmentSet(StoreFiles files) {
        this.files = files;
        this.dir = files.dir();
    }

    /**
     * Checks the segments found at open (their numbers, sorted) against the record of the newest, and makes the
     * newest the current one, recording it if a crash came between its rename and its record. Returns the number
     * of the first, or 0 if there is none (a new store, whose first segment {@link #rollOver} writes).
     *
     * @throws CorruptStoreException if one is missing, or the first one is not 1 though no snapshot covers those before it
     */
    long check(List<Long> segments, SnapshotMeta snapshot) {
        long recorded = readLastSegment();
        long found = segments.isEmpty() ? 0 : segments.get(segments.size() - 1);
        // A new segment is renamed into place before it is recorded, so the last one found may be
        // one past the record (a crash in between), never short of it.
        if (found < recorded) {
            Path missing = dir.resolve(LogFormat.segmentName(recorded));
            throw new CorruptStoreException(missing, -1, "this log segment is missing: the store recorded "
                    + recorded + " segments but holds " + (segments.isEmpty() ? "none"
                    : "only " + segments.get(0) + ".." + found));
        }
        if (found > recorded + 1) {
            Path extra = dir.resolve(LogFormat.segmentName(found));
            throw new CorruptStoreException(extra, -1, "the store recorded " + recorded
                    + " segments, but this one is numbered " + found);
        }
        if (segments.isEmpty()) {
            if (snapshot != null) {
                throw new CorruptStoreException(dir.resolve(LogFormat.segmentName(1)), -1, "the store holds "
                        + snapshot + " but no log segment, not even one for its hard state");
            }
            return 0;
        }
        long first = segments.get(0);
        for (int i = 0; i < segments.size(); i++) {
            if (segments.get(i) != first + i) {
                Path missing = dir.resolve(LogFormat.segmentName(first + i));
                throw new CorruptStoreException(missing, -1, "this log segment is missing; the store has "
                        + segments.size() + " segments numbered " + segments.get(0) + ".."
                        + segments.get(segments.size() - 1));
            }
        }
        // Segments are deleted only once a snapshot covers them, and a snapshot only once a newer one is in place.
        if (first != 1 && snapshot == null) {
            Path missing = dir.resolve(LogFormat.segmentName(1));
            throw new CorruptStoreException(missing, -1, "this log segment is missing: the store holds no snapshot,"
                    + " so its log must start at segment 1, but its first segment is " + first);
        }
        segment = found;
        if (segment != recorded) recordLastSegment(segment);
        segmentFile = dir.resolve(LogFormat.segmentName(segment));
        return first;
    }

    /**
     * Opens the current segment to append to, once {@link LogReplay} has read the segments: {@code segmentMaxIndex}
     * is each one's highest index, and {@code cut}, if not null, where a write torn by a crash begins, which is cut off.
     */
    void open(Map<Long, Long> segmentMaxIndex, LogReplay.Cut cut) {
        segmentMax.putAll(segmentMaxIndex);
        channel = files.open(segmentFile);
        try {
            if (cut != null) {
                LOG.log(Level.WARNING, () -> cut.file() + ": cutting a torn tail at byte offset " + cut.offset() + " ("
                        + (cut.fileBytes() - cut.offset()) + " bytes dropped): " + cut.why());
                channel.truncate(cut.offset());
                // Appending over a cut that is not yet on disk could, after another crash, leave new
                // records followed by the rest of the old tail: make the cut durable first.
                if (files.sync()) channel.force(true);
            }
            segmentSize = channel.size();
        } catch (IOException e) {
            closeQuietly(channel);
            throw ioFailure("cannot cut the torn tail of", segmentFile, e);
        }
    }

    /** The number of the oldest segment on disk. */
    long first() {
        return segmentMax.firstKey();
    }

    /** The number of the current segment. */
    long current() {
        return segment;
    }

    Path currentFile() {
        return segmentFile;
    }

    /** The current segment's size in bytes. */
    long size() {
        return segmentSize;
    }

    /** The current segment's channel: for reading back what was written to it, and for tests. */
    FileChannel channel() {
        return channel;
    }

    /** Writes {@code b} into the current segment at {@code position}, which becomes its end. */
    void writeAt(long position, ByteBuffer b) {
        segmentSize = position + StoreFiles.write(segmentFile, channel, position, b);
    }

    /** Forces the current segment to disk. */
    void force() {
        files.force(segmentFile, channel);
    }

    /** Notes that the current segment now holds entries up to {@code index}. */
    void wrote(long index) {
        segmentMax.merge(segment, index, Math::max);
    }

    /**
     * Moves on to the next segment, whose {@code contents} (its header, the current hard state and what follows)
     * are written whole before it is recorded as the newest.
     */
    void rollOver(ByteBuffer contents) {
        long next = segment + 1;
        Path file = dir.resolve(LogFormat.segmentName(next));
        long size = contents.remaining();
        FileChannel ch = createSegment(file, contents);
        try {
            recordLastSegment(next);
        } catch (StorageException e) {
            closeQuietly(ch);
            throw e;
        }
        if (channel != null) closeQuietly(channel);
        channel = ch;
        segment = next;
        segmentFile = file;
        segmentSize = size;
        segmentMax.put(next, Long.MIN_VALUE);
    }

    /**
     * Notes that the current segment opens with a reset to the snapshot at {@code index}: the log before it is void,
     * so every older segment is compactable.
     */
    void resetTo(long index) {
        segmentMax.replaceAll((n, max) -> Long.MIN_VALUE); // void from now on, whatever they hold
        segmentMax.put(segment, index);
    }

    /** Cuts the current segment back to its opening (header and hard state), and forces the cut. */
    void cutToOpening() throws IOException {
        channel.truncate(OPENING_BYTES);
        force();
        segmentSize = OPENING_BYTES;
        segmentMax.put(segment, Long.MIN_VALUE);
    }

    /**
     * Deletes the oldest segments while every entry they hold lies at or below the snapshot, never the
     * current one: oldest first, so the segments left stay numbered without gaps.
     */
    void compact(SnapshotMeta snapshot) {
        while (segmentMax.size() > 1) {
            Map.Entry<Long, Long> oldest = segmentMax.firstEntry();
            if (oldest.getKey() == segment || oldest.getValue() > snapshot.index()) break;
            Path file = dir.resolve(LogFormat.segmentName(oldest.getKey()));
            try {
                files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.log(Level.WARNING, () -> "cannot delete " + file + ", which " + snapshot + " covers: " + e
                        + "; it stays until the next snapshot or open");
                return;
            }
            segmentMax.pollFirstEntry();
        }
    }

    /** Closes the current segment. */
    void close() {
        try {
            channel.close();
        } catch (IOException e) {
            throw ioFailure("cannot close", segmentFile, e);
        }
    }

    /** Closes the current segment, if open, after a failure. */
    void closeAfterFailure() {
        if (channel != null) closeQuietly(channel);
    }

    /**
     * Writes a segment as a temporary file, forces it and renames it into place, so that a segment
     * exists whole (header and first hard-state record) or not at all; returns it open.
     */
    private FileChannel createSegment(Path file, ByteBuffer contents) {
        return files.writeWhole(file, contents, false);
    }

    /**
     * The number of the newest segment, kept in its own small file (written whole, then renamed) so
     * that a missing last segment, or a store stripped of all its segments, is noticed: without it
     * the store would open as if those writes, and the votes in them, had never happened.
     */
    private void recordLastSegment(long n) {
        ByteBuffer b = ByteBuffer.allocate(12);
        b.putLong(n);
        crc.reset();
        crc.update(b.array(), 0, 8);
        b.putInt((int) crc.getValue());
        b.flip();
        closeQuietly(files.writeWhole(dir.resolve(LAST_SEGMENT_NAME), b, false));
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
}
