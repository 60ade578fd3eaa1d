package io.raftkv.storage;

import io.raftkv.raft.Entry;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import static io.raftkv.storage.LogFormat.RECORD_HEADER_BYTES;
import static io.raftkv.storage.StoreFiles.closeQuietly;
import static io.raftkv.storage.StoreFiles.ioFailure;

/**
 * Reads entries of a store's log back from its segments, by index, where a {@link LogIndex} says their records
 * lie: positional reads, one per run of records that lie together in a segment (the records of one write do) and
 * fit in a window of at most {@value #MAX_WINDOW} bytes, rather than one per entry. Each record must pass both its
 * CRCs and hold the entry the index says (index and term); otherwise the read throws {@link CorruptStoreException}.
 *
 * <p>The current segment is read through the channel it is written through, so what a write put there is read
 * back whether or not it was forced. An older segment is read through a read-only channel of the reader's own,
 * kept open for the next read until one needs another segment, a snapshot's install is about to delete segments,
 * or the store closes. (Reads go to the file system directly, as {@link StoreIo} says.)
 */
final class LogReader {
    /** The least a window reads, and the most (unless one record is larger: it is read whole, alone). */
    private static final int MIN_WINDOW = 4 << 10;
    private static final int MAX_WINDOW = 1 << 20;

    private final Path dir;
    private final SegmentSet segments;
    private final CRC32C crc = new CRC32C();
    private ByteBuffer window = ByteBuffer.allocate(MIN_WINDOW);
    /** A read-only channel on an older segment, and that segment's number; null and 0 if none is open. */
    private FileChannel older;
    private long olderSegment;

    LogReader(Path dir, SegmentSet segments) {
        this.dir = dir;
        this.segments = segments;
    }

    /**
     * The entries {@code from..to - 1} (or the first of them, as many as fit in {@code maxBytes} counted in
     * {@link Entry#size()}, at least one) of the log that {@code index} indexes from {@code base + 1} on. The caller
     * has checked that the index holds them all and that {@code maxBytes} is positive.
     *
     * @throws CorruptStoreException if a record is damaged or does not hold the entry the index says
     * @throws StorageException      on an I/O error
     */
    List<Entry> read(LogIndex index, long base, long from, long to, long maxBytes) {
        List<Entry> out = new ArrayList<>();
        long total = 0;
        int i = (int) (from - base - 1);
        int end = (int) (to - base - 1);
        while (i < end) {
            long segment = index.segment(i);
            Path file = dir.resolve(LogFormat.segmentName(segment));
            FileChannel ch = channel(segment, file);
            long start = index.offset(i);
            // Enough for the entries the budget left allows, and a little more for what lies between writes.
            long left = Math.min(Math.max(0, maxBytes - total), MAX_WINDOW);
            long limit = start + Math.min(MAX_WINDOW, left + MIN_WINDOW);
            int j = i + 1;
            while (j < end && index.segment(j) == segment && index.offset(j) < limit) j++;
            // Records i..j-1 begin in the window; the last ends where the next entry's begins, if that lies in the
            // same segment, and otherwise before the segment's end.
            long stop = j < index.count() && index.segment(j) == segment ? index.offset(j)
                    : segmentSize(segment, ch, file);
            ByteBuffer b = read(ch, file, start, (int) Math.max(0, Math.min(stop, limit) - start), true);
            int k = i;
            while (k < end && index.segment(k) == segment) {
                long offset = index.offset(k);
                long expected = base + 1 + k;
                long rel = offset - start;
                if (rel + RECORD_HEADER_BYTES > b.limit()) {
                    if (k == i) {
                        throw new CorruptStoreException(file, offset, "the file ends before the record of entry "
                                + expected);
                    }
                    break; // the next window starts with it
                }
                int length = recordLength(file, offset, b, (int) rel, expected);
                long size = LogFormat.entrySize(length);
                if (!out.isEmpty() && total + size > maxBytes) return out;
                ByteBuffer rb = b;
                int at = (int) rel;
                if (rel + RECORD_HEADER_BYTES + length > b.limit()) {
                    if (k > i) break;
                    // A record larger than the window: read it whole, alone.
                    rb = read(ch, file, offset, RECORD_HEADER_BYTES + length, false);
                    at = 0;
                    if (rb.limit() < RECORD_HEADER_BYTES + length) {
                        throw new CorruptStoreException(file, offset, "the record of entry " + expected + " ("
                                + length + " bytes) runs past the end of the file");
                    }
                }
                out.add(decode(file, offset, rb, at, length, expected, index.term(k)));
                total += size;
                k++;
            }
            i = k;
        }
        return out;
    }

    /** Closes the channel on an older segment, if one is open: before its segment may be deleted, or at close. */
    void closeOlder() {
        if (older != null) {
            closeQuietly(older);
            older = null;
            olderSegment = 0;
        }
    }

    /** The body length of the record at {@code rel} in {@code b}, after checking its header's CRC. */
    private int recordLength(Path file, long offset, ByteBuffer b, int rel, long expected) {
        if (b.getInt(rel + 8) != LogFormat.crc(crc, b, rel, 8)) {
            throw new CorruptStoreException(file, offset, "the record of entry " + expected + " fails its header CRC");
        }
        int length = b.getInt(rel);
        if (length < 1 || length > LogFormat.MAX_SEGMENT_FILE_BYTES - offset - RECORD_HEADER_BYTES) {
            throw new CorruptStoreException(file, offset, "the record of entry " + expected + " has an invalid length, "
                    + length);
        }
        return length;
    }

    /** The entry in the record at {@code at} in {@code b}, after checking that it is entry {@code expected}. */
    private Entry decode(Path file, long offset, ByteBuffer b, int at, int length, long expected, long term) {
        if (b.getInt(at + 4) != LogFormat.crc(crc, b, at + RECORD_HEADER_BYTES, length)) {
            throw new CorruptStoreException(file, offset, "the record of entry " + expected + " fails its CRC");
        }
        byte type = b.get(at + RECORD_HEADER_BYTES);
        if (type != LogFormat.ENTRY) {
            throw new CorruptStoreException(file, offset, "where the store's index puts entry " + expected
                    + " lies a record of type " + type + ", not an entry");
        }
        Entry e = LogFormat.decodeEntry(file, offset, b, at, length);
        if (e.index() != expected || e.term() != term) {
            throw new CorruptStoreException(file, offset, "where the store's index puts entry " + expected + " of term "
                    + term + " lies entry " + e.index() + " of term " + e.term());
        }
        return e;
    }

    /** The channel to read {@code segment} through. */
    private FileChannel channel(long segment, Path file) {
        if (segment == segments.current()) return segments.channel();
        if (olderSegment != segment) {
            closeOlder();
            try {
                older = FileChannel.open(file, StandardOpenOption.READ);
            } catch (IOException e) {
                throw ioFailure("cannot open", file, e);
            }
            olderSegment = segment;
        }
        return older;
    }

    private long segmentSize(long segment, FileChannel ch, Path file) {
        if (segment == segments.current()) return segments.size();
        try {
            return ch.size();
        } catch (IOException e) {
            throw ioFailure("cannot read the size of", file, e);
        }
    }

    /**
     * Reads up to {@code n} bytes of {@code file} from {@code position}, fewer if the file ends first; the buffer
     * returned holds them from 0 to its limit. Into the reader's window buffer if {@code reuse}, else a new one.
     */
    private ByteBuffer read(FileChannel ch, Path file, long position, int n, boolean reuse) {
        ByteBuffer b;
        if (reuse) {
            if (window.capacity() < n) {
                window = ByteBuffer.allocate(Math.max(n, Math.min(MAX_WINDOW, 2 * window.capacity())));
            }
            b = window.clear().limit(n);
        } else {
            b = ByteBuffer.allocate(n);
        }
        try {
            while (b.hasRemaining()) {
                if (ch.read(b, position + b.position()) < 0) break;
            }
        } catch (IOException e) {
            throw ioFailure("cannot read", file, e);
        }
        return b.flip();
    }
}
