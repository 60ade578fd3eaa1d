package io.raftkv.kv;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.BufferUnderflowException;
import java.nio.ByteOrder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * A write as it is stored in the log: who sent it, its sequence number in that client's session, and what it
 * does. All integers big-endian:
 * <pre>
 * version uint8 | op uint8 | clientId int64 | seq int64 | key (int32 length | UTF-8) | value (int32 length | UTF-8)
 *   | a CAS only: expected (int32 length, -1 if the key must be absent | UTF-8)
 * </pre>
 * Version 1 has the ops 0 PUT, 1 REPLACE and 2 REGISTER; version 2 adds 3 DELETE (its value empty) and 4 CAS
 * (with the expected value after the value). A command is written in the oldest version that has its op, so a
 * PUT, a REPLACE and a registration have the bytes they always had (logs and snapshots written before version 2
 * read as they did, and a node of an older build reads them), and a node that knows only version 1 refuses a
 * DELETE or a CAS by its version rather than misreading it.
 *
 * @param expected a CAS's expected value, null if it expects the key to be absent; null for every other op
 */
record KvCommand(Op op, long clientId, long seq, String key, String value, String expected) {
    enum Op { PUT, REPLACE, REGISTER, DELETE, CAS }

    /** The version of the ops PUT, REPLACE and REGISTER, and the layout all ops share. */
    private static final byte VERSION = 1;
    /** The version that adds DELETE and CAS. */
    private static final byte VERSION_2 = 2;
    /** How many ops version 1 has: PUT, REPLACE, REGISTER. */
    private static final int VERSION_1_OPS = 3;
    private static final Op[] OPS = Op.values(); // values() clones its array on every call

    KvCommand {
        if (expected != null && op != Op.CAS) throw new IllegalArgumentException("a " + op + " carries no expected value");
        if (op == Op.DELETE && !value.isEmpty()) throw new IllegalArgumentException("a DELETE carries no value");
    }

    /** Any command but a CAS (whose expected value is then absent). */
    KvCommand(Op op, long clientId, long seq, String key, String value) {
        this(op, clientId, seq, key, value, null);
    }

    /** Opens a session; the session's id is the index of this entry in the log (thesis §6.3). No nonce: never deduplicated. */
    static KvCommand register() {
        return register(0);
    }

    /**
     * Opens a session, or finds the one this registration opened already: {@code nonce}, a random number the
     * client draws once per registration and sends with every retry of it, rides in the client id field. The
     * state machine answers a registration whose nonce names a live session with that session, so a retry
     * after a lost answer opens no second, orphan session. 0: no nonce (older clients), never deduplicated.
     */
    static KvCommand register(long nonce) {
        return new KvCommand(Op.REGISTER, nonce, 0, "", "");
    }

    private static final VarHandle LONG = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final VarHandle INT = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.BIG_ENDIAN);
    /** Bytes before the key: version, op, client id, sequence number, key length. */
    static final int HEADER = 2 + 8 + 8 + 4;

    byte[] encode() {
        return encode(op, clientId, seq, key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8),
                expected == null ? null : expected.getBytes(StandardCharsets.UTF_8));
    }

    /** The command's bytes (not a CAS's: see {@link #encode()}). */
    static byte[] encode(Op op, long clientId, long seq, String key, String value) {
        return encode(op, clientId, seq, key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8), null);
    }

    /**
     * The command's bytes, with the key and the value checked against {@code limits} as
     * {@link KvLimits#checkKey} and {@link KvLimits#checkValue} do (the same errors), in one pass over
     * each string: the JDK's UTF-8 encoder is vectorized, a loop over the chars is not.
     */
    static byte[] encode(Op op, long clientId, long seq, String key, String value, KvLimits limits) {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        // getBytes turns an unpaired surrogate into '?'. As many bytes as the string has chars, and no '?':
        // the string was ASCII and nothing was replaced. Otherwise check it the slow way.
        if (k.length != key.length() || contains(k, (byte) '?')) limits.checkKey(key); else limits.checkKeyBytes(k.length);
        if (v.length != value.length() || contains(v, (byte) '?')) limits.checkValue(value); else limits.checkValueBytes(v.length);
        return encode(op, clientId, seq, k, v, null);
    }

    /**
     * As {@link #encode(Op, long, long, String, String, KvLimits)}, with a CAS's {@code expected} value (null:
     * the key must be absent) checked as {@link KvLimits#checkExpected} does. Off the hot path: a PUT never
     * comes here.
     */
    static byte[] encode(Op op, long clientId, long seq, String key, String value, String expected, KvLimits limits) {
        if (expected == null) return encode(op, clientId, seq, key, value, limits);
        if (op != Op.CAS) throw new IllegalArgumentException("a " + op + " carries no expected value");
        limits.checkKey(key);
        limits.checkValue(value);
        limits.checkExpected(expected);
        return encode(op, clientId, seq, key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8),
                expected.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Encodes the commands of one thread at a time (a {@link KvClient}'s, under its turn): an ASCII key
     * and value, the common case, are copied once, straight into the command, through a scratch buffer
     * this encoder keeps, instead of through a UTF-8 array per string. Anything else takes
     * {@link KvCommand#encode(Op, long, long, String, String, KvLimits)}, with the same checks and errors.
     */
    static final class Encoder {
        /** Longer strings take the general path: the scratch buffer stays small. */
        private static final int MAX_SCRATCH = 16 * 1024;
        private char[] scratch = new char[256];

        /**
         * The command's bytes, its session and sequence number still to be set ({@link #setSession}): a PUT or a
         * REPLACE, the ops whose speed matters (a DELETE or a CAS takes the general path).
         */
        byte[] encode(Op op, String key, String value, KvLimits limits) {
            if (op != Op.PUT && op != Op.REPLACE) throw new IllegalArgumentException("the fast encoder takes a PUT or a REPLACE, not a " + op);
            int kLen = key.length();
            int vLen = value.length();
            int longest = Math.max(kLen, vLen);
            if (longest <= MAX_SCRATCH && kLen <= limits.maxKeyBytes() && vLen <= limits.maxValueBytes()) {
                if (scratch.length < longest) scratch = new char[Math.max(longest, 2 * scratch.length)];
                byte[] out = new byte[HEADER + kLen + 4 + vLen];
                int vAt = HEADER + kLen + 4;
                if (narrowAscii(key, kLen, out, HEADER) && narrowAscii(value, vLen, out, vAt)) {
                    out[0] = VERSION;
                    out[1] = (byte) op.ordinal();
                    INT.set(out, 18, kLen);
                    INT.set(out, vAt - 4, vLen);
                    return out;
                }
            }
            return KvCommand.encode(op, 0, 0, key, value, limits);
        }

        /** Copies {@code s} into {@code out} at {@code at} if every char is ASCII; whether it was. */
        @SuppressWarnings("deprecation") // String.getBytes(int, int, byte[], int): exactly right for ASCII
        private boolean narrowAscii(String s, int n, byte[] out, int at) {
            char[] c = scratch;
            s.getChars(0, n, c, 0);
            int or = 0;
            for (int i = 0; i < n; i++) or |= c[i];
            if (or >= 0x80) return false;
            s.getBytes(0, n, out, at);
            return true;
        }
    }

    /** {@code e}: a CAS's expected value, null if it expects absence; ignored for any other op. */
    private static byte[] encode(Op op, long clientId, long seq, byte[] k, byte[] v, byte[] e) {
        boolean cas = op == Op.CAS;
        byte[] out = new byte[HEADER + k.length + 4 + v.length + (cas ? 4 + (e == null ? 0 : e.length) : 0)];
        out[0] = op.ordinal() < VERSION_1_OPS ? VERSION : VERSION_2;
        out[1] = (byte) op.ordinal();
        LONG.set(out, 2, clientId);
        LONG.set(out, 10, seq);
        INT.set(out, 18, k.length);
        System.arraycopy(k, 0, out, HEADER, k.length);
        int at = HEADER + k.length;
        INT.set(out, at, v.length);
        System.arraycopy(v, 0, out, at + 4, v.length);
        if (cas) {
            at += 4 + v.length;
            INT.set(out, at, e == null ? -1 : e.length);
            if (e != null) System.arraycopy(e, 0, out, at + 4, e.length);
        }
        return out;
    }

    /** Whether {@code b} holds the byte {@code x}; eight bytes at a time. */
    static boolean contains(byte[] b, byte x) {
        long pattern = (x & 0xFFL) * 0x0101010101010101L;
        int i = 0;
        for (; i + 8 <= b.length; i += 8) {
            long w = (long) LONG.get(b, i) ^ pattern; // a zero byte where b holds x
            if (((w - 0x0101010101010101L) & ~w & 0x8080808080808080L) != 0) return true;
        }
        for (; i < b.length; i++) if (b[i] == x) return true;
        return false;
    }

    /**
     * The op of an encoded client write (a PUT, a REPLACE, a DELETE or a CAS) in a version that has it, or null
     * if {@code command} is not laid out as one (a registration is not a client's write).
     */
    static Op writeOp(byte[] command) {
        if (command.length < HEADER + 4) return null;
        int op = command[1];
        if (op == Op.PUT.ordinal()) return command[0] == VERSION || command[0] == VERSION_2 ? Op.PUT : null;
        if (op == Op.REPLACE.ordinal()) return command[0] == VERSION || command[0] == VERSION_2 ? Op.REPLACE : null;
        if (command[0] != VERSION_2) return null;
        return op == Op.DELETE.ordinal() ? Op.DELETE : op == Op.CAS.ordinal() ? Op.CAS : null;
    }

    /** The session of an encoded command (at least {@link #HEADER} bytes long). */
    static long clientId(byte[] command) {
        return (long) LONG.get(command, 2);
    }

    /** The sequence number of an encoded command (at least {@link #HEADER} bytes long). */
    static long seq(byte[] command) {
        return (long) LONG.get(command, 10);
    }

    /** Sets the session and sequence number of an encoded command, before anyone else sees its array. */
    static void setSession(byte[] command, long clientId, long seq) {
        LONG.set(command, 2, clientId);
        LONG.set(command, 10, seq);
    }

    /**
     * Checks that {@code command} is exactly one well-formed command of {@code op}, {@code clientId} and
     * {@code seq}, in valid UTF-8, with a key, a value and an expected value within {@code limits}; throws
     * {@link IllegalArgumentException} saying what is wrong otherwise.
     */
    static void check(byte[] command, Op op, long clientId, long seq, KvLimits limits) {
        int kLen = asciiKeyLength(command);
        int vLen;
        int eLen = -1;
        if (kLen >= 0) {
            vLen = command.length - HEADER - kLen - 4;
        } else {
            // Not plain ASCII, not version 1, or not one command: the full parse (which refuses the last), on the side path.
            Parsed p = new Parsed();
            p.parse(command);
            kLen = p.keyLength;
            vLen = p.valueLength;
            eLen = p.expectedLength;
        }
        Op got = OPS[command[1]];
        long gotClient = (long) LONG.get(command, 2);
        long gotSeq = (long) LONG.get(command, 10);
        if (got != op || gotClient != clientId || gotSeq != seq) {
            throw new IllegalArgumentException("the encoded command (" + got + ", session " + gotClient + ", seq " + gotSeq
                    + ") does not match the request (" + op + ", session " + clientId + ", seq " + seq + ")");
        }
        limits.checkKeyBytes(kLen);
        limits.checkValueBytes(vLen);
        if (eLen >= 0) limits.checkExpectedBytes(eLen);
    }

    /**
     * The key's length if {@code b} is exactly one version 1 command whose key and value are ASCII (the
     * common case, checked without decoding anything); -1 otherwise, when only the strict decoder can say.
     */
    private static int asciiKeyLength(byte[] b) {
        int n = b.length;
        if (n < HEADER + 4 || b[0] != VERSION || b[1] < 0 || b[1] >= VERSION_1_OPS) return -1;
        int kLen = (int) INT.get(b, 18);
        if (kLen < 0 || kLen > n - HEADER - 4) return -1;
        int vAt = HEADER + kLen + 4;
        int vLen = (int) INT.get(b, HEADER + kLen);
        return vLen == n - vAt && isAscii(b, HEADER, kLen) && isAscii(b, vAt, vLen) ? kLen : -1;
    }

    /** Whether {@code n} bytes from {@code at} are all ASCII; eight bytes at a time. */
    static boolean isAscii(byte[] b, int at, int n) {
        int end = at + n;
        int i = at;
        long or = 0;
        for (; i + 8 <= end; i += 8) or |= (long) LONG.get(b, i);
        for (; i < end; i++) or |= b[i];
        return (or & 0x8080808080808080L) == 0;
    }

    /**
     * A command parsed in place, for the state machine's apply: no object per command, the key and the
     * value left in the command's array. One per applying thread; {@link #parse} refuses (with
     * {@link IllegalArgumentException}, and the messages of {@link #decode}) anything that is not
     * exactly one command.
     */
    static final class Parsed {
        Op op;
        long clientId;
        long seq;
        byte[] bytes;
        int keyOffset;
        int keyLength;
        int valueOffset;
        int valueLength;
        /** A CAS's expected value; its length is -1 if the CAS expects the key to be absent, and for every other op. */
        int expectedOffset;
        int expectedLength;

        void parse(byte[] b) {
            int kLen = asciiKeyLength(b);
            if (kLen >= 0) {
                int vAt = HEADER + kLen + 4;
                set(b, OPS[b[1]], (long) LONG.get(b, 2), (long) LONG.get(b, 10), HEADER, kLen, vAt, b.length - vAt);
                expectedOffset = 0;
                expectedLength = -1;
                return;
            }
            // Not plain ASCII, version 2, or not well formed: the strict decoder says which (and throws if it is not one).
            View v = decodeView(b);
            set(b, v.op(), v.clientId(), v.seq(), HEADER, (int) INT.get(b, 18), v.value().offset, v.value().length);
            expectedOffset = v.expected() == null ? 0 : v.expected().offset;
            expectedLength = v.expected() == null ? -1 : v.expected().length;
        }

        private void set(byte[] b, Op op, long clientId, long seq, int kAt, int kLen, int vAt, int vLen) {
            this.bytes = b;
            this.op = op;
            this.clientId = clientId;
            this.seq = seq;
            this.keyOffset = kAt;
            this.keyLength = kLen;
            this.valueOffset = vAt;
            this.valueLength = vLen;
        }
    }

    /**
     * A decoded command whose value is left where it is, as checked UTF-8 in the command's array: a
     * node applies every PUT, and a copy of the value as a String on each would be most of what the
     * state machine allocates.
     */
    record View(Op op, long clientId, long seq, String key, Utf8 value, Utf8 expected) {}

    /**
     * Valid UTF-8 within an array that nobody changes; decoded only when asked. A class, not a
     * record: two of them are not equal because their text is, so nothing should compare them.
     */
    static final class Utf8 {
        private final byte[] bytes;
        private final int offset;
        private final int length;

        Utf8(byte[] bytes, int offset, int length) {
            this.bytes = bytes;
            this.offset = offset;
            this.length = length;
        }

        int offset() {
            return offset;
        }

        int length() {
            return length;
        }

        @Override
        public String toString() {
            return new String(bytes, offset, length, StandardCharsets.UTF_8);
        }

    }

    /** Reads a command back, refusing (with {@link IllegalArgumentException}) anything that is not exactly one. */
    static KvCommand decode(byte[] bytes) {
        View v = decodeView(bytes);
        return new KvCommand(v.op, v.clientId, v.seq, v.key, v.value.toString(), v.expected == null ? null : v.expected.toString());
    }

    /** As {@link #decode}, with the same checks, leaving the value in {@code bytes}. */
    static View decodeView(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        try {
            byte version = b.get();
            if (version != VERSION && version != VERSION_2) throw new IllegalArgumentException("unknown KV command version " + version);
            int op = b.get();
            if (op < 0 || op >= OPS.length) throw new IllegalArgumentException("unknown KV command op " + op);
            if (version == VERSION && op >= VERSION_1_OPS) {
                throw new IllegalArgumentException("KV command op " + op + " (" + OPS[op] + ") came with version 2; this command says version 1");
            }
            long clientId = b.getLong();
            long seq = b.getLong();
            String key = string(b, "key");
            Utf8 value = utf8(b, "value");
            Utf8 expected = null;
            if (op == Op.CAS.ordinal()) {
                if (b.remaining() >= 4 && b.getInt(b.position()) == -1) b.position(b.position() + 4); // absent
                else expected = utf8(b, "expected value");
            }
            if (op == Op.DELETE.ordinal() && value.length != 0) {
                throw new IllegalArgumentException("a KV DELETE carries no value; this one has " + value.length + " bytes");
            }
            if (b.hasRemaining()) {
                throw new IllegalArgumentException(b.remaining() + " unexpected bytes after the "
                        + (op == Op.CAS.ordinal() ? "expected value" : "value") + " of a KV command");
            }
            return new View(OPS[op], clientId, seq, key, value, expected);
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("KV command truncated at byte " + b.position() + " of " + bytes.length);
        }
    }

    /** A length-prefixed UTF-8 string at {@code b}'s position, checked, left in {@code b}'s array. */
    static Utf8 utf8(ByteBuffer b, String what) {
        int lengthAt = b.position();
        int at = lengthAt + 4;
        int n = at <= b.limit() ? b.getInt(lengthAt) : -1;
        boolean ascii = n >= 0 && n <= b.limit() - at && isAscii(b.array(), at, n);
        if (ascii) {
            b.position(at + n);
        } else {
            string(b, what); // the full check, with its errors for a bad length or bad UTF-8
        }
        return new Utf8(b.array(), at, b.position() - at);
    }

    /** A length-prefixed UTF-8 string at {@code b}'s position, strictly decoded. */
    static String string(ByteBuffer b, String what) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) {
            throw new IllegalArgumentException("bad " + what + " length " + n + " in KV command (" + b.remaining() + " bytes left)");
        }
        int at = b.position();
        b.position(at + n);
        // The lenient decoder is an intrinsic and much faster; it turns malformed input into U+FFFD,
        // so only a string holding one needs the strict decoder to tell bad input from a real U+FFFD.
        String s = new String(b.array(), at, n, StandardCharsets.UTF_8);
        if (s.indexOf('\uFFFD') < 0) return s;
        ByteBuffer slice = b.slice(at, n);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(slice).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("the " + what + " of a KV command is not valid UTF-8");
        }
    }

    /** The length of {@code s} in UTF-8, or -1 - i if the char at i is an unpaired surrogate (not encodable). */
    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n++;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                return -1 - i;
            } else n += 3;
        }
        return n;
    }
}
