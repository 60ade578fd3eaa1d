package io.raftkv.kv;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** A write as it is stored in the log: who sent it, its sequence number in that client's session, and what it does. */
record KvCommand(Op op, long clientId, long seq, String key, String value) {
    enum Op { PUT, REPLACE, REGISTER }

    private static final byte VERSION = 1;
    private static final Op[] OPS = Op.values(); // values() clones its array on every call

    /** Opens a session; the session's id is the index of this entry in the log (thesis §6.3). */
    static KvCommand register() {
        return new KvCommand(Op.REGISTER, 0, 0, "", "");
    }

    byte[] encode() {
        // ASCII strings (the common case) are written straight into the one array; others go
        // through the JDK's encoder first.
        byte[] k = isAscii(key) ? null : key.getBytes(StandardCharsets.UTF_8);
        byte[] v = isAscii(value) ? null : value.getBytes(StandardCharsets.UTF_8);
        int kLength = k == null ? key.length() : k.length;
        int vLength = v == null ? value.length() : v.length;
        ByteBuffer b = ByteBuffer.allocate(2 + 8 + 8 + 4 + kLength + 4 + vLength);
        b.put(VERSION).put((byte) op.ordinal()).putLong(clientId).putLong(seq);
        b.putInt(kLength);
        put(b, key, k);
        b.putInt(vLength);
        put(b, value, v);
        return b.array();
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) >= 0x80) return false;
        }
        return true;
    }

    private static void put(ByteBuffer b, String s, byte[] encoded) {
        if (encoded != null) {
            b.put(encoded);
            return;
        }
        byte[] out = b.array();
        int at = b.position();
        for (int i = 0; i < s.length(); i++) out[at + i] = (byte) s.charAt(i);
        b.position(at + s.length());
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

        @Override
        public String toString() {
            return new String(bytes, offset, length, StandardCharsets.UTF_8);
        }

        /** Writes the length (int32) and the UTF-8 bytes, the layout {@link #utf8(ByteBuffer, String)} reads. */
        void writeTo(java.io.DataOutputStream out) throws java.io.IOException {
            out.writeInt(length);
            out.write(bytes, offset, length);
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
        boolean ascii = n >= 0 && n <= b.limit() - at;
        for (int i = 0; ascii && i < n; i++) ascii = b.get(at + i) >= 0;
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
