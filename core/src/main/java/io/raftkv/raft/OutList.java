package io.raftkv.raft;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * A list the core fills and hands out in a {@link Ready}, reused from pass to pass: read-only to everyone
 * else (every public mutator throws {@link UnsupportedOperationException}), filled by {@link #append} and
 * emptied by {@link #reset}.
 *
 * <p>Why not an {@code ArrayList}: a reused list lives long, so after some young collections its array is in
 * the old generation. An array the list lets go of must then hold no references: a young collection cannot
 * tell a dead old object from a live one, so the messages and entries an abandoned old array still points
 * to survive every young collection (about 15) until they are promoted themselves, and stay as old garbage
 * until a concurrent cycle. {@code ArrayList.grow} leaves its old array full, and replacing a list after a
 * burst drops it full; here growing empties the old array and {@link #reset} empties the array before it
 * lets a large one go.
 */
final class OutList<T> extends AbstractList<T> implements RandomAccess {
    /** Beyond this, an emptied list takes a small array again, so that one burst does not keep a large array for good. */
    static final int KEEP_CAPACITY = 4096;
    private static final int INITIAL_CAPACITY = 16;
    private static final Object[] EMPTY = {};

    private Object[] items = EMPTY;
    private int size;

    void append(T item) {
        if (size == items.length) grow();
        items[size++] = item;
    }

    private void grow() {
        items = Arrays.copyOf(items, Math.max(INITIAL_CAPACITY, items.length + (items.length >> 1)));
    }

    /** Empties the list, leaving no reference in any array it held. */
    void reset() {
        Arrays.fill(items, 0, size, null);
        if (items.length > KEEP_CAPACITY) items = EMPTY;
        size = 0;
    }

    @Override
    @SuppressWarnings("unchecked")
    public T get(int index) {
        return (T) items[Objects.checkIndex(index, size)];
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public void clear() {
        throw new UnsupportedOperationException("a Ready's lists are read-only");
    }

    @Override
    public Object[] toArray() {
        return Arrays.copyOf(items, size);
    }
}
