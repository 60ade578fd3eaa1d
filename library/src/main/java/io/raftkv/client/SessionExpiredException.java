package io.raftkv.client;

/**
 * The cluster evicted this client's session (it keeps a bounded number) while a write was tried more
 * than once, so an earlier try may or may not have been applied, and a new session could apply it
 * twice. The client opens a new session for its next write (a write refused on its only try is sent
 * again under a new session without this exception).
 */
public final class SessionExpiredException extends ClientException {
    public SessionExpiredException(String message) {
        super(message);
    }
}
