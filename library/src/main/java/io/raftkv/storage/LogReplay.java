package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;

import static io.raftkv.storage.LogFormat.ENTRY;
import static io.raftkv.storage.LogFormat.ENTRY_BODY_FIXED_BYTES;
import static io.raftkv.storage.LogFormat.HARD_STATE;
import static io.raftkv.storage.LogFormat.HARD_STATE_BODY_BYTES;
import static io.raftkv.storage.LogFormat.LOG_RESET;
import static io.raftkv.storage.LogFormat.LOG_RESET_BODY_BYTES;
import static io.raftkv.storage.LogFormat.RECORD_HEADER_BYTES;
import static io.raftkv.storage.LogFormat.SEGMENT_HEADER_BYTES;

/**
 * Reads a store's segments in order and rebuilds its hard state and log (and, in a {@link LogIndex}, where each
 * entry's record lies), checking every record. A
 * write (one {@link FileStorage#persist}) is a run of entry records ended by a hard-state record; it
 * counts only once that record is read. What a crash can leave after the last complete write of the
 * last segment (a record cut short, one failing its CRC with only zeros after it or, in format 2, with
 * nothing after it but the rest of a write that never completed, entries whose closing hard state never
 * made it, or a log reset for a snapshot whose install never finished) is reported as a {@link Cut}; any
 * other damage throws {@link CorruptStoreException}: damage followed by a complete write is not a crash's
 * doing, since a write is issued only after the one before it was forced. (A write of the commit index
 * alone is not forced, but the next write goes in its place rather than after it.) Bit rot inside the last write, with nothing after it, cannot be told from a tear: it is
 * cut, as every store that keeps no second copy must.
 *
 * <p>Format-1 segments, whose hard-state records do not say which entries they close, keep the stricter
 * rule: any data after a bad record is corruption.
 *
 * <p>Replay may start at a segment past the first, once older ones were deleted because a snapshot
 * covers them: the log then starts wherever the first entry read says, and an entry below that start
 * is a truncation back before the first kept entry, which drops everything and starts again from it.
 * A log reset record voids everything before it: the log continues just after its snapshot.
 */
final class LogReplay {

    /**
     * What the segments hold: the hard state, and the log of the entries from {@code base + 1} on
     * ({@code base} is -1 if the segments hold neither an entry nor a reset, so the log's start is
     * unknown); where the last segment must be cut to drop an unfinished write; and each segment's
     * highest entry (or reset) index, {@link Long#MIN_VALUE} for a segment with none. {@code index} holds the
     * term of each entry of {@code entries} and where its record lies, in the same order.
     */
    record Result(HardState hardState, long base, List<Entry> entries, LogIndex index, Cut cut,
                  Map<Long, Long> segmentMaxIndex, int lastSegmentVersion) {}

    /** The last segment is to be truncated at {@code offset} (it has {@code fileBytes}); {@code why} says why. */
    record Cut(Path file, long offset, long fileBytes, String why) {}

    private final CRC32C crc = new CRC32C();
    private final SnapshotMeta snapshot;
    private HardState hardState = HardState.INITIAL;
    /** The log up to the last complete write: index {@code base + 1 + i} lives at position i. */
    private final ArrayList<Entry> log = new ArrayList<>();
    /** The terms of the log's entries and where their records lie, in the same order. */
    private final LogIndex logIndex = new LogIndex();
    /** The index before the log's first entry; -1 while unknown (replay began past segment 1 and met no entry yet). */
    private long base;
    /** Whether {@link #base} is where the log truly starts (segment 1, or a reset), so no entry may lie at or below it. */
    private boolean baseFixed;
    /** Entries of the write under way, which start at {@code pendingFirst}, and where each was read. */
    private final ArrayList<Entry> pending = new ArrayList<>();
    private final ArrayList<Long> pendingOffsets = new ArrayList<>();
    private long pendingFirst;
    private final Map<Long, Long> segmentMax = new LinkedHashMap<>();
    /** The format version of the segment being read. */
    private int version;

    private LogReplay(SnapshotMeta snapshot, boolean fromStart) {
        this.snapshot = snapshot;
        this.base = fromStart ? 0 : -1;
        this.baseFixed = fromStart;
    }

    /**
     * Replays segments {@code firstSegment..lastSegment} of the store in {@code dir}; all must exist.
     * {@code snapshot} is the store's newest snapshot (null if none); replay past segment 1 needs one.
     */
    static Result replay(Path dir, long firstSegment, long lastSegment, SnapshotMeta snapshot) {
        if (firstSegment > 1 && snapshot == null) {
            throw new IllegalArgumentException("replay from segment " + firstSegment + " needs a snapshot");
        }
        LogReplay r = new LogReplay(snapshot, firstSegment == 1);
        Cut cut = null;
        for (long n = firstSegment; n <= lastSegment; n++) {
            r.segmentMax.put(n, Long.MIN_VALUE);
            cut = r.segment(dir.resolve(LogFormat.segmentName(n)), n, n == firstSegment, n == lastSegment);
        }
        return new Result(r.hardState, r.base, List.copyOf(r.log), r.logIndex, cut, r.segmentMax, r.version);
    }

    private Cut segment(Path file, long number, boolean firstReplayed, boolean last) {
        ByteBuffer b = read(file);
        version = LogFormat.checkSegmentHeader(file, b, number, crc);
        int size = b.limit();
        int pos = SEGMENT_HEADER_BYTES;
        int endOfLastWrite = pos;
        String torn = null;
        boolean first = true;
        int secondRecord = -1;
        while (pos < size) {
            int remaining = size - pos;
            String bad = null;
            boolean onlyZerosAfter = false;
            int length = 0;
            if (remaining < RECORD_HEADER_BYTES) {
                bad = "a record header cut short (" + remaining + " of " + RECORD_HEADER_BYTES + " bytes)";
                onlyZerosAfter = true;
            } else if (b.getInt(pos + 8) != LogFormat.crc(crc, b, pos, 8)) {
                bad = "a record header that fails its CRC";
                onlyZerosAfter = zeros(b, pos + RECORD_HEADER_BYTES, size);
            } else if ((length = b.getInt(pos)) < 1) {
                throw new CorruptStoreException(file, pos, "record length " + length + " is not positive");
            } else if (length > remaining - RECORD_HEADER_BYTES) {
                bad = "a record of " + length + " bytes that runs past the end of the file ("
                        + (remaining - RECORD_HEADER_BYTES) + " bytes of it are there)";
                onlyZerosAfter = true;
            } else if (b.getInt(pos + 4) != LogFormat.crc(crc, b, pos + RECORD_HEADER_BYTES, length)) {
                bad = "a record that fails its CRC";
                onlyZerosAfter = zeros(b, pos + RECORD_HEADER_BYTES + length, size);
            }
            if (bad != null) {
                if (!last) throw new CorruptStoreException(file, pos, bad + ", in a segment that is not the last");
                if (first) throw new CorruptStoreException(file, pos, bad + ", in place of the segment's first record");
                if (!onlyZerosAfter) {
                    // Format 1 cannot tell a torn write's surviving tail from a whole write after the damage.
                    if (version < 2) throw new CorruptStoreException(file, pos, bad + ", with data after it");
                    int whole = completeWriteAfter(b, pos + 1, size);
                    if (whole >= 0) {
                        throw new CorruptStoreException(file, pos, bad + ", with a complete write after it (closed at"
                                + " byte offset " + whole + ")");
                    }
                    torn = bad + " at byte offset " + pos + ", followed only by what is left of a write that never"
                            + " completed";
                    break;
                }
                torn = bad + " at byte offset " + pos;
                break;
            }
            int next = pos + RECORD_HEADER_BYTES + length;
            byte type = b.get(pos + RECORD_HEADER_BYTES);
            if (first && type != HARD_STATE) {
                throw new CorruptStoreException(file, pos, "a segment must start with a hard-state record, this one"
                        + " starts with a record of type " + type);
            }
            if (first) secondRecord = next;
            if (type == ENTRY) {
                entry(file, pos, b, length);
            } else if (type == LOG_RESET) {
                if (pos != secondRecord) {
                    throw new CorruptStoreException(file, pos, "a log reset may only follow a segment's first record");
                }
                if (reset(file, pos, b, length, number)) {
                    // The snapshot it was written for was never installed (a crash or failure during install):
                    // the reset never took effect, so it must be the last thing in the log, and goes.
                    if (!last || next != size) {
                        throw new CorruptStoreException(file, pos, "a log reset for a snapshot the store does not hold"
                                + " (its newest is " + (snapshot == null ? "none" : snapshot.index()) + "), with records"
                                + " after it");
                    }
                    return new Cut(file, pos, size, "a log reset for a snapshot whose install never finished");
                }
                endOfLastWrite = next;
            } else if (type == HARD_STATE) {
                HardState hs = hardState(file, pos, b, length);
                if (first && !firstReplayed && !hs.equals(hardState)) {
                    throw new CorruptStoreException(file, pos, "the segment starts with hard state " + hs
                            + " but the one before it ends with " + hardState);
                }
                endWrite(file, pos, hs, number);
                endOfLastWrite = next;
            } else {
                throw new CorruptStoreException(file, pos, "unknown record type " + type);
            }
            first = false;
            pos = next;
        }
        if (first) {
            throw new CorruptStoreException(file, pos, "the segment holds no records; it must start with a hard-state"
                    + " record");
        }
        if (pending.isEmpty() && torn == null) return null;
        if (!last) {
            throw new CorruptStoreException(file, pendingOffsets.get(0), "the segment ends inside a write: entries "
                    + range() + " from here on are not followed by a hard-state record");
        }
        String why = torn != null ? torn : "";
        if (!pending.isEmpty()) {
            why += (why.isEmpty() ? "" : "; ") + "dropped entries " + range()
                    + " of a write that never finished (no hard-state record after them)";
        }
        pending.clear();
        pendingOffsets.clear();
        return new Cut(file, endOfLastWrite, size, why);
    }

    private String range() {
        return pendingFirst + ".." + (pendingFirst + pending.size() - 1);
    }

    private void entry(Path file, int pos, ByteBuffer b, int length) {
        Entry e = LogFormat.decodeEntry(file, pos, b, pos, length);
        long index = e.index();
        long last = !pending.isEmpty() ? pendingFirst + pending.size() - 1 : base < 0 ? -1 : base + log.size();
        if (last >= 0 && index > last + 1) {
            throw new CorruptStoreException(file, pos, "entry " + e + " leaves a gap: the log before it ends at "
                    + last);
        }
        if (baseFixed && index <= base) {
            throw new CorruptStoreException(file, pos, "entry " + e + " lies before the start of the log, which "
                    + (base == 0 ? "starts at index 1" : "a log reset made start at " + (base + 1)));
        }
        // A write that starts at or before the end of the log replaces everything from its first index on.
        if (pending.isEmpty() || index < pendingFirst) {
            pending.clear();
            pendingOffsets.clear();
            pendingFirst = index;
        } else {
            int keep = (int) (index - pendingFirst);
            pending.subList(keep, pending.size()).clear();
            pendingOffsets.subList(keep, pendingOffsets.size()).clear();
        }
        pending.add(e);
        pendingOffsets.add((long) pos);
    }

    /**
     * Where, in {@code b} from {@code from} on, a write lies whole: the offset of the hard-state record that
     * closes it, or -1 if there is none. Past damage, records are found by their CRCs at any offset; a run of
     * them that ends in a hard state is a whole write if that hard state closes no entries or the entries it
     * names (first index and count) all lie in the run. A run that holds fewer is the tail of the damaged write
     * itself, which the crash tore: on a real disk, a write after it exists only if that write was issued after
     * the damaged one was forced, and then the damage is not a crash's doing.
     */
    private int completeWriteAfter(ByteBuffer b, int from, int size) {
        int pos = from;
        while (true) {
            pos = validRecordAt(b, pos, size);
            if (pos < 0) return -1;
            // Walk the run of valid records from here; the entries seen since the last hard state, by index.
            long runFirst = -1;
            int runCount = 0;
            int length;
            while ((length = validRecordLength(b, pos, size)) > 0) {
                int at = pos + RECORD_HEADER_BYTES;
                byte type = b.get(at);
                if (type == ENTRY && length >= ENTRY_BODY_FIXED_BYTES) {
                    long index = b.getLong(at + 1);
                    if (runCount > 0 && index == runFirst + runCount) {
                        runCount++;
                    } else {
                        runFirst = index; // a write starting over (a truncation), or the first entry of the run
                        runCount = 1;
                    }
                } else if (type == HARD_STATE && length == HARD_STATE_BODY_BYTES) {
                    long first = b.getLong(at + 21);
                    int count = b.getInt(at + 29);
                    if (count == 0 || (runCount >= count && runFirst <= first && first + count == runFirst + runCount)) {
                        return pos;
                    }
                    runCount = 0;
                }
                pos += RECORD_HEADER_BYTES + length;
            }
            pos++; // the run ends in more damage (or the file's end): look for the next valid record past it
        }
    }

    /** The first offset at or after {@code from} where a record passes both its CRCs, or -1. */
    private int validRecordAt(ByteBuffer b, int from, int size) {
        for (int p = from; p + RECORD_HEADER_BYTES < size; p++) {
            if (validRecordLength(b, p, size) > 0) return p;
        }
        return -1;
    }

    /** The body length of the record at {@code pos} if it lies within {@code size} and passes both CRCs, else 0. */
    private int validRecordLength(ByteBuffer b, int pos, int size) {
        if (pos + RECORD_HEADER_BYTES > size || b.getInt(pos + 8) != LogFormat.crc(crc, b, pos, 8)) return 0;
        int length = b.getInt(pos);
        if (length < 1 || length > size - pos - RECORD_HEADER_BYTES) return 0;
        return b.getInt(pos + 4) == LogFormat.crc(crc, b, pos + RECORD_HEADER_BYTES, length) ? length : 0;
    }

    private HardState hardState(Path file, int pos, ByteBuffer b, int length) {
        int expected = version < 2 ? LogFormat.HARD_STATE_BODY_BYTES_V1 : HARD_STATE_BODY_BYTES;
        if (length != expected) {
            throw new CorruptStoreException(file, pos, "a hard-state record has " + expected
                    + " bytes, this one " + length);
        }
        int at = pos + RECORD_HEADER_BYTES + 1;
        try {
            return new HardState(b.getLong(at), b.getInt(at + 8), b.getLong(at + 12));
        } catch (IllegalArgumentException ex) {
            throw new CorruptStoreException(file, pos, "invalid hard state: " + ex.getMessage());
        }
    }

    /**
     * Applies a log reset; returns true if it is for a snapshot newer than the store's, one whose install
     * never finished.
     */
    private boolean reset(Path file, int pos, ByteBuffer b, int length, long segment) {
        if (length != LOG_RESET_BODY_BYTES) {
            throw new CorruptStoreException(file, pos, "a log reset record has " + LOG_RESET_BODY_BYTES
                    + " bytes, this one " + length);
        }
        int at = pos + RECORD_HEADER_BYTES + 1;
        long index = b.getLong(at);
        long term = b.getLong(at + 8);
        if (index < 1 || term < 1) {
            throw new CorruptStoreException(file, pos, "invalid log reset: snapshot " + index + "@" + term);
        }
        if (snapshot == null || index > snapshot.index()) return true;
        if (index == snapshot.index() && term != snapshot.term()) {
            throw new CorruptStoreException(file, pos, "a log reset for snapshot " + index + "@" + term
                    + " but the store's snapshot at that index is " + snapshot);
        }
        if (baseFixed && index < base) {
            throw new CorruptStoreException(file, pos, "a log reset to index " + index + " goes back before the"
                    + " start of the log, " + (base + 1));
        }
        log.clear();
        logIndex.clear();
        base = index;
        baseFixed = true;
        // Whatever the segments before held is void now: none of it is needed.
        segmentMax.replaceAll((n, max) -> Long.MIN_VALUE);
        segmentMax.put(segment, index);
        return false;
    }

    /** Completes the write under way: its entries join the log and {@code hs} becomes the hard state. */
    private void endWrite(Path file, int pos, HardState hs, long segment) {
        if (hs.term() < hardState.term()) {
            throw new CorruptStoreException(file, pos, "hard state " + hs + " goes back from term " + hardState.term());
        }
        for (int i = 0; i < pending.size(); i++) {
            Entry e = pending.get(i);
            if (e.term() > hs.term()) {
                throw new CorruptStoreException(file, pendingOffsets.get(i), "entry " + e
                        + " has a term beyond that of the hard state " + hs + " that ends its write");
            }
        }
        if (!pending.isEmpty()) {
            if (base < 0 || pendingFirst <= base) {
                // The first entry met, or a truncation back before the first entry kept: the segments that
                // held the log before it were deleted, as a snapshot covers it.
                log.clear();
                logIndex.clear();
                base = pendingFirst - 1;
            } else {
                int keep = (int) (pendingFirst - base - 1);
                log.subList(keep, log.size()).clear();
                logIndex.truncate(keep);
            }
            log.addAll(pending);
            for (int i = 0; i < pending.size(); i++) logIndex.add(pending.get(i).term(), segment, pendingOffsets.get(i));
            segmentMax.merge(segment, pendingFirst + pending.size() - 1, Math::max);
            pending.clear();
            pendingOffsets.clear();
        }
        // Before the first entry of a replay that began past segment 1, the log's end is unknown; it is no
        // further than the snapshot, which covers every deleted segment.
        long lastIndex = base >= 0 ? base + log.size() : snapshot.index();
        if (hs.commit() > lastIndex) {
            throw new CorruptStoreException(file, pos, "hard state " + hs + " commits beyond the last entry, "
                    + lastIndex);
        }
        hardState = hs;
    }

    private static boolean zeros(ByteBuffer b, int from, int to) {
        for (int i = from; i < to; i++) {
            if (b.get(i) != 0) return false;
        }
        return true;
    }

    private static ByteBuffer read(Path file) {
        try {
            long size = Files.size(file);
            if (size > LogFormat.MAX_SEGMENT_FILE_BYTES) {
                throw new CorruptStoreException(file, -1, "the segment has " + size + " bytes, more than any "
                        + "segment this store writes (" + LogFormat.MAX_SEGMENT_FILE_BYTES + ")");
            }
            return ByteBuffer.wrap(Files.readAllBytes(file));
        } catch (IOException e) {
            throw new StorageException("cannot read " + file + ": " + e, e);
        }
    }
}
