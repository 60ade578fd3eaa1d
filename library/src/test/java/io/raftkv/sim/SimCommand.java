package io.raftkv.sim;

import io.raftkv.lincheck.OpKind;

import java.nio.charset.StandardCharsets;

/** A simulated client's write as it travels through the log: who sent it, its sequence number, and what it does. */
record SimCommand(int clientId, long seq, OpKind kind, String key, String value) {

    byte[] encode() {
        return (clientId + "|" + seq + "|" + kind + "|" + key + "|" + value).getBytes(StandardCharsets.UTF_8);
    }

    static SimCommand decode(byte[] bytes) {
        String[] p = new String(bytes, StandardCharsets.UTF_8).split("\\|", 5);
        return new SimCommand(Integer.parseInt(p[0]), Long.parseLong(p[1]), OpKind.valueOf(p[2]), p[3], p[4]);
    }
}
