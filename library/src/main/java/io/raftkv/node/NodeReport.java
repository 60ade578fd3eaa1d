package io.raftkv.node;

import io.raftkv.raft.Configuration;
import io.raftkv.raft.Progress;
import io.raftkv.raft.Role;

import java.util.Map;
import java.util.Objects;

/**
 * An immutable picture of one node, taken on its own thread: its role, term and leader, how far its
 * log, commit and state machine have come, the configuration in force and the committed one, its
 * snapshots, and, on a leader, how far each peer's log is known to match. {@link RaftNode#report()}
 * takes one on request; a {@link NodeListener} gets one whenever the role, term, leader or
 * configuration changes, and once more when the node stops.
 *
 * @param alive                  false once the node has stopped (its other figures are then the last it had)
 * @param configuration          the configuration in force: the last in its log, committed or not
 * @param committedConfiguration the configuration of its committed log
 * @param peers                  on a leader, every other member's replication, by id; empty otherwise
 */
public record NodeReport(int id, boolean alive, Role role, long term, int leader, long lastIndex, long commitIndex,
                         long appliedIndex, Configuration configuration, Configuration committedConfiguration,
                         SnapshotStats snapshots, Map<Integer, PeerReport> peers) {
    public NodeReport {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(configuration, "configuration");
        Objects.requireNonNull(committedConfiguration, "committedConfiguration");
        Objects.requireNonNull(snapshots, "snapshots");
        peers = Map.copyOf(peers);
    }

    /** The leader's view of one peer's log. */
    public record PeerReport(int id, long matchIndex, long nextIndex, Progress.State state) {
        public PeerReport {
            Objects.requireNonNull(state, "state");
        }
    }

    /** This node's status as these figures say it. */
    public NodeStatus status() {
        return new NodeStatus(id, alive, role, term, leader, lastIndex, commitIndex, appliedIndex);
    }
}
