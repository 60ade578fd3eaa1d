package io.raftkv.node;

import io.raftkv.raft.Role;

/**
 * What one node looked like the last time its thread published its state. A node publishes before it
 * answers any client, so once a write is acknowledged its leader's status shows it in
 * {@code lastIndex} and {@code commitIndex}.
 */
public record NodeStatus(int id, boolean alive, Role role, long term, int leader, long lastIndex, long commitIndex,
                         long appliedIndex) {
    /** The status of a node that is not running. */
    public static NodeStatus down(int id, long term) {
        return new NodeStatus(id, false, Role.FOLLOWER, term, 0, 0, 0, 0);
    }
}
