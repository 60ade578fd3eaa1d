package io.raftkv.kv;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;

/**
 * The bytes of a {@link KvStateMachine} snapshot, all integers big-endian:
 * <pre>
 * magic int32 "RKVS" | version uint8 (2)
 * | sessions int32 | per session, least recently used first: id int64 | nonce int64 (of its registration;
 *                    0 none) | lastSeq int64 | lastResult uint8 (0 none, 1 written, 2 applied: a REPLACE,
 *                    DELETE or CAS that changed the map, 3 not applied)
 * | entries int32 | per entry, by key: key (int32 length | UTF-8) | value (int32 length | UTF-8)
 * | crc int32: CRC32C of every byte before it
 * </pre>
 * Keys are sorted by their UTF-8 bytes (unsigned), so one state always gives the same bytes. Reading checks everything (magic, version,
 * CRC, counts against the bytes present, codes, UTF-8, no id, nonce or key twice) before the state is touched.
 * Version 1 (sessions without a nonce) is read too.
 */
final class KvSnapshot {
    static final int MAGIC = 0x524B5653; // "RKVS"
    static final int VERSION = 2;
    private static final KvResult[] RESULTS = {null, KvResult.WRITTEN, KvResult.APPLIED, KvResult.NOT_APPLIED};

    private KvSnapshot() {}

    /** A session as a snapshot holds it. */
    record Session(long nonce, long lastSeq, KvResult lastResult) {}

    /** What a snapshot held: the map and the sessions, least recently used first. */
    record State(KvTable data, LinkedHashMap<Long, Session> sessions) {}

    static void write(KvTable data, Map<Long, Session> sessionsLruFirst, OutputStream target)
            throws IOException {
        CRC32C crc = new CRC32C();
        // Buffered before the checksum: the CRC and the target see 8 KiB blocks, not the 4- and 8-byte
        // writes of every field (larger blocks gain little, and the buffer is allocated per snapshot).
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(new CheckedOutputStream(target, crc), 1 << 13));
        out.writeInt(MAGIC);
        out.writeByte(VERSION);
        out.writeInt(sessionsLruFirst.size());
        for (Map.Entry<Long, Session> e : sessionsLruFirst.entrySet()) {
            out.writeLong(e.getKey());
            out.writeLong(e.getValue().nonce());
            out.writeLong(e.getValue().lastSeq());
            out.writeByte(code(e.getValue().lastResult()));
        }
        // By key, its UTF-8 bytes compared unsigned (code point order), so one state gives one byte string.
        // The keys alone are sorted (no object per entry), and each value looked up again.
        byte[][] keys = data.keys();
        Arrays.sort(keys, Arrays::compareUnsigned);
        out.writeInt(keys.length);
        for (byte[] key : keys) {
            int slot = data.slotOf(key);
            out.writeInt(key.length);
            out.write(key);
            out.writeInt(data.valueLength(slot));
            out.write(data.valueArray(slot), data.valueOffset(slot), data.valueLength(slot));
        }
        out.flush();
        new DataOutputStream(target).writeInt((int) crc.getValue());
        target.flush();
    }

    private static int code(KvResult r) {
        for (int i = 0; i < RESULTS.length; i++) if (RESULTS[i] == r) return i;
        throw new IllegalStateException("a session cannot hold " + r);
    }

    static State read(InputStream in) throws IOException {
        byte[] bytes = in.readAllBytes();
        if (bytes.length < 4 + 1 + 4 + 4 + 4) {
            throw new IOException("not a key-value snapshot: " + bytes.length + " bytes is too short for one");
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (b.getInt() != MAGIC) throw new IOException("not a key-value snapshot: its first bytes are not \"RKVS\"");
        int version = b.get() & 0xFF;
        if (version < 1 || version > VERSION) {
            throw new IOException("key-value snapshot version " + version + "; this build reads 1 to " + VERSION);
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt();
        if (stored != (int) crc.getValue()) {
            throw new IOException(String.format("key-value snapshot damaged: CRC32C %08x, its bytes give %08x", stored,
                    (int) crc.getValue()));
        }
        b.limit(bytes.length - 4);
        try {
            int sessionCount = count(b, 8 + (version >= 2 ? 8 : 0) + 8 + 1, "sessions");
            LinkedHashMap<Long, Session> sessions = new LinkedHashMap<>();
            HashSet<Long> nonces = new HashSet<>();
            for (int i = 0; i < sessionCount; i++) {
                long id = b.getLong();
                long nonce = version >= 2 ? b.getLong() : 0;
                long seq = b.getLong();
                int code = b.get() & 0xFF;
                if (code >= RESULTS.length) throw new IOException("session " + id + " has result code " + code);
                if (sessions.put(id, new Session(nonce, seq, RESULTS[code])) != null) {
                    throw new IOException("session " + id + " appears twice");
                }
                if (nonce != 0 && !nonces.add(nonce)) throw new IOException("registration nonce " + nonce + " appears twice");
            }
            int entries = count(b, 4 + 4, "entries");
            // Keys and values stay where they are, in the snapshot's bytes (the table copies each key once);
            // they are checked as UTF-8, and a key becomes a String only to say that it appears twice.
            KvTable data = new KvTable(entries);
            for (int i = 0; i < entries; i++) {
                KvCommand.Utf8 key = KvCommand.utf8(b, "key");
                KvCommand.Utf8 value = KvCommand.utf8(b, "value");
                if (!data.putIfAbsent(bytes, key.offset(), key.length(), bytes, value.offset(), value.length())) {
                    throw new IOException("key \"" + new String(bytes, key.offset(), key.length(), StandardCharsets.UTF_8)
                            + "\" appears twice");
                }
            }
            if (b.hasRemaining()) throw new IOException(b.remaining() + " bytes after the last entry");
            return new State(data, sessions);
        } catch (BufferUnderflowException | IllegalArgumentException e) {
            throw new IOException("key-value snapshot damaged at byte " + b.position() + ": "
                    + (e.getMessage() == null ? "cut short" : e.getMessage()), e);
        }
    }

    /** A count, checked against the bytes left at {@code leastBytesEach} a piece before anything is allocated for it. */
    private static int count(ByteBuffer b, int leastBytesEach, String what) throws IOException {
        int n = b.getInt();
        if (n < 0 || n > b.remaining() / leastBytesEach) {
            throw new IOException("the snapshot says it holds " + n + " " + what + "; " + b.remaining()
                    + " bytes cannot");
        }
        return n;
    }
}
