package io.raftkv.storage;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The on-disk format of a {@link FileStorage}: file names, the store marker, segment headers, log
 * records and snapshot files, all big-endian and each checked by a CRC32C.
 *
 * <pre>
 * raftkv.store                  magic "RAFTKVST" (8) | format version (4) | cluster id length (2) | cluster id
 *                               (UTF-8; empty: none recorded) | CRC32C of the bytes before (4)
 *                               (format 1: magic | version | CRC32C of the 12 bytes before)
 * log-NNNNNNNNNNNNNNNNNNNN.seg  header: magic "RAFTKVLG" (8) | format version (4) | segment number (8)
 *                                       | CRC32C of the 20 bytes before (4)
 *                               then records, the first a HARD_STATE
 * record                        length of body (4) | CRC32C of body (4) | CRC32C of the 8 bytes before (4)
 *                               | body: type (1) | payload
 * ENTRY (type 1) payload        index (8) | term (8) | kind (1: 0 noop, 1 command, 2 config) | data
 * HARD_STATE (type 2) payload   term (8) | votedFor (4) | commit (8) | first index (8) | count (4) of the
 *                               entries of the write it closes (0 and 0: a write of the hard state alone, or
 *                               the copy that opens a segment). Format 1 had no first index and count.
 * LOG_RESET (type 3) payload    index (8) | term (8) of a snapshot: the log before this record is void and
 *                               continues at index + 1. Only ever the second record of a segment.
 * snapshot-NNNNNNNNNNNNNNNNNNNN.snap   (NNN: the snapshot's index)
 *                               header: magic "RAFTKVSN" (8) | format version (4) | index (8) | term (8)
 *                                       | configuration length (4) | configuration ({@link Configuration#encode()})
 *                                       | CRC32C of the header before (4)
 *                               then the data, then the trailer: data length (8)
 *                                       | CRC32C of everything before: header, data and length (4)
 * </pre>
 *
 * Format 2 is written; format 1 (the same but for the shorter hard-state record) is read, segment by
 * segment, so a store written by an older build opens, and its next write goes to a new format-2 segment.
 *
 * The header CRC lets recovery trust a record's length before it reads the body, so a damaged length
 * in the middle of a log cannot pass for a record cut short by a crash at its end. Segments are
 * numbered without gaps; once a snapshot covers the entries of the oldest ones they are deleted, so
 * the first segment of a store with a snapshot may have any number. Temporary files (a name ending in
 * {@code .tmp}) are written whole, forced and renamed into place; one found at open never was, and is
 * deleted.
 */
final class LogFormat {
    static final String MARKER_NAME = "raftkv.store";
    static final String TEMP_SUFFIX = ".tmp";
    static final int FORMAT_VERSION = 2;
    /** The oldest format this build reads. */
    static final int OLDEST_FORMAT_VERSION = 1;

    static final long MARKER_MAGIC = magic("RAFTKVST");
    static final long SEGMENT_MAGIC = magic("RAFTKVLG");
    /** A format-1 marker's size; a format-2 marker has 18 bytes and its cluster id. */
    static final int MARKER_BYTES_V1 = 16;
    /** The longest cluster id a marker records, in UTF-8 bytes. */
    static final int MAX_CLUSTER_ID_BYTES = 255;
    static final int SEGMENT_HEADER_BYTES = 24;

    static final int RECORD_HEADER_BYTES = 12;
    static final byte ENTRY = 1;
    static final byte HARD_STATE = 2;
    static final byte LOG_RESET = 3;
    static final int ENTRY_BODY_FIXED_BYTES = 1 + 8 + 8 + 1;
    static final int HARD_STATE_BODY_BYTES = 1 + 8 + 4 + 8 + 8 + 4;
    /** A hard-state record's body in format 1: no first index and count. */
    static final int HARD_STATE_BODY_BYTES_V1 = 1 + 8 + 4 + 8;
    static final int HARD_STATE_RECORD_BYTES = RECORD_HEADER_BYTES + HARD_STATE_BODY_BYTES;
    static final int LOG_RESET_BODY_BYTES = 1 + 8 + 8;
    static final int LOG_RESET_RECORD_BYTES = RECORD_HEADER_BYTES + LOG_RESET_BODY_BYTES;

    static final long SNAPSHOT_MAGIC = magic("RAFTKVSN");
    /** Header bytes besides the configuration: magic, version, index, term, configuration length, CRC. */
    static final int SNAPSHOT_HEADER_FIXED_BYTES = 8 + 4 + 8 + 8 + 4 + 4;
    static final int SNAPSHOT_TRAILER_BYTES = 8 + 4;
    /** No configuration comes near this; a larger length in a header is damage, not a big cluster. */
    static final int MAX_CONFIGURATION_BYTES = 1 << 20;

    static final byte KIND_NOOP = 0;
    static final byte KIND_COMMAND = 1;
    static final byte KIND_CONFIG = 2;

    /** A segment is read back into one array, so no segment may grow past what an array holds. */
    static final long MAX_SEGMENT_FILE_BYTES = Integer.MAX_VALUE - 64;

    private static final String SEGMENT_PREFIX = "log-";
    private static final String SEGMENT_SUFFIX = ".seg";
    private static final int SEGMENT_DIGITS = 20;
    private static final String SNAPSHOT_PREFIX = "snapshot-";
    private static final String SNAPSHOT_SUFFIX = ".snap";

    private LogFormat() {}

    private static long magic(String eightAscii) {
        return ByteBuffer.wrap(eightAscii.getBytes(StandardCharsets.US_ASCII)).getLong();
    }

    static String segmentName(long number) {
        return SEGMENT_PREFIX + String.format("%0" + SEGMENT_DIGITS + "d", number) + SEGMENT_SUFFIX;
    }

    /** The number in a segment file's name, or -1 if the name is not a segment's. */
    static long segmentNumber(String fileName) {
        if (fileName.length() != SEGMENT_PREFIX.length() + SEGMENT_DIGITS + SEGMENT_SUFFIX.length()
                || !fileName.startsWith(SEGMENT_PREFIX) || !fileName.endsWith(SEGMENT_SUFFIX)) {
            return -1;
        }
        String digits = fileName.substring(SEGMENT_PREFIX.length(), SEGMENT_PREFIX.length() + SEGMENT_DIGITS);
        for (int i = 0; i < digits.length(); i++) {
            if (digits.charAt(i) < '0' || digits.charAt(i) > '9') return -1;
        }
        try {
            long n = Long.parseLong(digits);
            return n >= 1 ? n : -1;
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    static boolean isSegmentTemp(String fileName) {
        return fileName.endsWith(SEGMENT_SUFFIX + TEMP_SUFFIX)
                && segmentNumber(fileName.substring(0, fileName.length() - TEMP_SUFFIX.length())) > 0;
    }

    static String snapshotName(long index) {
        return SNAPSHOT_PREFIX + String.format("%0" + SEGMENT_DIGITS + "d", index) + SNAPSHOT_SUFFIX;
    }

    /** The index in a snapshot file's name, or -1 if the name is not a snapshot's. */
    static long snapshotIndex(String fileName) {
        if (!fileName.startsWith(SNAPSHOT_PREFIX) || !fileName.endsWith(SNAPSHOT_SUFFIX)) return -1;
        return segmentNumber(SEGMENT_PREFIX + fileName.substring(SNAPSHOT_PREFIX.length(),
                fileName.length() - SNAPSHOT_SUFFIX.length()) + SEGMENT_SUFFIX);
    }

    /** A snapshot being written: {@code snapshot-<index>.snap.<n>.tmp}. */
    static String snapshotTempName(long index, long n) {
        return snapshotName(index) + "." + n + TEMP_SUFFIX;
    }

    static boolean isSnapshotTemp(String fileName) {
        return fileName.startsWith(SNAPSHOT_PREFIX) && fileName.endsWith(TEMP_SUFFIX)
                && fileName.contains(SNAPSHOT_SUFFIX + ".");
    }

    /** The CRC32C of {@code length} bytes of {@code b} from {@code from}; b's position and limit are kept. */
    static int crc(CRC32C crc, ByteBuffer b, int from, int length) {
        int position = b.position();
        int limit = b.limit();
        b.limit(from + length).position(from);
        crc.reset();
        crc.update(b);
        b.limit(limit).position(position);
        return (int) crc.getValue();
    }

    /** What a store's marker says: its format version, and the cluster whose data it holds (null: none recorded). */
    record Marker(int version, String clusterId) {}

    /** A marker of this format for {@code clusterId} (null: none). */
    static ByteBuffer marker(String clusterId) {
        byte[] id = clusterId == null ? new byte[0] : clusterId.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + 4 + 2 + id.length + 4);
        b.putLong(MARKER_MAGIC).putInt(FORMAT_VERSION).putShort((short) id.length).put(id);
        b.putInt(crc(new CRC32C(), b, 0, b.position()));
        return b.flip();
    }

    /** Reads {@code bytes} (the whole marker file); throws unless it is a valid marker of a format this build reads. */
    static Marker checkMarker(Path file, ByteBuffer bytes) {
        if (bytes.limit() < MARKER_BYTES_V1) {
            throw new CorruptStoreException(file, 0, "a store marker has at least " + MARKER_BYTES_V1 + " bytes, this one "
                    + bytes.limit());
        }
        if (bytes.getLong(0) != MARKER_MAGIC) {
            throw new CorruptStoreException(file, 0, "the marker does not start with the magic \"RAFTKVST\"");
        }
        int version = bytes.getInt(8);
        if (version == 2 && bytes.limit() >= 18) {
            int idLength = bytes.getShort(12) & 0xFFFF;
            int end = 14 + idLength;
            if (bytes.limit() != end + 4) {
                throw new CorruptStoreException(file, 0, "a store marker recording a cluster id of " + idLength
                        + " bytes has " + (end + 4) + " bytes, this one " + bytes.limit());
            }
            if (bytes.getInt(end) != crc(new CRC32C(), bytes, 0, end)) {
                throw new CorruptStoreException(file, 0, "the marker fails its CRC");
            }
            byte[] id = new byte[idLength];
            bytes.get(14, id);
            return new Marker(2, idLength == 0 ? null : new String(id, StandardCharsets.UTF_8));
        }
        if (bytes.limit() != MARKER_BYTES_V1 || bytes.getInt(12) != crc(new CRC32C(), bytes, 0, 12)) {
            throw new CorruptStoreException(file, 0, "the marker fails its CRC");
        }
        return new Marker(checkVersion(file, version), null);
    }

    private static int checkVersion(Path file, int version) {
        if (version < OLDEST_FORMAT_VERSION || version > FORMAT_VERSION) {
            throw new StorageException(file + " has store format version " + version + "; this build reads versions "
                    + OLDEST_FORMAT_VERSION + " to " + FORMAT_VERSION + " only");
        }
        return version;
    }

    static void putSegmentHeader(ByteBuffer b, long number, CRC32C crc) {
        int start = b.position();
        b.putLong(SEGMENT_MAGIC).putInt(FORMAT_VERSION).putLong(number);
        b.putInt(crc(crc, b, start, 20));
    }

    /** Returns the segment's format version; throws unless it starts with a valid header that carries {@code number}. */
    static int checkSegmentHeader(Path file, ByteBuffer bytes, long number, CRC32C crc) {
        if (bytes.limit() < SEGMENT_HEADER_BYTES) {
            throw new CorruptStoreException(file, 0, "the segment header is cut short: the file has "
                    + bytes.limit() + " bytes, a header " + SEGMENT_HEADER_BYTES);
        }
        if (bytes.getLong(0) != SEGMENT_MAGIC) {
            throw new CorruptStoreException(file, 0, "the file does not start with the segment magic \"RAFTKVLG\"");
        }
        if (bytes.getInt(20) != crc(crc, bytes, 0, 20)) {
            throw new CorruptStoreException(file, 0, "the segment header fails its CRC");
        }
        int version = checkVersion(file, bytes.getInt(8));
        if (bytes.getLong(12) != number) {
            throw new CorruptStoreException(file, 12, "the header says segment " + bytes.getLong(12)
                    + " but the file name says " + number);
        }
        return version;
    }

    static long entryRecordBytes(Entry e) {
        return RECORD_HEADER_BYTES + ENTRY_BODY_FIXED_BYTES + (long) e.data().length;
    }

    /** What {@link Entry#size()} adds to an entry's data (it is the data's length plus a fixed amount). */
    private static final int ENTRY_SIZE_OVERHEAD = new Entry(1, 1, Entry.Kind.NOOP, new byte[0]).size();

    /** The {@link Entry#size()} of the entry in a record whose body has {@code bodyLength} bytes. */
    static long entrySize(int bodyLength) {
        return (long) bodyLength - ENTRY_BODY_FIXED_BYTES + ENTRY_SIZE_OVERHEAD;
    }

    /**
     * Decodes the entry record that starts at {@code recordAt} in {@code b}, whose body of {@code length} bytes
     * passed its CRC and whose type is {@link #ENTRY}. {@code offset} is where the record lies in {@code file},
     * for the error.
     *
     * @throws CorruptStoreException if the record is too short for an entry or does not hold a valid one
     */
    static Entry decodeEntry(Path file, long offset, ByteBuffer b, int recordAt, int length) {
        if (length < ENTRY_BODY_FIXED_BYTES) {
            throw new CorruptStoreException(file, offset, "an entry record needs at least " + ENTRY_BODY_FIXED_BYTES
                    + " bytes, this one has " + length);
        }
        int at = recordAt + RECORD_HEADER_BYTES + 1;
        long index = b.getLong(at);
        long term = b.getLong(at + 8);
        byte kindCode = b.get(at + 16);
        Entry.Kind kind = switch (kindCode) {
            case KIND_NOOP -> Entry.Kind.NOOP;
            case KIND_COMMAND -> Entry.Kind.COMMAND;
            case KIND_CONFIG -> Entry.Kind.CONFIG;
            default -> throw new CorruptStoreException(file, offset, "unknown entry kind " + kindCode);
        };
        byte[] data = new byte[length - ENTRY_BODY_FIXED_BYTES];
        b.get(at + 17, data);
        try {
            return new Entry(index, term, kind, data);
        } catch (IllegalArgumentException ex) {
            throw new CorruptStoreException(file, offset, "invalid entry: " + ex.getMessage());
        }
    }

    static void putEntry(ByteBuffer b, Entry e, CRC32C crc) {
        int start = b.position();
        b.position(start + RECORD_HEADER_BYTES);
        b.put(ENTRY).putLong(e.index()).putLong(e.term())
                .put(switch (e.kind()) {
                    case NOOP -> KIND_NOOP;
                    case COMMAND -> KIND_COMMAND;
                    case CONFIG -> KIND_CONFIG;
                }).put(e.data());
        finishRecord(b, start, crc);
    }

    /** A hard-state record closing a write of {@code count} entries from index {@code first} (0 and 0: none). */
    static void putHardState(ByteBuffer b, HardState hs, long first, int count, CRC32C crc) {
        int start = b.position();
        b.position(start + RECORD_HEADER_BYTES);
        b.put(HARD_STATE).putLong(hs.term()).putInt(hs.votedFor()).putLong(hs.commit()).putLong(first).putInt(count);
        finishRecord(b, start, crc);
    }

    static void putLogReset(ByteBuffer b, long index, long term, CRC32C crc) {
        int start = b.position();
        b.position(start + RECORD_HEADER_BYTES);
        b.put(LOG_RESET).putLong(index).putLong(term);
        finishRecord(b, start, crc);
    }

    /** A snapshot file's header for {@code meta}, ending with its CRC. */
    static ByteBuffer snapshotHeader(SnapshotMeta meta) {
        byte[] config = meta.configuration().encode();
        ByteBuffer b = ByteBuffer.allocate(SNAPSHOT_HEADER_FIXED_BYTES + config.length);
        b.putLong(SNAPSHOT_MAGIC).putInt(FORMAT_VERSION).putLong(meta.index()).putLong(meta.term()).putInt(config.length);
        b.put(config);
        b.putInt(crc(new CRC32C(), b, 0, b.position()));
        return b.flip();
    }

    /** The length of a snapshot header whose first bytes (at least up to the configuration length) are in {@code b}. */
    static long snapshotHeaderBytes(ByteBuffer b) {
        return SNAPSHOT_HEADER_FIXED_BYTES + (long) b.getInt(28);
    }

    /**
     * Reads a snapshot file's header, given the whole of it in {@code b} (see {@link #snapshotHeaderBytes});
     * throws unless it is valid and names {@code index}.
     */
    static SnapshotMeta checkSnapshotHeader(Path file, ByteBuffer b, long index) {
        int configBytes = b.getInt(28);
        int end = SNAPSHOT_HEADER_FIXED_BYTES - 4 + configBytes;
        if (b.getInt(end) != crc(new CRC32C(), b, 0, end)) {
            throw new CorruptStoreException(file, 0, "the snapshot header fails its CRC");
        }
        checkVersion(file, b.getInt(8));
        SnapshotMeta meta;
        try {
            byte[] config = new byte[configBytes];
            b.get(SNAPSHOT_HEADER_FIXED_BYTES - 4, config);
            meta = new SnapshotMeta(b.getLong(12), b.getLong(20), Configuration.decode(config));
        } catch (IllegalArgumentException e) {
            throw new CorruptStoreException(file, 0, "the snapshot header is invalid: " + e.getMessage());
        }
        if (meta.index() != index) {
            throw new CorruptStoreException(file, 12, "the header says snapshot index " + meta.index()
                    + " but the file name says " + index);
        }
        return meta;
    }

    private static void finishRecord(ByteBuffer b, int start, CRC32C crc) {
        int bodyLength = b.position() - start - RECORD_HEADER_BYTES;
        b.putInt(start, bodyLength);
        b.putInt(start + 4, crc(crc, b, start + RECORD_HEADER_BYTES, bodyLength));
        b.putInt(start + 8, crc(crc, b, start, 8));
    }
}
