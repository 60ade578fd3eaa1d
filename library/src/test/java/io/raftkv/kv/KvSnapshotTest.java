package io.raftkv.kv;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A key-value snapshot restores the map and the sessions, and a damaged one is refused without harm. */
class KvSnapshotTest {
    private static byte[] put(long client, long seq, String key, String value) {
        return new KvCommand(KvCommand.Op.PUT, client, seq, key, value).encode();
    }

    private static byte[] replace(long client, long seq, String key, String value) {
        return new KvCommand(KvCommand.Op.REPLACE, client, seq, key, value).encode();
    }

    /** Two sessions (ids 1 and 2), three keys, one answered REPLACE of a missing key. */
    private static KvStateMachine sample(int maxSessions) {
        KvStateMachine m = new KvStateMachine(maxSessions);
        m.apply(1, KvCommand.register().encode());
        m.apply(2, KvCommand.register().encode());
        m.apply(3, put(1, 1, "a", "alpha"));
        m.apply(4, put(2, 1, "ü-key", "välue ✓"));
        m.apply(5, replace(1, 2, "missing", "x"));
        m.apply(6, put(2, 2, "b", ""));
        return m;
    }

    private static byte[] snapshot(KvStateMachine m) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        m.snapshot(out);
        return out.toByteArray();
    }

    @Test
    void aRestoredMachineAnswersAndDeduplicatesAsTheOriginal() throws IOException {
        KvStateMachine original = sample(10);
        KvStateMachine restored = new KvStateMachine(10);
        restored.apply(1, put(9, 9, "stale", "gone")); // state from before is replaced, not merged
        restored.restore(new ByteArrayInputStream(snapshot(original)));

        assertEquals("alpha", restored.query("a"));
        assertEquals("välue ✓", restored.query("ü-key"));
        assertEquals("", restored.query("b"));
        assertNull(restored.query("missing"));
        assertNull(restored.query("stale"));
        assertEquals(3, restored.size());
        assertEquals(2, restored.sessionCount());
        // A retry of the last write of each session gets the first answer and does not apply again.
        assertEquals(KvResult.NOT_APPLIED, restored.apply(7, replace(1, 2, "missing", "x")));
        assertEquals(KvResult.WRITTEN, restored.apply(8, put(2, 2, "b", "")));
        assertEquals(KvResult.STALE, restored.apply(9, put(1, 1, "a", "again")));
        assertEquals("alpha", restored.query("a"));
        assertEquals(KvResult.SESSION_EXPIRED, restored.apply(10, put(3, 1, "a", "x")));
    }

    /**
     * Deleted keys are gone from a snapshot (a state reached by deleting gives the bytes of one that never had
     * them), and the answers of a DELETE and a CAS survive it: a retry after the restore gets them again.
     */
    @Test
    void deletedKeysAreNotInASnapshotAndDeleteAndCasAnswersSurviveIt() throws IOException {
        KvStateMachine m = sample(10);
        m.apply(7, put(1, 3, "temp", "t"));
        m.apply(8, new KvCommand(KvCommand.Op.DELETE, 1, 4, "temp", "").encode());
        assertEquals(KvResult.APPLIED, m.apply(9, new KvCommand(KvCommand.Op.CAS, 2, 3, "a", "beta", "alpha").encode()));
        KvStateMachine direct = new KvStateMachine(10);
        direct.apply(1, KvCommand.register().encode());
        direct.apply(2, KvCommand.register().encode());
        direct.apply(3, put(1, 1, "a", "beta"));
        direct.apply(4, put(2, 1, "ü-key", "välue ✓"));
        direct.apply(5, put(2, 2, "b", ""));
        KvStateMachine restored = new KvStateMachine(10);
        restored.restore(new ByteArrayInputStream(snapshot(m)));
        assertNull(restored.query("temp"));
        assertEquals("beta", restored.query("a"));
        assertEquals(3, restored.size());
        assertEquals(KvResult.APPLIED, restored.apply(10, new KvCommand(KvCommand.Op.DELETE, 1, 4, "temp", "").encode()));
        assertEquals(KvResult.APPLIED, restored.apply(11, new KvCommand(KvCommand.Op.CAS, 2, 3, "a", "beta", "alpha").encode()));
        assertEquals("beta", restored.query("a"));
        // The map's entries (the bytes after the sessions) are those of a map that never held "temp".
        byte[] a = snapshot(m);
        byte[] b = snapshot(direct);
        int entriesA = a.length - 4 - entryBytes(a);
        int entriesB = b.length - 4 - entryBytes(b);
        assertArrayEquals(Arrays.copyOfRange(a, entriesA, a.length - 4), Arrays.copyOfRange(b, entriesB, b.length - 4));
    }

    /** The length of a snapshot's entries section: count, then each key and value. */
    private static int entryBytes(byte[] snapshot) {
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(snapshot);
        buf.position(5);
        int sessions = buf.getInt();
        buf.position(buf.position() + sessions * (8 + 8 + 8 + 1));
        return snapshot.length - 4 - buf.position();
    }

    @Test
    void theSameStateGivesTheSameBytesAndTheLeastRecentlyUsedSessionIsStillEvictedFirst() throws IOException {
        byte[] one = snapshot(sample(2));
        byte[] two = snapshot(sample(2));
        assertArrayEquals(one, two, "a node's snapshot must not depend on its hash maps' history");

        KvStateMachine restored = new KvStateMachine(2);
        restored.restore(new ByteArrayInputStream(one));
        // Session 2 wrote last, so session 1 is the least recently used: a new registration evicts it.
        restored.apply(7, KvCommand.register().encode());
        assertEquals(KvResult.SESSION_EXPIRED, restored.apply(8, put(1, 3, "a", "x")));
        assertEquals(KvResult.WRITTEN, restored.apply(9, put(2, 3, "a", "y")));
    }

    @Test
    void keysWrittenInAnotherOrderGiveTheSameBytes() throws IOException {
        // Replicas reach one state by one log, but a restored replica's table was filled in snapshot
        // order: the bytes must not depend on where each key landed in its table.
        KvStateMachine forward = new KvStateMachine(10);
        KvStateMachine backward = new KvStateMachine(10);
        forward.apply(1, KvCommand.register().encode());
        backward.apply(1, KvCommand.register().encode());
        int keys = 300;
        for (int i = 0; i < keys; i++) {
            forward.apply(2 + i, put(1, 1 + i, "key-" + i, "v" + i));
            int j = keys - 1 - i;
            backward.apply(2 + i, put(1, 1 + i, "key-" + j, "v" + j));
        }
        // The same last write, so the sessions match too.
        forward.apply(2 + keys, put(1, 1 + keys, "key-0", "v0"));
        backward.apply(2 + keys, put(1, 1 + keys, "key-0", "v0"));
        byte[] bytes = snapshot(forward);
        assertArrayEquals(bytes, snapshot(backward), "a snapshot's bytes depend on the order keys were written");
        KvStateMachine restored = new KvStateMachine(10);
        restored.restore(new ByteArrayInputStream(bytes));
        assertArrayEquals(bytes, snapshot(restored), "a restored machine snapshots to other bytes");
    }

    @Test
    void anEmptyMachineRoundTrips() throws IOException {
        KvStateMachine restored = sample(10);
        restored.restore(new ByteArrayInputStream(snapshot(new KvStateMachine(10))));
        assertEquals(0, restored.size());
        assertEquals(0, restored.sessionCount());
    }

    @Test
    void everyDamagedOrCutShortSnapshotIsRefusedAndChangesNothing() throws IOException {
        byte[] good = snapshot(sample(10));
        for (int i = 0; i < good.length; i++) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] bad = good.clone();
                bad[i] ^= (byte) (1 << bit);
                assertRefusedWithoutHarm(bad, "bit " + bit + " of byte " + i);
            }
        }
        for (int n = 0; n < good.length; n++) assertRefusedWithoutHarm(Arrays.copyOf(good, n), "cut to " + n + " bytes");
        assertRefusedWithoutHarm(Arrays.copyOf(good, good.length + 1), "a byte too many");
    }

    /** What a snapshot's body says, written after its magic and version. */
    private interface Body {
        void write(java.io.DataOutputStream out) throws IOException;
    }

    /** A snapshot of {@code version} whose body is {@code body}, sealed with a valid CRC: only its content can be wrong. */
    private static byte[] sealed(int version, Body body) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        out.writeInt(KvSnapshot.MAGIC);
        out.writeByte(version);
        body.write(out);
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes.toByteArray());
        out.writeInt((int) crc.getValue());
        return bytes.toByteArray();
    }

    private static void session(java.io.DataOutputStream out, long id, long nonce, long seq, int result) throws IOException {
        out.writeLong(id);
        out.writeLong(nonce);
        out.writeLong(seq);
        out.writeByte(result);
    }

    private static void entry(java.io.DataOutputStream out, String key, String value) throws IOException {
        out.writeInt(key.length());
        out.writeBytes(key);
        out.writeInt(value.length());
        out.writeBytes(value);
    }

    @Test
    void wellSealedSnapshotsThatSayImpossibleThingsAreRefusedAndChangeNothing() throws IOException {
        assertRefusedSaying(sealed(0, out -> { out.writeInt(0); out.writeInt(0); }), "version 0");
        assertRefusedSaying(sealed(3, out -> { out.writeInt(0); out.writeInt(0); }), "version 3");
        assertRefusedSaying(sealed(2, out -> { out.writeInt(1); session(out, 7, 0, 1, 4); out.writeInt(0); }),
                "result code 4");
        assertRefusedSaying(sealed(2, out -> {
            out.writeInt(2);
            session(out, 7, 0, 1, 1);
            session(out, 7, 0, 2, 1);
            out.writeInt(0);
        }), "session 7 appears twice");
        assertRefusedSaying(sealed(2, out -> {
            out.writeInt(2);
            session(out, 7, 9, 1, 1);
            session(out, 8, 9, 1, 1);
            out.writeInt(0);
        }), "nonce 9 appears twice");
        assertRefusedSaying(sealed(2, out -> { out.writeInt(0); out.writeInt(2); entry(out, "k", "v"); entry(out, "k", "w"); }),
                "\"k\" appears twice");
        assertRefusedSaying(sealed(2, out -> { out.writeInt(0); out.writeInt(1); entry(out, "k", "v"); out.writeByte(0); }),
                "1 bytes after the last entry");
        // Counts that the bytes present cannot hold are refused before anything is read for them.
        assertRefusedSaying(sealed(2, out -> { out.writeInt(2); session(out, 7, 0, 1, 1); out.writeInt(0); }),
                "says it holds 2 sessions");
        assertRefusedSaying(sealed(2, out -> { out.writeInt(0); out.writeInt(2); entry(out, "k", "v"); }),
                "says it holds 2 entries");
        // 39 bytes after the count: room for two sessions of version 1 (17 bytes each), not of version 2 (25).
        assertRefusedSaying(sealed(2, out -> { out.writeInt(2); session(out, 7, 0, 1, 1); out.writeInt(1); entry(out, "k", "v"); }),
                "says it holds 2 sessions");
        // 48 bytes: one short of two sessions of version 2 (the count's bound is exact).
        assertRefusedSaying(sealed(2, out -> { out.writeInt(2); session(out, 7, 0, 1, 1); out.writeInt(1); entry(out, "k", "vvvvvvvvvv"); }),
                "says it holds 2 sessions");
        assertRefusedSaying(sealed(2, out -> { out.writeInt(-1); out.writeInt(0); }), "says it holds -1 sessions");
        // A whole session's worth of bytes, and then nothing: not even the count of entries.
        assertRefusedSaying(sealed(2, out -> { out.writeInt(1); out.write(new byte[25]); }), "cut short");
        byte[] notOurs = sealed(2, out -> { out.writeInt(0); out.writeInt(0); });
        notOurs[0] = 'X';
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(notOurs, 0, notOurs.length - 4);
        java.nio.ByteBuffer.wrap(notOurs, notOurs.length - 4, 4).putInt((int) crc.getValue());
        assertRefusedSaying(notOurs, "its first bytes are not \"RKVS\"");
    }

    @Test
    void aSnapshotIsAllWrittenThroughToItsStreamWhenSnapshotReturns() throws IOException {
        KvStateMachine m = sample(10);
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        // A buffered stream that nobody flushes: whatever snapshot() leaves in it would be lost to the file below.
        m.snapshot(new java.io.BufferedOutputStream(bytes, 1 << 16));
        assertArrayEquals(snapshot(m), bytes.toByteArray());
    }

    @Test
    void sessionsWithoutANonceAndTheSmallestSnapshotAreRead() throws IOException {
        // Nonce 0 means none: two sessions without one are no duplicate.
        KvStateMachine m = new KvStateMachine(10);
        m.restore(new ByteArrayInputStream(sealed(2, out -> {
            out.writeInt(2);
            session(out, 7, 0, 1, 1);
            session(out, 8, 0, 1, 1);
            out.writeInt(1);
            entry(out, "k", "v");
        })));
        assertEquals("v", m.query("k"));
        assertEquals(KvResult.WRITTEN, m.apply(3, KvCommand.encode(KvCommand.Op.PUT, 8, 1, "k", "again")),
                "session 8's last write, retried, gets its first answer");
        // No session, no entry: the 17 bytes of an empty machine's snapshot.
        byte[] empty = sealed(2, out -> { out.writeInt(0); out.writeInt(0); });
        assertEquals(17, empty.length);
        KvStateMachine e = new KvStateMachine(10);
        e.restore(new ByteArrayInputStream(empty));
        assertEquals(null, e.query("k"));
    }

    private static void assertRefusedSaying(byte[] bad, String says) throws IOException {
        KvStateMachine m = new KvStateMachine(10);
        m.apply(1, KvCommand.register().encode());
        m.apply(2, put(1, 1, "kept", "yes"));
        byte[] before = snapshot(m);
        IOException e = assertThrows(IOException.class, () -> m.restore(new ByteArrayInputStream(bad)), says);
        assertTrue(e.getMessage() != null && e.getMessage().contains(says), "expected \"" + says + "\" in: " + e.getMessage());
        assertArrayEquals(before, snapshot(m), says + ": the state changed");
    }

    private static void assertRefusedWithoutHarm(byte[] bad, String what) throws IOException {
        KvStateMachine m = new KvStateMachine(10);
        m.apply(1, KvCommand.register().encode());
        m.apply(2, put(1, 1, "kept", "yes"));
        byte[] before = snapshot(m);
        IOException e = assertThrows(IOException.class, () -> m.restore(new ByteArrayInputStream(bad)), what);
        assertTrue(e.getMessage() != null && !e.getMessage().isBlank(), what);
        assertArrayEquals(before, snapshot(m), what + ": the state changed");
    }

    @Test
    void aRegistrationNonceSurvivesASnapshot() throws IOException {
        KvStateMachine m = new KvStateMachine(10);
        m.apply(1, KvCommand.register(42).encode());
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        m.snapshot(out);
        KvStateMachine restored = new KvStateMachine(10);
        restored.restore(new java.io.ByteArrayInputStream(out.toByteArray()));
        assertEquals(new KvResult.Registered(1), restored.apply(2, KvCommand.register(42).encode()),
                "a retry arriving after the restore finds the session");
    }

    /** A snapshot of format 1 (no nonces), written by an older build, is read: its sessions have none. */
    @Test
    void aVersion1SnapshotIsRead() throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
        out.writeInt(KvSnapshot.MAGIC);
        out.writeByte(1);
        out.writeInt(1);
        out.writeLong(7);   // session id
        out.writeLong(3);   // last sequence number
        out.writeByte(1);   // written
        out.writeInt(1);
        out.writeInt(1);
        out.write('k');
        out.writeInt(1);
        out.write('v');
        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
        crc.update(bytes.toByteArray());
        out.writeInt((int) crc.getValue());
        KvStateMachine m = new KvStateMachine(10);
        m.restore(new java.io.ByteArrayInputStream(bytes.toByteArray()));
        assertEquals("v", m.query("k"));
        assertEquals(KvResult.WRITTEN, m.apply(8, KvCommand.encode(KvCommand.Op.PUT, 7, 3, "k", "again")),
                "session 7's last write, retried, gets its first answer");
        assertEquals("v", m.query("k"));
    }
}
