package io.raftkv.kv;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.BufferUnderflowException;
import java.nio.ByteOrder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** A write as it is stored in the log: who sent it, its sequence number in that client's session, and what it does. */
record KvCommand(Op op, long clientId, long seq, String key, String value) {
    enum Op { PUT, REPLACE, REGISTER }

    private static final byte VERSION = 1;
    private static final Op[] OPS = Op.values(); // values() clones its array on every call

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
        return encode(op, clientId, seq, key, value);
    }

    /** The command's bytes. */
    static byte[] encode(Op op, long clientId, long seq, String key, String value) {
        return encode(op, clientId, seq, key.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8));
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
        return encode(op, clientId, seq, k, v);
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

        /** The command's bytes, its session and sequence number still to be set ({@link #setSession}). */
        byte[] encode(Op op, String key, String value, KvLimits limits) {
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

    private static byte[] encode(Op op, long clientId, long seq, byte[] k, byte[] v) {
        byte[] out = new byte[HEADER + k.length + 4 + v.length];
        out[0] = VERSION;
        out[1] = (byte) op.ordinal();
        LONG.set(out, 2, clientId);
        LONG.set(out, 10, seq);
        INT.set(out, 18, k.length);
        System.arraycopy(k, 0, out, HEADER, k.length);
        int at = HEADER + k.length;
        INT.set(out, at, v.length);
        System.arraycopy(v, 0, out, at + 4, v.length);
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

    /** The op of an encoded PUT or REPLACE, or null if {@code command} is not laid out as one. */
    static Op writeOp(byte[] command) {
        if (command.length < HEADER + 4 || command[0] != VERSION) return null;
        int op = command[1];
        return op == Op.PUT.ordinal() ? Op.PUT : op == Op.REPLACE.ordinal() ? Op.REPLACE : null;
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
     * {@code seq}, in valid UTF-8, with a key and a value within {@code limits}; throws
     * {@link IllegalArgumentException} saying what is wrong otherwise.
     */
    static void check(byte[] command, Op op, long clientId, long seq, KvLimits limits) {
        int kLen = asciiKeyLength(command);
        if (kLen < 0) {
            // Not plain ASCII, or not one command: the full parse (which refuses the latter), on the side path.
            Parsed p = new Parsed();
            p.parse(command);
            kLen = p.keyLength;
        }
        Op got = OPS[command[1]];
        long gotClient = (long) LONG.get(command, 2);
        long gotSeq = (long) LONG.get(command, 10);
        if (got != op || gotClient != clientId || gotSeq != seq) {
            throw new IllegalArgumentException("the encoded command (" + got + ", session " + gotClient + ", seq " + gotSeq
                    + ") does not match the request (" + op + ", session " + clientId + ", seq " + seq + ")");
        }
        limits.checkKeyBytes(kLen);
        limits.checkValueBytes(command.length - HEADER - kLen - 4);
    }

    /**
     * The key's length if {@code b} is exactly one command whose key and value are ASCII (the common
     * case, checked without decoding anything); -1 otherwise, when only the strict decoder can say.
     */
    private static int asciiKeyLength(byte[] b) {
        int n = b.length;
        if (n < HEADER + 4 || b[0] != VERSION || b[1] < 0 || b[1] >= OPS.length) return -1;
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

        void parse(byte[] b) {
            int kLen = asciiKeyLength(b);
            if (kLen >= 0) {
                int vAt = HEADER + kLen + 4;
                set(b, OPS[b[1]], (long) LONG.get(b, 2), (long) LONG.get(b, 10), HEADER, kLen, vAt, b.length - vAt);
                return;
            }
            // Not plain ASCII, or not well formed: the strict decoder says which (and throws if it is not one).
            View v = decodeView(b);
            set(b, v.op(), v.clientId(), v.seq(), HEADER, (int) INT.get(b, 18), v.value().offset, v.value().length);
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
    record View(Op op, long clientId, long seq, String key, Utf8 value) {}

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
        return new KvCommand(v.op, v.clientId, v.seq, v.key, v.value.toString());
    }

    /** As {@link #decode}, with the same checks, leaving the value in {@code bytes}. */
    static View decodeView(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        try {
            byte version = b.get();
            if (version != VERSION) throw new IllegalArgumentException("unknown KV command version " + version);
            int op = b.get();
            if (op < 0 || op >= OPS.length) throw new IllegalArgumentException("unknown KV command op " + op);
            long clientId = b.getLong();
            long seq = b.getLong();
            String key = string(b, "key");
            Utf8 value = utf8(b, "value");
            if (b.hasRemaining()) {
                throw new IllegalArgumentException(b.remaining() + " unexpected bytes after the value of a KV command");
            }
            return new View(OPS[op], clientId, seq, key, value);
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
