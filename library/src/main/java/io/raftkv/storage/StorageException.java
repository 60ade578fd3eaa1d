package io.raftkv.storage;

/** A storage operation failed: an I/O error on a named file, or a store that cannot be used. */
public class StorageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
