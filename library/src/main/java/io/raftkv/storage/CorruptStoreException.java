package io.raftkv.storage;

import java.nio.file.Path;

/**
 * A store holds damage that recovery must not repair by guessing: a bad record with valid data after
 * it, a missing segment, a bad file header. The node must not start on it.
 */
public class CorruptStoreException extends StorageException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long offset;

    public CorruptStoreException(Path file, long offset, String problem) {
        super(describe(file, offset, problem));
        this.file = file;
        this.offset = offset;
    }

    private static String describe(Path file, long offset, String problem) {
        return offset < 0 ? "corrupt store: " + file + ": " + problem
                : "corrupt store: " + file + " at byte offset " + offset + ": " + problem;
    }

    /** The damaged or missing file. */
    public Path file() {
        return file;
    }

    /** Where in {@link #file()} the damage starts, or -1 if it concerns the file as a whole (a missing segment). */
    public long offset() {
        return offset;
    }
}
