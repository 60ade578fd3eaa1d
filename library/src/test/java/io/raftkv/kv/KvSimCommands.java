package io.raftkv.kv;

/** The key-value commands and answers as a simulation outside this package sends and reads them. */
public final class KvSimCommands {
    private KvSimCommands() {}

    public static byte[] register(long nonce) {
        return KvCommand.register(nonce).encode();
    }

    public static byte[] put(long session, long seq, String key, String value) {
        return new KvCommand(KvCommand.Op.PUT, session, seq, key, value).encode();
    }

    public static byte[] replace(long session, long seq, String key, String value) {
        return new KvCommand(KvCommand.Op.REPLACE, session, seq, key, value).encode();
    }

    public static byte[] delete(long session, long seq, String key) {
        return new KvCommand(KvCommand.Op.DELETE, session, seq, key, "").encode();
    }

    /** A CAS of {@code key} from {@code expected} (null: absent) to {@code value}. */
    public static byte[] cas(long session, long seq, String key, String expected, String value) {
        return new KvCommand(KvCommand.Op.CAS, session, seq, key, value, expected).encode();
    }

    /** The session a registration opened, or 0 if {@code result} is not a registration's answer. */
    public static long registered(Object result) {
        return result instanceof KvResult.Registered r ? r.clientId() : 0;
    }

    /** Whether the session was evicted, so the outcome of the write is unknown. */
    public static boolean expired(Object result) {
        return result instanceof KvResult.SessionExpired;
    }

    /** The lincheck output of a write's answer: "ok" for a PUT, "true"/"false" for a REPLACE, DELETE or CAS; null for any other. */
    public static String output(Object result) {
        if (result instanceof KvResult.Written) return "ok";
        if (result instanceof KvResult.Conditional c) return Boolean.toString(c.applied());
        return null;
    }
}
