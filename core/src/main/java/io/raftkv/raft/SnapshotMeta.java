package io.raftkv.raft;

import java.util.Objects;

/**
 * What a snapshot covers: the last log entry it includes (index and term) and the configuration in force at
 * that entry, which the log after a compaction no longer holds.
 */
public record SnapshotMeta(long index, long term, Configuration configuration) {
    public SnapshotMeta {
        if (index < 1) throw new IllegalArgumentException("snapshot index must be >= 1, was " + index);
        if (term < 1) throw new IllegalArgumentException("snapshot term must be >= 1, was " + term);
        Objects.requireNonNull(configuration, "configuration");
    }

    @Override
    public String toString() {
        return "snapshot " + index + "@" + term + " (" + configuration + ")";
    }
}
