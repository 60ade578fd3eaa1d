package io.raftkv.kv.net;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Objects;
import java.util.zip.CRC32C;

/**
 * A backup of a key-value cluster's state in a file ({@code raftkv client snapshot save}), from which a new
 * cluster starts ({@code raftkv node --restore}). All integers big-endian:
 * <pre>
 * magic int32 "RKVB" | version uint8 (1) | cluster id (uint16 length | UTF-8) | index int64 | term int64
 * | state length int64 | state: the key-value state machine's snapshot, as nodes keep it | crc int32: CRC32C
 * of every byte before it
 * </pre>
 * The file is written aside, forced, then renamed over its name, so a crash leaves the old file or the new
 * one, never half of one. Reading checks the magic, version, lengths and CRC before anything is used.
 *
 * @param clusterId the id of the cluster it was taken from
 * @param index     the log index the state is as of: every entry up to it applied, none after
 * @param term      the term of the entry at {@code index}
 * @param state     the state machine's snapshot bytes
 */
public record BackupFile(String clusterId, long index, long term, byte[] state) {
    static final int MAGIC = 0x524B5642; // "RKVB"
    static final int VERSION = 1;
    private static final int FIXED_BYTES = 4 + 1 + 2 + 8 + 8 + 8 + 4;

    public BackupFile {
        Objects.requireNonNull(clusterId, "clusterId");
        Objects.requireNonNull(state, "state");
        if (index < 1 || term < 1) throw new IllegalArgumentException("a backup is of index and term >= 1, not " + index + "/" + term);
    }

    /** What it holds, in a phrase: "index 42 (term 3) of cluster 'orders', 1234 bytes of state". */
    public String describe() {
        return "index " + index + " (term " + term + ") of cluster '" + clusterId + "', " + state.length + " bytes of state";
    }

    /** Its bytes, as {@link #write} puts them in the file. */
    public byte[] encode() {
        byte[] id = clusterId.getBytes(StandardCharsets.UTF_8);
        if (id.length > 0xFFFF) throw new IllegalArgumentException("a cluster id of " + id.length + " bytes is too long");
        ByteBuffer b = ByteBuffer.allocate(FIXED_BYTES + id.length + state.length);
        b.putInt(MAGIC).put((byte) VERSION).putShort((short) id.length).put(id).putLong(index).putLong(term)
                .putLong(state.length).put(state);
        CRC32C crc = new CRC32C();
        crc.update(b.array(), 0, b.position());
        b.putInt((int) crc.getValue());
        return b.array();
    }

    /**
     * Writes it to {@code file}: aside first ({@code file}.tmp), forced, then renamed over {@code file}, and the
     * directory forced.
     *
     * @throws UncheckedIOException if it cannot be written (the message names the file)
     */
    public void write(Path file) {
        Path temp = file.resolveSibling(file.getFileName() + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE)) {
                ByteBuffer b = ByteBuffer.wrap(encode());
                while (b.hasRemaining()) ch.write(b);
                ch.force(true);
            }
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            Path dir = file.toAbsolutePath().getParent();
            try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
                d.force(true);
            } catch (IOException e) {
                // Some file systems cannot force a directory; the rename is done either way.
            }
        } catch (IOException e) {
            try {
                Files.deleteIfExists(temp);
            } catch (IOException ignored) {
                // What matters is the first failure.
            }
            throw new UncheckedIOException("cannot write the backup " + file + ": " + e, e);
        }
    }

    /**
     * Reads and checks the backup in {@code file}.
     *
     * @throws IllegalArgumentException if it is not a backup, of another version, cut short or damaged (the
     *                                  message says which, and where)
     * @throws UncheckedIOException     if it cannot be read
     */
    public static BackupFile read(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("there is no backup file " + file, e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the backup " + file + ": " + e, e);
        }
        return decode(bytes, file.toString());
    }

    /** The backup in {@code bytes} ({@link #encode()}); {@code name} says where they came from, in errors. */
    static BackupFile decode(byte[] bytes, String name) {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (bytes.length < 4 || b.getInt() != MAGIC) {
            throw new IllegalArgumentException(name + " is not a raftkv backup (it does not start with \"RKVB\")");
        }
        if (bytes.length < FIXED_BYTES) throw cutShort(name, bytes.length);
        int version = b.get() & 0xFF;
        if (version != VERSION) {
            throw new IllegalArgumentException(name + " is a backup of format version " + version + "; this build reads"
                    + " version " + VERSION + " only");
        }
        int idLength = b.getShort() & 0xFFFF;
        if (b.remaining() < idLength + 8 + 8 + 8 + 4) throw cutShort(name, bytes.length);
        byte[] id = new byte[idLength];
        b.get(id);
        long index = b.getLong();
        long term = b.getLong();
        long stateLength = b.getLong();
        if (stateLength < 0 || stateLength != b.remaining() - 4) {
            if (stateLength >= 0 && stateLength > b.remaining() - 4) throw cutShort(name, bytes.length);
            throw new IllegalArgumentException(name + " is damaged: it says it holds " + stateLength + " bytes of state,"
                    + " and " + (b.remaining() - 4) + " follow");
        }
        CRC32C crc = new CRC32C();
        crc.update(bytes, 0, bytes.length - 4);
        int stored = ByteBuffer.wrap(bytes, bytes.length - 4, 4).getInt();
        if (stored != (int) crc.getValue()) {
            throw new IllegalArgumentException(name + " is damaged: its CRC does not match its contents (a copy cut"
                    + " short or changed); use another backup");
        }
        byte[] state = new byte[(int) stateLength];
        b.get(state);
        try {
            return new BackupFile(new String(id, StandardCharsets.UTF_8), index, term, state);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + " is damaged: " + e.getMessage());
        }
    }

    private static IllegalArgumentException cutShort(String name, int length) {
        return new IllegalArgumentException(name + " is cut short (" + length + " bytes): not a whole backup");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof BackupFile f && f.clusterId.equals(clusterId) && f.index == index && f.term == term
                && java.util.Arrays.equals(f.state, state);
    }

    @Override
    public int hashCode() {
        return Objects.hash(clusterId, index, term, java.util.Arrays.hashCode(state));
    }

    @Override
    public String toString() {
        return "BackupFile[" + describe() + "]";
    }
}
