package io.raftkv.raft;

/** The append messages a leader has sent to one follower and not yet seen acknowledged: a bounded ring of last indexes. */
final class Inflights {
    private final long[] lastIndexes;
    private int start;
    private int count;

    Inflights(int capacity) {
        this.lastIndexes = new long[capacity];
    }

    boolean full() { return count == lastIndexes.length; }

    int count() { return count; }

    void add(long lastIndex) {
        if (full()) throw new IllegalStateException("in-flight window of " + lastIndexes.length + " is full");
        lastIndexes[(start + count) % lastIndexes.length] = lastIndex;
        count++;
    }

    /** Frees every message whose last index is at or below {@code index}. */
    void freeTo(long index) {
        while (count > 0 && lastIndexes[start] <= index) {
            start = (start + 1) % lastIndexes.length;
            count--;
        }
    }

    void freeFirst() {
        if (count > 0) {
            start = (start + 1) % lastIndexes.length;
            count--;
        }
    }

    void reset() {
        start = 0;
        count = 0;
    }
}
