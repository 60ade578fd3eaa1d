package io.raftkv.sim;

import io.raftkv.raft.SnapshotMeta;

/** A simulated snapshot: what the core knows of it, and the state machine as of its last entry. */
record SimSnapshot(SnapshotMeta meta, SimStateMachine state) {}
