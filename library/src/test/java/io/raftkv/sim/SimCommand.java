package io.raftkv.sim;

import io.raftkv.lincheck.OpKind;

import java.nio.charset.StandardCharsets;

/**
 * A simulated client's write as it travels through the log: who sent it, its sequence number, and what it does;
 * a CAS also what it expects (null: the key absent). A DELETE's value is null.
 */
record SimCommand(int clientId, long seq, OpKind kind, String key, String value, String expected) {

    SimCommand(int clientId, long seq, OpKind kind, String key, String value) {
        this(clientId, seq, kind, key, value, null);
    }

    /**
     * {@code id|seq|kind|key|value}, and for a CAS {@code |} and its expected value after an "=" (nothing if it
     * expects the key absent): a PUT or a REPLACE has the bytes it had before DELETE and CAS, so a seed runs as it
     * did. Simulated values never hold a "|".
     */
    byte[] encode() {
        String s = clientId + "|" + seq + "|" + kind + "|" + key + "|" + value;
        if (kind == OpKind.CAS) s += "|" + (expected == null ? "" : "=" + expected);
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static SimCommand decode(byte[] bytes) {
        String[] p = new String(bytes, StandardCharsets.UTF_8).split("\\|", 5);
        OpKind kind = OpKind.valueOf(p[2]);
        return switch (kind) {
            case CAS -> {
                int bar = p[4].indexOf('|');
                String e = p[4].substring(bar + 1);
                yield new SimCommand(Integer.parseInt(p[0]), Long.parseLong(p[1]), kind, p[3], p[4].substring(0, bar),
                        e.isEmpty() ? null : e.substring(1));
            }
            case DELETE -> new SimCommand(Integer.parseInt(p[0]), Long.parseLong(p[1]), kind, p[3], null);
            default -> new SimCommand(Integer.parseInt(p[0]), Long.parseLong(p[1]), kind, p[3], p[4]);
        };
    }
}
