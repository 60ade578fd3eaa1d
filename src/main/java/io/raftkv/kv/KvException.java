package io.raftkv.kv;

/** Something a {@link KvClient} request could not do. */
public class KvException extends RuntimeException {
    public KvException(String message) {
        super(message);
    }
}
