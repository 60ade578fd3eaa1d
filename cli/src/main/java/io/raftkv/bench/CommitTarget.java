package io.raftkv.bench;

/**
 * A replicated store a benchmark sends writes to: raftkv itself, or another Raft for comparison.
 * One {@link Writer} per concurrent client; each writer is used by one thread at a time.
 */
public interface CommitTarget extends AutoCloseable {
    /** A short name for reports, such as {@code raftkv} or {@code microraft}. */
    String name();

    /** A new client of the store; blocks until the store can take writes. */
    Writer newWriter();

    /** Stops the store and frees its threads. */
    @Override
    void close();

    /** One client: a write returns once the store has committed it. */
    interface Writer {
        void put(String key, String value);
    }
}
