package io.raftkv.kv;

/**
 * A client's request to a node. {@code seq} numbers a client's writes within its session; reads carry none.
 * A REGISTER carries in {@code clientId} the nonce of the registration (a random non-zero number, the same
 * on every retry of it), so that a retry whose first try was applied gets that session back; 0 for none.
 * A DELETE carries no value; a CAS carries the new value in {@code value} and the value it expects in
 * {@code expected} (null: it expects the key to be absent). No other kind carries {@code expected}.
 */
public record KvRequest(Kind kind, long clientId, long seq, String key, String value, String expected) {
    /**
     * What a request asks for. GET reads a key; PUT sets it; REPLACE sets it only if it exists; DELETE
     * removes it; CAS sets it only if it holds the expected value (or, expecting none, only if it is absent);
     * REGISTER opens a client session.
     */
    public enum Kind { GET, PUT, REPLACE, REGISTER, DELETE, CAS }

    /** A request of any kind but CAS: no expected value. */
    public KvRequest(Kind kind, long clientId, long seq, String key, String value) {
        this(kind, clientId, seq, key, value, null);
    }
}
