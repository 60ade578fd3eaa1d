package io.raftkv.node;

import io.raftkv.raft.Message;
import io.raftkv.raft.Message.InstallSnapshot;
import io.raftkv.raft.Message.SnapshotChunkAck;
import io.raftkv.raft.RaftCore;
import io.raftkv.storage.Storage;

import java.lang.System.Logger.Level;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A leader's snapshot transfers, one per follower that needs one, on the node's thread: started when the
 * core asks to send a snapshot, moved along by each chunk's acknowledgement and by ticks, given up on a
 * follower that stops answering (the core then sends again when it answers), and closed when the node
 * stops leading.
 */
final class SnapshotSenders {
    private static final System.Logger LOG = System.getLogger(RaftNode.class.getName());

    private final int id;
    private final Storage storage;
    private final Consumer<Message> send;
    private final Map<Integer, SnapshotSender> byFollower = new HashMap<>();

    SnapshotSenders(int id, Storage storage, Consumer<Message> send) {
        this.id = id;
        this.storage = storage;
        this.send = send;
    }

    /** Starts streaming the store's newest snapshot (the one the core asked for, or newer) to {@code m}'s follower. */
    void start(InstallSnapshot m, SnapshotPolicy policy, int electionTicks) {
        SnapshotSender old = byFollower.remove(m.to());
        if (old != null) old.close();
        int quietTicks = 2 * electionTicks;
        byFollower.put(m.to(), new SnapshotSender(id, m.to(), m.term(), storage.openSnapshot(), policy, quietTicks, send));
    }

    /** A follower acknowledged a chunk; once the last one is, the transfer is done and the core is told. */
    void onAck(SnapshotChunkAck a, RaftCore core) {
        SnapshotSender s = byFollower.get(a.from());
        if (s != null && s.onAck(a)) {
            byFollower.remove(a.from()).close();
            // Should the follower's answer to the snapshot be lost, the leader would wait for it for good.
            core.reportSnapshotSent(a.from());
        }
    }

    /** A tick: a transfer whose follower has been quiet too long is given up, and the core told. */
    void tick(RaftCore core) {
        if (byFollower.isEmpty()) return;
        Iterator<Map.Entry<Integer, SnapshotSender>> it = byFollower.entrySet().iterator();
        while (it.hasNext()) {
            Map.Entry<Integer, SnapshotSender> e = it.next();
            if (!e.getValue().tick()) {
                LOG.log(Level.WARNING, () -> "node " + id + " gives up sending " + e.getValue().meta() + " to node " + e.getKey()
                        + ", which stopped answering; it will be sent again when it answers");
                e.getValue().close();
                it.remove();
                core.reportSnapshotFailed(e.getKey());
            }
        }
    }

    /** Ends every transfer (the node no longer leads, or stops). */
    void closeAll() {
        if (byFollower.isEmpty()) return;
        for (SnapshotSender s : byFollower.values()) s.close();
        byFollower.clear();
    }
}
