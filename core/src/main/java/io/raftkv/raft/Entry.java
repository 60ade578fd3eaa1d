package io.raftkv.raft;

import java.util.Arrays;
import java.util.Objects;

/** One record of the replicated log: its position, the term it was created in, and its payload. */
public record Entry(long index, long term, Kind kind, byte[] data) {

    /** What an entry carries. */
    public enum Kind {
        /** The empty entry a new leader appends so that it can commit entries of earlier terms (Raft §5.4.2). */
        NOOP,
        /** An application command, handed to the state machine once committed. */
        COMMAND,
        /** A new {@link Configuration} (its {@link Configuration#encode() bytes}), in force once in a log. */
        CONFIG
    }

    private static final byte[] EMPTY = new byte[0];

    public Entry {
        if (index < 1) throw new IllegalArgumentException("entry index must be >= 1, was " + index);
        if (term < 1) throw new IllegalArgumentException("entry term must be >= 1, was " + term);
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(data, "data");
    }

    static Entry noop(long index, long term) {
        return new Entry(index, term, Kind.NOOP, EMPTY);
    }

    static Entry config(long index, long term, Configuration c) {
        return new Entry(index, term, Kind.CONFIG, c.encode());
    }

    /** Bytes this entry adds to a message, for batching limits. */
    public int size() {
        return data.length + 24;
    }

    // A record compares arrays by identity; two copies of one entry must be equal.
    @Override
    public boolean equals(Object o) {
        return o instanceof Entry e && e.index == index && e.term == term && e.kind == kind
                && Arrays.equals(e.data, data);
    }

    @Override
    public int hashCode() {
        return Objects.hash(index, term, kind) * 31 + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return index + "@" + term + switch (kind) {
            case NOOP -> ":noop";
            case CONFIG -> ":config";
            case COMMAND -> ":" + data.length + "B";
        };
    }
}
