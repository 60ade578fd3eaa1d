package io.raftkv.kv.net.internal;

import io.raftkv.kv.KvResponse;
import io.raftkv.node.NodeStatus;
import io.raftkv.node.NotLeaderException;
import io.raftkv.node.RaftNode;
import io.raftkv.raft.Role;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.util.Arrays;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * Serves backups to clients ({@link ClientFrames.BackupRequest}, answered by {@link ClientFrames.BackupChunk}s):
 * the leader takes one ({@link RaftNode#backup()}), writes its state to memory off the node's thread, and hands
 * it out chunk by chunk at the offsets the client asks for. It holds one backup at a time (each is a copy of the
 * whole state), until it is read to the end or another replaces it.
 */
final class BackupServer {
    private static final System.Logger LOG = System.getLogger(BackupServer.class.getName());
    /** Bytes of a backup's state one chunk carries: well inside a frame. */
    static final int CHUNK_BYTES = 1 << 20;

    /** A backup being read by a client: its state in memory. */
    private record Held(long id, long index, long term, byte[] state, int crc) {}

    private final int nodeId;
    private final ThreadFactory threads;
    private final AtomicLong ids = new AtomicLong();
    private final AtomicReference<Held> held = new AtomicReference<>();

    BackupServer(int nodeId, ThreadFactory threads) {
        this.nodeId = nodeId;
        this.threads = threads;
    }

    /**
     * Answers {@code b} (the client is allowed to ask) through {@code answer}, never waiting: for backup 0 the
     * leader {@code node} takes a new one and answers its first chunk once written; for another, the chunk at the
     * offset asked of the backup held, if it still is.
     */
    void serve(RaftNode node, ClientFrames.BackupRequest b, Consumer<ClientFrames.ClientFrame> answer) {
        if (b.backup() != 0) {
            Held h = held.get();
            if (h == null || h.id() != b.backup()) {
                answer.accept(new ClientFrames.Response(b.correlation(), new KvResponse.Refused("node " + nodeId
                        + " no longer holds backup " + b.backup() + " (another backup replaced it, or the node restarted);"
                        + " start the backup again")));
                return;
            }
            answer.accept(chunk(b.correlation(), h, b.offset()));
            return;
        }
        NodeStatus s = node.status();
        if (s.role() != Role.LEADER) {
            answer.accept(new ClientFrames.Response(b.correlation(), new KvResponse.NotLeader(s.leader())));
            return;
        }
        node.backup().whenCompleteAsync((taken, e) -> {
            Throwable cause = e instanceof CompletionException ce && ce.getCause() != null ? ce.getCause() : e;
            if (cause != null) {
                answer.accept(new ClientFrames.Response(b.correlation(), switch (cause) {
                    case NotLeaderException nl -> new KvResponse.NotLeader(nl.leaderHint());
                    case UnsupportedOperationException u -> new KvResponse.Refused(u.getMessage());
                    default -> new KvResponse.Unavailable(String.valueOf(cause.getMessage()));
                }));
                return;
            }
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            try {
                taken.state().writeTo(bytes);
            } catch (IOException | RuntimeException ex) {
                answer.accept(new ClientFrames.Response(b.correlation(), new KvResponse.Unavailable("node " + nodeId
                        + " could not write its state for a backup: " + ex)));
                return;
            }
            byte[] state = bytes.toByteArray();
            CRC32C crc = new CRC32C();
            crc.update(state);
            Held h = new Held(ids.incrementAndGet(), taken.meta().index(), taken.meta().term(), state, (int) crc.getValue());
            held.set(h);
            LOG.log(Level.INFO, () -> "node " + nodeId + " took backup " + h.id() + " as of index " + h.index() + " (term "
                    + h.term() + "), " + state.length + " bytes, for a client");
            answer.accept(chunk(b.correlation(), h, 0));
        }, runnable -> threads.newThread(runnable).start());
    }

    /** The chunk of {@code h} at {@code offset}; the last one lets go of the backup. */
    private ClientFrames.ClientFrame chunk(long correlation, Held h, long offset) {
        if (offset > h.state().length) {
            return new ClientFrames.Response(correlation, new KvResponse.Refused("offset " + offset + " is past the end of"
                    + " backup " + h.id() + ", of " + h.state().length + " bytes"));
        }
        int n = (int) Math.min(CHUNK_BYTES, h.state().length - offset);
        byte[] bytes = Arrays.copyOfRange(h.state(), (int) offset, (int) offset + n);
        if (offset + n == h.state().length) held.compareAndSet(h, null); // read to the end: its memory goes
        return new ClientFrames.BackupChunk(correlation, h.id(), h.index(), h.term(), h.state().length, h.crc(), offset, bytes);
    }
}
