package io.raftkv.storage;

import java.nio.file.Path;

/** A directory given as a store is neither empty nor a raftkv store; it is left untouched. */
public class NotAStoreException extends StorageException {
    private static final long serialVersionUID = 1L;

    private final transient Path directory;

    public NotAStoreException(Path directory, String found) {
        super(directory + " is not a raftkv store: " + found);
        this.directory = directory;
    }

    /** The directory that was refused. */
    public Path directory() {
        return directory;
    }
}
