package io.raftkv.kv;

/**
 * The cluster evicted this client's session (it keeps a bounded number), so it can no longer apply
 * this client's writes at most once. Open a new client.
 */
public final class SessionExpiredException extends KvException {
    public SessionExpiredException(String message) {
        super(message);
    }
}
