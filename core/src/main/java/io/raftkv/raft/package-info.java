/**
 * The Raft consensus algorithm as a pure, deterministic state machine: leader election with pre-vote,
 * log replication with flow control, linearizable reads (ReadIndex or leader leases, served by the leader or
 * by followers), snapshots and single-server membership changes. A {@link io.raftkv.raft.RaftCore} owns no
 * thread, clock, I/O or randomness of its own: a runtime drives it with ticks, messages from its peers, proposals and reads, and carries out what
 * each {@link io.raftkv.raft.Ready} batch asks for (send these messages, persist this
 * {@link io.raftkv.raft.HardState} and these entries, apply those) in the order that batch documents. The
 * same inputs always give the same outputs, which is what lets whole clusters of it be simulated and
 * replayed from a seed. Most projects use it through {@code io.raftkv.node.RaftNode} rather than directly.
 */
package io.raftkv.raft;
