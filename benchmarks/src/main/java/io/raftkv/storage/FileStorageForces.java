package io.raftkv.storage;

/** Reads how many times a {@link FileStorage} forced its log to disk, for benchmarks of group commit. */
public final class FileStorageForces {
    private FileStorageForces() {}

    /** The forces so far; taken under the store's lock, so it waits for a write in progress. */
    public static long of(FileStorage store) {
        synchronized (store) {
            return store.forces;
        }
    }
}
