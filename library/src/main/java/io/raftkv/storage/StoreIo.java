package io.raftkv.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Set;

/**
 * The operations by which a {@link FileStorage} changes what its directory holds: opening a file to write
 * (and so writing, truncating and forcing it), renaming, deleting, and forcing the directory. Reads go to
 * the file system directly. Production uses {@link #REAL}; tests put a layer here that records every
 * change and rebuilds what a disk may hold after a power cut at any point of them.
 */
interface StoreIo {

    /** Opens {@code file} for reading and writing, with {@code extra} options (create, truncate). */
    FileChannel open(Path file, Set<? extends OpenOption> options) throws IOException;

    /** Renames {@code from} to {@code to} atomically, replacing {@code to}. */
    void move(Path from, Path to) throws IOException;

    /** Deletes {@code file} if it exists. */
    void deleteIfExists(Path file) throws IOException;

    /** Makes the directory's entries (files created, renamed, deleted) durable. */
    void syncDirectory(Path directory) throws IOException;

    /** The file system itself. */
    StoreIo REAL = new StoreIo() {
        @Override
        public FileChannel open(Path file, Set<? extends OpenOption> options) throws IOException {
            return FileChannel.open(file, options);
        }

        @Override
        public void move(Path from, Path to) throws IOException {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        }

        @Override
        public void deleteIfExists(Path file) throws IOException {
            Files.deleteIfExists(file);
        }

        @Override
        public void syncDirectory(Path directory) throws IOException {
            try (FileChannel ch = FileChannel.open(directory, StandardOpenOption.READ)) {
                ch.force(true);
            }
        }
    };
}
