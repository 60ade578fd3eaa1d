package io.raftkv.node;

import io.raftkv.raft.RaftCore;
import io.raftkv.raft.SnapshotMeta;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The reads a node has asked its core to confirm, by the context it named each with, and the backups among
 * them: a backup is a read whose answer is the whole state, frozen once the pass that confirmed it has
 * applied what it commits. The node's thread only.
 */
final class PendingReads {
    /** A read waiting for its confirmation: the query, and who hears the answer. */
    record Read(Object query, Reply reply) {}

    /** The query of a backup ({@link RaftNode#backup()}). */
    static final Object BACKUP = new Object();

    private final int id;
    private final Map<Long, Read> waiting = new HashMap<>();
    private long nextContext;
    /** Backups whose read is confirmed, taken once this pass has applied what it commits. */
    private final List<Reply> backupsDue = new ArrayList<>();

    PendingReads(int id) {
        this.id = id;
    }

    /** The context a new read goes to the core under. */
    long nextContext() {
        return ++nextContext;
    }

    /** The core took the read under {@code context}: it waits for its confirmation. */
    void waiting(long context, Object query, Reply reply) {
        waiting.put(context, new Read(query, reply));
    }

    /**
     * The read under {@code context} is confirmed: returns it to be answered now, or null if there is none
     * to answer now (unknown, or a backup, which is taken by {@link #takeBackups} once this pass has applied).
     */
    Read confirmed(long context) {
        Read r = waiting.remove(context);
        if (r == null) return null;
        if (r.query() == BACKUP) {
            backupsDue.add(r.reply());
            return null;
        }
        return r;
    }

    /** The read under {@code context} will not be confirmed: returns it to be refused, or null if unknown. */
    Read dropped(long context) {
        return waiting.remove(context);
    }

    boolean backupsDue() {
        return !backupsDue.isEmpty();
    }

    /** Answers the backups due, each with the state frozen as of {@code applied}. */
    void takeBackups(RaftCore core, long applied, StateMachine stateMachine) {
        for (Reply r : backupsDue) {
            try {
                SnapshotMeta meta = core.snapshotMeta(applied);
                StateMachine.Frozen frozen = stateMachine.freeze();
                if (frozen == null) {
                    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                    stateMachine.snapshot(bytes);
                    byte[] state = bytes.toByteArray();
                    frozen = out -> out.write(state);
                }
                r.ok(new RaftNode.Backup(meta, frozen));
            } catch (IOException | RuntimeException e) {
                r.unavailable("node " + id + " could not snapshot its state for a backup: " + e);
            }
        }
        backupsDue.clear();
    }

    /** Tells every waiting read and backup that this node will not answer it (it has stopped). */
    void refuseAll() {
        for (Read r : waiting.values()) r.reply().notLeader(RaftCore.NONE);
        waiting.clear();
        for (Reply r : backupsDue) r.notLeader(RaftCore.NONE);
        backupsDue.clear();
    }

    /** A reply that completes {@code done} with a backup, or fails it as {@link RaftNode#backup()} says. */
    static Reply completing(CompletableFuture<RaftNode.Backup> done, int id) {
        return new Reply() {
            @Override
            public void ok(Object result) {
                done.complete((RaftNode.Backup) result);
            }

            @Override
            public void notLeader(int leaderHint) {
                done.completeExceptionally(new NotLeaderException(id, leaderHint));
            }

            @Override
            public void unavailable(String reason) {
                done.completeExceptionally(new IllegalStateException(reason));
            }
        };
    }
}
