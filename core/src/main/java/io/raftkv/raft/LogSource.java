package io.raftkv.raft;

import java.util.List;

/**
 * Where a {@link RaftCore} reads back entries it no longer holds in memory: entries that are durable, committed
 * and applied, which a leader may still have to send to a follower that is behind. A store that can read its
 * log by index offers one (a file store does), and the core may then keep only a bounded tail of its log on the
 * heap (the bytes {@link RaftConfig.Builder#logCacheBytes} sets); older entries are read from here when they are needed.
 *
 * <p>Called on the node's own thread, from inside {@link RaftCore#ready()}.
 */
public interface LogSource {
    /**
     * The stored entries from index {@code from} on, in index order and without gaps, ending before
     * {@code to}: as many as fit in {@code maxBytes} counted in {@link Entry#size()}, but at least one.
     *
     * @param from     the first index to read; stored, after the newest snapshot
     * @param to       the index after the last one wanted, at most the last stored index + 1, and above
     *                 {@code from}
     * @param maxBytes a soft bound on the entries' summed {@link Entry#size()}
     * @throws IllegalArgumentException if {@code from} or {@code to - 1} is not stored
     * @throws RuntimeException          the store's own on an I/O error or a damaged record
     */
    List<Entry> read(long from, long to, long maxBytes);
}
