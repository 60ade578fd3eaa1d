package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;
import io.raftkv.raft.SnapshotMeta;

import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.List;

/**
 * Brings a store back at open from what its directory holds: makes the directory a store, or checks that it is one,
 * and locks it; checks the newest snapshot whole; checks the segments against the record of the newest and replays
 * them ({@link LogReplay}), cutting off a write that a crash tore and refusing any other damage, and noting where
 * each entry's record lies ({@link LogIndex}); drops a log that the snapshot overrides; deletes what a crash left
 * behind (segments the snapshot covers, older snapshots); and brings a store of an older format up to this one. The
 * store comes back exactly as some call left it.
 */
final class StoreRecovery {
    /** FileStorage's logger: the store's messages keep one name whichever part logs them. */
    private static final System.Logger LOG = System.getLogger(FileStorage.class.getName());

    /**
     * The parts of the store recovery opened, the log after the snapshot as it read it, and the index of that log
     * (each entry's term and where its record lies).
     */
    record Recovered(StoreDirectory directory, StoreSnapshot snapshot, SegmentSet segments, LogWriter writer,
                     List<Entry> entries, LogIndex index) {}

    private StoreRecovery() {}

    /**
     * Opens the store that {@code files} change, creating it if its directory is missing or empty.
     *
     * @throws NotAStoreException    if the directory is not empty and holds no store
     * @throws CorruptStoreException if the store is damaged beyond a write torn by a crash
     * @throws StorageException      on an I/O error, or if the store is open already or holds another cluster's data
     */
    static Recovered recover(StoreFiles files, FileStorage.Options options) {
        StoreDirectory directory = new StoreDirectory(files, options.clusterId());
        try {
            return recover(files, options, directory);
        } catch (RuntimeException e) {
            directory.release();
            throw e;
        }
    }

    private static Recovered recover(StoreFiles files, FileStorage.Options options, StoreDirectory directory) {
        StoreDirectory.Listing listing = directory.prepare();
        directory.lock();
        StoreSnapshot snapshot = new StoreSnapshot(files);
        snapshot.open(listing.snapshots());
        SnapshotMeta meta = snapshot.meta();
        SegmentSet segments = new SegmentSet(files);
        long first = segments.check(listing.segments(), meta);
        if (first == 0) {
            LogWriter writer = new LogWriter(segments, options.segmentBytes(), HardState.INITIAL);
            writer.startSegment();
            return new Recovered(directory, snapshot, segments, writer, List.of(), new LogIndex());
        }
        long found = segments.current();
        LogReplay.Result r = LogReplay.replay(files.dir(), first, found, meta);
        LogWriter writer = new LogWriter(segments, options.segmentBytes(), r.hardState());
        segments.open(r.segmentMaxIndex(), r.cut());
        try {
            List<Entry> entries = logAfterSnapshot(r, meta, files.resolve(LogFormat.segmentName(first)));
            LogIndex index = r.index();
            if (entries != null) index.dropFirst(r.entries().size() - entries.size()); // those the snapshot covers
            if (entries == null) {
                // The log does not hold the snapshot's last entry: it is a log the snapshot overrides. An
                // install writes the reset before the snapshot goes in place, so no crash leaves this; a
                // snapshot put in by hand might.
                LOG.log(Level.WARNING, () -> files.dir() + ": the log does not hold the last entry of " + meta
                        + "; dropping it, as installing the snapshot would have");
                if (r.hardState().commit() > meta.index()) {
                    throw new CorruptStoreException(snapshot.file(), -1, "the log diverges from " + meta
                            + " yet the hard state commits " + r.hardState().commit() + ", beyond it");
                }
                writer.startSegmentWithReset(meta);
                entries = List.of();
                index.clear();
            }
            if (meta != null) {
                segments.compact(meta);
                snapshot.deleteOlder(listing.snapshots());
            }
            // A reset above rolled to a new segment of this format already.
            upgradeFormat(segments.current() == found ? r.lastSegmentVersion() : LogFormat.FORMAT_VERSION,
                    listing.marker(), writer, directory);
            return new Recovered(directory, snapshot, segments, writer, entries, index);
        } catch (RuntimeException e) {
            segments.closeAfterFailure();
            throw e;
        }
    }

    /**
     * The entries after the snapshot in what replay found; null if the log does not hold the snapshot's
     * last entry (so the snapshot overrides it).
     */
    private static List<Entry> logAfterSnapshot(LogReplay.Result r, SnapshotMeta snapshot, Path firstSegmentFile) {
        List<Entry> log = r.entries();
        if (snapshot == null) return log;
        long s = snapshot.index();
        long base = r.base();
        if (base < 0) return List.of(); // no entry and no reset since the deleted segments: nothing after the snapshot
        if (base > s) {
            throw new CorruptStoreException(firstSegmentFile, -1, "the log after " + snapshot + " starts at entry "
                    + (base + 1) + ": entries " + (s + 1) + ".." + base + " are missing");
        }
        if (base == s) return log; // its last entry lay in a deleted segment, or a reset put the log there
        if (base + log.size() < s || log.get((int) (s - base - 1)).term() != snapshot.term()) return null;
        return List.copyOf(log.subList((int) (s - base), log.size()));
    }

    /**
     * Brings a store of an older format up to this one: its next write goes to a new segment of this format
     * (older segments stay readable until compaction deletes them), then the marker says this format, so that
     * an older build refuses the store plainly instead of misreading it. A crash between the two leaves a
     * store this build opens as it is, and an older build refuses at the new segment's header.
     */
    private static void upgradeFormat(int lastSegmentVersion, LogFormat.Marker found, LogWriter writer,
                                      StoreDirectory directory) {
        if (lastSegmentVersion < LogFormat.FORMAT_VERSION) writer.startSegment();
        directory.upgradeMarker(found);
    }
}
