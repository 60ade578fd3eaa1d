package io.raftkv.app;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The machine that runs an application on a node, driven directly (no cluster): sessions make a retried
 * command apply once, whatever the log holds never throws, and snapshots round-trip the application's
 * state with the sessions, or are refused without harm.
 */
class SessionMachineTest {

    /**
     * A ledger: "add:N" adds N and answers the total, "null" answers null, "throw:M" throws with message M
     * (changing nothing); queries "total" and "log". It counts its calls, and may freeze or close the
     * snapshot stream if asked.
     */
    static final class Ledger implements Application<String, String, String> {
        static final int APP_MAGIC = 0x4C454447; // "LEDG"
        long total;
        List<String> applied = new ArrayList<>();
        int applyCalls;
        int queryCalls;
        int restoreCalls;
        boolean freezes;
        boolean closesStream;

        @Override
        public String apply(String command) {
            applyCalls++;
            if (command.startsWith("throw:")) throw new IllegalStateException(command.substring(6));
            applied.add(command);
            if (command.equals("null")) return null;
            if (!command.startsWith("add:")) throw new IllegalArgumentException("unknown command " + command);
            total += Long.parseLong(command.substring(4));
            return Long.toString(total);
        }

        @Override
        public String query(String query) {
            queryCalls++;
            return switch (query) {
                case "total" -> Long.toString(total);
                case "log" -> String.join(",", applied);
                default -> throw new IllegalArgumentException("unknown query " + query);
            };
        }

        @Override
        public boolean canSnapshot() {
            return true;
        }

        @Override
        public void snapshot(OutputStream out) throws IOException {
            write(total, applied, out, closesStream);
        }

        private static void write(long total, List<String> applied, OutputStream out, boolean close) throws IOException {
            DataOutputStream d = new DataOutputStream(out);
            d.writeInt(APP_MAGIC);
            d.writeLong(total);
            d.writeInt(applied.size());
            for (String s : applied) d.writeUTF(s);
            if (close) d.close(); // against the rules of Application.snapshot, as some users will do
        }

        @Override
        public Frozen freeze() {
            if (!freezes) return null;
            long t = total;
            List<String> copy = List.copyOf(applied);
            boolean close = closesStream;
            return out -> write(t, copy, out, close);
        }

        @Override
        public void restore(InputStream in) throws IOException {
            restoreCalls++;
            DataInputStream d = new DataInputStream(in);
            int magic = d.readInt();
            if (magic != APP_MAGIC) throw new IOException("not a ledger: " + Integer.toHexString(magic));
            long t = d.readLong();
            int n = d.readInt();
            if (n < 0) throw new IOException("a ledger of " + n + " entries");
            List<String> read = new ArrayList<>();
            for (int i = 0; i < n; i++) read.add(d.readUTF());
            // Only now, all read: a damaged snapshot leaves the state as it was.
            total = t;
            applied = read;
        }
    }

    /** Commands as UTF-8 (refusing bytes that are not), and the string "<null>" decodes to null. */
    static final Codec<String> COMMANDS = Codec.of(s -> s.getBytes(StandardCharsets.UTF_8), b -> {
        String s = Codec.strings().decode(b);
        return s.equals("<null>") ? null : s;
    });

    static AppSpec<String, String, String> spec(boolean freezes, boolean closesStream) {
        return AppSpec.of(() -> {
            Ledger l = new Ledger();
            l.freezes = freezes;
            l.closesStream = closesStream;
            return l;
        }, COMMANDS, Codec.strings(), Codec.strings());
    }

    static final AppSpec<String, String, String> LEDGER = spec(false, false);

    static SessionMachine<String, String, String> machine(int maxSessions) {
        return new SessionMachine<>(LEDGER, maxSessions);
    }

    static Ledger ledger(SessionMachine<String, String, String> m) {
        return (Ledger) m.application();
    }

    static byte[] cmd(long session, long seq, String command) {
        return AppCommand.command(session, seq, command.getBytes(StandardCharsets.UTF_8));
    }

    static long registered(Object answer) {
        return assertInstanceOf(SessionMachine.Registered.class, answer).sessionId();
    }

    static String failure(Object answer) {
        return assertInstanceOf(SessionMachine.Failed.class, answer).message();
    }

    static byte[] snapshot(SessionMachine<?, ?, ?> m) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        m.snapshot(out);
        return out.toByteArray();
    }

    static SessionMachine<String, String, String> restored(byte[] snapshot, int maxSessions) throws IOException {
        SessionMachine<String, String, String> m = machine(maxSessions);
        m.restore(new ByteArrayInputStream(snapshot));
        return m;
    }

    // ---------------------------------------------------------------- the entry format

    @Test
    void entriesAreLaidOutAsTheFormatSays() {
        assertArrayEquals(new byte[] {'R', 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, (byte) 0x88},
                AppCommand.register(0x0102030405060788L));
        byte[] c = AppCommand.command(-2, 0x1122334455667788L, new byte[] {9, 8});
        assertEquals(AppCommand.HEADER_BYTES + 2, c.length);
        assertEquals('C', c[0]);
        assertEquals(-2, AppCommand.getLong(c, 1));
        assertEquals(0x1122334455667788L, AppCommand.getLong(c, 9));
        assertArrayEquals(new byte[] {9, 8}, Arrays.copyOfRange(c, AppCommand.HEADER_BYTES, c.length));
    }

    // ---------------------------------------------------------------- sessions

    @Test
    void aRegistrationsIndexIsTheSessionIdAndARetriedRegistrationGetsTheSameSession() {
        SessionMachine<String, String, String> m = machine(10);
        assertEquals(5, registered(m.apply(5, AppCommand.register(42))));
        // The same registration again (its answer was lost and the client retried it) at a later index.
        assertEquals(5, registered(m.apply(9, AppCommand.register(42))));
        assertEquals(1, m.sessionCount());
        // Another client's registration opens another session, at its own index.
        assertEquals(11, registered(m.apply(11, AppCommand.register(43))));
        assertEquals(2, m.sessionCount());
        // A registration without a nonce is never taken for a retry.
        assertEquals(12, registered(m.apply(12, AppCommand.register(0))));
        assertEquals(13, registered(m.apply(13, AppCommand.register(0))));
        assertEquals(4, m.sessionCount());
        assertEquals(0, ledger(m).applyCalls, "registrations never reach the application");
    }

    @Test
    void aCommandAppliesOnceAndARetryGetsTheFirstAnswer() {
        SessionMachine<String, String, String> m = machine(10);
        long s = registered(m.apply(1, AppCommand.register(7)));
        Object first = m.apply(2, cmd(s, 1, "add:5"));
        assertEquals("5", first);
        assertEquals(1, ledger(m).applyCalls);
        // The same entry again, at later indexes (a retry that reached the log twice).
        assertSame(first, m.apply(3, cmd(s, 1, "add:5")));
        assertSame(first, m.apply(4, cmd(s, 1, "add:5")));
        assertEquals(1, ledger(m).applyCalls, "a retry does not reach the application");
        assertEquals("5", m.query("total"));
        // The next command of the session applies.
        assertEquals("8", m.apply(5, cmd(s, 2, "add:3")));
        assertEquals(2, ledger(m).applyCalls);
        // A gap in the sequence numbers is no harm: it is a newer command.
        assertEquals("9", m.apply(6, cmd(s, 5, "add:1")));
        assertEquals(List.of("add:5", "add:3", "add:1"), ledger(m).applied);
    }

    @Test
    void aNullAnswerIsRememberedAsNull() {
        SessionMachine<String, String, String> m = machine(10);
        long s = registered(m.apply(1, AppCommand.register(7)));
        assertNull(m.apply(2, cmd(s, 1, "null")));
        assertNull(m.apply(3, cmd(s, 1, "null")));
        assertEquals(1, ledger(m).applyCalls);
    }

    @Test
    void aCommandOlderThanTheSessionsLastIsStale() {
        SessionMachine<String, String, String> m = machine(10);
        long s = registered(m.apply(1, AppCommand.register(7)));
        m.apply(2, cmd(s, 1, "add:1"));
        m.apply(3, cmd(s, 2, "add:2"));
        assertEquals(SessionMachine.Refusal.STALE, m.apply(4, cmd(s, 1, "add:1")));
        assertEquals(SessionMachine.Refusal.STALE, m.apply(5, cmd(s, -1, "add:1")));
        assertEquals(2, ledger(m).applyCalls);
        assertEquals("3", m.query("total"));
        // The session still answers its last command as before.
        assertEquals("3", m.apply(6, cmd(s, 2, "add:2")));
    }

    @Test
    void anEvictedOrUnknownSessionIsExpiredAndNothingApplies() {
        SessionMachine<String, String, String> m = machine(2);
        long a = registered(m.apply(1, AppCommand.register(1)));
        long b = registered(m.apply(2, AppCommand.register(2)));
        m.apply(3, cmd(a, 1, "add:1")); // a is now the most recently used: b goes first
        long c = registered(m.apply(4, AppCommand.register(3)));
        assertEquals(2, m.sessionCount());
        assertEquals(SessionMachine.Refusal.SESSION_EXPIRED, m.apply(5, cmd(b, 1, "add:100")));
        assertEquals(SessionMachine.Refusal.SESSION_EXPIRED, m.apply(6, cmd(999, 1, "add:100")), "never opened");
        assertEquals("1", m.apply(7, cmd(a, 1, "add:1")), "a kept its session");
        assertEquals("2", m.apply(8, cmd(c, 1, "add:1")));
        assertEquals(2, ledger(m).applyCalls);
        // b's client registering again with its old nonce gets a new session: the old one is gone.
        assertEquals(9, registered(m.apply(9, AppCommand.register(2))));
    }

    @Test
    void whatTheApplicationThrowsIsTheAnswerAndIsRememberedForTheRetry() {
        SessionMachine<String, String, String> m = machine(10);
        long s = registered(m.apply(1, AppCommand.register(7)));
        Object first = m.apply(2, cmd(s, 1, "throw:no such account"));
        String message = failure(first);
        assertTrue(message.contains("IllegalStateException") && message.contains("no such account"), message);
        assertEquals(1, ledger(m).applyCalls);
        assertEquals(first, m.apply(3, cmd(s, 1, "throw:no such account")));
        assertEquals(1, ledger(m).applyCalls, "the retry got the remembered failure");
        assertEquals("4", m.apply(4, cmd(s, 2, "add:4")), "the session goes on");
    }

    @Test
    void bytesThatAreNoEntryOfThisFormatAreAFailureNeverAThrow() {
        SessionMachine<String, String, String> m = machine(10);
        long s = registered(m.apply(1, AppCommand.register(7)));
        byte[][] junk = {
                new byte[0],
                {'X'},
                {'X', 0, 0, 0, 0, 0, 0, 0, 1}, // a registration's length, not its tag
                {'R', 0, 0, 0, 1},              // a registration cut short
                Arrays.copyOf(AppCommand.register(5), 12), // a registration with bytes to spare
                Arrays.copyOf(cmd(s, 1, ""), 16), // a command's header cut short
                "hello, world, this is text".getBytes(StandardCharsets.UTF_8),
        };
        long index = 2;
        for (byte[] entry : junk) {
            long at = index++;
            Object answer = assertDoesNotThrow(() -> m.apply(at, entry), Arrays.toString(entry));
            String message = failure(answer);
            assertTrue(message.contains("entry " + at), message);
        }
        assertEquals(1, m.sessionCount());
        assertEquals(0, ledger(m).applyCalls);

        // Random bytes, of random lengths: whatever they are taken for, apply answers and never throws.
        long seed = System.nanoTime();
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < 2000; i++) {
            byte[] entry = new byte[random.nextInt(40)];
            random.nextBytes(entry);
            if (entry.length > 0 && random.nextBoolean()) entry[0] = random.nextBoolean() ? (byte) 'C' : (byte) 'R';
            long at = index++;
            assertDoesNotThrow(() -> m.apply(at, entry), "seed " + seed + ", entry " + Arrays.toString(entry));
        }
    }

    @Test
    void aPayloadTheCodecRefusesOrDecodesToNullIsAFailureRememberedForTheRetry() {
        SessionMachine<String, String, String> m = machine(10);
        long s = registered(m.apply(1, AppCommand.register(7)));
        byte[] notUtf8 = AppCommand.command(s, 1, new byte[] {(byte) 0xC3, (byte) 0x28});
        Object refused = assertDoesNotThrow(() -> m.apply(2, notUtf8));
        assertTrue(failure(refused).contains("did not decode"), failure(refused));
        assertEquals(refused, m.apply(3, notUtf8), "a retry gets the same answer");

        Object nothing = m.apply(4, cmd(s, 2, "<null>"));
        assertTrue(failure(nothing).contains("decoded to null"), failure(nothing));
        assertEquals(nothing, m.apply(5, cmd(s, 2, "<null>")));
        assertEquals(0, ledger(m).applyCalls, "the application never saw either");
        assertEquals("1", m.apply(6, cmd(s, 3, "add:1")));
    }

    @Test
    void whatAQueryThrowsIsAFailure() {
        SessionMachine<String, String, String> m = machine(10);
        long s = registered(m.apply(1, AppCommand.register(7)));
        m.apply(2, cmd(s, 1, "add:2"));
        assertEquals("2", m.query("total"));
        assertTrue(failure(m.query("nonsense")).contains("unknown query nonsense"));
        // A query of the wrong type fails in the application's bridge method: a failure too, not a throw.
        assertTrue(failure(assertDoesNotThrow(() -> m.query(42L))).contains("ClassCastException"));
        assertEquals("2", m.query("total"));
    }

    // ---------------------------------------------------------------- snapshots

    /**
     * Three sessions, least recently used first: b (last answer null), c (a failure), a (a value); and d, opened
     * by a registration with no command yet.
     */
    private record Sample(SessionMachine<String, String, String> machine, long a, long b, long c, long d) {}

    private static Sample sample(int maxSessions) {
        SessionMachine<String, String, String> m = machine(maxSessions);
        long a = registered(m.apply(1, AppCommand.register(101)));
        long b = registered(m.apply(2, AppCommand.register(102)));
        long c = registered(m.apply(3, AppCommand.register(103)));
        m.apply(4, cmd(a, 1, "add:10"));
        m.apply(5, cmd(b, 1, "null"));
        m.apply(6, cmd(c, 1, "throw:überzogen ✓")); // a failure message that is not ASCII
        m.apply(7, cmd(a, 2, "add:5"));
        long d = registered(m.apply(8, AppCommand.register(0)));
        return new Sample(m, a, b, c, d);
    }

    /** The session ids in a snapshot, in its order (least recently used first). */
    private static List<Long> sessionIds(byte[] snapshot) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot));
        assertEquals(SessionMachine.MAGIC, in.readInt());
        assertEquals(SessionMachine.VERSION, in.readUnsignedByte());
        int n = in.readInt();
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(in.readLong());
            in.readLong();
            in.readLong();
            int kind = in.readUnsignedByte();
            if (kind != 0) in.skipNBytes(in.readInt());
        }
        return ids;
    }

    @Test
    void aSnapshotRestoresTheStateAndEverySessionWithItsAnswer() throws IOException {
        Sample s = sample(10);
        byte[] bytes = snapshot(s.machine());
        assertEquals(List.of(s.b(), s.c(), s.a(), s.d()), sessionIds(bytes), "least recently used first");

        SessionMachine<String, String, String> m = machine(10);
        m.apply(50, AppCommand.register(555)); // state from before the restore is replaced, not merged
        m.apply(51, cmd(50, 1, "add:1000"));
        m.restore(new ByteArrayInputStream(bytes));
        Ledger app = ledger(m);
        assertEquals(4, m.sessionCount());
        assertEquals("15", m.query("total"));
        assertEquals("add:10,null,add:5", m.query("log"));
        assertArrayEquals(bytes, snapshot(m), "a restored machine snapshots to the same bytes");

        int calls = app.applyCalls;
        // Each session's retry gets its remembered answer, of each kind, without the application.
        assertEquals("15", m.apply(20, cmd(s.a(), 2, "add:5")));
        assertNull(m.apply(21, cmd(s.b(), 1, "null")));
        String failed = failure(m.apply(22, cmd(s.c(), 1, "throw:überzogen ✓")));
        assertEquals(failure(s.machine().apply(30, cmd(s.c(), 1, "throw:überzogen ✓"))), failed);
        assertTrue(failed.contains("überzogen ✓"), failed);
        assertEquals(SessionMachine.Refusal.STALE, m.apply(23, cmd(s.a(), 1, "add:10")));
        assertEquals(calls, app.applyCalls);
        // Nonces survive: a registration retried after the snapshot finds its session.
        assertEquals(s.b(), registered(m.apply(24, AppCommand.register(102))));
        assertEquals(4, m.sessionCount());
        // And the sessions go on.
        assertEquals("17", m.apply(25, cmd(s.d(), 1, "add:2")));
        assertEquals("18", m.apply(26, cmd(s.a(), 3, "add:1")));
        assertEquals(calls + 2, app.applyCalls);
        assertEquals(SessionMachine.Refusal.SESSION_EXPIRED, m.apply(27, cmd(50, 2, "add:1")), "the old session is gone");
    }

    @Test
    void aRestoredMachineEvictsInTheOriginalsOrder() throws IOException {
        Sample s = sample(4);
        SessionMachine<String, String, String> m = restored(snapshot(s.machine()), 4);
        // Two new sessions push out the two least recently used: b, then c.
        m.apply(20, AppCommand.register(201));
        assertEquals(SessionMachine.Refusal.SESSION_EXPIRED, m.apply(21, cmd(s.b(), 2, "add:1")));
        m.apply(22, AppCommand.register(202));
        assertEquals(SessionMachine.Refusal.SESSION_EXPIRED, m.apply(23, cmd(s.c(), 2, "add:1")));
        assertEquals("15", m.apply(24, cmd(s.a(), 2, "add:5")), "a is still there");
        assertEquals("16", m.apply(25, cmd(s.d(), 1, "add:1")), "d too");

        // A machine with room for fewer sessions keeps the most recently used of the snapshot's.
        SessionMachine<String, String, String> small = restored(snapshot(s.machine()), 2);
        assertEquals(2, small.sessionCount());
        assertEquals(List.of(s.a(), s.d()), sessionIds(snapshot(small)));
    }

    @Test
    void anEmptyMachineRoundTrips() throws IOException {
        byte[] bytes = snapshot(machine(3));
        SessionMachine<String, String, String> m = restored(bytes, 3);
        assertEquals(0, m.sessionCount());
        assertEquals("0", m.query("total"));
        assertArrayEquals(bytes, snapshot(m));
    }

    // ---------------------------------------------------------------- damaged snapshots

    /** Writes a snapshot by hand. */
    private interface Body {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] bytes(Body body) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(b);
        body.write(out);
        out.flush();
        return b.toByteArray();
    }

    private static void header(DataOutputStream out, int sessions) throws IOException {
        out.writeInt(SessionMachine.MAGIC);
        out.writeByte(SessionMachine.VERSION);
        out.writeInt(sessions);
    }

    private static void session(DataOutputStream out, long id, long nonce, long seq, int kind, byte[] answer) throws IOException {
        out.writeLong(id);
        out.writeLong(nonce);
        out.writeLong(seq);
        out.writeByte(kind);
        if (answer != null) {
            out.writeInt(answer.length);
            out.write(answer);
        }
    }

    private static void ledgerState(DataOutputStream out, long total, String... applied) throws IOException {
        out.writeInt(Ledger.APP_MAGIC);
        out.writeLong(total);
        out.writeInt(applied.length);
        for (String s : applied) out.writeUTF(s);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    /** The bytes are refused with an IOException, and the machine snapshots to the same bytes as before. */
    private static void assertRefusedWithoutHarm(Sample s, byte[] bad, String what) throws IOException {
        SessionMachine<String, String, String> m = s.machine();
        byte[] before = snapshot(m);
        assertThrows(IOException.class, () -> m.restore(new ByteArrayInputStream(bad)), what);
        assertArrayEquals(before, snapshot(m), what + ": the sessions and the state are as they were");
        assertEquals(4, m.sessionCount(), what);
    }

    @Test
    void wellFormedHandWrittenSnapshotsAreRead() throws IOException {
        // The hand-written layout this class's damage tests start from is one the machine reads.
        byte[] good = bytes(out -> {
            header(out, 3);
            session(out, 7, 70, 2, 1, utf8("value"));
            session(out, 8, 0, 1, 2, utf8("it broke"));
            session(out, 9, 0, 0, 0, null); // two sessions without a nonce are not a duplicate
            ledgerState(out, 12, "add:12");
        });
        SessionMachine<String, String, String> m = restored(good, 10);
        assertArrayEquals(good, snapshot(m), "read as written, in the same order");
        assertEquals(3, m.sessionCount());
        assertEquals("12", m.query("total"));
        assertEquals("value", m.apply(20, cmd(7, 2, "add:1")));
        assertEquals("it broke", failure(m.apply(21, cmd(8, 1, "add:1"))));
        assertEquals(7, registered(m.apply(22, AppCommand.register(70))));
        assertEquals(0, ledger(m).applyCalls);
    }

    @Test
    void everyDamagedSnapshotIsRefusedAndChangesNothing() throws IOException {
        Sample s = sample(10);
        assertRefusedWithoutHarm(s, new byte[0], "empty");
        assertRefusedWithoutHarm(s, bytes(out -> {
            out.writeInt(0x4B565331); // another format's magic
            out.writeByte(SessionMachine.VERSION);
            out.writeInt(0);
            ledgerState(out, 1);
        }), "wrong magic");
        for (int version : new int[] {0, 2, 255}) {
            assertRefusedWithoutHarm(s, bytes(out -> {
                out.writeInt(SessionMachine.MAGIC);
                out.writeByte(version);
                out.writeInt(0);
                ledgerState(out, 1);
            }), "version " + version);
        }
        assertRefusedWithoutHarm(s, bytes(out -> {
            header(out, -1);
            ledgerState(out, 1);
        }), "a negative session count");
        assertRefusedWithoutHarm(s, bytes(out -> {
            header(out, Integer.MIN_VALUE);
            ledgerState(out, 1);
        }), "the most negative session count");
        assertRefusedWithoutHarm(s, bytes(out -> {
            header(out, 2);
            session(out, 7, 70, 1, 0, null);
            session(out, 7, 71, 1, 0, null);
            ledgerState(out, 1);
        }), "a duplicate session id");
        assertRefusedWithoutHarm(s, bytes(out -> {
            header(out, 2);
            session(out, 7, 70, 1, 0, null);
            session(out, 8, 70, 1, 0, null);
            ledgerState(out, 1);
        }), "a duplicate nonce");
        assertRefusedWithoutHarm(s, bytes(out -> {
            header(out, 1);
            session(out, 7, 70, 1, 3, null);
            ledgerState(out, 1);
        }), "an unknown answer kind");
        assertRefusedWithoutHarm(s, bytes(out -> {
            header(out, 1);
            session(out, 7, 70, 1, 1, null);
            out.writeInt(-5);
            ledgerState(out, 1);
        }), "a negative answer length");
        assertRefusedWithoutHarm(s, bytes(out -> {
            header(out, 1);
            session(out, 7, 70, 1, 1, null);
            out.writeInt(Integer.MAX_VALUE);
            ledgerState(out, 1);
        }), "an answer longer than any");
        assertRefusedWithoutHarm(s, bytes(out -> {
            header(out, 1);
            session(out, 7, 70, 1, 1, new byte[] {(byte) 0xFF, (byte) 0xFE}); // not UTF-8: the strings codec refuses it
            ledgerState(out, 1);
        }), "an answer the results codec cannot decode");
        assertEquals(0, ledger(s.machine()).restoreCalls, "damage in the sessions' part is found before the application reads");
        assertRefusedWithoutHarm(s, bytes(out -> {
            header(out, 1);
            session(out, 7, 70, 1, 1, utf8("fine"));
            out.writeInt(0x12345678); // the application's part is damaged: its restore throws
            out.writeLong(1);
            out.writeInt(0);
        }), "an application part its restore refuses");
        assertRefusedWithoutHarm(s, bytes(out -> {
            header(out, 1);
            session(out, 7, 70, 1, 1, utf8("fine"));
            out.writeInt(Ledger.APP_MAGIC);
            out.writeLong(1);
            out.writeInt(-3);
        }), "an application part with a negative count");
        assertRefusedWithoutHarm(s, bytes(out -> header(out, 5)), "more sessions than the bytes hold");
    }

    @Test
    void aSnapshotCutShortAnywhereIsRefusedAndChangesNothing() throws IOException {
        Sample s = sample(10);
        byte[] whole = snapshot(sample(10).machine());
        for (int cut = 0; cut < whole.length; cut++) {
            assertRefusedWithoutHarm(s, Arrays.copyOf(whole, cut), "cut to " + cut + " of " + whole.length + " bytes");
        }
        // The whole of it is read, for contrast.
        assertDoesNotThrow(() -> restored(whole, 10));
    }

    @Test
    void aRefusedSnapshotLeavesTheSessionsWorking() throws IOException {
        Sample s = sample(10);
        SessionMachine<String, String, String> m = s.machine();
        byte[] other = bytes(out -> {
            header(out, 1);
            session(out, 99, 990, 5, 1, utf8("other"));
            out.writeInt(0x12345678);
        });
        assertThrows(IOException.class, () -> m.restore(new ByteArrayInputStream(other)));
        assertEquals(SessionMachine.Refusal.SESSION_EXPIRED, m.apply(40, cmd(99, 5, "add:1")), "nothing of it was taken");
        assertEquals("15", m.apply(41, cmd(s.a(), 2, "add:5")), "the old sessions answer as before");
        assertEquals("16", m.apply(42, cmd(s.a(), 3, "add:1")));
    }

    // ---------------------------------------------------------------- freezing and careless applications

    @Test
    void anApplicationThatDoesNotFreezeGivesNoFrozenCopy() {
        SessionMachine<String, String, String> m = machine(10);
        m.apply(1, AppCommand.register(1));
        assertNull(m.freeze());
    }

    @Test
    void aFrozenCopyWritesTheStateAsOfTheFreeze() throws IOException {
        SessionMachine<String, String, String> m = new SessionMachine<>(spec(true, false), 10);
        long a = registered(m.apply(1, AppCommand.register(11)));
        m.apply(2, cmd(a, 1, "add:3"));
        io.raftkv.node.StateMachine.Frozen frozen = m.freeze();
        assertNotNull(frozen);
        byte[] atFreeze = snapshot(m);

        // Life goes on: a command of the frozen session, a new session, a failure.
        m.apply(3, cmd(a, 2, "add:4"));
        long b = registered(m.apply(4, AppCommand.register(12)));
        m.apply(5, cmd(b, 1, "throw:later"));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        frozen.writeTo(out);
        byte[] written = out.toByteArray();
        assertArrayEquals(atFreeze, written, "the frozen copy writes what snapshot() wrote at the freeze");
        assertFalse(Arrays.equals(written, snapshot(m)), "and not the state now");

        SessionMachine<String, String, String> r = restored(written, 10);
        assertEquals("3", r.query("total"));
        assertEquals(1, r.sessionCount(), "the session opened after the freeze is not in it");
        assertEquals("3", r.apply(10, cmd(a, 1, "add:3")), "a's answer as of the freeze");
        assertEquals("7", r.apply(11, cmd(a, 2, "add:4")), "a's next command applies on the restored machine");
        assertEquals(SessionMachine.Refusal.SESSION_EXPIRED, r.apply(12, cmd(b, 1, "throw:later")));
    }

    /** A target stream that remembers being closed, and refuses writes after. */
    private static final class Target extends ByteArrayOutputStream {
        boolean closed;

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            if (closed) throw new IllegalStateException("written after close");
            super.write(b, off, len);
        }

        @Override
        public synchronized void write(int b) {
            if (closed) throw new IllegalStateException("written after close");
            super.write(b);
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    @Test
    void anApplicationThatClosesTheStreamDoesNotBreakTheSnapshot() throws IOException {
        for (boolean freezes : new boolean[] {false, true}) {
            SessionMachine<String, String, String> careful = new SessionMachine<>(spec(freezes, false), 10);
            SessionMachine<String, String, String> careless = new SessionMachine<>(spec(freezes, true), 10);
            for (SessionMachine<String, String, String> m : List.of(careful, careless)) {
                long a = registered(m.apply(1, AppCommand.register(11)));
                m.apply(2, cmd(a, 1, "add:3"));
                m.apply(3, cmd(a, 2, "null"));
            }
            Target target = new Target();
            if (freezes) careless.freeze().writeTo(target);
            else careless.snapshot(target);
            assertFalse(target.closed, "the machine's target stream stays open (freezes: " + freezes + ")");
            assertArrayEquals(snapshot(careful), target.toByteArray(), "every byte reached the target (freezes: " + freezes + ")");
            SessionMachine<String, String, String> r = restored(target.toByteArray(), 10);
            assertEquals("3", r.query("total"));
            assertNull(r.apply(4, cmd(1, 2, "null")));
            // The target is still usable after the snapshot: a node may write more to it (a checksum, say).
            target.write(1);
        }
    }

    @Test
    void aResultsCodecThatEncodesToNullFailsTheSnapshotInsteadOfWritingOneThatCannotBeRead() throws IOException {
        // Against Codec's contract; the node must then stop on the snapshot, not install (and compact its log
        // behind) one that no node can restore.
        AppSpec<String, String, String> careless = AppSpec.of(Ledger::new, COMMANDS, Codec.strings(),
                Codec.of(v -> null, Codec.strings()::decode));
        SessionMachine<String, String, String> m = new SessionMachine<>(careless, 10);
        long s = registered(m.apply(1, AppCommand.register(1)));
        byte[] empty = snapshot(m); // a session with no answer yet needs no codec
        assertEquals(1, restored(empty, 10).sessionCount());
        m.apply(2, cmd(s, 1, "add:1"));
        NullPointerException e = assertThrows(NullPointerException.class, () -> snapshot(m));
        assertTrue(e.getMessage().contains("results codec"), e.getMessage());
        // A null answer is written as no answer: the codec is not asked.
        m.apply(3, cmd(s, 2, "null"));
        assertNull(restored(snapshot(m), 10).apply(4, cmd(s, 2, "null")));
    }

    @Test
    void anApplicationThatCannotSnapshotSaysSo() {
        AppSpec<Long, String, Long> plain = AppSpec.of(() -> new Application<>() {
            @Override
            public Long apply(Long command) {
                return command;
            }

            @Override
            public Long query(String query) {
                return 0L;
            }
        }, Codec.longs(), Codec.strings(), Codec.longs());
        SessionMachine<Long, String, Long> m = new SessionMachine<>(plain, 3);
        assertFalse(m.canSnapshot());
        assertTrue(machine(3).canSnapshot());
        assertThrows(UnsupportedOperationException.class, () -> m.snapshot(new ByteArrayOutputStream()));
    }
}
