package io.raftkv.storage;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static io.raftkv.storage.StoreFiles.closeQuietly;
import static io.raftkv.storage.StoreFiles.ioFailure;
import static io.raftkv.storage.StoreFiles.tempOf;

/**
 * A store's directory as a store: its marker ({@link LogFormat#MARKER_NAME}), which says that the directory is a
 * store, of which format and of which cluster; the lock on the marker, which keeps the directory to one open store
 * in any process; and what the directory holds when the store opens. A directory that is missing or empty becomes a
 * store; one that holds anything else is refused.
 */
final class StoreDirectory {
    /** FileStorage's logger: the store's messages keep one name whichever part logs them. */
    private static final System.Logger LOG = System.getLogger(FileStorage.class.getName());

    /** What the directory holds: the numbers of its segments and the indexes of its snapshots, sorted; its marker. */
    record Listing(List<Long> segments, List<Long> snapshots, LogFormat.Marker marker) {}

    private final StoreFiles files;
    private final Path dir;
    /** The cluster this node was told it belongs to, or null. */
    private final String clusterId;
    /** Held on the marker while the store is open: one open store per directory, in any process. */
    private FileChannel lockChannel;

    StoreDirectory(StoreFiles files, String clusterId) {
        this.files = files;
        this.dir = files.dir();
        this.clusterId = clusterId;
    }

    /** Makes the directory a store if it is new or empty, and deletes temporary files a crash left. */
    Listing prepare() {
        List<String> names = new ArrayList<>();
        try {
            if (!Files.exists(dir)) {
                Files.createDirectories(dir);
                if (dir.getParent() != null) files.syncDirectory(dir.getParent());
            } else if (!Files.isDirectory(dir)) {
                throw new NotAStoreException(dir, "it is a file, not a directory");
            }
            try (Stream<Path> list = Files.list(dir)) {
                list.forEach(p -> names.add(p.getFileName().toString()));
            }
        } catch (IOException e) {
            throw ioFailure("cannot list", dir, e);
        }
        names.sort(null);
        Path marker = dir.resolve(LogFormat.MARKER_NAME);
        Path markerTemp = tempOf(marker);
        LogFormat.Marker found = new LogFormat.Marker(LogFormat.FORMAT_VERSION, clusterId);
        if (names.contains(LogFormat.MARKER_NAME)) {
            try {
                found = LogFormat.checkMarker(marker, ByteBuffer.wrap(Files.readAllBytes(marker)));
            } catch (IOException e) {
                throw ioFailure("cannot read", marker, e);
            }
        } else {
            List<String> others = names.stream().filter(n -> !n.equals(markerTemp.getFileName().toString())).toList();
            if (!others.isEmpty()) {
                throw new NotAStoreException(dir, "it has no " + LogFormat.MARKER_NAME + " marker and is not empty: "
                        + "it holds " + others.size() + (others.size() == 1 ? " entry (" : " entries (")
                        + String.join(", ", others.subList(0, Math.min(5, others.size())))
                        + (others.size() > 5 ? ", ..." : "") + ")");
            }
            closeQuietly(writeMarker(clusterId)); // a new store: lock() takes the lock below
        }
        if (found.clusterId() != null && clusterId != null && !found.clusterId().equals(clusterId)) {
            throw new StorageException(dir + " holds the data of cluster '" + found.clusterId() + "', not of cluster '"
                    + clusterId + "' as this node was told: refusing to start on another cluster's data");
        }
        List<Long> segments = new ArrayList<>();
        List<Long> snapshots = new ArrayList<>();
        for (String name : names) {
            long n = LogFormat.segmentNumber(name);
            long snap = LogFormat.snapshotIndex(name);
            if (n > 0) {
                segments.add(n);
            } else if (snap > 0) {
                snapshots.add(snap);
            } else if (LogFormat.isSegmentTemp(name) || LogFormat.isSnapshotTemp(name)) {
                // A segment never renamed into place held only a write that never returned; a snapshot
                // never renamed into place was never installed.
                Path temp = dir.resolve(name);
                try {
                    files.deleteIfExists(temp);
                } catch (IOException e) {
                    throw ioFailure("cannot delete", temp, e);
                }
            }
        }
        return new Listing(segments, snapshots, found);
    }

    /** Two open stores on one directory would each append to the log as if alone: refuse the second. */
    void lock() {
        Path marker = dir.resolve(LogFormat.MARKER_NAME);
        lockChannel = files.open(marker, StandardOpenOption.READ);
        FileLock lock;
        try {
            lock = lockChannel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        } catch (IOException e) {
            throw ioFailure("cannot lock", marker, e);
        }
        if (lock == null) {
            release();
            throw new StorageException("the store in " + dir + " is already open, in this process or another; "
                    + "close it first");
        }
    }

    /** Lets another store open the directory; releasing twice does nothing. */
    void release() {
        if (lockChannel != null) {
            closeQuietly(lockChannel); // closing the channel releases its lock
            lockChannel = null;
        }
    }

    /**
     * The marker's half of bringing a store of an older format up to this one: once its log goes on in a segment
     * of this format, the marker says this format, so that an older build refuses the store plainly instead of
     * misreading it. A store that recorded no cluster adopts the one this node was told. {@code found} is the
     * marker {@link #prepare} read.
     */
    void upgradeMarker(LogFormat.Marker found) {
        boolean adopt = found.clusterId() == null && clusterId != null;
        if (found.version() < LogFormat.FORMAT_VERSION || adopt) {
            FileChannel locked = writeMarker(found.clusterId() != null ? found.clusterId() : clusterId);
            release();
            lockChannel = locked;
            if (found.version() < LogFormat.FORMAT_VERSION) {
                LOG.log(Level.INFO, () -> dir + ": store format " + found.version() + " upgraded to " + LogFormat.FORMAT_VERSION);
            }
        }
    }

    /**
     * Writes a marker of this build's format: in full, forced and then renamed into place, so that it is there
     * whole or not at all. Returns the new marker's channel, locked: the store's lock is a lock on the marker
     * file, so an open store rewriting its marker takes this channel as its lock, and at every moment whichever
     * file bears the marker's name is locked by it.
     */
    private FileChannel writeMarker(String clusterId) {
        return files.writeWhole(dir.resolve(LogFormat.MARKER_NAME), LogFormat.marker(clusterId), true);
    }
}
