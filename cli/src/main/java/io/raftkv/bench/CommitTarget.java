package io.raftkv.bench;

/**
 * A replicated store a benchmark sends writes (and reads) to: raftkv itself, or another Raft for
 * comparison. One {@link Writer} or {@link Reader} per concurrent client; each is used by one thread at
 * a time.
 */
public interface CommitTarget extends AutoCloseable {
    /** A short name for reports, such as {@code raftkv} or {@code microraft}. */
    String name();

    /** A new client of the store; blocks until the store can take writes. */
    Writer newWriter();

    /**
     * A new client that reads linearizably, by the read policy the store was opened with; blocks until
     * the store can serve reads. A store that cannot read throws {@link UnsupportedOperationException}.
     */
    default Reader newReader() {
        throw new UnsupportedOperationException(name() + " has no reader in the benchmarks");
    }

    /** Stops the store and frees its threads. */
    @Override
    void close();

    /** One client: a write returns once the store has committed it. */
    interface Writer {
        void put(String key, String value);
    }

    /** One reading client: a read returns the value the store holds for {@code key}, or null for none. */
    interface Reader {
        String get(String key);
    }
}
