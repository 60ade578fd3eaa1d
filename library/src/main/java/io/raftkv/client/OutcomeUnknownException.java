package io.raftkv.client;

/**
 * No node confirmed the request before the client's deadline. A write may or may not have been
 * applied, now or later; it will not be applied twice.
 */
public final class OutcomeUnknownException extends ClientException {
    public OutcomeUnknownException(String message) {
        super(message);
    }
}
