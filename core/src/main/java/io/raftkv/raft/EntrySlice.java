package io.raftkv.raft;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * An immutable run of a log's entries, copied once. What the core hands out (entries to persist, to
 * apply, to send) is one of these: {@code List.copyOf} of a sub-list copies twice (into an array, then
 * into the list), and the log's own list may change under a view. Every mutator throws
 * {@link UnsupportedOperationException}.
 */
final class EntrySlice extends AbstractList<Entry> implements RandomAccess {
    private final Entry[] entries;

    private EntrySlice(Entry[] entries) {
        this.entries = entries;
    }

    /** Entries {@code from} (inclusive) to {@code to} (exclusive) of {@code log}, copied. */
    static List<Entry> copyOf(List<Entry> log, int from, int to) {
        Objects.checkFromToIndex(from, to, log.size());
        if (from == to) return List.of();
        if (from + 1 == to) return List.of(log.get(from)); // one entry (one client's commit) needs no array
        return new EntrySlice(log.subList(from, to).toArray(new Entry[to - from]));
    }

    /** {@code entries} as an immutable list: itself if it is a slice already (or {@code List.copyOf} would keep it as it is). */
    static List<Entry> immutable(List<Entry> entries) {
        return entries instanceof EntrySlice ? entries : List.copyOf(entries);
    }

    @Override
    public Entry get(int index) {
        return entries[Objects.checkIndex(index, entries.length)];
    }

    @Override
    public int size() {
        return entries.length;
    }

    @Override
    public Object[] toArray() {
        return Arrays.copyOf(entries, entries.length, Object[].class);
    }
}
