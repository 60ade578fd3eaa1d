package io.raftkv.node;

/**
 * A node's snapshots and log size as it last published them.
 *
 * @param taken         snapshots of its own state taken since the node started
 * @param installed     snapshots received from a leader and installed since the node started
 * @param snapshotIndex the last entry its newest snapshot covers, 0 without one
 * @param logEntries    entries its log holds after the compaction point: in memory, or released to a store that
 *                      reads its log back ({@link io.raftkv.raft.RaftConfig#logCacheBytes()})
 * @param logBytes      the bytes of the entries it holds in memory (payload plus 24 each)
 */
public record SnapshotStats(long taken, long installed, long snapshotIndex, long logEntries, long logBytes) {}
