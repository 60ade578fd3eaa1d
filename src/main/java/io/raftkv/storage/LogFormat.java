package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.zip.CRC32C;

/**
 * The on-disk format of a {@link FileStorage}: file names, the store marker, segment headers and log
 * records, all big-endian and each checked by a CRC32C.
 *
 * <pre>
 * raftkv.store                  magic "RAFTKVST" (8) | format version (4) | CRC32C of the 12 bytes before (4)
 * log-NNNNNNNNNNNNNNNNNNNN.seg  header: magic "RAFTKVLG" (8) | format version (4) | segment number (8)
 *                                       | CRC32C of the 20 bytes before (4)
 *                               then records, the first a HARD_STATE
 * record                        length of body (4) | CRC32C of body (4) | CRC32C of the 8 bytes before (4)
 *                               | body: type (1) | payload
 * ENTRY (type 1) payload        index (8) | term (8) | kind (1: 0 noop, 1 command) | data
 * HARD_STATE (type 2) payload   term (8) | votedFor (4) | commit (8)
 * </pre>
 *
 * The header CRC lets recovery trust a record's length before it reads the body, so a damaged length
 * in the middle of a log cannot pass for a record cut short by a crash at its end.
 */
final class LogFormat {
    static final String MARKER_NAME = "raftkv.store";
    static final String TEMP_SUFFIX = ".tmp";
    static final int FORMAT_VERSION = 1;

    static final long MARKER_MAGIC = magic("RAFTKVST");
    static final long SEGMENT_MAGIC = magic("RAFTKVLG");
    static final int MARKER_BYTES = 16;
    static final int SEGMENT_HEADER_BYTES = 24;

    static final int RECORD_HEADER_BYTES = 12;
    static final byte ENTRY = 1;
    static final byte HARD_STATE = 2;
    static final int ENTRY_BODY_FIXED_BYTES = 1 + 8 + 8 + 1;
    static final int HARD_STATE_BODY_BYTES = 1 + 8 + 4 + 8;
    static final int HARD_STATE_RECORD_BYTES = RECORD_HEADER_BYTES + HARD_STATE_BODY_BYTES;

    static final byte KIND_NOOP = 0;
    static final byte KIND_COMMAND = 1;
    static final byte KIND_CONFIG = 2;

    /** A segment is read back into one array, so no segment may grow past what an array holds. */
    static final long MAX_SEGMENT_FILE_BYTES = Integer.MAX_VALUE - 64;

    private static final String SEGMENT_PREFIX = "log-";
    private static final String SEGMENT_SUFFIX = ".seg";
    private static final int SEGMENT_DIGITS = 20;

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

    static ByteBuffer marker() {
        ByteBuffer b = ByteBuffer.allocate(MARKER_BYTES);
        b.putLong(MARKER_MAGIC).putInt(FORMAT_VERSION);
        b.putInt(crc(new CRC32C(), b, 0, 12));
        return b.flip();
    }

    /** Throws unless {@code bytes} (the whole marker file) is a valid marker of this format version. */
    static void checkMarker(Path file, ByteBuffer bytes) {
        if (bytes.limit() != MARKER_BYTES) {
            throw new CorruptStoreException(file, 0, "a store marker has " + MARKER_BYTES + " bytes, this one "
                    + bytes.limit());
        }
        if (bytes.getLong(0) != MARKER_MAGIC) {
            throw new CorruptStoreException(file, 0, "the marker does not start with the magic \"RAFTKVST\"");
        }
        if (bytes.getInt(12) != crc(new CRC32C(), bytes, 0, 12)) {
            throw new CorruptStoreException(file, 0, "the marker fails its CRC");
        }
        checkVersion(file, bytes.getInt(8));
    }

    private static void checkVersion(Path file, int version) {
        if (version != FORMAT_VERSION) {
            throw new StorageException(file + " has store format version " + version + "; this build reads version "
                    + FORMAT_VERSION + " only");
        }
    }

    static void putSegmentHeader(ByteBuffer b, long number, CRC32C crc) {
        int start = b.position();
        b.putLong(SEGMENT_MAGIC).putInt(FORMAT_VERSION).putLong(number);
        b.putInt(crc(crc, b, start, 20));
    }

    /** Throws unless the segment starts with a valid header that carries {@code number}. */
    static void checkSegmentHeader(Path file, ByteBuffer bytes, long number, CRC32C crc) {
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
        checkVersion(file, bytes.getInt(8));
        if (bytes.getLong(12) != number) {
            throw new CorruptStoreException(file, 12, "the header says segment " + bytes.getLong(12)
                    + " but the file name says " + number);
        }
    }

    static long entryRecordBytes(Entry e) {
        return RECORD_HEADER_BYTES + ENTRY_BODY_FIXED_BYTES + (long) e.data().length;
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

    static void putHardState(ByteBuffer b, HardState hs, CRC32C crc) {
        int start = b.position();
        b.position(start + RECORD_HEADER_BYTES);
        b.put(HARD_STATE).putLong(hs.term()).putInt(hs.votedFor()).putLong(hs.commit());
        finishRecord(b, start, crc);
    }

    private static void finishRecord(ByteBuffer b, int start, CRC32C crc) {
        int bodyLength = b.position() - start - RECORD_HEADER_BYTES;
        b.putInt(start, bodyLength);
        b.putInt(start + 4, crc(crc, b, start + RECORD_HEADER_BYTES, bodyLength));
        b.putInt(start + 8, crc(crc, b, start, 8));
    }
}
