package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

import static io.raftkv.storage.LogFormat.ENTRY;
import static io.raftkv.storage.LogFormat.ENTRY_BODY_FIXED_BYTES;
import static io.raftkv.storage.LogFormat.HARD_STATE;
import static io.raftkv.storage.LogFormat.HARD_STATE_BODY_BYTES;
import static io.raftkv.storage.LogFormat.KIND_COMMAND;
import static io.raftkv.storage.LogFormat.KIND_CONFIG;
import static io.raftkv.storage.LogFormat.KIND_NOOP;
import static io.raftkv.storage.LogFormat.RECORD_HEADER_BYTES;
import static io.raftkv.storage.LogFormat.SEGMENT_HEADER_BYTES;

/**
 * Reads a store's segments in order and rebuilds its hard state and log, checking every record. A
 * write (one {@link FileStorage#persist}) is a run of entry records ended by a hard-state record; it
 * counts only once that record is read. What a crash can leave after the last complete write of the
 * last segment (a record cut short, one failing its CRC with only zeros after it, or entries whose
 * closing hard state never made it) is reported as a {@link Cut}; any other damage throws
 * {@link CorruptStoreException}.
 */
final class LogReplay {

    /** What the segments hold, and where the last one must be cut to drop an unfinished write. */
    record Result(HardState hardState, List<Entry> entries, Cut cut) {}

    /** The last segment is to be truncated at {@code offset} (it has {@code fileBytes}); {@code why} says why. */
    record Cut(Path file, long offset, long fileBytes, String why) {}

    private final CRC32C crc = new CRC32C();
    private HardState hardState = HardState.INITIAL;
    /** The log up to the last complete write; an entry's index is its position + 1. */
    private final ArrayList<Entry> log = new ArrayList<>();
    /** Entries of the write under way, which start at {@code pendingFirst}, and where each was read. */
    private final ArrayList<Entry> pending = new ArrayList<>();
    private final ArrayList<Long> pendingOffsets = new ArrayList<>();
    private long pendingFirst;

    private LogReplay() {}

    /** Replays segments 1..{@code lastSegment} of the store in {@code dir}; all must exist. */
    static Result replay(Path dir, long lastSegment) {
        LogReplay r = new LogReplay();
        Cut cut = null;
        for (long n = 1; n <= lastSegment; n++) {
            cut = r.segment(dir.resolve(LogFormat.segmentName(n)), n, n == lastSegment);
        }
        return new Result(r.hardState, List.copyOf(r.log), cut);
    }

    private Cut segment(Path file, long number, boolean last) {
        ByteBuffer b = read(file);
        LogFormat.checkSegmentHeader(file, b, number, crc);
        int size = b.limit();
        int pos = SEGMENT_HEADER_BYTES;
        int endOfLastWrite = pos;
        String torn = null;
        boolean first = true;
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
                if (!onlyZerosAfter) throw new CorruptStoreException(file, pos, bad + ", with data after it");
                torn = bad + " at byte offset " + pos;
                break;
            }
            int next = pos + RECORD_HEADER_BYTES + length;
            byte type = b.get(pos + RECORD_HEADER_BYTES);
            if (first && type != HARD_STATE) {
                throw new CorruptStoreException(file, pos, "a segment must start with a hard-state record, this one"
                        + " starts with a record of type " + type);
            }
            if (type == ENTRY) {
                entry(file, pos, b, length);
            } else if (type == HARD_STATE) {
                HardState hs = hardState(file, pos, b, length);
                if (first && number > 1 && !hs.equals(hardState)) {
                    throw new CorruptStoreException(file, pos, "the segment starts with hard state " + hs
                            + " but the one before it ends with " + hardState);
                }
                endWrite(file, pos, hs);
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
        if (length < ENTRY_BODY_FIXED_BYTES) {
            throw new CorruptStoreException(file, pos, "an entry record needs at least " + ENTRY_BODY_FIXED_BYTES
                    + " bytes, this one has " + length);
        }
        int at = pos + RECORD_HEADER_BYTES + 1;
        long index = b.getLong(at);
        long term = b.getLong(at + 8);
        byte kindCode = b.get(at + 16);
        Entry.Kind kind = switch (kindCode) {
            case KIND_NOOP -> Entry.Kind.NOOP;
            case KIND_COMMAND -> Entry.Kind.COMMAND;
            case KIND_CONFIG -> Entry.Kind.CONFIG;
            default -> throw new CorruptStoreException(file, pos, "unknown entry kind " + kindCode);
        };
        byte[] data = new byte[length - ENTRY_BODY_FIXED_BYTES];
        b.get(at + 17, data);
        Entry e;
        try {
            e = new Entry(index, term, kind, data);
        } catch (IllegalArgumentException ex) {
            throw new CorruptStoreException(file, pos, "invalid entry: " + ex.getMessage());
        }
        long last = pending.isEmpty() ? log.size() : pendingFirst + pending.size() - 1;
        if (index > last + 1) {
            throw new CorruptStoreException(file, pos, "entry " + e + " leaves a gap: the log before it ends at "
                    + last);
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

    private HardState hardState(Path file, int pos, ByteBuffer b, int length) {
        if (length != HARD_STATE_BODY_BYTES) {
            throw new CorruptStoreException(file, pos, "a hard-state record has " + HARD_STATE_BODY_BYTES
                    + " bytes, this one " + length);
        }
        int at = pos + RECORD_HEADER_BYTES + 1;
        try {
            return new HardState(b.getLong(at), b.getInt(at + 8), b.getLong(at + 12));
        } catch (IllegalArgumentException ex) {
            throw new CorruptStoreException(file, pos, "invalid hard state: " + ex.getMessage());
        }
    }

    /** Completes the write under way: its entries join the log and {@code hs} becomes the hard state. */
    private void endWrite(Path file, int pos, HardState hs) {
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
            log.subList((int) (pendingFirst - 1), log.size()).clear();
            log.addAll(pending);
            pending.clear();
            pendingOffsets.clear();
        }
        if (hs.commit() > log.size()) {
            throw new CorruptStoreException(file, pos, "hard state " + hs + " commits beyond the last entry, "
                    + log.size());
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
