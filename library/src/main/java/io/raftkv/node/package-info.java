/**
 * One Raft node at run time: {@link io.raftkv.node.RaftNode}, built with
 * {@link io.raftkv.node.RaftNode#builder RaftNode.builder}, runs a {@link io.raftkv.raft.RaftCore} on a
 * virtual thread of its own, with a {@link io.raftkv.storage.Storage}, a
 * {@link io.raftkv.transport.Transport} and the {@link io.raftkv.node.StateMachine} it replicates. It
 * persists before it acknowledges, applies committed entries in order, answers proposals and linearizable
 * reads through a {@link io.raftkv.node.Reply}, takes snapshots by a {@link io.raftkv.node.SnapshotPolicy}
 * and streams them to followers that fall behind, and publishes its {@link io.raftkv.node.NodeStatus}.
 * Every public method of a node is thread-safe and returns at once. The layers above (the key-value
 * store, your own application, the embedded cluster) are built on this package; it knows none of them.
 */
package io.raftkv.node;
