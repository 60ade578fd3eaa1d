/**
 * Where a node keeps what must survive a crash: the {@link io.raftkv.storage.Storage} interface (the hard
 * state, the newest snapshot and the log after it) and its two implementations.
 * {@link io.raftkv.storage.FileStorage} keeps them in a directory of its own, as a segmented append-only
 * log in which every record carries a CRC32C, forced to disk once per write; on opening it cuts a write
 * that a crash tore and refuses any other damage ({@link io.raftkv.storage.CorruptStoreException}) rather
 * than guess; it also reads stored entries back by index ({@link io.raftkv.raft.LogSource}), so that the
 * core need not keep its whole log on the heap. {@link io.raftkv.storage.MemoryStorage} keeps them in
 * memory, surviving a node's restart within one JVM but not the JVM's, for tests and benchmarks. Snapshots are written and read as streams
 * ({@link io.raftkv.storage.SnapshotWriter}, {@link io.raftkv.storage.SnapshotReader}).
 */
package io.raftkv.storage;
