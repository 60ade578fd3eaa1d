package io.raftkv.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One node's disk in a simulation: a {@link FileStorage} (the production code) whose every change goes
 * through {@link PowerLossIo}. A power cut leaves what the disk model allows after the changes made so
 * far, drawn at random: unforced bytes lost, landed or torn, directory changes half done. Each life of the
 * node gets a directory of its own under the root.
 */
public final class SimulatedDisk {
    private final Path root;
    private final SplittableRandom random;
    private final FileStorage.Options options;
    private int lives;
    private PowerLossIo io;
    private FileStorage store;
    private long cuts;

    public SimulatedDisk(Path root, SplittableRandom random, long segmentBytes) {
        this.root = root;
        this.random = random;
        this.options = FileStorage.Options.defaults().withSegmentBytes(segmentBytes);
    }

    /** The store, opened on an empty disk at the first call. */
    public FileStorage open() {
        if (store == null) store = openOn(Map.of());
        return store;
    }

    /**
     * A power cut: the running store is dropped, and the disk holds one of the things the disk model allows
     * after the changes made so far (chosen at random); returns the store opened on that.
     */
    public FileStorage powerCut() {
        return powerCutSince(io.size());
    }

    /**
     * A power cut that may fall anywhere after the first {@code mark} changes (a {@link #changes()} taken
     * earlier): in the middle of the writes made since, or after them; returns the store opened on what the
     * disk then holds.
     */
    public FileStorage powerCutSince(int mark) {
        int k = mark + random.nextInt(io.size() - mark + 1);
        List<PowerLossIo.CrashState> states = io.crashStates(k);
        PowerLossIo.CrashState s = states.get(random.nextInt(states.size()));
        store.close(); // releases its files; it writes nothing
        cuts++;
        store = openOn(s.files());
        return store;
    }

    /** The disk lost for good: the running store is dropped and nothing the node wrote is left. */
    public void wipe() {
        store.close();
        store = openOn(Map.of());
    }

    /** How many changes (writes, forces, renames ...) the running store has made. */
    public int changes() {
        return io.size();
    }

    /** Makes a write soon (after 0 to 3 more) fail with an I/O error. */
    public void failASoonWrite() {
        io.failWriteAfter(random.nextInt(4));
    }

    /** The number of power cuts so far. */
    public long cuts() {
        return cuts;
    }

    private FileStorage openOn(Map<String, byte[]> files) {
        try {
            Path dir = Files.createDirectories(root.resolve("life-" + (++lives)));
            io = new PowerLossIo(dir, files);
            return FileStorage.open(dir, options, io);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
