package io.raftkv.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * How a {@link FileStorage} changes the files of its directory: {@link StoreIo}'s operations, with an I/O error
 * turned into a {@link StorageException} that names the file, forces made only if the store syncs (and counted),
 * and a file written whole (a temporary, forced, renamed into place, the directory forced). Every part of the
 * store writes through here.
 */
final class StoreFiles {
    private static final boolean WINDOWS = System.getProperty("os.name", "").toLowerCase(Locale.ROOT)
            .startsWith("windows");

    private final Path dir;
    private final boolean sync;
    private final StoreIo io;
    /** How many times a log file was forced to disk; for tests of group commit. */
    long forces;

    StoreFiles(Path dir, boolean sync, StoreIo io) {
        this.dir = dir;
        this.sync = sync;
        this.io = io;
    }

    /** The store's directory. */
    Path dir() {
        return dir;
    }

    /** The file {@code name} in the store's directory. */
    Path resolve(String name) {
        return dir.resolve(name);
    }

    /** Whether writes are forced to disk (see {@link FileStorage.Options#sync()}). */
    boolean sync() {
        return sync;
    }

    /** How the store changes its files. */
    StoreIo io() {
        return io;
    }

    FileChannel open(Path file, StandardOpenOption... extra) {
        try {
            Set<StandardOpenOption> opts = EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE);
            opts.addAll(List.of(extra));
            return io.open(file, opts);
        } catch (IOException e) {
            throw ioFailure("cannot open", file, e);
        }
    }

    /** Writes all of {@code b} at {@code position}; returns the number of bytes written. */
    static int write(Path file, FileChannel ch, long position, ByteBuffer b) {
        int n = b.remaining();
        try {
            while (b.hasRemaining()) position += ch.write(b, position);
        } catch (IOException e) {
            throw ioFailure("cannot write", file, e);
        }
        return n;
    }

    void force(Path file, FileChannel ch) {
        if (!sync) return;
        try {
            ch.force(false);
            forces++;
        } catch (IOException e) {
            throw ioFailure("cannot force to disk", file, e);
        }
    }

    void move(Path from, Path to) {
        try {
            io.move(from, to);
        } catch (IOException e) {
            throw ioFailure("cannot rename " + from.getFileName() + " to", to, e);
        }
    }

    /** Deletes {@code file} if it exists. */
    void deleteIfExists(Path file) throws IOException {
        io.deleteIfExists(file);
    }

    /** Makes the directory's entries (files created, renamed, deleted) durable. */
    void syncDirectory(Path directory) {
        // Windows cannot open a directory as a file; its file system commits renames with their metadata.
        if (WINDOWS || !sync) return;
        try {
            io.syncDirectory(directory);
        } catch (IOException e) {
            throw ioFailure("cannot sync directory", directory, e);
        }
    }

    /**
     * Writes {@code contents} as {@code file}'s temporary, forces it, renames it into place and forces the
     * directory, so that the file is there whole or not at all; returns it open (locked first if {@code lock}).
     */
    FileChannel writeWhole(Path file, ByteBuffer contents, boolean lock) {
        Path temp = tempOf(file);
        FileChannel ch = open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING);
        try {
            if (lock && ch.tryLock() == null) throw new StorageException("cannot lock " + temp + ": another process holds it");
            write(temp, ch, 0, contents);
            force(temp, ch);
            move(temp, file);
            syncDirectory(dir);
            return ch;
        } catch (IOException e) {
            closeQuietly(ch);
            throw ioFailure("cannot lock", temp, e);
        } catch (RuntimeException e) {
            closeQuietly(ch);
            throw e;
        }
    }

    static Path tempOf(Path file) {
        return file.resolveSibling(file.getFileName() + LogFormat.TEMP_SUFFIX);
    }

    static void closeQuietly(FileChannel ch) {
        try {
            ch.close();
        } catch (IOException ignored) {
            // Already failing; the first error is the one to report.
        }
    }

    static StorageException ioFailure(String what, Path file, IOException e) {
        return new StorageException(what + " " + file + ": " + e, e);
    }
}
