package io.raftkv.kv;

/**
 * A client's request to a node. {@code seq} numbers a client's writes within its session; reads carry none.
 * A REGISTER carries in {@code clientId} the nonce of the registration (a random non-zero number, the same
 * on every retry of it), so that a retry whose first try was applied gets that session back; 0 for none.
 */
public record KvRequest(Kind kind, long clientId, long seq, String key, String value) {
    /** What a request asks for. */
    public enum Kind { GET, PUT, REPLACE, REGISTER }
}
