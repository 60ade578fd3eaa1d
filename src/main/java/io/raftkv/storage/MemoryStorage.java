package io.raftkv.storage;

import io.raftkv.raft.Entry;
import io.raftkv.raft.HardState;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Storage in memory, for tests and benchmarks: it survives a node's crash (a {@code kill} and
 * {@code restart} in one JVM) but not the JVM's.
 */
public final class MemoryStorage implements Storage {
    private HardState hardState = HardState.INITIAL;
    private final ArrayList<Entry> log = new ArrayList<>();

    @Override
    public synchronized HardState hardState() {
        return hardState;
    }

    @Override
    public synchronized List<Entry> entries() {
        return List.copyOf(log);
    }

    @Override
    public synchronized void persist(HardState hs, List<Entry> entries) {
        Objects.requireNonNull(entries, "entries");
        if (!entries.isEmpty()) {
            long first = entries.get(0).index();
            long next = log.size() + 1;
            if (first < 1 || first > next) {
                throw new IllegalArgumentException("entries start at " + first + " but the log holds 1.." + (next - 1)
                        + ": a write may not leave a gap");
            }
            for (int i = 1; i < entries.size(); i++) {
                if (entries.get(i).index() != first + i) {
                    throw new IllegalArgumentException("entries must have consecutive indexes: " + entries.get(i - 1)
                            + " is followed by " + entries.get(i));
                }
            }
            // Entries are indexed from 1 with no gaps, so index i lives at position i - 1.
            log.subList((int) (first - 1), log.size()).clear();
            log.addAll(entries);
        }
        if (hs != null) hardState = hs;
    }

    /** The index of the last stored entry. */
    public synchronized long lastIndex() {
        return log.size();
    }

    @Override
    public void close() {
        // Nothing to release; the contents stay for a restart.
    }
}
