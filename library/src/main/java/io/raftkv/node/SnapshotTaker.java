package io.raftkv.node;

import io.raftkv.raft.RaftCore;
import io.raftkv.raft.SnapshotMeta;
import io.raftkv.storage.SnapshotWriter;
import io.raftkv.storage.Storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * When a node snapshots its own state machine, and how: once enough log has been applied since the last
 * snapshot, the state is written, installed in the store and the log compacted. A state machine that can
 * {@linkplain StateMachine#freeze() freeze} its state is written on a thread of its own (from
 * {@code writers}) while the node goes on applying; the snapshot is installed and the log compacted back
 * on the node's thread. One write at a time; should another threshold's worth of log be applied before
 * the write is done, the node's thread waits for it, so the log never holds more than about twice the
 * threshold. Everything but {@link #taken()} runs on the node's thread.
 */
final class SnapshotTaker {
    /** How work gets back to the node's thread: false if the node has stopped (then nothing runs there). */
    interface NodeThread {
        boolean post(Runnable onNodeThread, Runnable ifStopped);
    }

    private final int id;
    private final Storage storage;
    private final StateMachine stateMachine;
    private final Executor writers;
    private final NodeThread nodeThread;

    /** Bytes of entries applied since the last snapshot (or since start). */
    private long appliedSinceSnapshot;
    /** The size of the newest snapshot taken or installed: the log must grow past it too before the next. */
    private long lastSnapshotBytes;
    /** The snapshot being written off the node's thread, or null. */
    private SnapshotWrite inFlight;
    private volatile long taken;

    SnapshotTaker(int id, Storage storage, StateMachine stateMachine, Executor writers, NodeThread nodeThread) {
        this.id = id;
        this.storage = storage;
        this.stateMachine = stateMachine;
        this.writers = Objects.requireNonNull(writers, "snapshotWriters");
        this.nodeThread = nodeThread;
    }

    /** Snapshots taken and installed so far; any thread. */
    long taken() {
        return taken;
    }

    /** An entry of {@code bytes} was applied. */
    void applied(long bytes) {
        appliedSinceSnapshot += bytes;
    }

    /** The state machine now holds a snapshot of {@code bytes} (restored at start, or received from a leader). */
    void restored(long bytes) {
        lastSnapshotBytes = bytes;
        appliedSinceSnapshot = 0;
    }

    /** Takes a snapshot as of {@code applied} if the policy says it is time; see the class comment. */
    void maybeSnapshot(RaftCore core, long applied, SnapshotPolicy policy) {
        // Past the policy's bytes, and past the last snapshot's size: a large state is not rewritten for every
        // few MiB of log (writing snapshots never costs more than the log they replace).
        if (appliedSinceSnapshot < Math.max(policy.logBytes(), lastSnapshotBytes) || !stateMachine.canSnapshot()) return;
        SnapshotWrite previous = inFlight;
        if (previous != null) {
            // A whole threshold applied while the last one is still being written: wait for it (backpressure).
            previous.written.join();
            complete(core, previous, policy);
        }
        SnapshotMeta latest = core.latestSnapshot();
        if (latest != null && latest.index() >= applied) return;
        SnapshotMeta meta = core.snapshotMeta(applied);
        StateMachine.Frozen frozen = stateMachine.freeze();
        if (frozen == null) {
            SnapshotWriter w = storage.createSnapshot(meta);
            try {
                stateMachine.snapshot(w.output());
                w.output().flush();
            } catch (IOException e) {
                w.close();
                throw new UncheckedIOException("node " + id + " cannot write " + meta + ": " + e.getMessage(), e);
            }
            appliedSinceSnapshot = 0;
            finish(core, meta, w, policy);
            return;
        }
        SnapshotWrite write = new SnapshotWrite(meta, storage.createSnapshot(meta));
        inFlight = write;
        appliedSinceSnapshot = 0;
        try {
            writers.execute(() -> write.run(frozen, () -> complete(core, write, policy)));
        } catch (RuntimeException e) {
            inFlight = null;
            write.writer.close();
            throw e;
        }
    }

    /** A snapshot being written off the node's thread. */
    private final class SnapshotWrite {
        final SnapshotMeta meta;
        final SnapshotWriter writer;
        /** Completes once the state is written (or failed to be), before the node's thread hears of it. */
        final CompletableFuture<Void> written = new CompletableFuture<>();
        volatile IOException error;
        /** Set (on the node's thread) once installed or dropped; the writer is closed by then. */
        volatile boolean done;

        SnapshotWrite(SnapshotMeta meta, SnapshotWriter writer) {
            this.meta = meta;
            this.writer = writer;
        }

        /** On the snapshot's own thread: writes the frozen state, then hands the snapshot back to the node's thread. */
        void run(StateMachine.Frozen frozen, Runnable complete) {
            try {
                frozen.writeTo(writer.output());
                writer.output().flush();
            } catch (IOException e) {
                error = e;
            } catch (RuntimeException e) {
                error = new IOException(e);
            }
            written.complete(null);
            Runnable dropIfStopped = () -> {
                if (!done) writer.close();
            };
            if (!nodeThread.post(complete, dropIfStopped)) dropIfStopped.run();
        }
    }

    /** On the node's thread, once a write has ended: installs its snapshot (unless already done). */
    private void complete(RaftCore core, SnapshotWrite write, SnapshotPolicy policy) {
        if (write.done) return;
        write.done = true;
        if (inFlight == write) inFlight = null;
        IOException error = write.error;
        if (error != null) {
            write.writer.close();
            throw new UncheckedIOException("node " + id + " cannot write " + write.meta + ": " + error.getMessage(), error);
        }
        finish(core, write.meta, write.writer, policy);
    }

    /** Installs a written snapshot and compacts, unless a newer one came meanwhile (from a leader); closes the writer. */
    private void finish(RaftCore core, SnapshotMeta meta, SnapshotWriter w, SnapshotPolicy policy) {
        try (w) {
            SnapshotMeta latest = core.latestSnapshot();
            if ((latest != null && latest.index() >= meta.index()) || meta.index() < core.log().firstIndex() - 1) return;
            lastSnapshotBytes = w.size();
            w.install();
        }
        core.snapshotTaken(meta);
        core.compact(Math.max(core.log().firstIndex() - 1, meta.index() - policy.trailingEntries()));
        taken++;
    }
}
