package io.raftkv.kv;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** A write as it is stored in the log: who sent it, its sequence number in that client's session, and what it does. */
record KvCommand(Op op, long clientId, long seq, String key, String value) {
    enum Op { PUT, REPLACE, REGISTER }

    private static final byte VERSION = 1;

    /** Opens a session; the session's id is the index of this entry in the log (thesis §6.3). */
    static KvCommand register() {
        return new KvCommand(Op.REGISTER, 0, 0, "", "");
    }

    byte[] encode() {
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        byte[] v = value.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(2 + 8 + 8 + 4 + k.length + 4 + v.length);
        b.put(VERSION).put((byte) op.ordinal()).putLong(clientId).putLong(seq);
        b.putInt(k.length).put(k).putInt(v.length).put(v);
        return b.array();
    }

    static KvCommand decode(byte[] bytes) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        byte version = b.get();
        if (version != VERSION) throw new IllegalArgumentException("unknown KV command version " + version);
        int op = b.get();
        if (op < 0 || op >= Op.values().length) throw new IllegalArgumentException("unknown KV command op " + op);
        long clientId = b.getLong();
        long seq = b.getLong();
        String key = string(b);
        String value = string(b);
        return new KvCommand(Op.values()[op], clientId, seq, key, value);
    }

    private static String string(ByteBuffer b) {
        int n = b.getInt();
        if (n < 0 || n > b.remaining()) throw new IllegalArgumentException("bad string length " + n + " in KV command");
        String s = new String(bytes(b, n), StandardCharsets.UTF_8);
        return s;
    }

    private static byte[] bytes(ByteBuffer b, int n) {
        byte[] out = new byte[n];
        b.get(out);
        return out;
    }

    static int utf8Length(String s) {
        int n = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) n++;
            else if (c < 0x800) n += 2;
            else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                n += 4;
                i++;
            } else n += 3;
        }
        return n;
    }
}
