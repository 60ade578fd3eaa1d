package io.raftkv.storage;

import io.raftkv.raft.SnapshotMeta;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.List;

/**
 * A store's snapshot: the newest snapshot file, checked whole at open; readers of it and writers of the next one;
 * and the installation of a finished one in its place, after which the segments it covers and the snapshot it
 * replaces are deleted. What a snapshot file holds is {@link SnapshotFile}'s.
 */
final class StoreSnapshot {
    /** FileStorage's logger: the store's messages keep one name whichever part logs them. */
    private static final System.Logger LOG = System.getLogger(FileStorage.class.getName());

    private final StoreFiles files;
    /** The newest snapshot, its file and where its data lie; null if none. */
    private SnapshotMeta meta;
    private Path file;
    private SnapshotFile.Layout layout;
    /** How many writers were made: each one's temporary file has a name of its own. */
    private long writers;

    StoreSnapshot(StoreFiles files) {
        this.files = files;
    }

    /**
     * Takes the newest of the snapshots found at open (their indexes, sorted), after checking all of it.
     *
     * @throws CorruptStoreException if it is damaged
     */
    void open(List<Long> found) {
        if (!found.isEmpty()) {
            // Only the newest counts: older ones are left by a crash before their deletion. A snapshot is
            // renamed into place only once it is whole and on disk, so damage to it is not a crash's doing.
            long index = found.get(found.size() - 1);
            Path newest = files.resolve(LogFormat.snapshotName(index));
            layout = SnapshotFile.verify(newest, index);
            meta = layout.meta();
            file = newest;
        }
    }

    /** Deletes those of the snapshots found at open (their indexes) that are older than this one. */
    void deleteOlder(List<Long> found) {
        for (long older : found) {
            if (older < meta.index()) deleteQuietly(files.resolve(LogFormat.snapshotName(older)));
        }
    }

    /** The snapshot, or null if the store holds none. */
    SnapshotMeta meta() {
        return meta;
    }

    /** The snapshot's file, or null if the store holds none. */
    Path file() {
        return file;
    }

    /** The index of the snapshot's last entry, 0 if the store holds none. */
    long index() {
        return meta == null ? 0 : meta.index();
    }

    /** A reader of the snapshot, with a channel of its own on the file. */
    SnapshotReader reader() {
        if (meta == null) throw new IllegalStateException("this store holds no snapshot");
        return new SnapshotFile.Reader(file, layout);
    }

    /** A writer of a new snapshot of {@code store}, to a temporary file in its directory. */
    SnapshotFile.Writer newWriter(FileStorage store, SnapshotMeta meta) {
        return new SnapshotFile.Writer(store, meta, files.resolve(LogFormat.snapshotTempName(meta.index(), ++writers)));
    }

    /**
     * Installs the finished snapshot {@code w} in place of this one. In order: the snapshot's file is completed and
     * forced; a commit-only write not yet forced is forced; if the log does not hold the snapshot's last entry
     * ({@code holds} false), the log rolls over to a new segment that opens with a reset to the snapshot (recovery
     * ignores and cuts a reset whose snapshot is not there); the file is renamed into place and the directory
     * forced, which is the moment the snapshot is installed; then segments it covers and the previous snapshot are
     * deleted. If a step fails, what came before it is undone where it can be, and {@code log} refuses further writes
     * where the disk may no longer be what the store believes.
     */
    void install(SnapshotFile.Writer w, boolean holds, LogWriter log, SegmentSet segments) {
        SnapshotMeta installed = w.meta();
        Path target = files.resolve(LogFormat.snapshotName(installed.index()));
        try {
            w.finish(files.sync());
        } catch (StorageException e) {
            w.close();
            throw e;
        }
        boolean rolled = false;
        try {
            log.forceUnforced();
            if (!holds) {
                log.startSegmentWithReset(installed);
                rolled = true;
            }
            files.move(w.temp, target);
        } catch (StorageException e) {
            if (rolled) log.undoReset(e);
            w.close();
            throw e;
        }
        w.markInstalled();
        try {
            files.syncDirectory(files.dir());
        } catch (StorageException e) {
            // The rename may or may not reach the disk: take it back, so the store is what it was (either way,
            // recovery makes a consistent store of what the disk holds), and refuse further writes.
            log.fail(e);
            try {
                files.move(target, w.temp);
                w.close();
            } catch (RuntimeException undo) {
                e.addSuppressed(undo);
            }
            if (rolled) log.undoReset(e);
            throw e;
        }
        // Installed.
        Path previous = file;
        meta = installed;
        file = target;
        layout = w.layout();
        segments.compact(meta);
        if (previous != null) deleteQuietly(previous);
    }

    private void deleteQuietly(Path file) {
        try {
            files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.log(Level.WARNING, () -> "cannot delete " + file + ", an older snapshot: " + e
                    + "; it goes at the next open");
        }
    }
}
