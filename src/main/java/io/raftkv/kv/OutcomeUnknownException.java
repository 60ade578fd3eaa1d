package io.raftkv.kv;

/**
 * No node confirmed the request before the client's deadline. A write may or may not have been
 * applied, now or later; it will not be applied twice.
 */
public final class OutcomeUnknownException extends KvException {
    public OutcomeUnknownException(String message) {
        super(message);
    }
}
