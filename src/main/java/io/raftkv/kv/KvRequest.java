package io.raftkv.kv;

/** A client's request to a node. {@code seq} numbers a client's writes within its session; reads carry none. */
public record KvRequest(Kind kind, long clientId, long seq, String key, String value) {
    /** What a request asks for. */
    public enum Kind { GET, PUT, REPLACE, REGISTER }
}
