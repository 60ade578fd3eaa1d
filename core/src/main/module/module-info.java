/**
 * The pure Raft core of raftkv: elections, log replication, ReadIndex, snapshots and membership
 * changes as a deterministic state machine, with no dependency and no threads, clock, I/O or
 * randomness of its own. A runtime (the {@code io.raftkv} module) drives it.
 */
module io.raftkv.core {
    exports io.raftkv.raft;
}
