package io.raftkv.node;

import io.raftkv.raft.Message;
import io.raftkv.raft.Message.SnapshotChunk;
import io.raftkv.raft.Message.SnapshotChunkAck;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.SnapshotReader;

import java.nio.ByteBuffer;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * A leader streaming its snapshot to one follower: a window of chunks ahead of the follower's
 * acknowledgements, the window sent again from the last acknowledged byte when the follower goes
 * quiet, and given up after a few quiet spells. Used on the node's thread only.
 */
final class SnapshotSender implements AutoCloseable {
    /** Quiet spells (each {@code quietTicks} long) after which the transfer is given up. */
    static final int MAX_RESENDS = 5;

    private final int from;
    private final int to;
    private final long term;
    private final SnapshotReader reader;
    private final SnapshotPolicy policy;
    private final int quietTicksLimit;
    private final Consumer<Message> send;
    private final CRC32C crc = new CRC32C();
    private long acked;
    private long sent;
    private boolean sentAll;
    private int quietTicks;
    private int resends;
    /** The acknowledged position the window was last resent from on a refusal, so one loss resends once. */
    private long resentFrom = -1;

    SnapshotSender(int from, int to, long term, SnapshotReader reader, SnapshotPolicy policy, int quietTicksLimit,
                   Consumer<Message> send) {
        this.from = from;
        this.to = to;
        this.term = term;
        this.reader = reader;
        this.policy = policy;
        this.quietTicksLimit = quietTicksLimit;
        this.send = send;
        sendWindow();
    }

    SnapshotMeta meta() {
        return reader.meta();
    }

    long term() {
        return term;
    }

    /** Takes the follower's acknowledgement; returns true once it holds the whole snapshot. */
    boolean onAck(SnapshotChunkAck a) {
        if (a.snapshotIndex() != reader.meta().index() || a.term() > term) return false;
        long size = reader.size();
        if (a.received() > size || a.received() < 0) return false; // not an answer to this transfer
        if (a.received() < acked) {
            // The follower lost what it had (it restarted, or began another transfer): start over from there.
            acked = a.received();
            sent = acked;
            sentAll = false;
        } else if (a.received() > acked) {
            acked = a.received();
            quietTicks = 0;
            resends = 0;
        } else if (a.received() < sent && resentFrom != acked) {
            // The same position again: the follower refused what followed (a gap or a bad CRC); resend it.
            resentFrom = acked;
            sent = acked;
            sentAll = false;
        }
        if (acked == size) return true;
        if (sent < acked) sent = acked;
        sendWindow();
        return false;
    }

    /** Counts a tick; returns false once the follower has been quiet too long and the transfer is given up. */
    boolean tick() {
        if (++quietTicks < quietTicksLimit) return true;
        quietTicks = 0;
        if (++resends > MAX_RESENDS) return false;
        sent = acked;
        sentAll = false;
        sendWindow();
        return true;
    }

    private void sendWindow() {
        long size = reader.size();
        long window = (long) policy.chunkBytes() * policy.chunksInFlight();
        while (!sentAll && sent - acked < window) {
            int n = (int) Math.min(policy.chunkBytes(), size - sent);
            byte[] data = new byte[n];
            ByteBuffer dst = ByteBuffer.wrap(data);
            while (dst.hasRemaining()) {
                int r = reader.read(sent + dst.position(), dst);
                if (r < 0) throw new IllegalStateException("snapshot " + reader.meta() + " ended at " + (sent + dst.position())
                        + " bytes, before its size " + size);
            }
            crc.reset();
            crc.update(data);
            send.accept(new SnapshotChunk(from, to, term, reader.meta(), size, sent, data, (int) crc.getValue()));
            sent += n;
            if (sent == size) sentAll = true;
        }
    }

    @Override
    public void close() {
        reader.close();
    }
}
