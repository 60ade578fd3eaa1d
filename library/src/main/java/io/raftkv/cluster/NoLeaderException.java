package io.raftkv.cluster;

/** No leader was elected (and recognised by a majority) within the time allowed. */
public final class NoLeaderException extends RuntimeException {
    public NoLeaderException(String message) {
        super(message);
    }
}
