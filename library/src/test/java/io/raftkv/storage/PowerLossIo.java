package io.raftkv.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * A {@link StoreIo} for one store directory that writes through to the real files (so the store works as
 * usual) and records every change it makes, then rebuilds what a disk may hold after a power cut at any
 * point of that record.
 *
 * <p>The disk model: a file's bytes are durable up to its last force; what was written or truncated since
 * may be lost, or land in part: a write may be cut short at any byte, lose any one of its 512-byte sectors
 * (the old bytes stay, or zeros past the old end) while the others land, or have a sector land as zeros;
 * of several writes since the last force, any prefix may land, or all but any one of them. The directory's
 * entries (files created, renamed, deleted) are durable up to its last force; of the changes since, any
 * prefix may have reached the disk, in order. Forces are recorded, not made: the real files only serve
 * the store under test while it runs.
 */
final class PowerLossIo implements StoreIo {
    static final int SECTOR = 512;

    sealed interface Op permits Create, Rename, Unlink, SyncDir, Write, Truncate, Force {}

    record Create(String name, int inode) implements Op {}

    record Rename(String from, String to) implements Op {}

    record Unlink(String name) implements Op {}

    record SyncDir() implements Op {}

    record Write(int inode, long position, byte[] data) implements Op {
        @Override
        public String toString() {
            return "Write[inode=" + inode + ", position=" + position + ", bytes=" + data.length + "]";
        }
    }

    record Truncate(int inode, long size) implements Op {}

    record Force(int inode) implements Op {}

    /** One thing the disk may hold after a cut: the files by name, and how the cut made it. */
    record CrashState(String how, Map<String, byte[]> files) {}

    private final Path dir;
    private final List<Op> trace = new ArrayList<>();
    /** The files the directory holds now, by name, as inode numbers. */
    private final Map<String, Integer> names = new HashMap<>();
    private int inodes;
    /** What the directory held, all durable, when recording began: names and inode contents. */
    private final Map<String, Integer> initialNames = new TreeMap<>();
    private final Map<Integer, byte[]> initialContents = new HashMap<>();
    /** Writes still to go before one fails with an I/O error; -1: none fails. */
    private int writesBeforeError = -1;

    /** Records the changes to {@code dir}, which must exist and be empty. */
    PowerLossIo(Path dir) throws IOException {
        this(dir, Map.of());
    }

    /** Writes {@code files} into {@code dir} (which must exist and be empty) as durable, then records the changes. */
    PowerLossIo(Path dir, Map<String, byte[]> files) throws IOException {
        this.dir = dir.toAbsolutePath().normalize();
        try (var list = Files.list(this.dir)) {
            if (list.findAny().isPresent()) throw new IllegalArgumentException(dir + " is not empty");
        }
        for (Map.Entry<String, byte[]> f : new TreeMap<>(files).entrySet()) {
            Files.write(this.dir.resolve(f.getKey()), f.getValue());
            int inode = inodes++;
            names.put(f.getKey(), inode);
            initialNames.put(f.getKey(), inode);
            initialContents.put(inode, f.getValue().clone());
        }
    }

    /** Makes the write after the next {@code writes} ones fail with an I/O error (before any of it lands). */
    synchronized void failWriteAfter(int writes) {
        writesBeforeError = writes;
    }

    /** The number of changes recorded so far. */
    synchronized int size() {
        return trace.size();
    }

    synchronized List<Op> trace() {
        return List.copyOf(trace);
    }

    private String name(Path file) {
        Path f = file.toAbsolutePath().normalize();
        if (!dir.equals(f.getParent())) throw new IllegalArgumentException(file + " is not in " + dir);
        return f.getFileName().toString();
    }

    @Override
    public synchronized FileChannel open(Path file, Set<? extends OpenOption> options) throws IOException {
        String name = name(file);
        Integer inode = names.get(name);
        FileChannel real = FileChannel.open(file, options);
        if (inode == null) {
            inode = inodes++;
            names.put(name, inode);
            trace.add(new Create(name, inode));
        } else if (options.contains(StandardOpenOption.TRUNCATE_EXISTING) && options.contains(StandardOpenOption.WRITE)) {
            trace.add(new Truncate(inode, 0));
        }
        return new Recording(real, inode);
    }

    @Override
    public synchronized void move(Path from, Path to) throws IOException {
        String f = name(from);
        String t = name(to);
        Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        Integer inode = names.remove(f);
        if (inode == null) throw new IllegalStateException(from + " was not made through this layer");
        names.put(t, inode);
        trace.add(new Rename(f, t));
    }

    @Override
    public synchronized void deleteIfExists(Path file) throws IOException {
        String name = name(file);
        if (names.remove(name) != null) {
            Files.delete(file);
            trace.add(new Unlink(name));
        }
    }

    @Override
    public synchronized void syncDirectory(Path directory) {
        if (directory.toAbsolutePath().normalize().equals(dir)) trace.add(new SyncDir());
    }

    /**
     * What the disk may hold after a power cut once the first {@code k} recorded changes were issued (and
     * none after): each distinct content once.
     */
    synchronized List<CrashState> crashStates(int k) {
        Map<String, Integer> durableNames = new TreeMap<>(initialNames);
        List<Op> pendingMeta = new ArrayList<>();
        Map<Integer, byte[]> durable = new HashMap<>(initialContents);
        Map<Integer, List<Op>> pending = new TreeMap<>();
        for (Op op : trace.subList(0, k)) {
            switch (op) {
                case Create c -> {
                    pendingMeta.add(c);
                    durable.putIfAbsent(c.inode(), new byte[0]);
                }
                case Rename r -> pendingMeta.add(r);
                case Unlink u -> pendingMeta.add(u);
                case SyncDir s -> {
                    applyMeta(durableNames, pendingMeta);
                    pendingMeta.clear();
                }
                case Write w -> pending.computeIfAbsent(w.inode(), i -> new ArrayList<>()).add(w);
                case Truncate t -> pending.computeIfAbsent(t.inode(), i -> new ArrayList<>()).add(t);
                case Force f -> {
                    List<Op> ops = pending.remove(f.inode());
                    if (ops != null) durable.put(f.inode(), apply(durable.get(f.inode()), ops));
                }
            }
        }

        // The contents the files may have: each variant overrides the durable bytes of some files.
        Map<String, Map<Integer, byte[]>> data = new LinkedHashMap<>();
        data.put("unforced bytes lost", Map.of());
        Map<Integer, byte[]> all = new HashMap<>();
        pending.forEach((inode, ops) -> all.put(inode, apply(durable.get(inode), ops)));
        data.put("unforced bytes landed", all);
        pending.forEach((inode, ops) -> {
            byte[] base = durable.get(inode);
            for (int i = 0; i < ops.size(); i++) {
                byte[] before = apply(base, ops.subList(0, i));
                String of = "inode " + inode + ", unforced change " + (i + 1) + " of " + ops.size();
                if (i > 0) data.put(of + " not landed, nor those after it", Map.of(inode, before));
                if (ops.get(i) instanceof Write w) {
                    for (int cut : cuts(w)) {
                        data.put(of + " cut after " + cut + " of " + w.data().length + " bytes",
                                Map.of(inode, write(before, w, cut, -1, false)));
                    }
                    long firstSector = w.position() / SECTOR;
                    long lastSector = (w.position() + w.data().length - 1) / SECTOR;
                    for (long s = firstSector; s <= lastSector && w.data().length > 0; s++) {
                        data.put(of + " landed but for sector " + s, Map.of(inode, write(before, w, w.data().length, s, false)));
                        data.put(of + " landed with sector " + s + " zeroed", Map.of(inode, write(before, w, w.data().length, s, true)));
                    }
                }
                if (ops.size() > 1) {
                    List<Op> allBut = new ArrayList<>(ops);
                    allBut.remove(i);
                    data.put("inode " + inode + ": every unforced change landed but " + (i + 1) + " of " + ops.size(),
                            Map.of(inode, apply(base, allBut)));
                }
            }
        });

        List<CrashState> out = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        for (int p = 0; p <= pendingMeta.size(); p++) {
            Map<String, Integer> entries = new TreeMap<>(durableNames);
            applyMeta(entries, pendingMeta.subList(0, p));
            String meta = pendingMeta.isEmpty() ? "" : "; " + p + " of " + pendingMeta.size()
                    + " directory changes since its last force landed";
            for (Map.Entry<String, Map<Integer, byte[]>> d : data.entrySet()) {
                Map<String, byte[]> files = new TreeMap<>();
                StringBuilder key = new StringBuilder();
                entries.forEach((name, inode) -> {
                    byte[] bytes = d.getValue().getOrDefault(inode, durable.get(inode));
                    files.put(name, bytes);
                    key.append(name).append('/').append(Arrays.hashCode(bytes)).append('/').append(bytes.length).append(';');
                });
                if (seen.add(key.toString())) out.add(new CrashState(d.getKey() + meta, files));
            }
        }
        return out;
    }

    /** Where a write may be cut short: a byte in, half-way, a byte short, and at each sector boundary within it. */
    private static List<Integer> cuts(Write w) {
        int n = w.data().length;
        java.util.TreeSet<Integer> cuts = new java.util.TreeSet<>();
        if (n > 1) {
            cuts.add(1);
            cuts.add(n / 2);
            cuts.add(n - 1);
        }
        for (long b = (w.position() / SECTOR + 1) * SECTOR; b < w.position() + n; b += SECTOR) {
            cuts.add((int) (b - w.position()));
        }
        cuts.remove(0);
        return List.copyOf(cuts);
    }

    private static void applyMeta(Map<String, Integer> entries, List<Op> ops) {
        for (Op op : ops) {
            switch (op) {
                case Create c -> entries.put(c.name(), c.inode());
                case Rename r -> {
                    Integer inode = entries.remove(r.from());
                    // A rename of a file whose creation did not land: the name it had never reached the disk.
                    if (inode != null) entries.put(r.to(), inode);
                }
                case Unlink u -> entries.remove(u.name());
                default -> throw new IllegalArgumentException(op.toString());
            }
        }
    }

    private static byte[] apply(byte[] base, List<Op> ops) {
        byte[] b = base;
        for (Op op : ops) {
            b = switch (op) {
                case Write w -> write(b, w, w.data().length, -1, false);
                case Truncate t -> t.size() < b.length ? Arrays.copyOf(b, (int) t.size()) : b;
                default -> throw new IllegalArgumentException(op.toString());
            };
        }
        return b;
    }

    /**
     * {@code before} after the first {@code length} bytes of {@code w} landed, except that sector
     * {@code skipSector} (if not -1) keeps its old bytes, or is zeros if {@code zeroed}.
     */
    private static byte[] write(byte[] before, Write w, int length, long skipSector, boolean zeroed) {
        long end = w.position() + length;
        byte[] b = Arrays.copyOf(before, (int) Math.max(before.length, end));
        for (int i = 0; i < length; i++) {
            long at = w.position() + i;
            if (at / SECTOR == skipSector) {
                if (zeroed) b[(int) at] = 0;
            } else {
                b[(int) at] = w.data()[i];
            }
        }
        return b;
    }

    /** A channel that writes through and records its writes, truncations and forces (without forcing). */
    private final class Recording extends FileChannel {
        private final FileChannel inner;
        private final int inode;

        Recording(FileChannel inner, int inode) {
            this.inner = inner;
            this.inode = inode;
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            synchronized (PowerLossIo.this) {
                if (writesBeforeError >= 0 && writesBeforeError-- == 0) throw new IOException("injected I/O error");
                ByteBuffer copy = src.duplicate();
                int n = inner.write(src, position);
                byte[] bytes = new byte[n];
                copy.get(bytes);
                trace.add(new Write(inode, position, bytes));
                return n;
            }
        }

        @Override
        public int write(ByteBuffer src) throws IOException {
            long position = inner.position();
            int n = write(src, position);
            inner.position(position + n);
            return n;
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            throw new UnsupportedOperationException("gathering writes are not recorded");
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            synchronized (PowerLossIo.this) {
                inner.truncate(size);
                trace.add(new Truncate(inode, size));
            }
            return this;
        }

        @Override
        public void force(boolean metaData) {
            synchronized (PowerLossIo.this) {
                trace.add(new Force(inode));
            }
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return inner.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return inner.read(dsts, offset, length);
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return inner.read(dst, position);
        }

        @Override
        public long position() throws IOException {
            return inner.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            inner.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return inner.size();
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return inner.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) {
            throw new UnsupportedOperationException("transfers into a file are not recorded");
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) {
            throw new UnsupportedOperationException("mapped files are not recorded");
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return inner.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return inner.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            inner.close();
        }
    }
}
