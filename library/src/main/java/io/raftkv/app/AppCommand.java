package io.raftkv.app;

/**
 * How an application's log entries look, all integers big-endian:
 * <pre>
 * REGISTER: 'R' | nonce int64                          (opens a session; its log index is the session's id)
 * COMMAND:  'C' | session int64 | seq int64 | payload   (the command, in its codec's bytes)
 * </pre>
 */
final class AppCommand {
    static final byte REGISTER = 'R';
    static final byte COMMAND = 'C';
    static final int REGISTER_BYTES = 9;
    static final int HEADER_BYTES = 17;

    private AppCommand() {}

    static byte[] register(long nonce) {
        byte[] b = new byte[REGISTER_BYTES];
        b[0] = REGISTER;
        putLong(b, 1, nonce);
        return b;
    }

    static byte[] command(long session, long seq, byte[] payload) {
        byte[] b = new byte[HEADER_BYTES + payload.length];
        b[0] = COMMAND;
        putLong(b, 1, session);
        putLong(b, 9, seq);
        System.arraycopy(payload, 0, b, HEADER_BYTES, payload.length);
        return b;
    }

    static void putLong(byte[] b, int at, long v) {
        for (int i = 7; i >= 0; i--) {
            b[at + i] = (byte) v;
            v >>>= 8;
        }
    }

    static long getLong(byte[] b, int at) {
        long v = 0;
        for (int i = 0; i < 8; i++) v = (v << 8) | (b[at + i] & 0xFF);
        return v;
    }
}
