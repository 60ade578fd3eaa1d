package io.raftkv.node;

import io.raftkv.raft.Message;
import io.raftkv.raft.Message.InstallSnapshot;
import io.raftkv.raft.Message.SnapshotChunk;
import io.raftkv.raft.Message.SnapshotChunkAck;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.SnapshotWriter;
import io.raftkv.storage.Storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * A follower reassembling a leader's snapshot: chunks are taken in order, each checked against its CRC,
 * written to a {@link SnapshotWriter}, and every one acknowledged with the bytes held so far (so the
 * leader resends from there after a loss). When the last arrives the core is handed an
 * {@link InstallSnapshot}; the writer waits for the core's decision. Used on the node's thread only.
 */
final class SnapshotReceiver implements AutoCloseable {
    private final int id;
    private final Storage storage;
    private final Consumer<Message> send;
    private final CRC32C crc = new CRC32C();
    private SnapshotWriter writer;
    private int leader;
    private long term;
    private long received;
    private boolean complete;

    SnapshotReceiver(int id, Storage storage, Consumer<Message> send) {
        this.id = id;
        this.storage = storage;
        this.send = send;
    }

    /**
     * Takes one chunk from a leader whose term is at least {@code currentTerm}; returns the message to step
     * into the core once the snapshot is whole, else null.
     */
    InstallSnapshot onChunk(SnapshotChunk c, long currentTerm) {
        if (c.term() < currentTerm) return null; // a deposed leader's: its next message will tell it so
        boolean same = writer != null && c.from() == leader && c.term() == term && c.snapshot().equals(writer.meta());
        if (!same) {
            if (c.offset() != 0) {
                // The middle of a transfer this node knows nothing of (it restarted): ask for the start.
                send.accept(new SnapshotChunkAck(id, c.from(), c.term(), c.snapshot().index(), 0));
                return null;
            }
            close();
            writer = storage.createSnapshot(c.snapshot());
            leader = c.from();
            term = c.term();
            received = 0;
        }
        if (complete || c.offset() != received || !crcMatches(c)) {
            // A duplicate, a gap after a lost chunk, or damage: say where we are and the leader resends.
            send.accept(new SnapshotChunkAck(id, c.from(), c.term(), c.snapshot().index(), received));
            return null;
        }
        try {
            writer.output().write(c.data());
            if (c.last()) writer.output().flush();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the snapshot received from node " + c.from(), e);
        }
        received += c.data().length;
        send.accept(new SnapshotChunkAck(id, c.from(), c.term(), c.snapshot().index(), received));
        if (!c.last()) return null;
        complete = true;
        return new InstallSnapshot(c.from(), id, c.term(), c.snapshot());
    }

    private boolean crcMatches(SnapshotChunk c) {
        crc.reset();
        crc.update(c.data());
        return (int) crc.getValue() == c.crc();
    }

    /** The whole snapshot the core decided to install; the caller installs and closes it. */
    SnapshotWriter take(SnapshotMeta meta) {
        if (!complete || !writer.meta().equals(meta)) {
            throw new IllegalStateException("the core asked to install " + meta + " but this node holds "
                    + (writer == null ? "no snapshot" : (complete ? "" : "part of ") + writer.meta()));
        }
        SnapshotWriter w = writer;
        writer = null;
        complete = false;
        return w;
    }

    /** Drops a whole snapshot the core did not need (it had the entries already). */
    void discardIfComplete() {
        if (complete) close();
    }

    @Override
    public void close() {
        if (writer != null) writer.close();
        writer = null;
        complete = false;
        received = 0;
    }
}
