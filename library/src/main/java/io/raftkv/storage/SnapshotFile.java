package io.raftkv.storage;

import io.raftkv.raft.SnapshotMeta;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * One snapshot file of a {@link FileStorage} (format in {@link LogFormat}): checking one found at open,
 * reading one, and writing one as a temporary file that {@link FileStorage} renames into place.
 */
final class SnapshotFile {
    private static final int BUFFER_BYTES = 64 << 10;

    /** Where a snapshot file's data lie, and what it covers. */
    record Layout(SnapshotMeta meta, long dataOffset, long dataBytes) {}

    private SnapshotFile() {}

    /**
     * Checks the whole of a snapshot file (header, length, CRC over every byte) and returns its layout.
     *
     * @throws CorruptStoreException if it is damaged or cut short
     */
    static Layout verify(Path file, long index) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            Layout layout = layout(file, ch, index);
            long covered = layout.dataOffset() + layout.dataBytes() + 8;
            CRC32C crc = new CRC32C();
            ByteBuffer b = ByteBuffer.allocateDirect(BUFFER_BYTES);
            for (long pos = 0; pos < covered; ) {
                b.clear().limit((int) Math.min(b.capacity(), covered - pos));
                int n = ch.read(b, pos);
                if (n < 0) throw new CorruptStoreException(file, pos, "the snapshot ends early");
                b.flip();
                crc.update(b);
                pos += n;
            }
            ByteBuffer stored = ByteBuffer.allocate(4);
            readFully(file, ch, stored, covered);
            if (stored.getInt(0) != (int) crc.getValue()) {
                throw new CorruptStoreException(file, covered, "the snapshot fails its CRC: its bytes are damaged");
            }
            return layout;
        } catch (IOException e) {
            throw new StorageException("cannot read " + file + ": " + e, e);
        }
    }

    /** Reads and checks the header and the trailer's length; not the CRC over the data. */
    static Layout layout(Path file, FileChannel ch, long index) throws IOException {
        long size = ch.size();
        int minimum = LogFormat.SNAPSHOT_HEADER_FIXED_BYTES + LogFormat.SNAPSHOT_TRAILER_BYTES;
        if (size < minimum) {
            throw new CorruptStoreException(file, 0, "the snapshot is cut short: it has " + size
                    + " bytes, less than an empty snapshot's " + minimum);
        }
        ByteBuffer fixed = ByteBuffer.allocate(LogFormat.SNAPSHOT_HEADER_FIXED_BYTES);
        readFully(file, ch, fixed, 0);
        if (fixed.getLong(0) != LogFormat.SNAPSHOT_MAGIC) {
            throw new CorruptStoreException(file, 0, "the file does not start with the snapshot magic \"RAFTKVSN\"");
        }
        int configBytes = fixed.getInt(28);
        if (configBytes < 0 || configBytes > LogFormat.MAX_CONFIGURATION_BYTES || configBytes > size - minimum) {
            throw new CorruptStoreException(file, 28, "the snapshot header claims a configuration of " + configBytes
                    + " bytes, more than a file of " + size + " bytes holds: it is cut short or damaged");
        }
        ByteBuffer header = ByteBuffer.allocate(LogFormat.SNAPSHOT_HEADER_FIXED_BYTES + configBytes);
        readFully(file, ch, header, 0);
        SnapshotMeta meta = LogFormat.checkSnapshotHeader(file, header, index);
        ByteBuffer length = ByteBuffer.allocate(8);
        readFully(file, ch, length, size - LogFormat.SNAPSHOT_TRAILER_BYTES);
        long dataBytes = length.getLong(0);
        long held = size - header.capacity() - LogFormat.SNAPSHOT_TRAILER_BYTES;
        if (dataBytes != held) {
            throw new CorruptStoreException(file, size - LogFormat.SNAPSHOT_TRAILER_BYTES, "the snapshot is cut short or"
                    + " has bytes after its end: its trailer says " + dataBytes + " data bytes, the file holds " + held);
        }
        return new Layout(meta, header.capacity(), dataBytes);
    }

    private static void readFully(Path file, FileChannel ch, ByteBuffer b, long position) throws IOException {
        while (b.hasRemaining()) {
            int n = ch.read(b, position);
            if (n < 0) throw new CorruptStoreException(file, position, "the snapshot ends early");
            position += n;
        }
        b.flip();
    }

    /** Reads a snapshot through positional reads on a channel of its own, which outlives the file's name. */
    static final class Reader implements SnapshotReader {
        private final Path file;
        private final FileChannel ch;
        private final Layout layout;
        private volatile boolean closed;

        Reader(Path file, Layout layout) {
            this.file = file;
            this.layout = layout;
            try {
                this.ch = FileChannel.open(file, StandardOpenOption.READ);
            } catch (IOException e) {
                throw new StorageException("cannot open " + file + ": " + e, e);
            }
        }

        @Override
        public SnapshotMeta meta() {
            return layout.meta();
        }

        @Override
        public long size() {
            return layout.dataBytes();
        }

        @Override
        public int read(long position, ByteBuffer dst) {
            if (position < 0) throw new IllegalArgumentException("position must be >= 0, was " + position);
            if (closed) throw new IllegalStateException("the reader of " + file + " is closed");
            if (position >= layout.dataBytes()) return -1;
            int want = (int) Math.min(dst.remaining(), layout.dataBytes() - position);
            int limit = dst.limit();
            dst.limit(dst.position() + want);
            try {
                int total = 0;
                while (dst.hasRemaining()) {
                    int n = ch.read(dst, layout.dataOffset() + position + total);
                    if (n < 0) throw new StorageException("cannot read " + file + ": it ends early");
                    total += n;
                }
                return total;
            } catch (IOException e) {
                throw new StorageException("cannot read " + file + ": " + e, e);
            } finally {
                dst.limit(limit);
            }
        }

        @Override
        public InputStream stream() {
            return stream(false);
        }

        /** A stream over the data that closes this reader when it is closed (a writer's read-back owns its reader). */
        InputStream streamClosingReader() {
            return stream(true);
        }

        private InputStream stream(boolean closesReader) {
            return new InputStream() {
                private long position;

                @Override
                public int read() {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
                }

                @Override
                public int read(byte[] b, int off, int len) {
                    Objects.checkFromIndexSize(off, len, b.length);
                    if (len == 0) return 0;
                    int n = Reader.this.read(position, ByteBuffer.wrap(b, off, len));
                    if (n > 0) position += n;
                    return n;
                }

                @Override
                public long skip(long n) {
                    long k = Math.max(0, Math.min(n, layout.dataBytes() - position));
                    position += k;
                    return k;
                }

                @Override
                public int available() {
                    return (int) Math.min(Integer.MAX_VALUE, layout.dataBytes() - position);
                }

                @Override
                public void close() {
                    if (closesReader) Reader.this.close();
                }
            };
        }

        @Override
        public void close() {
            closed = true;
            try {
                ch.close();
            } catch (IOException e) {
                throw new StorageException("cannot close " + file + ": " + e, e);
            }
        }
    }

    /**
     * Writes a snapshot to a temporary file: the header at once, the data through {@link #output()}
     * (buffered, CRC computed on the way), the trailer when {@link FileStorage} installs it.
     */
    static final class Writer implements SnapshotWriter {
        private final FileStorage store;
        private final SnapshotMeta meta;
        final Path temp;
        private final FileChannel ch;
        private final long dataOffset;
        private final CRC32C crc = new CRC32C();
        private final byte[] buffer = new byte[BUFFER_BYTES];
        private int buffered;
        /** Data bytes on the channel (not counting {@link #buffered}). */
        private long flushed;
        private boolean outputClosed;
        /** Finished (being installed), installed or closed: nothing more may be written. */
        private boolean done;
        /** The store renamed the file into place: it is the store's now, not this writer's to delete. */
        private boolean installedFile;
        private final OutputStream output = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                Objects.checkFromIndexSize(off, len, b.length);
                synchronized (Writer.this) {
                    checkWritable();
                    if (len >= buffer.length) {
                        flushBuffer();
                        writeData(ByteBuffer.wrap(b, off, len));
                        return;
                    }
                    if (buffered + len > buffer.length) flushBuffer();
                    System.arraycopy(b, off, buffer, buffered, len);
                    buffered += len;
                }
            }

            @Override
            public void flush() throws IOException {
                synchronized (Writer.this) {
                    if (done) return;
                    flushBuffer();
                }
            }

            @Override
            public void close() throws IOException {
                synchronized (Writer.this) {
                    if (!done) flushBuffer();
                    outputClosed = true;
                }
            }
        };

        Writer(FileStorage store, SnapshotMeta meta, Path temp) {
            this.store = store;
            this.meta = meta;
            this.temp = temp;
            ByteBuffer header = LogFormat.snapshotHeader(meta);
            this.dataOffset = header.remaining();
            try {
                this.ch = store.io().open(temp, EnumSet.of(StandardOpenOption.CREATE,
                        StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.READ, StandardOpenOption.WRITE));
            } catch (IOException e) {
                throw new StorageException("cannot create " + temp + ": " + e, e);
            }
            crc.update(header.duplicate());
            try {
                writeAt(header, 0);
            } catch (IOException e) {
                discard();
                throw new StorageException("cannot write " + temp + ": " + e, e);
            }
        }

        private void checkWritable() throws IOException {
            if (done) throw new IOException("the snapshot writer of " + temp + " was installed or closed");
            if (outputClosed) throw new IOException("the snapshot output was closed");
        }

        private void flushBuffer() throws IOException {
            if (buffered == 0) return;
            writeData(ByteBuffer.wrap(buffer, 0, buffered));
            buffered = 0;
        }

        private void writeData(ByteBuffer b) throws IOException {
            crc.update(b.duplicate());
            int n = b.remaining();
            writeAt(b, dataOffset + flushed);
            flushed += n;
        }

        private void writeAt(ByteBuffer b, long position) throws IOException {
            while (b.hasRemaining()) position += ch.write(b, position);
        }

        @Override
        public SnapshotMeta meta() {
            return meta;
        }

        @Override
        public OutputStream output() {
            return output;
        }

        @Override
        public synchronized long size() {
            return flushed + buffered;
        }

        @Override
        public synchronized InputStream readBack() {
            if (done) throw new IllegalStateException("the snapshot writer of " + temp + " was installed or closed");
            try {
                flushBuffer();
            } catch (IOException e) {
                throw new StorageException("cannot write " + temp + ": " + e, e);
            }
            Layout layout = new Layout(meta, dataOffset, flushed);
            // A reader of its own on the temporary file: it sees exactly the bytes flushed so far.
            return new Reader(temp, layout).streamClosingReader();
        }

        @Override
        public void install() {
            synchronized (this) {
                if (done) throw new IllegalStateException("this snapshot writer was already installed or closed");
            }
            store.install(this);
        }

        /**
         * Ends the file: flushes the data, appends the trailer and forces it all to disk. Called by the store,
         * under its lock, once it has accepted the snapshot.
         */
        synchronized void finish(boolean sync) {
            if (done) throw new IllegalStateException("this snapshot writer was already installed or closed");
            try {
                flushBuffer();
                ByteBuffer length = ByteBuffer.allocate(8).putLong(0, flushed);
                crc.update(length.duplicate());
                ByteBuffer trailer = ByteBuffer.allocate(LogFormat.SNAPSHOT_TRAILER_BYTES);
                trailer.putLong(flushed).putInt((int) crc.getValue()).flip();
                writeAt(trailer, dataOffset + flushed);
                if (sync) ch.force(false);
                ch.close();
                done = true;
            } catch (IOException e) {
                throw new StorageException("cannot write " + temp + ": " + e, e);
            }
        }

        /** The layout of the finished file. */
        Layout layout() {
            return new Layout(meta, dataOffset, flushed);
        }

        /** The store took the file (renamed it into place): closing this writer must not delete it. */
        synchronized void markInstalled() {
            installedFile = true;
            done = true;
        }

        @Override
        public synchronized void close() {
            if (installedFile) return;
            done = true;
            discard();
        }

        private void discard() {
            try {
                ch.close();
            } catch (IOException ignored) {
                // Deleting it is what matters.
            }
            try {
                store.io().deleteIfExists(temp);
            } catch (IOException e) {
                throw new StorageException("cannot delete " + temp + ": " + e, e);
            }
        }
    }
}
